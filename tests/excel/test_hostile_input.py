"""Every function against hostile cells: a clear error naming the argument, or a finite number.

One argument at a time is replaced by text, booleans, blanks, error cells, NaN, infinities,
huge and tiny numbers, negative zero, wrong shapes and dates as text, through xlwings'
Office.js call path (as the add-in sends it) and through direct calls (as the classic runtime
and the formulas engine do). Plus the specific slips and states the validation reported.
"""
import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import udfs
from xlfuncs.core.fields import TermError
from xlfuncs.excel import functions as excel
from xlfuncs.products import PRODUCTS

from helpers import (
    FUNCTIONS,
    NOTE_MARKET,
    arguments,
    check_outcome,
    good_args,
    is_number,
    officejs,
    serial,
    template_example,
)

ERROR_CELL = {"type": "Error", "basicType": "Error", "basicValue": "#REF!", "errorType": "Ref"}
HOSTILE = st.one_of(
    st.sampled_from(["abc", "10%", " ", "2025-05-28", "#N/A", "#REF!", "1,234", "TRUE", "nan", "inf"]),
    st.booleans(), st.just(None), st.just(ERROR_CELL),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 1e20, 1e12, 1e-300, 5e-324, -0.0, 0.0,
                     -1.0, 2.0 ** 80, 2958466.0, 60.0, 16.7, 95.0, 300.0, 23.0]),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.lists(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=2), min_size=2, max_size=2),  # a 2x2 range
    st.just([]), st.just([[]]))
CASES = st.tuples(st.sampled_from(sorted(FUNCTIONS)), st.data())


def registered(name):
    """The function as xlwings registered it (errors as ExcelInputError), called with python cells."""
    return getattr(udfs, name)


def with_one_hostile(case, hostile):
    """A function's good arguments with one of them, drawn, replaced by `hostile`."""
    name, data = case
    args = good_args(name)
    argument = data.draw(st.sampled_from(sorted(args)))
    args[argument] = hostile
    return name, argument, args


