"""Curve and surface ranges through the real call paths, hostile cell by hostile cell: a clear
error naming the argument, or a value within what the payments allow."""
import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import udfs

from helpers import NOTE, NOTE_MARKET, WARRANT, WARRANT_MARKET, arguments, officejs, serial, surface_grid

COM_REF = -2146826265  # #REF! as the classic add-in hands it over
HOSTILE = st.one_of(
    st.sampled_from(["abc", "10%", " ", "2025-05-28", "#N/A", "#REF!", "TRUE", COM_REF, None, True]),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 1e12, 1e-300, -0.0, 0.0, -1.0, 16.7, 300.0,
                     2958466.0, 60.0, 0.004, 3.5]),
    st.floats(allow_nan=False, allow_infinity=False, width=64))


def note_surface():
    return [[serial(cell) if isinstance(cell, dt.date) else cell for cell in row]
            for row in surface_grid(NOTE["initial"], dt.date(2023, 11, 29))]


def note_curve():
    return [[serial("2024-06-01"), 0.054], [serial("2025-06-01"), 0.05], [serial("2027-06-01"), 0.045]]


def note_args(vol, rate, div_yield=0.015):
    return list(arguments("NOTE_VALUE", {**NOTE, **NOTE_MARKET, "vol": vol, "rate": rate,
                                         "div_yield": div_yield}).values())


def within_note_bounds(value, rate_rows):
    """Between the present values of the least and the most the note pays (minimum payment and
    principal x (1 + max_return)), discounted at the highest and lowest rate + spread on offer."""
    years = (NOTE_MARKET["payment_date"] - NOTE_MARKET["as_of"]) / 365
    rates = [zero for _, zero in rate_rows] if isinstance(rate_rows, list) else [rate_rows]
    spread = NOTE_MARKET["funding_spread"]
    low = NOTE["principal"] * NOTE["min_payment"] * math.exp(-(max(rates) + spread + 0.5) * years)
    high = NOTE["principal"] * (1 + NOTE["max_return"]) * math.exp(-(min(rates) + spread - 0.5) * years)
    return low <= value <= high


def outcome(call, argument):
    try:
        [[value]] = call()
    except udfs.ExcelInputError as error:
        # A curve moves the forwards the surface's moneyness is measured against: a surface that
        # no longer holds with them is refused saying so.
        assert argument in str(error) or "forward from spot, rate and div_yield" in str(error), str(error)
        return None
    assert isinstance(value, float) and math.isfinite(value)
    return value


FUZZ = settings(max_examples=300, deadline=dt.timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.data(), HOSTILE)
def test_a_hostile_cell_in_a_surface(data, hostile):
    grid = note_surface()
    row = data.draw(st.integers(0, len(grid) - 1))
    column = data.draw(st.integers(0, len(grid[0]) - 1))
    grid[row][column] = hostile
    args = note_args(grid, 0.053)
    value = outcome(lambda: udfs.NOTE_VALUE(*args), "vol")
    assert value is None or within_note_bounds(value, 0.053)
    assert outcome(lambda: officejs("NOTE_VALUE", *args), "vol") == value


@FUZZ
@given(st.data(), HOSTILE)
def test_a_hostile_cell_in_a_curve(data, hostile):
    curve = note_curve()
    row, column = data.draw(st.integers(0, len(curve) - 1)), data.draw(st.integers(0, 1))
    curve[row][column] = hostile
    args = note_args(note_surface(), curve)
    value = outcome(lambda: udfs.NOTE_VALUE(*args), "rate")
    if value is not None:
        assert within_note_bounds(value, curve)


@FUZZ
@given(st.data())
def test_surfaces_reshaped_as_users_select_them(data):
    """Rows or columns dropped, swapped or padded: refused by name or valued within bounds."""
    grid = note_surface()
    change = data.draw(st.sampled_from(["drop row", "drop column", "swap rows", "swap columns", "pad", "ragged"]))
    i = data.draw(st.integers(1, len(grid) - 2))
    j = data.draw(st.integers(1, len(grid[0]) - 2))
    if change == "drop row":
        del grid[i]
    elif change == "drop column":
        grid = [row[:j] + row[j + 1:] for row in grid]
    elif change == "swap rows":
        grid[i], grid[i + 1] = grid[i + 1], grid[i]
    elif change == "swap columns":
        grid = [[*row[:j], row[j + 1], row[j], *row[j + 2:]] for row in grid]
    elif change == "pad":
        grid = [[None, *row, None] for row in [[None] * len(grid[0]), *grid]]
    else:
        grid[i] = grid[i][:-1]
    value = outcome(lambda: udfs.NOTE_VALUE(*note_args(grid, 0.053)), "vol")
    assert value is None or within_note_bounds(value, 0.053)


