"""Bad input never crashes and never returns a plausible wrong number: a clear error naming the argument."""
import math

import pytest
import xlwings

import udfs
from xlfuncs.core.fields import TermError
from xlfuncs.products.bearish_note import BearishBufferNote as BufferNote
from xlfuncs.products.put_warrant import PutWarrant

from oracles import NOTE_TERMS, SEED_WARRANT

ERROR_CELL = {"type": "Error", "basicType": "Error", "basicValue": "#DIV/0!", "errorType": "Div0"}
NOTE = ["NOTE_PAYMENT", 95.0]
WARRANT = ["WARRANT_PAYMENT", 5500.0]


def note(**changes):
    terms = dict(zip(["initial", "participation", "buffer", "max_return", "min_payment"], NOTE_TERMS))
    terms.update(changes)
    return [*NOTE, *terms.values()]


def warrant(lookback=6000.0, **changes):
    terms = dict(zip(["initial", "upper_strike", "lower_strike"], SEED_WARRANT))
    terms.update(changes)
    return [*WARRANT, terms["initial"], lookback, terms["upper_strike"], terms["lower_strike"]]


CASES = [
    # text where a number belongs
    (note(initial="abc"), "initial must be a number, got 'abc'"),
    (note(buffer="10%"), "buffer must be a fraction: 10% is 0.1, got '10%'"),
    (note(participation=True), "participation must be a number, got True"),
    (["NOTE_PAYMENT", [[95.0], ["n/a"]], *NOTE_TERMS],
     "final must be a number, got 'n/a' (row 2, column 1 of the range)"),
    # blanks and error cells in required arguments
    (note(initial=""), "initial is required but blank"),
    (note(max_return=None), "max_return is required but blank"),
    (note(min_payment=ERROR_CELL), "min_payment is an error cell (#DIV/0!): fix or clear it"),
    (["NOTE_PAYMENT", "", *NOTE_TERMS], "final is required but blank"),
    (["NOTE_BREAKEVEN", None, *NOTE_TERMS], "price is required but blank"),
    (warrant(lookback=""), "lookback is required but blank"),
    # NaN and infinity
    (note(initial=math.nan), "initial must be a finite number, got nan"),
    (note(participation=math.inf), "participation must be a finite number, got inf"),
    (["NOTE_PAYMENT", -math.inf, *NOTE_TERMS], "final must be a finite number, got -inf"),
    # negative or zero prices and amounts
    (note(initial=0.0), "initial must be from 1e-06 to 1e+09, got 0"),
    (note(initial=-4365.98), "initial must be from 1e-06 to 1e+09, got -4365.98"),
    (["NOTE_PAYMENT", -5.0, *NOTE_TERMS], "final must be from 0 to 1e+12, got -5"),
    (["NOTE_PAYMENT", 95.0, *NOTE_TERMS, 0.0], "principal must be from 1e-06 to 1e+12, got 0"),
    (["NOTE_BREAKEVEN", 0.0, *NOTE_TERMS], "price must be greater than 0 and at most 1.1e+13, got 0"),
    (["NOTE_BREAKEVEN", -1000.0, *NOTE_TERMS], "price must be greater than 0 and at most 1.1e+13, got -1000"),
    (warrant(lookback=0.0), "lookback must be from 1e-06 to 1e+09, got 0"),
    (["WARRANT_BREAKEVEN", -0.02728, SEED_WARRANT[0], 6000.0, *SEED_WARRANT[1:]],
     "premium must be a fraction greater than 0 and at most 2 (2.728% is 0.02728), got -0.02728"),
    (["WARRANT_PAYMENT", 5500.0, SEED_WARRANT[0], 6000.0, *SEED_WARRANT[1:], -1000.0],
     "notional must be from 1e-06 to 1e+12, got -1000"),
    # participation <= 0
    (note(participation=0.0), "participation must be a fraction from 1e-06 to 10 (300% is 3), got 0"),
    (note(participation=-3.0), "participation must be a fraction from 1e-06 to 10 (300% is 3), got -3"),
    # buffer outside [0, 1)
    (note(buffer=1.5), "buffer must be a fraction: 1.5% is 0.015, got 1.5"),
    (note(buffer=1.0), "buffer must be a fraction at least 0 and below 1 (10% is 0.1), got 1"),
    (note(buffer=-0.1), "buffer must be a fraction at least 0 and below 1 (10% is 0.1), got -0.1"),
    # min_payment above principal, max_return below 0
    (note(min_payment=1.2), "min_payment must be a fraction: 1.2% is 0.012, got 1.2"),
    (note(min_payment=-0.1), "min_payment must be a fraction from 0 to 1 (10% is 0.1), got -0.1"),
    (note(max_return=-0.23), "max_return must be a fraction from 0 to 10 (23% is 0.23), got -0.23"),
    # lower strike above upper strike
    (warrant(lower_strike=0.96), "lower_strike must be below upper_strike (0.95), got 0.96"),
    (warrant(upper_strike=0.0), "upper_strike must be a fraction greater than 0 and at most 2 (95% is 0.95), got 0"),
    # lookback below initial
    (warrant(lookback=5800.0), "lookback must be at least the initial value (5907.55), got 5800"),
    # empty closes
    (["LOOKBACK_VALUE", [[""], [None], [""]], SEED_WARRANT[0]],
     "closes must hold at least one closing value, got none"),
    (["LOOKBACK_VALUE", [[5900.0], [ERROR_CELL]], SEED_WARRANT[0]],
     "closes is an error cell (#DIV/0!) (row 2, column 1 of the range): fix or clear it"),
    (["LOOKBACK_VALUE", "", SEED_WARRANT[0]], "closes is required but blank"),
    (["LOOKBACK_VALUE", [[5900.0], [-1.0]], SEED_WARRANT[0]], "closes must be from 1e-06 to 1e+09, got -1 (row 2, column 1 of the range)"),
    (["LOOKBACK_VALUE", [[5900.0], ["holiday"]], SEED_WARRANT[0]],
     "closes must be a number, got 'holiday' (row 2, column 1 of the range)"),
    # ranges of the wrong shape
    (note(initial=[[100.0, 101.0]]), "initial must be a single cell, got a 1x2 range"),
    (warrant(lookback=[[6000.0], [6010.0]]), "lookback must be a single cell, got a 2x1 range"),
    (["NOTE_TABLE", [[95.0, 40.0], [105.0, 170.0]], *NOTE_TERMS],
     "finals must be a single row or column, got a 2x2 range"),
    (["NOTE_PAYMENT", [[95.0, 40.0], [105.0]], *NOTE_TERMS], "final must be a rectangular range"),
]