FUZZ = settings(max_examples=600, deadline=dt.timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(CASES, HOSTILE)
def test_one_hostile_argument_through_the_office_js_call_path(case, hostile):
    name, argument, args = with_one_hostile(case, hostile)
    check_outcome(name, argument, lambda: single(officejs(name, *args.values())))


@FUZZ
@given(CASES, HOSTILE)
def test_one_hostile_argument_called_directly(case, hostile):
    name, argument, args = with_one_hostile(case, hostile)
    if hostile is ERROR_CELL:
        args[argument] = "#REF!"  # as err_to_str hands an error cell to the function
    check_outcome(name, argument, lambda: registered(name)(*args.values()))


def single(result):
    """Office.js answers a 2-D list; a lone cell is that cell's value."""
    return result[0][0] if len(result) == 1 and len(result[0]) == 1 else result


def test_every_function_answers_its_good_arguments():
    for name in FUNCTIONS:
        check_outcome(name, "-", lambda: registered(name)(*good_args(name).values()))


@pytest.mark.parametrize("product", PRODUCTS, ids=lambda product: product.key)
def test_every_function_answers_its_product_s_template_example(product):
    """The arguments any product's functions get in the tests without a hand-kept state."""
    example = template_example(product)
    for function in product.functions:
        args = arguments(function.name, example)
        check_outcome(function.name, "-", lambda: registered(function.name)(*args.values()))


# Slips and states the validation reported

@pytest.mark.parametrize("name, argument, value, message", [
    ("NOTE_PAYMENT", "principal", ERROR_CELL, "principal is an error cell (#REF!): fix or clear it"),
    ("WARRANT_PAYMENT", "notional", ERROR_CELL, "notional is an error cell (#REF!): fix or clear it"),
    ("WARRANT_MC_VALUE", "paths", ERROR_CELL, "paths is an error cell (#REF!): fix or clear it"),
    ("WARRANT_MC_VALUE", "seed", ERROR_CELL, "seed is an error cell (#REF!): fix or clear it"),
    ("TRADING_DAYS", "holidays", [[serial("2025-05-26")], [ERROR_CELL]],
     "holidays is an error cell (#REF!): fix or clear it"),
    ("WARRANT_VALUE", "vol", 15, "vol must be a fraction: 15% is 0.15, got 15"),
    ("WARRANT_VALUE", "vol", 16.7, "vol must be a fraction: 16.7% is 0.167, got 16.7"),
    ("NOTE_VALUE", "participation", 300, "participation must be a fraction: 300% is 3, got 300"),
    ("NOTE_VALUE", "max_return", 23, "max_return must be a fraction: 23% is 0.23, got 23"),
    ("WARRANT_VALUE", "upper_strike", 95, "upper_strike must be a fraction: 95% is 0.95, got 95"),
    ("WARRANT_VALUE", "lower_strike", 75, "lower_strike must be a fraction: 75% is 0.75, got 75"),
    ("WARRANT_TABLE", "premium", 2.728, "premium must be a fraction: 2.728% is 0.02728, got 2.728"),
    ("NOTE_VALUE", "div_yield", 1.5, "div_yield must be a fraction: 1.5% is 0.015, got 1.5"),
    ("WARRANT_MC_VALUE", "paths", 1e12, "paths must be from 1000 to 1048576, got 1e+12"),
    ("NOTE_VALUE", "spot", 1e20, "spot must be from 1e-06 to 1e+09, got 1e+20"),
    ("NOTE_VALUE", "spot", 5e6, "spot must be within a factor of 1000 of initial (4550.58), got 5e+06"),
    ("NOTE_TABLE", "finals", [[95.0], [-1.0]], "finals must be from 0 to 1e+12, got -1 (row 2, column 1"),
    ("WARRANT_TABLE", "finals", [["x"]], "finals must be a number, got 'x'"),
])
def test_reported_slips_are_clear_errors(name, argument, value, message):
    args = good_args(name)
    args[argument] = value
    with pytest.raises(udfs.ExcelInputError) as error:
        officejs(name, *args.values())
    assert str(error.value).startswith(message)


@pytest.mark.parametrize("name, argument, value", [
    ("NOTE_VALUE", "participation", 0.5), ("NOTE_VALUE", "buffer", 0.0), ("NOTE_VALUE", "max_return", 0.0),
    ("NOTE_VALUE", "min_payment", 0.0), ("NOTE_VALUE", "min_payment", 1.0), ("NOTE_VALUE", "vol", 2.0),
    ("WARRANT_VALUE", "upper_strike", 1.0), ("WARRANT_VALUE", "notional", 1.0), ("WARRANT_VALUE", "vol", 2.0),
    ("WARRANT_VALUE", "lower_strike", 0.0), ("WARRANT_GREEKS", "rate", 0.5), ("WARRANT_GREEKS", "rate", -0.5),
    ("NOTE_PAYMENT", "participation", 10.0), ("NOTE_TABLE", "max_return", 2.0),
])
def test_economically_valid_inputs_are_not_refused(name, argument, value):
    args = good_args(name)
    args[argument] = value
    assert all(is_number(v) for row in officejs(name, *args.values()) for v in row)


def test_note_theta_on_the_final_date_is_only_discounting():
    """As of the final date the payment is fixed: the value moves only by discounting to the
    payment date (0.2852 a day was once reported against an actual change of 0.165)."""
    args = good_args("NOTE_GREEKS")
    args.update(spot=5200.0, as_of=NOTE_MARKET["final_date"])
    theta = officejs("NOTE_GREEKS", *args.values())[0][3]
    [[value]] = officejs("NOTE_VALUE", *args.values())
    discount_rate = NOTE_MARKET["rate"] + NOTE_MARKET["funding_spread"]
    tomorrow = value * math.exp(discount_rate / 365)
    assert theta == pytest.approx(tomorrow - value, rel=2e-3)
    assert theta == pytest.approx(0.1651, abs=5e-4)


def test_table_errors_name_finals():
    args = good_args("NOTE_TABLE")
    args["finals"] = [[95.0], [math.inf]]
    with pytest.raises(udfs.ExcelInputError, match="^finals must be a finite number"):
        registered("NOTE_TABLE")(*args.values())


def test_results_are_never_nan_or_inf():
    with pytest.raises(TermError, match="no finite result"):
        excel.results(np.array([1.0, math.inf]))
    with pytest.raises(TermError, match="no finite result"):
        excel.results(math.nan)
    assert excel.results(np.array([1.0, math.nan]), blanks=True) == [1.0, ""]  # a blank cell, as Excel takes it


# What the attacking review found

def test_a_rare_tail_cannot_shrink_the_monte_carlo_error_below_its_resolution():
    """One window day left, highest close above spot: the lookback rises on almost no path, so
    every replicate misses the same tail; the error is at least 1e-6 of the largest payment."""
    args = good_args("WARRANT_MC_VALUE")
    args.update(spot=5800.0, as_of=serial("2025-06-18"), closes=[[6100.0]] * 20, paths=None, seed=2)
    [[value, stderr]] = officejs("WARRANT_MC_VALUE", *args.values())
    [[exact]] = officejs("WARRANT_VALUE", *list(args.values())[:-2])
    assert abs(value - exact) <= 4 * stderr
    note = dict(spot=4550.58, as_of=serial("2023-11-29"), final_date=serial("2023-11-30"),
                payment_date=serial("2023-12-03"), vol=3.0, rate=0.4869, div_yield=-0.0656, funding_spread=0.01,
                initial=4550.58, participation=1.0, buffer=0.0, max_return=10.0, min_payment=0.1)
    [[value, stderr]] = officejs("NOTE_MC_VALUE", *note.values(), None, 1000, 7)
    [[exact]] = officejs("NOTE_VALUE", *note.values())
    assert abs(value - exact) <= 4 * stderr


@pytest.mark.parametrize("name, argument, value, message", [
    ("NOTE_PAYMENT", "initial", 2 ** 1100, "initial must be a finite number, got inf"),
    ("NOTE_VALUE", "payment_date", 2958465, "payment_date must be at most 100 years after final_date"),
    ("WARRANT_VALUE", "settlement", 2958465, "settlement must be at most 100 years after window_start"),
    ("WARRANT_MC_VALUE", "window_end", serial("2110-01-04"), "window_end must be at most 731 days after window_start"),
    ("TRADING_DAYS", "last_day", 2958465, "last_day must be at most 100 years after first_day"),
    ("NOTE_PAYMENT", "principal", "#PYTHON!", "principal is an error cell (#PYTHON!)"),
])
def test_attacks_end_in_a_clear_error(name, argument, value, message):
    args = good_args(name)
    args[argument] = value
    if argument == "window_end":
        args.update(expiration=value, settlement=value)
    with pytest.raises(udfs.ExcelInputError) as error:
        registered(name)(*args.values())
    assert str(error.value).startswith(message)


def test_theta_at_the_end_of_life_is_the_remaining_discounting():
    args = good_args("WARRANT_GREEKS")
    args.update(spot=5500.0, as_of=serial("2025-10-10"), closes=[[5907.55]] * 21)
    theta = registered("WARRANT_GREEKS")(*args.values())[0][3]
    [[value]] = registered("WARRANT_VALUE")(*args.values())
    assert theta == pytest.approx(value * math.expm1(0.043 / 365)) and theta > 0
    note = good_args("NOTE_GREEKS")
    note.update(as_of=note["payment_date"], final_date=note["payment_date"])
    assert registered("NOTE_GREEKS")(*note.values())[0][3] == 0  # paid: nothing accrues


def test_a_lone_blank_close_is_a_disrupted_first_day():
    args = good_args("WARRANT_VALUE")
    args.update(as_of=serial("2025-05-21"), closes=[[None]])
    with_blank = registered("WARRANT_VALUE")(*args.values())
    args["closes"] = [[None], [None]]
    assert with_blank == registered("WARRANT_VALUE")(*args.values())
