"""Monte Carlo engine: randomised quasi-Monte Carlo with antithetic pairs and a control variate.

The answer is the mean of independent replicates, each a freshly scrambled Sobol sequence
(Owen scrambling) used with its antithetic reflection, so the replicates' spread gives an
honest standard error. The control variate's coefficient is estimated on an independent
pilot sample, which keeps the estimator unbiased. Points are drawn in chunks so memory stays
bounded whatever the number of paths. The same inputs and seed give the same digits.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, NamedTuple

import numpy as np
from scipy.special import ndtr, ndtri

from ..core.fields import Contract, Field, TermError, table
from ..core.market import Market

if TYPE_CHECKING:
    from scipy.stats import qmc

MIN_PATHS = 1000
MAX_PATHS = 1 << 20
MAX_PATH_DAYS = MAX_PATHS * 24  # paths x simulated days: about a second and a half on one core
FIRST_PATHS = 16384  # where the automatic path count starts doubling
TARGET_ERROR = 0.01 / 1000  # automatic paths: standard error per unit of notional or principal
DEFAULT_SEED = 20250528
MAX_SEED = 1e15  # seeds are whole numbers Excel holds exactly
REPLICATES = 16
# Events rarer than the paths can show are missed by every replicate alike, so their spread
# cannot reveal them: no error below this fraction of the largest payment is claimed.
RESOLUTION = 1e-6
PILOT_POINTS = 1024
RARE = 30  # paths: the most whose events a replicates' spread cannot be trusted to show
NEAR = 1e-3  # of the largest payment: a path's value closer to the median does not stray
STEPS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)  # sigmas beyond the paths' reach where the value is probed
CHUNK_PATH_DAYS = 1 << 19  # normals drawn at once, so memory stays bounded


class Estimate(NamedTuple):
    value: float
    stderr: float
    paths: int


FIELDS = table(
    Field("paths", f"Monte Carlo paths, {MIN_PATHS} to {MAX_PATHS}; blank or omitted: as many as give a standard "
                   "error of $0.01 per $1,000 of notional.", "count", MIN_PATHS, MAX_PATHS, default=None,
          label="Monte Carlo paths (the check)"),
    Field("seed", f"Random seed: the same inputs and seed give the same digits; blank means {DEFAULT_SEED}.",
          "count", 0, MAX_SEED, default=DEFAULT_SEED, label="Random seed"),
)


@dataclass(frozen=True)
class MonteCarlo(Contract):
    """Simulation settings: at least `paths` paths (rounded up to whole Sobol blocks), or None
    for as many as give a standard error of TARGET_ERROR per unit of notional; and a seed."""

    FIELDS = FIELDS

    paths: int | None = None
    seed: int = DEFAULT_SEED

    def __post_init__(self):
        super().__post_init__()
        for name in ("paths", "seed"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, int(getattr(self, name)))


Sampler = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def normals(engine: qmc.Sobol, count: int) -> np.ndarray:
    """`count` scrambled Sobol points as standard normals, stacked with their antithetic reflections."""
    z = ndtri(np.clip(engine.random(count), 1e-16, 1 - 1e-16))
    return np.concatenate([z, -z])


@lru_cache(maxsize=512)
def scrambled_sobol(dims: int, seed: int, stream: int) -> qmc.Sobol:
    """The `stream`-th scrambled Sobol engine of a seed (0 the pilot, then the replicates).
    Scrambling is the costly part, so engines are kept and rewound for every valuation that
    uses the same seed and dimension, as greeks and solvers do."""
    from scipy.stats import (
        qmc,  # here, not at import: scipy.stats takes about a second to load
    )
    sequence = np.random.SeedSequence(seed).spawn(stream + 1)[stream]
    return qmc.Sobol(dims, seed=np.random.default_rng(sequence))


def rewound(dims: int, seed: int, stream: int) -> qmc.Sobol:
    engine = scrambled_sobol(dims, seed, stream)
    engine.reset()
    return engine


def control_coefficient(y: np.ndarray, x: np.ndarray, control_mean: float) -> float:
    """The pilot's regression coefficient of y on the control x, or 0 when the control cannot
    be trusted to help: when it explains less than half of y's variance, barely varies (its
    spread is lost in the rounding of its values), or its pilot mean is far from its known mean
    (its value sits in a tail the sample does not reach, and a huge coefficient would multiply
    that gap into the answer)."""
    x_spread, y_spread = np.std(x), np.std(y)
    if x_spread <= 1e-9 * np.max(np.abs(x)) or y_spread == 0:
        return 0.0
    if abs(np.mean(x) - control_mean) > 8 * x_spread / np.sqrt(len(x)):
        return 0.0
    correlation = np.mean((x - x.mean()) * (y - y.mean())) / (x_spread * y_spread)
    return float(correlation * y_spread / x_spread) if correlation ** 2 >= 0.5 else 0.0


def points_per_replicate(paths: int) -> int:
    """Sobol points per replicate for at least `paths` paths: a power of two, each point giving
    two antithetic paths."""
    needed = -(-paths // (2 * REPLICATES))
    return 1 << max(needed - 1, 0).bit_length()


def path_limit(dims: int) -> int:
    """The most paths a valuation with `dims` simulated days may take."""
    return min(MAX_PATHS, MAX_PATH_DAYS // dims)


def estimate(sample: Sampler, dims: int, control_mean: float, settings: MonteCarlo, unit: float,
             largest: float) -> Estimate:
    """Mean of `y - beta (x - control_mean)` over the paths, where `sample(z)` maps standard
    normals of shape (paths, dims) to discounted payments `y` and a control `x` of known mean.

    With automatic paths, paths double (the same scrambled sequences, continued) until the
    error is at most TARGET_ERROR x `unit` (the notional or principal) or the path limit is
    reached. `largest` bounds |y| (discounted, as y is), and no error below RESOLUTION x
    largest is reported. Replicates cannot show events rarer than a path in each: where the
    paths' values (y after the control) stray from the pilot's median by more than NEAR x
    largest in so few paths that the RARE farthest carry at least a quarter of all that straying
    (none straying included), the value hangs on such events, and the error is at least what
    they and three unseen paths paying up to `largest` could move:
    sqrt(sum of their squared strays + 3 largest^2) / paths. Nor can paths show what lies
    beyond the farthest they reach (a cap only a 4-sigma rise pays): the path of every day's
    normal equal, up and down, is valued out there, and what the value could change beyond
    the reach is also a floor (beyond_reach)."""
    limit = path_limit(dims)
    if settings.paths is not None and settings.paths > limit:
        raise TermError(f"paths must be at most {limit} with {dims} window trading days to simulate "
                        f"(paths x days at most {MAX_PATH_DAYS}), got {settings.paths}")
    pilot_y, pilot_x = sample(normals(rewound(dims, settings.seed, 0), PILOT_POINTS // 2))
    beta = control_coefficient(pilot_y, pilot_x, control_mean)
    center, near = float(np.median(pilot_y - beta * (pilot_x - control_mean))), NEAR * largest
    farthest, strayed = np.zeros(0), 0.0  # the RARE largest strays beyond `near`; all of them squared and summed
    engines = [rewound(dims, settings.seed, stream) for stream in range(1, REPLICATES + 1)]
    # Points drawn at once: a power of two (Sobol blocks stay balanced), two paths x dims normals each.
    chunk = max(1 << (CHUNK_PATH_DAYS // (2 * dims)).bit_length() - 1, 64)
    totals, drawn, predicted = np.zeros(REPLICATES), 0, 0.0
    wanted = points_per_replicate(min(settings.paths or FIRST_PATHS, limit))
    while True:
        for replicate, engine in enumerate(engines):
            for start in range(drawn, wanted, chunk):
                y, x = sample(normals(engine, min(chunk, wanted - start)))
                values = y - beta * (x - control_mean)
                totals[replicate] += np.sum(values)
                strays = np.abs(values - center)
                strays = strays[strays > near]
                strayed += float(np.sum(strays * strays))
                farthest = np.concatenate([farthest, strays])
                farthest = np.partition(farthest, farthest.size - RARE)[-RARE:] if farthest.size > RARE else farthest
        drawn, paths = wanted, 2 * wanted * REPLICATES
        means = totals / (2 * drawn)
        spread = float(means.std(ddof=1) / np.sqrt(REPLICATES))
        # Stopping when the spread looks small enough picks lucky estimates of it: never report
        # less than half the last level's, the most twice the paths can gain at the quasi-random
        # rate (1/paths; plain Monte Carlo gains only 1/sqrt(2)).
        stderr = max(spread, predicted, RESOLUTION * largest)
        stderr = max(stderr, beyond_reach(sample, dims, beta, control_mean, paths))
        rare = float(np.sum(farthest * farthest))
        if rare >= strayed / 4:
            stderr = max(stderr, np.sqrt(rare + 3 * largest ** 2) / paths)
        if settings.paths is not None or stderr <= TARGET_ERROR * unit or 2 * paths > limit:
            return Estimate(float(means.mean()), stderr, paths)
        wanted, predicted = 2 * wanted, max(spread, predicted) / 2


def beyond_reach(sample: Sampler, dims: int, beta: float, control_mean: float, paths: int) -> float:
    """What the value could gain or lose beyond the farthest `paths` reach (the normal quantile
    1 - 1 / (2 paths)): along the path whose days' normals are all equal, up and down, the
    change of a path's value from the reach to each of STEPS sigmas further, times the chance
    of ending between that step and the one before (the change taken at the far end, as
    payments move one way out there)."""
    reach = float(ndtri(1 - 1 / (2 * paths)))
    steps = reach + np.array([0.0, *STEPS])
    y, x = sample(np.outer(np.concatenate([steps, -steps]), np.full(dims, 1 / np.sqrt(dims))))
    values = np.nan_to_num(y - beta * (x - control_mean)).reshape(2, -1)
    chances = -np.diff(ndtr(-steps))  # of ending between one step and the next
    return float(np.sum(np.abs(values[:, 1:] - values[:, :1]) * chances))


def bridge_order(count: int) -> list[tuple[int, int, int | None]]:
    """Brownian bridge construction order on `count` dates: (date, left, right) with the last
    date first, then midpoints; left -1 is time 0, right None means no right end."""
    order, gaps = [(count - 1, -1, None)], [(-1, count - 1)]
    while gaps:
        left, right = gaps.pop(0)
        if right - left > 1:
            middle = (left + right + 1) // 2
            order.append((middle, left, right))
            gaps += [(left, middle), (middle, right)]
    return order


def brownian_bridge(times: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Brownian motion at `times` built from z's columns in bridge order, so the first (best
    spread) Sobol dimensions decide the path's end and coarse shape."""
    w = np.empty_like(z)
    for column, (date, left, right) in enumerate(bridge_order(len(times))):
        t_left, w_left = (times[left], w[:, left]) if left >= 0 else (0.0, 0.0)
        if right is None:
            w[:, date] = w_left + np.sqrt(times[date] - t_left) * z[:, column]
            continue
        t, t_right = times[date], times[right]
        share = (t - t_left) / (t_right - t_left)
        w[:, date] = (w_left + share * (w[:, right] - w_left)
                      + np.sqrt((t - t_left) * (t_right - t) / (t_right - t_left)) * z[:, column])
    return w


