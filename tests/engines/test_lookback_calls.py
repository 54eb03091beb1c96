"""The lookback engine in its other direction, calls above the lowest close (LookbackSpread with
direction -1), against adaptive quadrature over one or two remaining window days: no grid, no
reflected walk, only Black's formula at the window's end and scipy's quad."""
import math

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

from xlfuncs.core.fields import TermError
from xlfuncs.core.market import Market
from xlfuncs.engines import lookback
from xlfuncs.engines.lookback import LookbackSpread

from helpers import EPOCH

INITIAL, UPPER = 5907.55, 1.25


def black_call(spot, strike, t_fix, t_pay, vol, rate, div_yield):
    if t_fix <= 0:
        return math.exp(-rate * t_pay) * max(spot - strike, 0.0)
    stdev = vol * math.sqrt(t_fix)
    forward = spot * math.exp((rate - div_yield) * t_fix)
    if strike <= 0:
        return math.exp(-rate * t_pay) * forward
    d1 = math.log(forward / strike) / stdev + stdev / 2
    return math.exp(-rate * t_pay) * (forward * norm.cdf(d1) - strike * norm.cdf(d1 - stdev))


def quadrature(lower, lookback_so_far, spot, times, t_expiry, t_settle, vol, rate, div_yield):
    """notional/L calls at lower x L (L the lowest close) less notional/initial calls at UPPER x initial."""
    drift = rate - div_yield - vol * vol / 2

    def long_leg(low, level, t):
        return 1000.0 / low * black_call(level, lower * low, t_expiry - t, t_settle, vol, rate, div_yield)

    def over_day(start, low, t0, t1, then):
        step = t1 - t0
        z_of = lambda level: (math.log(level / start) - drift * step) / (vol * math.sqrt(step))
        f = lambda z: norm.pdf(z) * then(start * math.exp(drift * step + vol * math.sqrt(step) * z),
                                         min(low, start * math.exp(drift * step + vol * math.sqrt(step) * z)))
        kinks = [z_of(low)] + ([z_of(lower * low)] if t1 == t_expiry and lower > 0 else [])
        edges = sorted({-12.0, 12.0 + vol * math.sqrt(step), *(z for z in kinks if -12 < z < 12)})
        return sum(integrate.quad(f, a, b, epsabs=1e-11, epsrel=1e-11, limit=400)[0] for a, b in zip(edges, edges[1:]))

    if len(times) == 1:
        long = over_day(spot, lookback_so_far, 0, times[0], lambda s, low: long_leg(low, s, times[0]))
    else:
        long = over_day(spot, lookback_so_far, 0, times[0], lambda s, low: over_day(
            s, low, times[0], times[1], lambda s2, low2: long_leg(low2, s2, times[1])))
    return long - 1000.0 / INITIAL * black_call(spot, UPPER * INITIAL, t_expiry, t_settle, vol, rate, div_yield)


def engine(lower, lookback_so_far, spot, times, t_expiry, t_settle, vol, rate, div_yield):
    spread = LookbackSpread(-1, 1000.0, INITIAL, lower, UPPER)
    return lookback.exact_value(spread, lookback_so_far, Market(spot, EPOCH, vol, rate, div_yield), times,
                                t_expiry, t_settle)


@pytest.mark.parametrize("lower", [1.05, 0.9, 0.0])
@pytest.mark.parametrize("ratio", [0.95, 1.0, 1.03])
@pytest.mark.parametrize("vol", [0.05, 0.167, 1.0])
@pytest.mark.parametrize("days", [(1, 100), (3, 3), (2, 5, 80), (20, 30, 30)])
def test_calls_above_the_lowest_close_match_adaptive_quadrature(lower, ratio, vol, days):
    """(window days..., expiration) in days: (3, 3) and (20, 30, 30) expire on the window's last
    day, where the payoff's kink is integrated in closed form (a lower strike of 0 included)."""
    times, t_exp = np.array(days[:-1]) / 365, days[-1] / 365
    args = (lower, INITIAL, ratio * INITIAL, times, t_exp, t_exp + 7 / 365, vol, 0.043, 0.013)
    assert engine(*args) == pytest.approx(quadrature(*args), abs=1e-6)


@pytest.mark.parametrize("vol, rate", [(1.0, 0.5), (0.8, 0.0), (1.0, -0.2)])
def test_a_long_volatile_window_reaches_the_call_s_tilted_tail(vol, rate):
    """A call's payoff grows as the spot over the lookback: at 100% vol over two years its
    expectation sits well up Y's tail, which the grid must reach."""
    times = np.array([1.0, 2.0])
    args = (1.05, INITIAL, INITIAL, times, 2.0, 2.02, vol, rate, 0.0)
    assert engine(*args) == pytest.approx(quadrature(*args), abs=1e-6)


@pytest.mark.parametrize("vol, days", [(3.0, 504), (1.5, 504), (2.0, 252)])
def test_calls_too_volatile_for_the_grid_are_a_clear_error_not_a_number(vol, days):
    """Was: 300% vol over two years of window days gave 2.4e12 or 0.0 per warrant (the grid's
    rounding times e^Y at its far end); a Monte Carlo puts the value near 19,000."""
    times = np.arange(1, days + 1) / 365
    with pytest.raises(TermError, match=r"^vol is too high over the window for an exact value of calls"):
        engine(1.05, INITIAL, 0.9 * INITIAL, times, times[-1], times[-1] + 7 / 365, vol, 0.0, -0.5)