def test_the_classic_add_in_hands_a_range_over_as_tuples_with_currency_and_dates():
    """COM passes rows as tuples, currency-formatted cells as Decimals and date cells as datetimes."""
    grid = surface_grid(NOTE["initial"], dt.date(2023, 11, 29))
    com_grid = tuple(tuple(dt.datetime.combine(cell, dt.time()) if isinstance(cell, dt.date) else
                           (Decimal(str(round(cell, 4))) if isinstance(cell, float) and cell > 100 else cell)
                           for cell in row) for row in grid)
    curve = tuple((dt.datetime(2025, 6, 1), Decimal("0.0500")) for _ in range(1))
    [[classic]] = udfs.NOTE_VALUE(*note_args(com_grid, curve))
    [[plain]] = udfs.NOTE_VALUE(*note_args([[serial(c) if isinstance(c, dt.date) else
                                             (round(c, 4) if isinstance(c, float) and c > 100 else c) for c in row]
                                            for row in grid], [[serial("2025-06-01"), 0.05]]))
    assert classic == pytest.approx(plain, rel=1e-14)


def test_warrant_functions_with_a_smile():
    """Through the classic add-in's path (dates as serials): the value, its greeks and the Monte
    Carlo, each within what the payments allow, the Monte Carlo within 4 errors of the value."""
    grid = [[serial(cell) if isinstance(cell, dt.date) else cell for cell in row]
            for row in surface_grid(WARRANT["initial"], dt.date(2025, 5, 28))]
    args = list(arguments("WARRANT_VALUE", {**WARRANT, **WARRANT_MARKET, "vol": grid}).values())
    [[value]] = udfs.WARRANT_VALUE(*args)
    [[delta, gamma, vega, theta, rho]] = udfs.WARRANT_GREEKS(*args)
    [[mc_value, stderr]] = udfs.WARRANT_MC_VALUE(*args, 8000, 1)
    assert 0 < value < WARRANT["notional"] * WARRANT["upper_strike"] and 0 < stderr < 0.5
    assert abs(mc_value - value) < 4 * stderr
    assert delta < 0 < vega and gamma > 0


def test_true_in_a_surface_is_refused_even_after_the_same_numbers_were_read():
    """TRUE equals 1.0 to Python: the reading of a range of numbers must not answer for it."""
    numbers = [[None, 4000.0, 5000.0], [serial("2023-12-29"), 1.0, 1.0], [serial("2024-12-29"), 1.0, 1.0]]
    udfs.NOTE_VALUE(*note_args(numbers, 0.053))
    with_true = [numbers[0], [numbers[1][0], True, 1.0], numbers[2]]
    with pytest.raises(udfs.ExcelInputError, match="vol must be a number, got True"):
        udfs.NOTE_VALUE(*note_args(with_true, 0.053))


@pytest.mark.parametrize("cell", [0.16, Decimal("0.16"), np.float64(0.16)])
def test_one_number_in_a_range_s_first_cell_is_that_flat_input(cell):
    """A Market sheet's range left blank but its first cell: the flat number, to the last digit,
    through the classic add-in (tuples, a currency cell) and Office.js; anywhere else in the
    range a lone number is refused."""
    flat = udfs.NOTE_VALUE(*note_args(0.16, 0.053))
    blank_rest = [[cell, None, None], [None, None, None]]
    assert udfs.NOTE_VALUE(*note_args(tuple(map(tuple, blank_rest)), ((0.053, None),), ((0.015, None),))) == flat
    assert officejs("NOTE_VALUE", *note_args([[float(cell), None], [None, None]], [[0.053, None]])) == flat
    with pytest.raises(udfs.ExcelInputError, match="vol must be one number or a surface range"):
        udfs.NOTE_VALUE(*note_args([[None, cell], [None, None]], 0.053))


def test_an_error_cell_in_a_range_too_small_for_a_surface_is_named():
    """Was: [[0.167, #N/A]] reported only "got a 1x2 range"."""
    with pytest.raises(udfs.ExcelInputError, match=r"vol is an error cell \(#N/A\) \(row 1, column 2 of the range\)"):
        udfs.NOTE_VALUE(*note_args([[0.167, "#N/A"]], 0.053))