def lognormal_paths(spot: float, times: np.ndarray, vol: float, drift: float, z: np.ndarray) -> np.ndarray:
    """Exact GBM values at `times` (years, increasing) from standard normals z of shape (paths, len(times))."""
    return spot * np.exp((drift - 0.5 * vol * vol) * times + vol * brownian_bridge(times, z))


def final_value_estimate(payment: Callable[[np.ndarray], np.ndarray], base: float, market: Market, t_fix: float,
                         discount: float, settings: MonteCarlo, largest: float) -> Estimate:
    """Value of a payment on the underlying's value at one fixing, `t_fix` years away, paid with
    the discount factor `discount`: `base` (paid whatever the final value) plus the simulated
    payment beyond it, with the discounted final value as control variate. `largest` bounds
    how far the payment strays from `base`; the target error is per unit of `base`. The final
    value is lognormal where the vol does not depend on the strike; under a smile it is drawn
    from the distribution the surface's call prices imply at the fixing (final_value_law)."""
    variance = market.total_variance(market.spot, t_fix)
    # The control only where its lognormal tail is light: beyond a stdev of 0.5 its mean comes
    # from paths so rare that every replicate misses them alike, and the correction would carry
    # that miss into the answer without widening the error.
    control = variance <= 0.25
    forward = market.spot * float(market.growth(t_fix))
    if market.flat:
        def finals(z):
            return lognormal_paths(market.spot, np.array([t_fix]), market.vol, market.rate - market.div_yield, z)[:, 0]
    elif market.smile:
        levels, chances, whole = final_value_law(market, t_fix, forward, variance)
        control = control and whole

        def finals(z):
            return np.interp(ndtr(z[:, 0]), chances, levels)
    else:
        def finals(z):
            return forward * np.exp(-0.5 * variance + np.sqrt(variance) * z[:, 0])

    def sample(z):
        final = finals(z)
        return discount * (payment(final) - base), discount * final * control

    beyond = estimate(sample, 1, discount * forward * control, settings, base, discount * largest)
    return Estimate(base * discount + beyond.value, beyond.stderr, beyond.paths)


