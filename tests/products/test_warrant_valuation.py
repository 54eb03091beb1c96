"""Warrant valuation: Monte Carlo quality, the closed form after the window, greeks, implied vol, cache.

The exact engine against independent truth is in tests/engines/test_lookback.py."""
import datetime as dt

import numpy as np
import pytest
from scipy.stats import norm

from xlfuncs.core.calendar import trading_days
from xlfuncs.core.market import Market
from xlfuncs.engines import lookback
from xlfuncs.engines.black_scholes import black_scholes
from xlfuncs.engines.montecarlo import MonteCarlo
from xlfuncs.excel import functions as excel
from xlfuncs.products import lookback_warrant
from xlfuncs.products.put_warrant import PutWarrant

EPOCH = dt.date(1899, 12, 30)
INITIAL, UPPER, LOWER, NOTIONAL = 5907.55, 0.95, 0.75, 1000.0
WINDOW = [dt.date(2025, 5, 21), dt.date(2025, 6, 20)]
EXPIRATION, SETTLEMENT = dt.date(2025, 10, 10), dt.date(2025, 10, 17)
RATE, DIV_YIELD = 0.043, 0.013


def serial(day):
    return (day - EPOCH).days


def warrant_valuation(*cells):
    """The warrant and market WARRANT_VALUE builds from its cells."""
    given = excel.WARRANT_VALUE.convert(*cells)
    return PutWarrant.of(given), Market.of(given)


def args(spot=INITIAL, as_of=dt.date(2025, 5, 28), vol=0.167, rate=RATE, closes=(INITIAL,) * 5):
    """WARRANT_VALUE's arguments; by default the pricing date with five closes at the initial value."""
    return [spot, serial(as_of), INITIAL, UPPER, LOWER, *map(serial, WINDOW), serial(EXPIRATION),
            serial(SETTLEMENT), vol, rate, DIV_YIELD,
            [[c if c is not None else ""] for c in closes] if closes else None, None]


def mc_args(paths=None, seed=None, **changes):
    """WARRANT_MC_VALUE's arguments: WARRANT_VALUE's, then paths and seed."""
    return [*args(**changes), paths, seed]


def put_spread(spot, lookback, as_of, vol, rate=RATE):
    """Independent Black-Scholes put spread: notional/lookback puts at 95% of lookback less
    notional/initial puts at 75% of initial, expiring at expiration, paid at settlement."""
    t, t_pay = (EXPIRATION - as_of).days / 365, (SETTLEMENT - as_of).days / 365
    forward = spot * np.exp((rate - DIV_YIELD) * t)

    def put(strike):
        d1 = (np.log(forward / strike) + vol * vol * t / 2) / (vol * np.sqrt(t))
        return np.exp(-rate * t_pay) * (strike * norm.cdf(-d1 + vol * np.sqrt(t)) - forward * norm.cdf(-d1))
    return NOTIONAL * (put(UPPER * lookback) / lookback - put(LOWER * INITIAL) / INITIAL)


def test_pricing_date_value_has_an_error_below_one_cent_and_agrees_with_the_exact_value(excel):
    [[value, stderr]] = excel("WARRANT_MC_VALUE", *mc_args())
    assert 0 < stderr <= 0.01
    assert abs(value - excel("WARRANT_VALUE", *args())[0][0]) < 4 * stderr


def test_same_inputs_and_seed_give_the_same_digits(excel):
    first = excel("WARRANT_MC_VALUE", *mc_args(seed=11))
    lookback_warrant.warrant_mc_value.cache_clear()
    assert excel("WARRANT_MC_VALUE", *mc_args(seed=11)) == first
    assert excel("WARRANT_MC_VALUE", *mc_args(seed=12)) != first


def test_standard_error_is_honest_across_seeds():
    estimates = [lookback_warrant.warrant_mc_value(*warrant_valuation(*args()), MonteCarlo(16384, seed))
                 for seed in range(24)]
    values = np.array([e.value for e in estimates])
    reported = np.mean([e.stderr for e in estimates])
    assert 0.6 < values.std(ddof=1) / reported < 1.6


def test_agrees_with_a_plain_monte_carlo_without_any_variance_reduction(excel):
    """Pseudo-random daily steps over the window, one step to expiration, no bridge, no
    conditional expectation, no control variate: an independent check of the whole engine."""
    as_of, spot, vol = dt.date(2025, 5, 28), INITIAL, 0.167
    days = [d for d in trading_days(*WINDOW) if d > as_of] + [EXPIRATION]
    times = np.array([(d - as_of).days / 365 for d in days])
    rng, paid = np.random.default_rng(2025), []
    for _ in range(10):
        z = rng.standard_normal((40_000, len(times)))
        steps = np.diff(times, prepend=0.0)
        path = spot * np.exp(np.cumsum((RATE - DIV_YIELD - vol ** 2 / 2) * steps + vol * np.sqrt(steps) * z, 1))
        lookback = np.maximum(INITIAL, path[:, :-1].max(axis=1))
        final = path[:, -1]
        paid.append(NOTIONAL * (np.maximum(UPPER - final / lookback, 0)
                                - np.maximum(LOWER * INITIAL - final, 0) / INITIAL))
    paid = np.concatenate(paid) * np.exp(-RATE * (SETTLEMENT - as_of).days / 365)
    plain, plain_error = paid.mean(), paid.std(ddof=1) / np.sqrt(paid.size)
    [[value, stderr]] = excel("WARRANT_MC_VALUE", *mc_args())
    assert abs(value - plain) < 4 * np.hypot(stderr, plain_error)
    exact = excel("WARRANT_VALUE", *args())[0][0]
    assert abs(exact - plain) < 4 * plain_error


