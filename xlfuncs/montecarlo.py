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
from typing import Callable, NamedTuple

import numpy as np
from scipy.special import ndtri
from scipy.stats import qmc

from .terms import TermError

DEFAULT_PATHS = 16384
DEFAULT_SEED = 20250528
MIN_PATHS = 1000
PILOT_POINTS = 1024
CHUNK_POINTS = 8192  # Sobol points per chunk (each gives two antithetic paths)


class Estimate(NamedTuple):
    value: float
    stderr: float
    paths: int


@dataclass(frozen=True)
class MonteCarlo:
    """Simulation settings: at least `paths` paths (rounded up to whole Sobol blocks) and a seed."""

    paths: int = DEFAULT_PATHS
    seed: int = DEFAULT_SEED
    replicates: int = 16

    def __post_init__(self):
        for name in ("paths", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not float(value).is_integer():
                raise TermError(f"{name} must be a whole number, got {value!r}")
            object.__setattr__(self, name, int(value))
        if self.paths < MIN_PATHS:
            raise TermError(f"paths must be at least {MIN_PATHS}, got {self.paths}")
        if self.seed < 0:
            raise TermError(f"seed must be at least 0, got {self.seed}")

    @property
    def points_per_replicate(self) -> int:
        """Sobol points per replicate: a power of two, each point giving two antithetic paths."""
        needed = -(-self.paths // (2 * self.replicates))
        return 1 << max(needed - 1, 0).bit_length()


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
    sequence = np.random.SeedSequence(seed).spawn(stream + 1)[stream]
    return qmc.Sobol(dims, seed=np.random.default_rng(sequence))


def rewound(dims: int, seed: int, stream: int) -> qmc.Sobol:
    engine = scrambled_sobol(dims, seed, stream)
    engine.reset()
    return engine


def estimate(sample: Sampler, dims: int, control_mean: float, settings: MonteCarlo) -> Estimate:
    """Mean of `y - beta (x - control_mean)` over the paths, where `sample(z)` maps standard
    normals of shape (paths, dims) to discounted payments `y` and a control `x` of known mean."""
    y, x = sample(normals(rewound(dims, settings.seed, 0), PILOT_POINTS // 2))
    spread = np.var(x)
    beta = np.cov(y, x, ddof=0)[0, 1] / spread if spread > 0 else 0.0

    per_replicate = settings.points_per_replicate
    means = []
    for stream in range(1, settings.replicates + 1):
        engine = rewound(dims, settings.seed, stream)
        total = 0.0
        for start in range(0, per_replicate, CHUNK_POINTS):
            y, x = sample(normals(engine, min(CHUNK_POINTS, per_replicate - start)))
            total += np.sum(y - beta * (x - control_mean))
        means.append(total / (2 * per_replicate))
    means = np.array(means)
    return Estimate(float(means.mean()), float(means.std(ddof=1) / np.sqrt(len(means))),
                    2 * per_replicate * len(means))


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
