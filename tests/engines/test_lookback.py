"""WARRANT_VALUE, the exact engine, against independent truth over wide grids of states.

Truths: adaptive quadrature of the payoff over one or two remaining window days (no grid),
the engine's own convergence as its grid is refined, the Monte Carlo engine (within 4 of its
standard errors), finite differences, and the states the validation found.
"""
import datetime as dt
import itertools
import math

import numpy as np
import pytest

import udfs
from xlfuncs.core.market import Market
from xlfuncs.engines import montecarlo
from xlfuncs.engines.montecarlo import MonteCarlo
from xlfuncs.excel import functions as excel
from xlfuncs.products import lookback_warrant
from xlfuncs.products.put_warrant import PutWarrant

from helpers import lookback_engine
from oracles import EXACT, quadrature

EPOCH = dt.date(1899, 12, 30)
INITIAL, UPPER, LOWER = 5907.55, 0.95, 0.75
WINDOW, EXPIRATION, SETTLEMENT = ("2025-05-21", "2025-06-20"), "2025-10-10", "2025-10-17"


def serial(day):
    return (dt.date.fromisoformat(day) - EPOCH).days


def warrant_valuation(*cells):
    """The warrant and market WARRANT_VALUE builds from its cells."""
    given = excel.WARRANT_VALUE.convert(*cells)
    return PutWarrant.of(given), Market.of(given)


def args(spot=INITIAL, as_of="2025-05-28", vol=0.167, rate=0.043, closes=(INITIAL,) * 5, notional=None,
         lower=LOWER):
    return [spot, serial(as_of), INITIAL, UPPER, lower, *map(serial, WINDOW), serial(EXPIRATION),
            serial(SETTLEMENT), vol, rate, 0.013, [[c] for c in closes] if closes else None, notional]


# States over the product's life: before the window, its first day, the pricing date, late in
# it, its last day, after it. Closes are chosen so the lookback so far is 1.02 x initial.
LIFE = [("2025-03-21", ()), ("2025-05-20", ()), ("2025-05-21", (INITIAL * 1.02,)),
        ("2025-05-28", (INITIAL * 1.02,) + (INITIAL,) * 4), ("2025-06-13", (INITIAL * 1.02,) + (None,) * 16),
        ("2025-06-20", (INITIAL * 1.02,) * 21), ("2025-08-01", (INITIAL * 1.02,) * 21)]


ONE_DAY_CASES = list(itertools.product([0.5, 0.97, 1.0, 1.05, 3.0], [0.01, 0.167, 1.0, 3.0],
                                       [(1, 100), (40, 100), (3, 3)]))


@pytest.mark.parametrize("ratio, vol, days", ONE_DAY_CASES)
def test_one_remaining_window_day_matches_adaptive_quadrature(ratio, vol, days):
    """(days to the window's last day, days to expiration): (3, 3) expires on that day, where
    the payoff's kink is integrated in closed form."""
    warrant = PutWarrant(INITIAL, UPPER, LOWER, 1000.0)
    to_day, to_expiry = days
    times, t_exp, t_set = np.array([to_day / 365]), to_expiry / 365, (to_expiry + 7) / 365
    exact = lookback_engine(warrant, INITIAL, ratio * INITIAL, times, t_exp, t_set, vol, 0.043, 0.013)
    truth = quadrature(warrant, INITIAL, ratio * INITIAL, times, t_exp, t_set, vol, 0.043, 0.013)
    assert exact == pytest.approx(truth, abs=1000 * EXACT)


@pytest.mark.parametrize("ratio, vol, days", [(0.97, 0.167, (1, 2, 80)), (1.0, 1.0, (30, 33, 33)),
                                              (1.05, 3.0, (1, 4, 80)), (0.5, 0.5, (10, 11, 40))])
def test_two_remaining_window_days_match_adaptive_quadrature(ratio, vol, days):
    warrant = PutWarrant(INITIAL, UPPER, LOWER, 1000.0)
    times, t_exp = np.array(days[:2]) / 365, days[2] / 365
    exact = lookback_engine(warrant, INITIAL, ratio * INITIAL, times, t_exp, t_exp + 7 / 365, vol, 0.043, 0.013)
    truth = quadrature(warrant, INITIAL, ratio * INITIAL, times, t_exp, t_exp + 7 / 365, vol, 0.043, 0.013)
    assert exact == pytest.approx(truth, abs=1000 * EXACT)


@pytest.mark.parametrize("as_of, closes", LIFE[:-1])
@pytest.mark.parametrize("vol", [0.01, 0.167, 1.0, 3.0])
@pytest.mark.parametrize("ratio", [0.5, 1.0, 1.3, 10.0])
def test_the_grid_is_converged(finer_grid, as_of, closes, vol, ratio):
    """Twice the grid density and wider tails move the value by less than the target."""
    model = warrant_valuation(*args(ratio * INITIAL, as_of, vol, closes=closes))
    value = lookback_warrant.engine_value(*model)
    finer_grid()
    assert lookback_warrant.engine_value(*model) == pytest.approx(value, abs=1000 * EXACT)


