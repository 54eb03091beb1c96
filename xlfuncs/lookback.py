"""The warrant's exact engine: its value by propagating the lookback's distribution, no simulation.

By homogeneity the long leg, notional/L puts struck at upper_strike x L on the spot S at the
window's end, is notional x a put on S/L struck at upper_strike, so only Y = log(L/S) matters.
Over each remaining window trading day Y is a random walk reflected at 0 (a Lindley recursion):

    Y_j = max(Y_{j-1} - X_j, 0),   X_j ~ N((rate - div_yield - vol^2/2) dt_j, vol^2 dt_j)

Its law is a mass `a` at 0 plus a density f on (0, inf). Each day f is carried by a Gaussian
convolution, computed on a uniform grid with the sinc rule for integrals over a half line
(Stenger): the grid goes on below 0 with the density's smooth continuation, so the cut at 0
costs no accuracy and the error falls like exp(-pi^2 R^2 / 2) with R grid points per standard
deviation of a day's move. The long leg is then the closed-form put at the window's end
integrated against Y's law; the short leg does not depend on the lookback and is closed form.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft
from scipy.special import log_ndtr, ndtr, sici

from .analytic import lower_put, normal_pdf, option_value, put_spread_value
from .fields import TermError

if TYPE_CHECKING:
    from .products.put_warrant import PutWarrant

TAILS = 7.5           # standard deviations kept on each side: the mass beyond is below 1e-13
POINTS_PER_STDEV = 2.5  # grid points per standard deviation of the narrowest move
MAX_GRID_POINTS = 1 << 18
MAX_GRID_WORK = MAX_GRID_POINTS * 8  # grid points x days carried


def normal_density(x, stdev):
    return normal_pdf(x / stdev) / stdev


@lru_cache(maxsize=64)
def half_line_weights(first: int, count: int, step: float) -> np.ndarray:
    """Sinc-rule weights for the integral over [0, inf) of a smooth function sampled at k x step,
    k = first .. first + count - 1: step x (1/2 + Si(pi k) / pi)."""
    k = np.arange(first, first + count)
    return step * (0.5 + sici(np.pi * k)[0] / np.pi)


def expected_final_put(warrant: PutWarrant, y0: float, times: np.ndarray, to_expiry: float, t_settle: float,
                       vol: float, rate: float, div_yield: float) -> float:
    """E[notional x discounted put on S/L at the window's end] with Y = log(L/S) starting at y0
    and moving on the window days at `times` (years from as_of, increasing)."""
    drift = rate - div_yield - 0.5 * vol * vol
    steps = np.diff(times, prepend=0.0)
    horizon = times[-1]

    def final_value(y):  # the long leg's value at the window's end, as a function of Y there
        return warrant.notional * option_value(False, np.exp(-y), warrant.upper_strike, to_expiry, t_settle,
                                               vol, rate, div_yield)

    def last_day_value(y):
        """Expiration on the last window day: the payment's expectation over that day's move
        from Y = y, exact (the payoff's kink makes a grid integral converge slowly)."""
        mean, stdev = y - drift * steps[-1], vol * math.sqrt(steps[-1])
        u = warrant.upper_strike
        kink = max(0.0, -math.log(u))
        with np.errstate(over="ignore"):
            value = (max(u - 1, 0.0) * ndtr(-mean / stdev) + u * ndtr((mean - kink) / stdev)
                     - np.exp(-mean + stdev ** 2 / 2 + log_ndtr((mean - stdev ** 2 - kink) / stdev)))
        return warrant.notional * math.exp(-rate * t_settle) * value

    payoff = final_value if to_expiry > 0 else last_day_value
    carried = steps if to_expiry > 0 else steps[:-1]
    if carried.size == 0:
        return float(payoff(np.array(y0)))

    # Moves of the days after the first (carried on the grid), and the final payoff's scale.
    moves = list(carried[1:]) + ([to_expiry] if to_expiry > 0 else [steps[-1]])
    narrowest = vol * math.sqrt(min([carried[0], *moves]))
    step = narrowest / POINTS_PER_STDEV
    reach = max(TAILS * vol * math.sqrt(dt) + abs(drift) * dt for dt in moves)
    below = 2 * reach                   # the grid goes on below 0 for the sinc rule
    above = max(y0, 0.0) + max(0.0, -drift) * horizon + TAILS * vol * math.sqrt(horizon)
    first, last = -math.ceil(below / step), math.ceil(above / step)
    count = last - first + 1
    if count > MAX_GRID_POINTS or count * len(carried) > MAX_GRID_WORK:
        raise TermError(f"these inputs need a grid of {count} points over {len(carried)} days: "
                        "vol is too low against the drift (rate - div_yield) over the time to the "
                        "window's end (raise vol, or bring as_of nearer the window)")
    y = step * np.arange(first, last + 1)
    weights = half_line_weights(first, count, step)
    # Below 0 the density's continuation is faded out smoothly, so the grid can end at -below;
    # at 0 the fade is 1 to within 1e-13.
    fade = ndtr((y + below / 2) / (below / (2 * TAILS)))

    length = next_fast_len(2 * count - 1)  # circular convolution that is linear where it is read
    moves_by_length = {}

    def move(dt):
        """One day's move of dt years on the grid: kernel spectrum, entry density from the
        mass at 0, odds of staying at 0 from there and from each grid point."""
        if dt not in moves_by_length:
            mean, stdev = drift * dt, vol * math.sqrt(dt)
            kernel = normal_density(step * np.arange(-(count - 1), count) + mean, stdev)
            moves_by_length[dt] = (rfft(kernel, length), normal_density(y + mean, stdev),
                                   float(ndtr(mean / stdev)), ndtr((mean - y) / stdev))
        return moves_by_length[dt]

    mean, stdev = y0 - drift * carried[0], vol * math.sqrt(carried[0])
    at_zero = float(ndtr(-mean / stdev))
    density = normal_density(y - mean, stdev)
    for dt in np.round(carried[1:], 12):
        spectrum, from_zero, stay_from_zero, stay = move(dt)
        weighted = weights * fade * density
        density = at_zero * from_zero + irfft(rfft(weighted, length) * spectrum, length)[count - 1:2 * count - 1]
        at_zero = at_zero * stay_from_zero + float(weighted @ stay)
    return float(at_zero * payoff(np.array(0.0)) + np.sum(weights * fade * density * payoff(y)))


def warrant_value(warrant: PutWarrant, lookback_so_far: float, spot: float, window_times: np.ndarray,
                  t_expiry: float, t_settle: float, vol: float, rate: float, div_yield: float) -> float:
    """Value per warrant: the lookback put by the reflected walk, less the closed-form short put.

    `window_times` are the remaining window trading days in years from as_of."""
    args = (vol, rate, div_yield)
    y0 = math.log(lookback_so_far / spot)
    horizon = window_times[-1] if len(window_times) else 0.0
    drift = rate - div_yield - 0.5 * vol * vol
    if len(window_times) == 0 or y0 - max(drift, 0.0) * horizon - TAILS * vol * math.sqrt(horizon) > 0:
        # No window day left, or the spot cannot climb to the lookback so far (odds below
        # 1e-13): the strikes are known.
        return float(put_spread_value(warrant, lookback_so_far, spot, t_expiry, t_settle, *args))
    long = expected_final_put(warrant, y0, np.asarray(window_times, float), t_expiry - horizon, t_settle, *args)
    # The payment is never negative (the long put's strike is the higher); only rounding could say so.
    return max(long - float(lower_put(warrant, spot, t_expiry, t_settle, *args)), 0.0)
