"""Lookback spreads under local volatility: finite differences in the spot's distance from the
lookback, over a set of lookback levels (a deterministic engine for cells; engines/lookback.py's
Monte Carlo follows the same local vol and is its independent check).

Under a local vol sigma(S, t) (Dupire's, from the surface) the reflected walk of lookback.py no
longer applies: the lookback's level L changes the vol the spot meets. The long leg, notional/L
options struck at k x L (k the lookback strike), pays notional x an option on S/L struck at k,
so it is carried back as u(y, m, t) with y = log(S/L), on a grid in y for each of a set of
levels m = log L (d = +1 for puts below the highest close, -1 for calls above the lowest):

- after the window (its last day to expiration) each level's option is carried back on its own
  grid, twice as coarse as the window's, then read onto the window's grid by a cubic spline;
- on each window day the close is observed: where the spot has gone beyond the lookback
  (d y > 0) the lookback becomes the spot, u(y, m) = u(0, m + y), a cubic spline in m;
- between observations u_t + (g - sigma^2/2) u_y + sigma^2/2 u_yy = 0 with sigma read at
  S = e^(y + m) and g the curves' forward rate: two implicit quarter steps after each kink (the
  payoff's, each observation's), then Crank-Nicolson, steps_over each stretch. The local vol is
  read once per window day, at its middle, and at each step of a longer stretch (today to the
  window, after it); no step straddles a surface expiry (where the local vol jumps in time); the
  grids' ends are held linear in the index level;
- the levels are LEVEL_STEP apart where the first close beyond the lookback sets it and further
  apart where the lookback is less likely to go; the payoff's kink and y = 0 are grid points;
- the answer is extrapolated from the grid and one twice as fine in y and in time (Richardson).

The grid (Grid) is set by the market it is first asked for and kept for a greek's bumped markets,
so that their differences are smooth. Accuracy (tests/engines/test_local_vol.py): within 1e-4 per
$1,000 of a run twice to four times as fine, and within 1.5e-4 of the exact engine on a flat vol
or a term structure.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.linalg import lapack

from ..core.fields import TermError
from ..core.market import Market
from . import lookback
from .lookback import TAILS, LookbackSpread, european, require_forward_vols

POINTS_PER_DAY_STDEV = 5   # window grid points per deviation of a window day's log return (at the money)
AFTER_WINDOW_COARSER = 2   # the grid after the window is this many times coarser
WINDOW_TAILS = 6.0         # the window's grid reaches this many deviations beyond today's spot and lookback ...
AFTER_TAILS = 5.0          # ... and the grid after it this many more (the ends held linear in the index level)
STEPS_PER_DAY = 8          # Crank-Nicolson steps at least between closes (after two implicit quarter steps) ...
STEPS_PER_SQRT_YEAR = 40   # ... or this many x sqrt(years) of the stretch if more (today to the window, after it)
LEVEL_STEP = 0.004         # between lookback levels near today's, in log index level ...
LEVELS_PER_STDEV = 15      # ... or a fifteenth of the window's deviation if larger
LEVEL_WIDENING = 4.0       # level steps grow as exp((distance / window deviation)^2 / this)
LEVEL_TAILS = 7.0          # levels reach this many window deviations beyond today's lookback
LONG_STRETCH = 4 / 365     # a stretch between closes longer than this reads the local vol at every step
MAX_WORK = 4e7             # grid points x steps on the coarser grid, both phases (about 4 s a value)


@dataclass(frozen=True)
class Grid:
    """Where and how finely the engine works, in units of the finest window step (the window's
    step at fineness 2): the window's step at fineness 1 is 2 units, the grid after it
    2 x AFTER_WINDOW_COARSER; `window` and `after` are the grids' ends in y, `levels` the
    lookback levels' distances from today's (d log(L / lookback so far)), all in units."""

    unit: float
    window: tuple[int, int]
    after: tuple[int, int]
    levels: tuple[int, ...]
    after_steps: int


def atm_variance(market: Market, start: float, end: float) -> float:
    """The at-the-money total variance from `start` to `end` years on."""
    return max(market.total_variance(market.spot, end) - market.total_variance(market.spot, start), 0.0)


def tail_stdev(market: Market, start: float, end: float) -> float:
    """A deviation of log spot from `start` to `end` for a grid's reach: the at-the-money one,
    or the implied vol's further out (a skew's wing) if larger."""
    stdev = math.sqrt(atm_variance(market, start, end))
    if not market.smile or end <= 0:
        return stdev
    forward = market.spot * float(market.growth(end))
    wings = market.implied_vols([forward * math.exp(-WINDOW_TAILS * stdev), forward * math.exp(WINDOW_TAILS * stdev)],
                                end)
    return max(stdev, *(vol * math.sqrt(end - start) for vol in wings))


def grid_for(spread: LookbackSpread, lookback_so_far: float, market: Market, window_times: np.ndarray,
             t_expiry: float) -> Grid:
    """The grid for this market: steps from the window days' at-the-money deviation, reach from
    the wings' vols, levels as far as the window's closes can set the lookback."""
    window_times = np.asarray(window_times, float)
    last = float(window_times[-1])
    ends = sorted({*window_times.tolist(), *market.vol_changes(t_expiry), t_expiry})
    require_forward_vols(market, ends, [market.total_variance(market.spot, t) for t in ends],
                         "the local-vol finite differences")
    days = np.diff(window_times, prepend=0.0)
    day_stdev = min(math.sqrt(atm_variance(market, end - length, end)) for end, length in zip(window_times, days)
                    if length > 0)
    kink = math.log(spread.lookback_strike)
    coarse = AFTER_WINDOW_COARSER * day_stdev / POINTS_PER_DAY_STDEV
    if kink:  # the payoff's kink a grid point
        coarse = abs(kink) / math.ceil(abs(kink) / coarse)
    unit = coarse / (2 * AFTER_WINDOW_COARSER)
    y0 = math.log(market.spot / lookback_so_far)
    reach = WINDOW_TAILS * tail_stdev(market, 0.0, last)
    window = (math.floor((min(y0, 0.0) - reach) / coarse), math.ceil((max(y0, 0.0) + reach) / coarse))
    after_reach = AFTER_TAILS * tail_stdev(market, last, t_expiry) / coarse if t_expiry > last else 0.0
    after = (math.floor(min(window[0], kink / coarse) - after_reach), math.ceil(max(window[1], kink / coarse)
                                                                               + after_reach))
    levels = [0]
    if market.smile:
        stdev = math.sqrt(atm_variance(market, 0.0, last))
        nearest = max(spread.direction * y0, 0.0)  # where the first close beyond the lookback sets it
        farthest = nearest + LEVEL_TAILS * stdev
        while levels[-1] * unit < farthest:
            distance = max(levels[-1] * unit - nearest, 0.0)
            step = max(LEVEL_STEP, stdev / LEVELS_PER_STDEV) * math.exp((distance / stdev) ** 2 / LEVEL_WIDENING)
            levels.append(min(levels[-1] + max(1, round(step / unit)), math.ceil(farthest / unit)))
    scale = 2 * AFTER_WINDOW_COARSER  # units per coarse step
    after_steps = steps_over(max(t_expiry - last, 0.0))
    window_steps = sum(steps_over(length) + 2 for length in days)
    work = len(levels) * (2 * (window[1] - window[0]) * window_steps
                          + ((after[1] - after[0]) * (after_steps + 2) if t_expiry > last else 0))
    if work > MAX_WORK:
        raise TermError(f"under this smile the warrant's finite differences would take {work:.2g} grid point steps "
                        f"(at most {MAX_WORK:.2g}: {len(window_times)} window days at vol "
                        f"{math.sqrt(atm_variance(market, 0.0, last) / last):.1%}); use its Monte Carlo function "
                        "(..._MC_VALUE), which follows the same local vol")
    return Grid(unit, (window[0] * scale, window[1] * scale), (after[0] * scale, after[1] * scale), tuple(levels),
                after_steps)


def steps_over(years: float) -> int:
    """Crank-Nicolson steps over a stretch between closes (or after the last)."""
    return max(STEPS_PER_DAY, math.ceil(STEPS_PER_SQRT_YEAR * math.sqrt(years)))


def value(spread: LookbackSpread, lookback_so_far: float, market: Market, window_times: np.ndarray, t_expiry: float,
          t_settle: float, grid: Grid | None = None) -> float:
    """Value per warrant: the long leg on the grid (`grid_for` this market unless given) less the
    short leg, Black's at the surface's vol at its strike (exact under the local vol). With no
    window day left, or the lookback beyond the spot's reach, both legs are Black's."""
    window_times = np.asarray(window_times, float)
    short = european(spread, None, market, t_expiry, t_settle)
    reach = TAILS * tail_stdev(market, 0.0, float(window_times[-1])) if len(window_times) else 0.0
    if not len(window_times) or spread.direction * math.log(lookback_so_far / market.spot) > reach:
        return european(spread, lookback_so_far, market, t_expiry, t_settle) - short
    grid = grid or grid_for(spread, lookback_so_far, market, window_times, t_expiry)
    # The payment is never negative (the long leg dominates); only the grid's error could say so.
    return max(long_leg(spread, lookback_so_far, market, window_times, t_expiry, t_settle, grid) - short, 0.0)


def long_leg(spread: LookbackSpread, lookback_so_far: float, market: Market, window_times: np.ndarray,
             t_expiry: float, t_settle: float, grid: Grid) -> float:
    """The long leg's value today, Richardson-extrapolated from `grid` and the grid twice as fine."""
    args = (spread, lookback_so_far, market, np.asarray(window_times, float), t_expiry, t_settle, grid)
    coarse, fine = long_leg_on_grid(*args, 1), long_leg_on_grid(*args, 2)
    return (4 * fine - coarse) / 3


