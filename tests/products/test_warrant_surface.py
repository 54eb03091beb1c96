"""The warrant on a surface and curves: a flat surface is the flat vol; a term structure (a surface
flat in strike) keeps the exact engine, held against a time change of the flat engine, its Monte
Carlo and Black after the window; under a smile the Monte Carlo follows the local vol, held
against a finite-difference engine and against Black after the window."""
import datetime as dt

import numpy as np
import pytest

from xlfuncs.core.cells import converted
from xlfuncs.core.fields import TermError
from xlfuncs.core.market import FIELDS, Market
from xlfuncs.engines import lookback
from xlfuncs.engines.montecarlo import MonteCarlo
from xlfuncs.products import lookback_warrant
from xlfuncs.products.put_warrant import PutWarrant

from helpers import FUNCTIONS, WARRANT, WARRANT_MARKET, arguments, serial, surface_grid

DAY = dt.date.fromisoformat
WARRANT_TERMS = PutWarrant(initial=5907.55, upper_strike=0.95, lower_strike=0.75, notional=1000.0, premium=0.02728,
                           window_start=DAY("2025-05-21"), window_end=DAY("2025-06-20"), expiration=DAY("2025-10-10"),
                           settlement=DAY("2025-10-17"))
TERM_STRUCTURE = [[None, 5000.0], [DAY("2025-07-01"), 0.15], [DAY("2025-12-01"), 0.19], [DAY("2026-06-01"), 0.2]]
RATES = [[DAY("2025-09-01"), 0.045], [DAY("2026-06-01"), 0.04]]
DIVIDENDS = [[DAY("2026-01-01"), 0.012]]


def market(as_of="2025-05-28", spot=5907.55, vol=0.167, rate=0.043, div_yield=0.013, lookback=5907.55):
    """A market on as_of with every window day closed by then at `lookback`."""
    def read(name, value):
        return converted(FIELDS[name], value) if isinstance(value, list) else value
    return Market(spot, DAY(as_of), read("vol", vol), read("rate", rate), read("div_yield", div_yield),
                  (lookback,) * WARRANT_TERMS.closed_by(DAY(as_of)))


def engine_args(warrant, at):
    return (warrant.spread, warrant.lookback_so_far(at), at, lookback_warrant.window_times(warrant, at),
            at.time_to(warrant.expiration), at.time_to(warrant.settlement))


def warrant_cells(vol, rate, div_yield):
    return list(arguments("WARRANT_VALUE", {**WARRANT, **WARRANT_MARKET, "vol": vol, "rate": rate,
                                            "div_yield": div_yield}).values())


def test_a_flat_surface_and_one_pillar_curves_give_warrant_value_with_that_number():
    flat = FUNCTIONS["WARRANT_VALUE"](*warrant_cells(0.167, 0.043, 0.013))
    grid = [[None, 4000.0, 5907.55, 8000.0], *([serial(day), 0.167, 0.167, 0.167] for day in
                                                (DAY("2025-06-01"), DAY("2025-12-01")))]
    surfaced = FUNCTIONS["WARRANT_VALUE"](*warrant_cells(grid, [[serial(DAY("2026-01-01")), 0.043]],
                                                          [[serial(DAY("2026-01-01")), 0.013]]))
    assert surfaced == pytest.approx(flat, abs=1e-6)


@pytest.mark.parametrize("as_of, spot", [("2025-05-28", 5907.55), ("2025-05-01", 5700.0), ("2025-06-10", 6100.0),
                                         ("2025-06-18", 5800.0)])
def test_a_term_structure_is_the_flat_engine_on_the_clock_of_variance(as_of, spot):
    """With rates and dividends at 0, the walk only knows each day's variance: the term-structure
    engine must equal the flat engine at vol 1 on days as long as the variances."""
    surfaced = market(as_of, spot, TERM_STRUCTURE, 0.0, 0.0)
    args = engine_args(WARRANT_TERMS, surfaced)
    times, t_expiry = args[3], args[4]
    variance = [surfaced.total_variance(spot, t) for t in (*times, t_expiry)]
    clock = Market(spot, surfaced.as_of, 1.0, 0.0, 0.0)
    expected = lookback.exact_value(args[0], args[1], clock, np.array(variance[:-1]), variance[-1], variance[-1])
    assert lookback.exact_value(*args) == pytest.approx(expected, abs=1e-9)