@pytest.mark.parametrize("call, message", CASES, ids=[message for _, message in CASES])
def test_bad_input_is_a_clear_error_in_the_cell(excel, call, message):
    with pytest.raises(xlwings.XlwingsError) as error:
        excel(*call)
    assert isinstance(error.value, udfs.ExcelInputError)
    assert str(error.value) == message


def test_xlfuncs_refuses_bad_terms_built_from_python_too():
    with pytest.raises(TermError, match=r"buffer must be a fraction: 1.5% is 0.015, got 1.5"):
        BufferNote(initial=100, participation=3, buffer=1.5, max_return=0.23, min_payment=0.1)
    with pytest.raises(TermError, match="initial must be a number, got '100'"):
        PutWarrant(initial="100", upper_strike=0.95, lower_strike=0.75)
    with pytest.raises(TermError, match="final must be finite, got inf"):
        BufferNote(100, 3, 0.1, 0.23, 0.1).payment([95.0, math.inf])


def serial(day):
    import datetime as dt
    return (dt.date.fromisoformat(day) - dt.date(1899, 12, 30)).days


def warrant_value(**changes):
    cells = dict(spot=5907.55, as_of=serial("2025-05-28"), initial=5907.55, upper_strike=0.95,
                 lower_strike=0.75, window_start=serial("2025-05-21"), window_end=serial("2025-06-20"),
                 expiration=serial("2025-10-10"), settlement=serial("2025-10-17"), vol=0.167, rate=0.043,
                 div_yield=0.013, closes=[[5907.55]] * 5, notional=None, paths=None, seed=None)
    cells.update(changes)
    return ["WARRANT_MC_VALUE", *cells.values()]