MC_GRID = list(itertools.product(LIFE, [0.5, 1.0, 1.3, 3.0, 10.0], [0.01, 0.2, 1.0, 3.0]))


@pytest.mark.parametrize("state, ratio, vol", MC_GRID)
def test_monte_carlo_agrees_within_four_standard_errors(state, ratio, vol):
    """The independent check: spot 0.5-10x the lookback so far, vol 1%-300%, before, inside and
    after the window; the rate (-1% to 8%) and the notional (1 to 1e6) vary along the grid."""
    (as_of, closes), case = state, MC_GRID.index((state, ratio, vol))
    rate, notional = [-0.01, 0.0, 0.043, 0.08][case % 4], [1.0, 1000.0, 1e6][case % 3]
    lookback_so_far = max([INITIAL, *(c for c in closes if c)])
    model = warrant_valuation(*args(ratio * lookback_so_far, as_of, vol, rate, closes, notional))
    exact = lookback_warrant.warrant_value(*model)
    mc = lookback_warrant.warrant_mc_value(*model, MonteCarlo(16384, 7))
    assert abs(mc.value - exact) <= 4 * mc.stderr + notional * EXACT
    assert mc.stderr > 0 or exact == mc.value


@pytest.mark.parametrize("as_of, closes", LIFE[:-1])
@pytest.mark.parametrize("ratio, vol", [(0.9, 0.167), (1.0, 0.5), (1.2, 0.05), (3.0, 1.0)])
def test_greeks_are_the_exact_values_differences(as_of, closes, ratio, vol):
    """Against Richardson-extrapolated central differences with steps 4 and 8 times larger;
    theta against tomorrow's exact value."""
    model = warrant_valuation(*args(ratio * INITIAL, as_of, vol, closes=closes))
    warrant, market = model
    delta, gamma, vega, theta, rho = lookback_warrant.warrant_greeks(*model)

    def value(**changes):
        return lookback_warrant.engine_value(warrant, market.bumped(**changes))

    def richardson(name, step, second=False):
        base = getattr(market, name)
        def difference(h):
            up, down = value(**{name: base + h}), value(**{name: base - h})
            return (up - 2 * value() + down) / h ** 2 if second else (up - down) / (2 * h)
        return (4 * difference(step / 2) - difference(step)) / 3

    scale = 1000 / market.spot  # notional per index point: the size a delta is measured against
    assert delta == pytest.approx(richardson("spot", 8e-4 * market.spot), rel=1e-5, abs=1e-7 * scale)
    assert gamma == pytest.approx(richardson("spot", 8e-4 * market.spot, second=True),
                                  rel=1e-3, abs=1e-9 * scale)
    assert vega == pytest.approx(richardson("vol", 8e-4) / 100, rel=1e-4, abs=1e-6)
    assert rho == pytest.approx(richardson("rate", 8e-5) / 100, rel=1e-4, abs=1e-6)
    assert theta == pytest.approx(lookback_warrant.engine_value(warrant, lookback_warrant.roll_forward(warrant, market)) - value())


@pytest.mark.parametrize("as_of, closes", LIFE[:-1])
@pytest.mark.parametrize("ratio", [0.5, 0.9, 1.0, 1.2, 3.0])
@pytest.mark.parametrize("vol", [0.01, 0.167, 0.6, 2.5])
def test_implied_vol_round_trips_or_names_every_vol_that_fits(excel, as_of, closes, ratio, vol):
    """The round trip gives the vol back; where the value is not monotone in vol (deep in the
    money), the error lists every vol that gives the price, the true one among them; where the
    value does not move with vol, the error says so."""
    cells = args(ratio * INITIAL, as_of, vol, closes=closes)
    [[price]] = excel("WARRANT_VALUE", *cells)
    if price == 0:
        return  # worthless: a price of 0 is refused like any non-positive price (test_bad_input)
    try:
        [[implied]] = excel("WARRANT_IMPLIED_VOL", price, *cells[:9], *cells[10:])
    except udfs.ExcelInputError as error:
        message = str(error)
        if "every vol from" in message:
            low, high = (float(v.rstrip("%")) / 100 for v in message.split("from ")[1].split(" (")[0].split(" to "))
            assert low <= vol * (1 + 1e-9) and vol <= high * (1 + 1e-9)
            return
        assert "more than one vol" in message, message
        listed = [float(v.rstrip("%")) / 100 for v in message.split("(")[1].split(")")[0].split(", ")]
        for other in listed:  # each listed vol (printed to 4 decimals of a percent) gives the price
            [[again]] = excel("WARRANT_VALUE", *cells[:9], other, *cells[10:])
            assert again == pytest.approx(price, rel=1e-5)
        assert min(abs(v - vol) for v in listed) < 1e-6
        return
    [[again]] = excel("WARRANT_VALUE", *cells[:9], implied, *cells[10:])
    assert again == pytest.approx(price, abs=1000 * EXACT)


# The states the validation found