EXPIRY_INSIDE_THE_WINDOW = [[None, 5000.0], [DAY("2025-06-12"), 0.25], [DAY("2025-09-01"), 0.17],
                            [DAY("2026-01-01"), 0.18]]
ONE_EXPIRY = [[None, 5000.0], [DAY("2025-08-01"), 0.21]]


@pytest.mark.parametrize("surface", [TERM_STRUCTURE, EXPIRY_INSIDE_THE_WINDOW, ONE_EXPIRY],
                         ids=["term structure", "an expiry inside the window", "one expiry"])
@pytest.mark.parametrize("as_of, spot", [("2025-05-28", 5907.55), ("2025-05-01", 5700.0), ("2025-06-10", 6100.0)])
def test_term_structure_and_curves_exact_engine_against_its_monte_carlo(as_of, spot, surface):
    at = market(as_of, spot, surface, RATES, DIVIDENDS)
    args = engine_args(WARRANT_TERMS, at)
    estimate = lookback.mc_value(*args, MonteCarlo(paths=65536, seed=3))
    assert abs(estimate.value - lookback.exact_value(*args)) < 4 * estimate.stderr
    assert estimate.stderr < 0.005


def test_after_the_window_a_term_structure_warrant_is_black_at_the_surface_vol():
    later = [[None, 5000.0], [DAY("2025-08-01"), 0.15], [DAY("2025-12-01"), 0.19]]
    at = market("2025-07-15", 5600.0, later, RATES, DIVIDENDS, lookback=6000.0)
    args = engine_args(WARRANT_TERMS, at)
    black = lookback.european(args[0], 6000.0, at, args[4], args[5]) - lookback.european(args[0], None, at, *args[4:])
    assert lookback.exact_value(*args) == pytest.approx(black, rel=1e-12)
    assert lookback.mc_value(*args, MonteCarlo()).value == pytest.approx(black, rel=1e-12)


SMILE = surface_grid(5907.55, DAY("2025-05-28"))


def test_under_a_smile_warrant_value_is_the_local_vol_engine_and_its_monte_carlo_agrees():
    """From an Excel call: the deterministic engine's value, and the local-vol Monte Carlo
    (paths on the same local vol, no grid) within 4 of its errors."""
    cells = arguments("WARRANT_VALUE", {**WARRANT, **WARRANT_MARKET, "vol": surface_grid(5907.55, DAY("2025-05-28"))})
    value = FUNCTIONS["WARRANT_VALUE"](*cells.values())
    at = market(vol=SMILE, rate=0.043, div_yield=0.013)
    assert value == pytest.approx(lookback_warrant.engine_value(WARRANT_TERMS, at), abs=1e-12)
    estimate = lookback.mc_value(*engine_args(WARRANT_TERMS, at), MonteCarlo(paths=32768, seed=5))
    assert abs(estimate.value - value) < 4 * estimate.stderr
    flat = FUNCTIONS["WARRANT_VALUE"](*warrant_cells(0.167, 0.043, 0.013))
    assert value - flat > 1.0  # the skew matters: puts below the lookback are dearer


def test_local_vol_monte_carlo_after_the_window_is_black_at_the_surface_vols():
    at = market("2025-07-15", 5600.0, surface_grid(5907.55, DAY("2025-07-15")), RATES, DIVIDENDS, 6000.0)
    args = engine_args(WARRANT_TERMS, at)
    black = lookback.european(args[0], 6000.0, at, args[4], args[5]) - lookback.european(args[0], None, at, *args[4:])
    assert lookback.mc_value(*args, MonteCarlo()).value == pytest.approx(black, rel=1e-12)
    skew = lookback.european(args[0], 6000.0, at.bumped(vol=0.2), args[4], args[5])
    assert abs(black + lookback.european(args[0], None, at, *args[4:]) - skew) > 0.1  # the smile matters here


