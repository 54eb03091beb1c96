"""Bad input never crashes and never returns a plausible wrong number: a clear error naming the argument."""
import math

import pytest
import xlwings
from conftest import NOTE_TERMS, SEED_WARRANT

import udfs
from xlfuncs import payments
from xlfuncs.terms import BufferNote, PutWarrant, TermError

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
    (note(buffer="10%"), "buffer must be a number, got '10%'"),
    (note(participation=True), "participation must be a number, got True"),
    (["NOTE_PAYMENT", [[95.0], ["n/a"]], *NOTE_TERMS],
     "final must be a number, got 'n/a' (row 2, column 1 of the range)"),
    # blanks and error cells in required arguments
    (note(initial=""), "initial is required but blank"),
    (note(max_return=None), "max_return is required but blank"),
    (note(min_payment=ERROR_CELL), "min_payment is required but blank"),
    (["NOTE_PAYMENT", "", *NOTE_TERMS], "final is required but blank"),
    (["NOTE_BREAKEVEN", None, *NOTE_TERMS], "price is required but blank"),
    (warrant(lookback=""), "lookback is required but blank"),
    # NaN and infinity
    (note(initial=math.nan), "initial must be a finite number, got nan"),
    (note(participation=math.inf), "participation must be a finite number, got inf"),
    (["NOTE_PAYMENT", -math.inf, *NOTE_TERMS], "final must be a finite number, got -inf"),
    # negative or zero prices and amounts
    (note(initial=0.0), "initial must be greater than 0, got 0"),
    (note(initial=-4365.98), "initial must be greater than 0, got -4365.98"),
    (["NOTE_PAYMENT", -5.0, *NOTE_TERMS], "final must be at least 0, got -5"),
    (["NOTE_PAYMENT", 95.0, *NOTE_TERMS, 0.0], "principal must be greater than 0, got 0"),
    (["NOTE_BREAKEVEN", 0.0, *NOTE_TERMS], "price must be greater than 0, got 0"),
    (["NOTE_BREAKEVEN", -1000.0, *NOTE_TERMS], "price must be greater than 0, got -1000"),
    (warrant(lookback=0.0), "lookback must be at least the initial value (5907.55), got 0"),
    (["WARRANT_BREAKEVEN", -0.02728, SEED_WARRANT[0], 6000.0, *SEED_WARRANT[1:]],
     "premium must be greater than 0, got -0.02728"),
    (["WARRANT_PAYMENT", 5500.0, SEED_WARRANT[0], 6000.0, *SEED_WARRANT[1:], -1000.0],
     "notional must be greater than 0, got -1000"),
    # participation <= 0
    (note(participation=0.0), "participation must be greater than 0, got 0"),
    (note(participation=-3.0), "participation must be greater than 0, got -3"),
    # buffer outside [0, 1)
    (note(buffer=1.5), "buffer must be at least 0 and below 1, got 1.5"),
    (note(buffer=1.0), "buffer must be at least 0 and below 1, got 1"),
    (note(buffer=-0.1), "buffer must be at least 0 and below 1, got -0.1"),
    # min_payment above principal, max_return below 0
    (note(min_payment=1.2), "min_payment must not exceed the principal (1 = 100%), got 1.2"),
    (note(min_payment=-0.1), "min_payment must be at least 0, got -0.1"),
    (note(max_return=-0.23), "max_return must be at least 0, got -0.23"),
    # lower strike above upper strike
    (warrant(lower_strike=0.96), "lower_strike must be below upper_strike (0.95), got 0.96"),
    (warrant(upper_strike=0.0), "upper_strike must be greater than 0, got 0"),
    # lookback below initial
    (warrant(lookback=5800.0), "lookback must be at least the initial value (5907.55), got 5800"),
    # empty closes
    (["LOOKBACK_VALUE", [[""], [None], [ERROR_CELL]], SEED_WARRANT[0]],
     "closes must hold at least one closing value, got none"),
    (["LOOKBACK_VALUE", "", SEED_WARRANT[0]], "closes is required but blank"),
    (["LOOKBACK_VALUE", [[5900.0], [-1.0]], SEED_WARRANT[0]], "closes must be greater than 0, got -1"),
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
    with pytest.raises(TermError, match="buffer must be at least 0 and below 1, got 1.5"):
        BufferNote(initial=100, participation=3, buffer=1.5, max_return=0.23, min_payment=0.1)
    with pytest.raises(TermError, match="initial must be a number, got '100'"):
        PutWarrant(initial="100", upper_strike=0.95, lower_strike=0.75)
    with pytest.raises(TermError, match="final must be finite, got inf"):
        payments.note_payment(BufferNote(100, 3, 0.1, 0.23, 0.1), [95.0, math.inf])