def test_after_the_window_the_value_is_the_closed_form_put_spread(excel):
    as_of, spot = dt.date(2025, 7, 15), 6243.76
    closes = [5940.46, 5921.85, None, 6000.36, 5982.72] + [6020.0] * 15 + [6090.27]  # 21 days
    [[value, stderr]] = excel("WARRANT_MC_VALUE", *mc_args(spot=spot, as_of=as_of, closes=closes))
    assert stderr == 0
    assert value == pytest.approx(put_spread(spot, 6090.27, as_of, 0.167), rel=1e-12)
    assert excel("WARRANT_VALUE", *args(spot=spot, as_of=as_of, closes=closes)) == [[value]]


def test_before_the_window_all_21_days_are_simulated_and_lookback_only_adds_value(excel):
    as_of = dt.date(2025, 5, 20)
    [[value, stderr]] = excel("WARRANT_MC_VALUE", *mc_args(as_of=as_of, closes=()))
    # The lookback can only raise the upper strike, so the value is above the put spread
    # struck at today's known strikes.
    assert value > put_spread(INITIAL, INITIAL, as_of, 0.167) + 3 * stderr


def test_near_zero_vol_the_path_is_the_forward():
    """Below the vol rule (through a bumped market): the exact engine's limit is deterministic."""
    as_of, vol = dt.date(2025, 5, 28), 1e-4
    warrant, market = warrant_valuation(*args(spot=6400.0))
    growth = np.exp((RATE - DIV_YIELD) * (WINDOW[1] - as_of).days / 365)
    lookback = 6400.0 * growth  # the forward at the window's last day is its highest close
    value = lookback_warrant.engine_value(warrant, market.bumped(vol=vol))
    assert value == pytest.approx(put_spread(6400.0, lookback, as_of, vol), abs=1e-6)


def test_greeks_after_the_window_match_the_closed_form_greeks(excel):
    as_of, spot, lookback = dt.date(2025, 7, 15), 5800.0, 6090.27
    closes = [lookback] + [None] * 20
    [[delta, gamma, vega, theta, rho]] = excel("WARRANT_GREEKS", *args(spot=spot, as_of=as_of, closes=closes))
    t, t_pay = (EXPIRATION - as_of).days / 365, (SETTLEMENT - as_of).days / 365
    legs = (NOTIONAL / lookback * black_scholes(False, spot, UPPER * lookback, t, t_pay, 0.167, RATE, DIV_YIELD)
            - NOTIONAL / INITIAL * black_scholes(False, spot, LOWER * INITIAL, t, t_pay, 0.167, RATE, DIV_YIELD))
    # Central differences (0.1% of spot, 0.1 vol point, 0.01% of rate) against exact derivatives.
    assert delta == pytest.approx(legs[1], rel=1e-5)
    assert gamma == pytest.approx(legs[2], rel=1e-4)
    assert vega == pytest.approx(legs[3] / 100, rel=1e-5)
    assert rho == pytest.approx(legs[5] / 100, rel=1e-6)
    assert theta == pytest.approx(put_spread(spot, lookback, as_of + dt.timedelta(days=1), 0.167)
                                  - put_spread(spot, lookback, as_of, 0.167), rel=1e-9)


def test_greeks_while_the_window_is_open_are_bearish(excel):
    [[delta, gamma, vega, theta, rho]] = excel("WARRANT_GREEKS", *args())
    assert delta < 0 and gamma > 0 and vega > 0 and theta < 0 and rho < 0


def test_implied_vol_round_trips(excel):
    [[price]] = excel("WARRANT_VALUE", *args(vol=0.21))
    no_vol = args()[:9] + args()[10:]
    assert excel("WARRANT_IMPLIED_VOL", price, *no_vol) == [[pytest.approx(0.21, abs=1e-9)]]


def test_disclosed_22_80_on_the_pricing_date_is_about_16_7_percent_vol(excel):
    no_vol = args()[:9] + args()[10:]
    [[vol]] = excel("WARRANT_IMPLIED_VOL", 22.80, *no_vol)
    assert 0.167 < vol < 0.170


def test_recalculating_unchanged_inputs_does_not_simulate_again(excel, monkeypatch):
    lookback_warrant.warrant_mc_value.cache_clear()
    simulations = []
    real = lookback.estimate
    monkeypatch.setattr(lookback, "estimate", lambda *a: simulations.append(1) or real(*a))
    first = excel("WARRANT_MC_VALUE", *mc_args(seed=5))
    assert excel("WARRANT_MC_VALUE", *mc_args(seed=5)) == first
    assert len(simulations) == 1
    excel("WARRANT_MC_VALUE", *mc_args(seed=6))
    assert len(simulations) == 2