def test_spot_ten_times_the_initial_value_before_the_window(excel):
    cells = args(59075.5, "2025-05-20", 0.16, closes=())
    [[exact]] = excel("WARRANT_VALUE", *cells)
    assert exact == pytest.approx(22.38, abs=0.005)
    [[value, stderr]] = excel("WARRANT_MC_VALUE", *cells, None, None)
    assert abs(value - exact) < 4 * stderr and 0 < stderr <= 0.01
    delta, gamma, vega, theta, rho = excel("WARRANT_GREEKS", *cells)[0]
    assert 0 < vega < 5 and abs(delta) < 0.01  # a forward-start put spread near the money (once 4.8e23)


def test_low_vol_a_month_before_the_window(excel):
    cells = args(7679.82, "2025-04-21", 0.05, closes=())
    [[exact]] = excel("WARRANT_VALUE", *cells)
    assert exact == pytest.approx(0.406, abs=0.0005)
    [[value, stderr]] = excel("WARRANT_MC_VALUE", *cells, None, None)
    assert abs(value - exact) < 4 * stderr


@pytest.mark.parametrize("as_of", ["2025-03-21", "2025-04-21", "2025-05-20"])
@pytest.mark.parametrize("ratio", [1.10, 1.15, 1.20, 1.5])
def test_no_false_low_implied_vol_when_spot_is_above_the_initial_value(excel, as_of, ratio):
    cells = args(ratio * INITIAL, as_of, 0.2, closes=())
    [[price]] = excel("WARRANT_VALUE", *cells)
    assert excel("WARRANT_IMPLIED_VOL", price, *cells[:9], *cells[10:]) == [[pytest.approx(0.2, abs=1e-8)]]


def test_a_standard_error_of_zero_only_when_the_value_is_exact():
    """Replicates that agree to the last digit saw no variation: the error is stated as what
    the paying paths no path met could add (as many as three: sqrt(3) x largest / paths), not
    0. After the window the value is exact, and 0."""
    never_pays = lambda z: (np.zeros(len(z)), np.zeros(len(z)))
    estimate = montecarlo.estimate(never_pays, 3, 0.0, MonteCarlo(16384, 1), 1000.0, 950.0)
    assert estimate.value == 0 and estimate.stderr == pytest.approx(np.sqrt(3) * 950.0 / estimate.paths, rel=1e-15)
    automatic = montecarlo.estimate(never_pays, 3, 0.0, MonteCarlo(None, 1), 1000.0, 950.0)
    assert automatic.stderr <= 0.01 and automatic.paths == 262144  # doubled until those paths are worth a cent
    after = warrant_valuation(*args(INITIAL, "2025-08-01", 0.2, closes=LIFE[-1][1]))
    assert lookback_warrant.warrant_mc_value(*after, MonteCarlo(16384, 1)).stderr == 0


def test_a_control_whose_mass_the_sample_misses_is_not_used():
    """Spot 1.1x, vol 1%: the control's known mean sits in a tail no path reaches; its
    regression coefficient would be ~1e136 and turn rounding into 3e-5 of value."""
    model = warrant_valuation(*args(1.1 * INITIAL, "2025-05-20", 0.01, closes=()))
    mc = lookback_warrant.warrant_mc_value(*model, MonteCarlo(16384, 20250528))
    assert abs(mc.value - lookback_warrant.warrant_value(*model)) < 1e-15


@pytest.mark.parametrize("as_of, closes", LIFE[:-1])
def test_default_paths_give_a_standard_error_of_a_cent_per_thousand_even_at_300_percent_vol(as_of, closes):
    for notional in (1000.0, 1e6):
        model = warrant_valuation(*args(INITIAL, as_of, 3.0, closes=closes, notional=notional))
        assert lookback_warrant.warrant_mc_value(*model, MonteCarlo()).stderr <= 0.01 * notional / 1000


def test_zero_and_negative_zero_lower_strikes_are_a_put_without_a_short_leg(excel):
    lookback_warrant.engine_value.cache_clear()
    [[minus_zero]] = excel("WARRANT_VALUE", *args(lower=-0.0))
    [[zero]] = excel("WARRANT_VALUE", *args(lower=0.0))
    [[no_short]] = excel("WARRANT_VALUE", *args(lower=1e-300))
    assert zero == minus_zero == pytest.approx(no_short) and zero > excel("WARRANT_VALUE", *args())[0][0]
    assert all(math.isfinite(g) for g in excel("WARRANT_GREEKS", *args(lower=0.0))[0])


def test_greeks_at_a_rate_on_its_bound_quote_no_bumped_value(excel):
    assert all(math.isfinite(g) for g in excel("WARRANT_GREEKS", *args(rate=0.5))[0])
    assert all(math.isfinite(g) for g in excel("WARRANT_GREEKS", *args(rate=-0.5))[0])


def test_expiring_on_the_windows_last_day_and_settling_the_same_day(excel):
    cells = args()
    cells[7] = cells[8] = serial(WINDOW[1])
    [[value]] = excel("WARRANT_VALUE", *cells)
    [[mc, stderr]] = excel("WARRANT_MC_VALUE", *cells, None, None)
    assert abs(mc - value) < 4 * stderr + EXACT * 1000
