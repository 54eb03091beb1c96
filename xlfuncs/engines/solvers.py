"""Generic numerics over "a value as a function of its inputs": greeks by central differences,
the one input that gives a price (implied vol) and the one term that gives a value (a cap).

Each takes the value as a function and knows no product: the product families hand over a
function of the market (or of one input) and the names its messages should use.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from ..core.fields import TermError, finite, require
from ..core.market import Market


def bumped_greeks(value: Callable[[Market], float], market: Market, base: float, theta: float) -> np.ndarray:
    """Delta (per index point), gamma, vega (per vol point: every vol of a surface moved alike),
    theta (as given, per calendar day) and rho (per 1% of rate: a curve moved in parallel):
    central differences of `value`, whose error must be far under the bumps' effect (below
    1e-9 of the notional). The surface stays in strike when spot moves (sticky strike)."""
    def at(**changes):
        return value(market.bumped(**changes))

    spot_step, vol_step, rate_step = 1e-4 * market.spot, 1e-4, 1e-5
    up, down = at(spot=market.spot + spot_step), at(spot=market.spot - spot_step)
    vega = (value(market.shifted(vol=vol_step)) - value(market.shifted(vol=-vol_step))) / (2 * vol_step)
    rho = (value(market.shifted(rate=rate_step)) - value(market.shifted(rate=-rate_step))) / (2 * rate_step)
    return np.array([(up - down) / (2 * spot_step), (up - 2 * base + down) / spot_step ** 2,
                     vega / 100, theta, rho / 100])


def implied_input(price: float, value: Callable[[float], float], low: float, high: float, flat: float,
                  name: str = "vol") -> float:
    """The one `name` in [low, high] at which `value` equals `price`.

    A value need not be monotone in the input (a put spread deep in the money falls with vol),
    so the range is cut at the value's turning points into monotone pieces, found on a
    geometric grid and refined; each piece holds at most one root, found by bracketing. A
    price that more than one input gives is an error naming them. `flat`: changes of the value
    below it are the engine's resolution, not a slope."""
    price = finite("price", price)

    # The slope over each grid cell, and at both ends of the range over a tiny step, so that a
    # turning point inside an end cell shows too.
    grid = np.geomspace(low, high, 9)
    points = np.array([low, low * (1 + 1e-6), *grid[1:-1], high * (1 - 1e-6), high])
    changes = np.diff([value(x) for x in points])
    tolerance = np.full(len(changes), flat)
    tolerance[[0, -1]] *= 1e-6  # the end steps are a millionth of the input
    slopes = np.sign(np.where(np.abs(changes) > tolerance, changes, 0))
    edges = [low]
    for i in range(1, len(points) - 1):
        if slopes[i - 1] * slopes[i] < 0:  # a turning point between the points either side
            sign = slopes[i - 1]  # rising then falling: a maximum
            turn = minimize_scalar(lambda x: -sign * value(x), bounds=(points[i - 1], points[i + 1]),
                                   method="bounded", options={"xatol": 1e-9})
            edges.append(float(turn.x))
        elif slopes[i - 1] != slopes[i] and 1 < i < len(points) - 2:  # a flat stretch starts or ends
            edges.append(float(points[i]))
    edges.append(high)
    roots = []
    for left, right in zip(edges, edges[1:]):
        gap_left, gap_right = value(left) - price, value(right) - price
        if abs(gap_left) <= flat and abs(gap_right) <= flat:
            raise TermError(f"price is the value at every {name} from {left:.4%} to {right:.4%} (the value does "
                            f"not move with {name} there): no single implied {name}")
        if abs(gap_left) <= flat:
            roots.append(left)
        elif gap_left * gap_right < 0:
            roots.append(brentq(lambda x: value(x) - price, left, right, xtol=1e-12, rtol=1e-12))
    if abs(value(high) - price) <= flat:
        roots.append(high)
    roots.sort()
    roots = [root for i, root in enumerate(roots) if i == 0 or root > roots[i - 1] * (1 + 1e-6)]
    if len(roots) == 1:
        return roots[0]
    if roots:
        raise TermError(f"price is the value at more than one {name} ({', '.join(f'{r:.4%}' for r in roots)}): "
                        f"no single implied {name}")
    attained = [value(x) for x in [*edges, *points]]
    raise TermError(f"price must be a value some {name} from {low:.1%} to {high:.0%} gives "
                    f"({min(attained):.4f} to {max(attained):.4f}), got {price:g}")


def solve_rising(target_value, value: Callable[[float], float], name: str, label: str, high: float,
                 reasons: tuple[str, str, str], flat: float) -> float:
    """The `name` in [0, high] at which a value rising with it (and flat where it changes no
    payment) equals `target_value`; an error where no single one does (a range of them within
    a hundredth of a percentage point counts as one). `reasons`: what the value is at 0 and at
    `high`, and why it may be flat, for the messages (`label`: the term in words); `flat`:
    the value's resolution."""
    low_reason, high_reason, flat_reason = reasons
    target = finite("target_value", target_value)

    def gap(term):
        return value(term) - target

    low_gap, high_gap = gap(0.0), gap(high)
    require(low_gap <= 0 <= high_gap, "target_value",
            f"must be between {low_gap + target:.4f} ({low_reason}) and {high_gap + target:.4f} ({high_reason})",
            target)
    root = brentq(gap, 0.0, high, xtol=1e-14, rtol=4 * np.finfo(float).eps)
    first = brentq(lambda x: gap(x) + flat, 0.0, root) if low_gap < -flat else 0.0
    last = brentq(lambda x: gap(x) - flat, root, high) if high_gap > flat else high
    if last - first > 1e-4:
        raise TermError(f"target_value is the value at every {name} from {first:.4%} to {last:.4%} "
                        f"({flat_reason}): no single {label}")
    return root