LAW_POINTS_PER_STDEV = 400  # strikes where the distribution implied by a smile is read, per at-the-money deviation
LAW_STDEVS = 10.0  # ... from this many deviations below the forward to as many above, at least,
LAW_TAIL = 1e-12   # ... and further while a tail beyond them holds more than this chance (a steep wing's)
LAW_REACH = 80.0   # the most deviations it goes; a tail still beyond holding at most LAW_LEFT is left out
LAW_LEFT = 1e-7    # (a note's payment, within a few times its principal, moves by under 1e-6 of it: a tenth of
                   # the error the automatic paths aim at)


def final_value_law(market: Market, t_fix: float, forward: float,
                    variance: float) -> tuple[np.ndarray, np.ndarray, bool]:
    """The distribution of the final value the surface implies at the fixing (Breeden and
    Litzenberger): P(final <= K) = dP/dK = 1 + dC/dK for undiscounted puts P and calls C, read between strikes
    spaced evenly in log strike, as far out as the tails hold more than LAW_TAIL; as (levels,
    cumulative chances) for inverse sampling, and whether the tails left out are below LAW_TAIL
    (else the final value's mean is not the law's: no control variate on it). A tail beyond
    LAW_REACH deviations holding more than LAW_LEFT is an error, never folded into the last strike."""
    stdev = np.sqrt(variance)
    below = above = LAW_STDEVS
    while True:
        count = int((below + above) * LAW_POINTS_PER_STDEV) + 1
        strikes = forward * np.exp(np.linspace(-below, above, count) * stdev)
        vols = market.implied_vols(strikes.tolist(), t_fix)
        root = np.array(vols) * np.sqrt(t_fix)
        d1 = np.log(forward / strikes) / root + root / 2
        # Below the forward the chance is the slope of puts, above it one less the slope of calls:
        # each read where its options are small, so no rounding of a deep option swamps a tail.
        puts = strikes * ndtr(root - d1) - forward * ndtr(-d1)
        calls = forward * ndtr(d1) - strikes * ndtr(d1 - root)
        slopes = np.diff(strikes)
        chances = np.where(np.sqrt(strikes[1:] * strikes[:-1]) < forward, np.diff(puts) / slopes,
                           1 + np.diff(calls) / slopes)
        chances = np.maximum.accumulate(np.clip(chances, 0.0, 1.0))
        low_tail, high_tail = chances[0], 1 - chances[-1]
        levels = np.sqrt(strikes[1:] * strikes[:-1])
        if low_tail <= LAW_TAIL and high_tail <= LAW_TAIL:
            return levels, chances, True
        if max(below, above) >= LAW_REACH:
            if max(low_tail, high_tail) <= LAW_LEFT:
                return levels, chances, False
            raise TermError(f"vol surface leaves a chance of {max(low_tail, high_tail):.2g} of a final value beyond "
                            f"{LAW_REACH:g} deviations from the forward at the fixing: its wing is too steep for the "
                            "Monte Carlo to draw from")
        below, above = (below * 2 if low_tail > LAW_TAIL else below), (above * 2 if high_tail > LAW_TAIL else above)
