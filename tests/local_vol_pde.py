"""The tests' independent truth for a lookback spread under local volatility: finite differences
in the spot's distance from the lookback, on a grid of lookback levels (too slow for an Excel
cell, converged enough to hold the local-vol Monte Carlo to its standard error).

Under a local vol sigma(S, t) (Dupire's, from the surface) the flat-vol engine's homogeneity is
gone, but only through the vol: the long leg per unit of notional pays an option on S/L, a
function of y = log(S/L) alone, and the lookback's level m = log L enters only through where
the local vol is read. So u(y, m, t), the long leg's expectation, is carried back on a fine
grid in y (a quarter of a window day's deviation), and a grid of lookback levels m:

- between observations, for each level m, u_t + (r - q - sigma^2/2) u_y + sigma^2/2 u_yy = 0
  with sigma read at S = e^{y + m} (rates from the curves' forwards): one tridiagonal system
  for all levels at once, Crank-Nicolson after two implicit quarter steps following the payoff
  and each observation (Rannacher); no step straddles a surface expiry, where the local vol
  jumps in time;
- on each remaining window day the close is observed: where the spot has gone beyond the
  lookback (d y > 0, d = +1 for puts below the highest close, -1 for calls above the lowest),
  the lookback becomes the spot: u(y, m) = u(0, m + y), a cubic spline between levels;
- the payoff's kink (y = log lookback_strike) and the observation's (y = 0) are grid points;
  the grid spans TAILS deviations to expiration beyond today's spot and lookback;
- the answer is extrapolated from the grid and one twice as fine in y and time (Richardson).

Measured against the exact engine (flat vol and a term structure with its jump after the
window): within 4e-5 per $1,000. Under a steep smile the long leg's value moves fast with the
lookback's level (the local vol there), and the levels' spacing decides the accuracy: about
8e-3 per $1,000 at 0.025, 5e-4 at 0.0125 (the default here).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.linalg import solve_banded

from xlfuncs.core.market import Market
from xlfuncs.engines.lookback import LookbackSpread

TAILS = 7.0                  # deviations of the log spot to expiration the grid spans
POINTS_PER_DAY_STDEV = 4     # grid points per deviation of a window day's log return, coarse grid
LEVEL_STEP = 0.0125          # between lookback levels, in log index level
STEPS_PER_DAY = 4            # time steps at least between observations (after the two quarter steps)
STEPS_PER_SQRT_YEAR = 80     # ... or this many x sqrt(years) of the stretch


def schedule(window_times: np.ndarray, t_expiry: float, refine: int, changes: list[float]) -> list[tuple]:
    """Time steps back from expiration, latest first: (start, end, implicit, observe at start,
    the stretch between observations it is in). Each stretch starts from kinked data (the payoff
    or an observation): two implicit quarter steps, then Crank-Nicolson; a step that would
    straddle a jump of the local vol in time (`changes`) is cut there."""
    events = sorted({float(t) for t in window_times if t < t_expiry - 1e-12}, reverse=True)
    ends = [t_expiry, *events, 0.0]
    steps = []
    for late, early in zip(ends, ends[1:]):
        count = max(STEPS_PER_DAY, math.ceil(STEPS_PER_SQRT_YEAR * math.sqrt(late - early))) * refine
        quarter = (late - early) / count / 4
        times = [late, late - quarter, late - 2 * quarter, *np.linspace(late, early, count + 1)[1:].tolist()]
        cuts = [t for t in changes if early + 1e-12 < t < late - 2 * quarter - 1e-12]
        times = [*times[:3], *sorted({*times[3:], *cuts}, reverse=True)]
        for j, (a, b) in enumerate(zip(times, times[1:])):
            steps.append((b, a, j < 2, j == len(times) - 2 and early > 0, (early, late)))  # `early`'s close observed
    return steps


def long_leg_value(spread: LookbackSpread, lookback_so_far: float, market: Market, window_times: np.ndarray,
                   t_expiry: float, t_settle: float, refine: int = 1) -> float:
    """E[long leg] discounted to as_of on one grid (`refine` 2: twice as fine in y and time)."""
    d = spread.direction
    stdev = math.sqrt(market.total_variance(market.spot, t_expiry))
    days = np.diff(window_times, prepend=0.0)
    day_stdev = min(math.sqrt(market.total_variance(market.spot, float(t)) / float(t) * float(dt))
                    for t, dt in zip(window_times, days) if dt > 0)
    # The step divides log(lookback_strike), so the payoff's kink and y = 0 are grid points.
    kink = math.log(spread.lookback_strike) if spread.lookback_strike > 0 else -day_stdev
    h = abs(kink) / (max(1, math.ceil(abs(kink) / (day_stdev / POINTS_PER_DAY_STDEV))) * refine)
    y0 = math.log(market.spot / lookback_so_far)
    low, high = min(y0, 0.0, kink) - TAILS * stdev, max(y0, 0.0, kink) + TAILS * stdev
    y = h * np.arange(math.floor(low / h), math.ceil(high / h) + 1)
    zero = int(np.flatnonzero(np.abs(y) < h / 2)[0])
    # Lookback levels from today's outwards, as far as the window's closes can set them.
    window_stdev = math.sqrt(market.total_variance(market.spot, float(window_times[-1])))
    reach = max(d * y0, 0.0) + TAILS * window_stdev
    count = max(1, math.ceil(reach / LEVEL_STEP) + 1) if market.smile else 1
    levels = math.log(lookback_so_far) + d * LEVEL_STEP * np.arange(count)
    sign = 1.0 if spread.is_call else -1.0
    u = np.tile(spread.notional * np.maximum(sign * (np.exp(y) - spread.lookback_strike), 0.0), (count, 1))
    beyond = d * y > 0                        # the spot beyond the lookback: an observation moves the lookback
    moved = np.clip(levels[:, None] + y[None, beyond], *sorted((levels[0], levels[-1])))

    def observe(values):
        if count == 1:
            values[:, beyond] = values[:, zero:zero + 1]
        else:
            order = np.argsort(levels)
            at_zero = CubicSpline(levels[order], values[order, zero])
            values[:, beyond] = at_zero(moved)
        return values

    if math.isclose(float(window_times[-1]), t_expiry, abs_tol=1e-12):
        u = observe(u)
    spots = np.exp(levels[:, None] + y[None, :]).ravel()
    last_day = float(window_times[-1])
    vols, read_for = None, None
    changes = market.vol_changes(t_expiry)
    for start, end, implicit, observed_at_start, stretch in schedule(window_times, t_expiry, refine, changes):
        dt = end - start
        # The vol at each step's middle after the window; within it, once per stretch (a day or a
        # few), at its middle: it moves little in a day.
        span = (start, end) if stretch[0] >= last_day - 1e-12 or any(
            stretch[0] < t < stretch[1] for t in changes) else stretch
        if span != read_for:
            vols = market.local_vol(spots, (span[0] + span[1]) / 2, *span).reshape(count, -1)
            read_for = span
        drift = float(market.log_growth(end) - market.log_growth(start)) / dt
        u = step(u, h, vols, drift, dt, implicit)
        if observed_at_start:
            u = observe(u)
    return cubic_at(y, u[0], y0) * float(market.discount(t_settle))


def step(u: np.ndarray, h: float, vol: np.ndarray, drift: float, dt: float, implicit: bool) -> np.ndarray:
    """One step back of dt years for every level at once (rows of u): implicit Euler or
    Crank-Nicolson, the levels' tridiagonal systems stacked into one."""
    diffusion = 0.5 * vol * vol / (h * h)
    speed = drift - 0.5 * vol * vol
    lower, upper = diffusion - speed / (2 * h), diffusion + speed / (2 * h)
    # Where the drift outweighs the diffusion (a tiny local vol), upwind differences keep the scheme monotone.
    upwind = (lower < 0) | (upper < 0)
    if upwind.any():
        lower[upwind] = diffusion[upwind] + np.maximum(-speed[upwind], 0.0) / h
        upper[upwind] = diffusion[upwind] + np.maximum(speed[upwind], 0.0) / h
    middle = -(lower + upper)
    lower[:, [0, -1]] = upper[:, [0, -1]] = middle[:, [0, -1]] = 0.0  # the ends keep their values
    theta = 1.0 if implicit else 0.5
    rhs = u.copy()
    if theta < 1:
        rhs[:, 1:-1] += (1 - theta) * dt * (lower[:, 1:-1] * u[:, :-2] + middle[:, 1:-1] * u[:, 1:-1]
                                            + upper[:, 1:-1] * u[:, 2:])
    size = u.size
    bands = np.zeros((3, size))
    bands[0, 1:] = -theta * dt * upper.ravel()[:-1]
    bands[1] = 1 - theta * dt * middle.ravel()
    bands[2, :-1] = -theta * dt * lower.ravel()[1:]
    return solve_banded((1, 1), bands, rhs.ravel(), overwrite_b=True, check_finite=False).reshape(u.shape)


def cubic_at(x: np.ndarray, values: np.ndarray, point: float) -> float:
    """The cubic through the four grid values around `point`, at it."""
    i = min(max(int(np.searchsorted(x, point)) - 2, 0), len(x) - 4)
    xs, ys = x[i:i + 4], values[i:i + 4]
    return float(sum(ys[a] * np.prod([(point - xs[b]) / (xs[a] - xs[b]) for b in range(4) if b != a])
                     for a in range(4)))


def long_leg(spread: LookbackSpread, lookback_so_far: float, market: Market, window_times, t_expiry: float,
             t_settle: float) -> float:
    """The long leg's value, Richardson-extrapolated from a grid and one twice as fine."""
    coarse = long_leg_value(spread, lookback_so_far, market, window_times, t_expiry, t_settle, 1)
    fine = long_leg_value(spread, lookback_so_far, market, window_times, t_expiry, t_settle, 2)
    return (4 * fine - coarse) / 3