def note_value(**changes):
    cells = dict(spot=4550.58, as_of=serial("2023-11-29"), final_date=serial("2024-12-02"),
                 payment_date=serial("2024-12-05"), vol=0.15, rate=0.053, div_yield=0.015,
                 funding_spread=0.01, initial=4550.58, participation=3.0, buffer=0.1, max_return=0.23,
                 min_payment=0.1)
    cells.update(changes)
    return ["NOTE_VALUE", *cells.values()]


VALUATION_CASES = [
    # dates out of order
    (warrant_value(window_end=serial("2025-05-20")),
     "window_end must not be before window_start (2025-05-21), got 2025-05-20"),
    (warrant_value(settlement=serial("2025-10-09")),
     "settlement must not be before expiration (2025-10-10), got 2025-10-09"),
    (note_value(payment_date=serial("2024-12-01")),
     "payment_date must not be before final_date (2024-12-02), got 2024-12-01"),
    (note_value(as_of=serial("2024-12-03")),
     "final_date must not be before as_of (2024-12-03), got 2024-12-02"),
    # as_of after expiration
    (warrant_value(as_of=serial("2025-10-11"), closes=[[5907.55]] * 21),
     "expiration must not be before as_of (2025-10-11), got 2025-10-10"),
    # vol <= 0
    (warrant_value(vol=0.0), "vol must be a fraction from 0.005 to 3 (16.7% is 0.167), got 0"),
    (note_value(vol=-0.15), "vol must be a fraction from 0.005 to 3 (16.7% is 0.167), got -0.15"),
    # closes longer (or shorter) than the trading days elapsed
    (warrant_value(closes=[[5907.55]] * 6),
     "closes must stop at as_of (2025-05-28): it has a close for 2025-05-29"),
    (warrant_value(closes=[[5907.55]] * 5 + [[""]] * 10 + [[5990.0]]),
     "closes must stop at as_of (2025-05-28): it has a close for 2025-06-12"),
    (warrant_value(closes=[[5907.55]] * 22),
     "closes must have at most 21 entries, one per window trading day, got 22"),
    (warrant_value(closes=[[5907.55]] * 4),
     "closes must have an entry for each of the 5 window trading days from window_start (2025-05-21) closed by as_of (2025-05-28), got 4"),
    (warrant_value(closes=None),
     "closes must have an entry for each of the 5 window trading days from window_start (2025-05-21) closed by as_of (2025-05-28), got 0"),
    # paths < 1000, and seeds
    (warrant_value(paths=999), "paths must be from 1000 to 1048576, got 999"),
    (warrant_value(seed=1.5), "seed must be a whole number, got 1.5"),
    (warrant_value(seed=-1), "seed must be from 0 to 1e+15, got -1"),
    # dates that are not dates
    (warrant_value(as_of="tomorrow"), "as_of must be a date (a date cell or an Excel date serial), got 'tomorrow'"),
    (note_value(final_date=12.0), "final_date must be a date (an Excel serial from 61 to 2958465), got 12"),
    (note_value(rate=4.3), "rate must be a fraction: 4.3% is 0.043, got 4.3"),
    (["NOTE_GREEKS", *note_value(funding_spread=1.5)[1:]],
     "funding_spread must be a fraction: 1.5% is 0.015, got 1.5"),
    (["WARRANT_IMPLIED_VOL", 500.0, *warrant_value()[1:10], *warrant_value()[11:-2]],
     "price must be a value some vol from 0.5% to 300% gives"),
]


@pytest.mark.parametrize("call, message", VALUATION_CASES, ids=[m for _, m in VALUATION_CASES])
def test_bad_valuation_input_is_a_clear_error_in_the_cell(excel, call, message):
    with pytest.raises(udfs.ExcelInputError) as error:
        excel(*call)
    assert str(error.value).startswith(message)