def long_leg_on_grid(spread: LookbackSpread, lookback_so_far: float, market: Market, window_times: np.ndarray,
                     t_expiry: float, t_settle: float, grid: Grid, fineness: int) -> float:
    """The long leg on one grid (`fineness` 2: steps half as long in y and in time)."""
    d = spread.direction
    last = float(window_times[-1])
    levels = np.array(grid.levels)
    log_levels = math.log(lookback_so_far) + d * grid.unit * levels
    order = np.argsort(log_levels)
    changes = market.vol_changes(t_expiry)

    def payoff(y):  # the long leg at expiration per unit of notional/L: an option on S/L
        return spread.notional * lookback.payoff(spread, spread.lookback_strike, np.exp(y))

    @lru_cache(maxsize=None)
    def lattice(ends, step_units):
        """A grid's points in units and S/L there, and the index levels every level's points are at:
        they lie on one lattice, so the local vol is read once per lattice point (`where` maps it back)."""
        y_units = np.arange(ends[0], ends[1] + 1, step_units)
        points, where = np.unique(y_units[None, :] + d * levels[:, None], return_inverse=True)
        return (np.exp(grid.unit * y_units), lookback_so_far * np.exp(grid.unit * points),
                where.reshape(len(levels), len(y_units)))

    def carry_back(u, ends, step_units, late, early, steps, per_step):
        """u carried from `late` back to `early` on the grid of y = units x unit between `ends`."""
        growth, spots, where = lattice(ends, step_units)
        h = step_units * grid.unit
        cuts = sorted((t for t in changes if early < t < late), reverse=True)
        quarter = (late - early) / steps / 4
        times = [late - quarter, late - 2 * quarter, *np.linspace(late, early, steps + 1)[1:]]
        times = [late, *sorted({*times, *(t for t in cuts if t < times[1])}, reverse=True)]
        pieces = list(zip([*cuts, early], [late, *cuts]))  # between surface expiries, latest first
        vols = system = piece = None
        for j, (end, start) in enumerate(zip(times, times[1:])):
            dt = end - start
            now = (start, end) if per_step else next(p for p in pieces if p[0] <= start + 1e-15)
            if now != piece:
                piece = now
                vols = market.local_vol(spots, (piece[0] + piece[1]) / 2, *piece)[where]
                system = None
            drift = float(market.log_growth(end) - market.log_growth(start)) / dt
            implicit = j < 2
            key = (round(drift, 12), round(dt, 15), implicit)
            if system is None or system[0] != key:
                bands = coefficients(h, vols, drift)
                system = (key, bands, factor(bands, dt if implicit else dt / 2))
            _, bands, lu = system
            u = solve(lu, u if implicit else explicit(u, bands, dt / 2))
            hold_linear_ends(u, growth)
        return u

    window_units = np.arange(grid.window[0], grid.window[1] + 1, 2 // fineness)
    if t_expiry > last:
        step = 2 * AFTER_WINDOW_COARSER // fineness
        after_units = np.arange(grid.after[0], grid.after[1] + 1, step)
        u = carry_back(np.tile(payoff(grid.unit * after_units), (len(levels), 1)), grid.after, step, t_expiry, last,
                       grid.after_steps * fineness, True)
        u = CubicSpline(grid.unit * after_units, u, axis=1)(grid.unit * window_units)
    else:
        u = np.tile(payoff(grid.unit * window_units), (len(levels), 1))
    y = grid.unit * window_units
    beyond = d * window_units > 0
    zero = int(np.flatnonzero(window_units == 0)[0])
    moved = np.clip(log_levels[:, None] + y[None, beyond], log_levels.min(), log_levels.max())

    def observe(u):
        """The close observed: beyond the lookback the lookback becomes the spot."""
        if len(levels) == 1:
            u[:, beyond] = u[:, zero:zero + 1]
        else:
            u[:, beyond] = CubicSpline(log_levels[order], u[order, zero])(moved)
        return u

    u = observe(u)
    ends = [last, *window_times[::-1][1:], 0.0]
    for late, early in zip(ends, ends[1:]):
        u = carry_back(u, grid.window, 2 // fineness, late, early, steps_over(late - early) * fineness,
                       late - early > LONG_STRETCH)
        if early > 0:
            u = observe(u)
    today = CubicSpline(y, u[0])(math.log(market.spot / lookback_so_far))
    return float(today) * float(market.discount(t_settle))


def coefficients(h: float, vol: np.ndarray, drift: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three bands of the operator (g - sigma^2/2) d/dy + sigma^2/2 d2/dy2 on each level's
    grid (rows); upwind where the drift outweighs the diffusion, so the scheme stays monotone.
    The ends' rows are 0: hold_linear_ends sets them."""
    diffusion = 0.5 * vol * vol / (h * h)
    speed = drift - 0.5 * vol * vol
    lower, upper = diffusion - speed / (2 * h), diffusion + speed / (2 * h)
    upwind = (lower < 0) | (upper < 0)
    if upwind.any():
        lower = np.where(upwind, diffusion + np.maximum(-speed, 0.0) / h, lower)
        upper = np.where(upwind, diffusion + np.maximum(speed, 0.0) / h, upper)
    lower[:, [0, -1]] = upper[:, [0, -1]] = 0.0
    return lower, -(lower + upper), upper


def factor(bands, theta_dt: float):
    """LU factors of (1 - theta_dt x operator), every level's tridiagonal system stacked in one."""
    lower, middle, upper = bands
    return lapack.dgttrf(-theta_dt * lower.ravel()[1:], 1 - theta_dt * middle.ravel(),
                         -theta_dt * upper.ravel()[:-1])[:5]


def solve(lu, rhs: np.ndarray) -> np.ndarray:
    return lapack.dgttrs(*lu, rhs.ravel())[0].reshape(rhs.shape)


def explicit(u: np.ndarray, bands, half_dt: float) -> np.ndarray:
    """(1 + half_dt x operator) u: Crank-Nicolson's explicit half."""
    lower, middle, upper = bands
    rhs = u * (1 + half_dt * middle)
    rhs[:, 1:] += half_dt * lower[:, 1:] * u[:, :-1]
    rhs[:, :-1] += half_dt * upper[:, :-1] * u[:, 1:]
    return rhs


def hold_linear_ends(u: np.ndarray, growth: np.ndarray) -> None:
    """Each grid's end values on the line through its two neighbours in the index level (deep in
    or out of the money an option is linear in it)."""
    for end, near, far in ((0, 1, 2), (-1, -2, -3)):
        u[:, end] = u[:, near] + (u[:, near] - u[:, far]) * (growth[end] - growth[near]) / (growth[near] - growth[far])