def test_greeks_on_a_term_structure_are_parallel_shifts():
    at = market(vol=TERM_STRUCTURE, rate=RATES, div_yield=DIVIDENDS)
    delta, gamma, vega, theta, rho = lookback_warrant.warrant_greeks(WARRANT_TERMS, at)

    def value(moved):
        return lookback_warrant.engine_value(WARRANT_TERMS, moved)
    assert vega == pytest.approx((value(at.shifted(vol=0.01)) - value(at.shifted(vol=-0.01))) / 2, rel=1e-3)
    assert rho == pytest.approx((value(at.shifted(rate=0.001)) - value(at.shifted(rate=-0.001))) / 0.2, rel=1e-3)
    assert delta == pytest.approx((value(at.bumped(spot=5908.55)) - value(at.bumped(spot=5906.55))) / 2, rel=1e-3)
    assert delta < 0 and vega > 0


def test_greeks_under_a_smile_are_differences_of_the_value_on_one_grid():
    """Sticky strike: the surface stays in strike as spot moves; every bump on the base market's grid."""
    at = market(vol=SMILE, rate=RATES, div_yield=DIVIDENDS)
    delta, gamma, vega, theta, rho = lookback_warrant.warrant_greeks(WARRANT_TERMS, at)
    grid = lookback_warrant.grid_of(WARRANT_TERMS, at)

    def value(moved):
        return lookback_warrant.engine_value(WARRANT_TERMS, moved, grid)
    assert vega == pytest.approx((value(at.shifted(vol=0.01)) - value(at.shifted(vol=-0.01))) / 2, rel=1e-2)
    assert rho == pytest.approx((value(at.shifted(rate=0.001)) - value(at.shifted(rate=-0.001))) / 0.2, rel=1e-2)
    assert delta == pytest.approx((value(at.bumped(spot=5912.55)) - value(at.bumped(spot=5902.55))) / 10, rel=1e-3)
    assert gamma == pytest.approx((value(at.bumped(spot=5912.55)) - 2 * value(at) + value(at.bumped(spot=5902.55)))
                                  / 25, rel=1e-2)
    assert theta == pytest.approx(value(lookback_warrant.roll_forward(WARRANT_TERMS, at)) - value(at), abs=1e-9)
    assert delta < 0 and vega > 0 and gamma > 0


@pytest.mark.parametrize("price", [22.80, 30.0])
def test_surface_shift_under_a_smile_round_trips(price):
    at = market(vol=SMILE, rate=RATES, div_yield=DIVIDENDS)
    shift = lookback_warrant.warrant_surface_shift(price, WARRANT_TERMS, at)
    assert lookback_warrant.engine_value(WARRANT_TERMS, at.shifted(vol=shift)) == pytest.approx(price, abs=1e-8)


INVERTED = [[None, 5000.0], [DAY("2025-06-11"), 0.25], [DAY("2025-07-27"), 0.17], [DAY("2025-12-14"), 0.16]]


@pytest.mark.parametrize("price", [20.0, 25.0, 30.0])
def test_surface_shift_on_an_inverted_term_structure(price):
    """After a spike the term structure falls: shifted down far enough its forward variance would
    turn negative, so the solver keeps above that and round-trips."""
    at = market(vol=INVERTED)
    shift = lookback_warrant.warrant_surface_shift(price, WARRANT_TERMS, at)
    assert lookback_warrant.engine_value(WARRANT_TERMS, at.shifted(vol=shift)) == pytest.approx(price, abs=1e-8)


def test_a_term_structure_with_no_variance_between_expiries_is_refused_by_date():
    flat_in_time = [[None, 5000.0], [DAY("2025-06-02"), 0.4], [DAY("2025-06-27"), 0.4 * (5 / 30) ** 0.5],
                    [DAY("2025-12-14"), 0.2]]
    for function in (lookback_warrant.warrant_value, lookback_warrant.warrant_greeks):
        with pytest.raises(TermError, match="vol surface gives the stretch to 2025-06-.* a forward vol of 0.0"):
            function(WARRANT_TERMS, market(vol=flat_in_time))
