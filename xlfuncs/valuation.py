"""Valuation engines: values, greeks and solvers of the products on any day of their life.

Black-Scholes GBM with flat vol, rate and dividend yield (see market.py). A buffer note (either
direction) has a closed form (analytic.py) and a Monte Carlo check; the warrant's lookback has
an exact engine (lookback.py) and a Monte Carlo check. Each takes the contract (all its terms)
and the market.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from . import analytic, lookback
from .analytic import display_greeks, lookback_put, lower_put, note_greeks_per_unit, put_spread_value
from .fields import TermError, finite, require
from .market import FIELDS as MARKET_FIELDS, Market
from .montecarlo import Estimate, MonteCarlo, estimate, lognormal_paths

if TYPE_CHECKING:
    from .products.buffer_note import BufferNote
    from .products.put_warrant import PutWarrant

ONE_DAY = dt.timedelta(days=1)
SPOT_RANGE = 1000.0  # spot and closes within this factor of the initial value
FORWARD_RANGE = 1e6  # a note's forward within this factor of its initial value


def near_initial(name: str, level: float, initial: float) -> float:
    """A spot or close held within a factor SPOT_RANGE of the initial value: further away the
    product's value is its bounds to the last digit, and rounding would show instead."""
    require(initial / SPOT_RANGE <= level <= initial * SPOT_RANGE, name,
            f"must be within a factor of {SPOT_RANGE:g} of initial ({initial:g})", level)
    return level


# Buffer notes

def valued_note(note: BufferNote, market: Market) -> None:
    """A TermError unless the note can be valued accurately in `market`: spot near the initial
    value, and the forward too (options far in the money are worth about the forward each, and
    their differences would lose the value to rounding)."""
    near_initial("spot", market.spot, note.initial)
    t_fix = analytic.note_times(note, market)[0]
    forward = market.spot * np.exp(min((market.rate - market.div_yield) * t_fix, 700.0))
    if not note.initial / FORWARD_RANGE <= forward <= note.initial * FORWARD_RANGE:
        raise TermError(f"div_yield must keep the forward to final_date within a factor of {FORWARD_RANGE:g} of "
                        f"initial ({note.initial:g}): with rate {market.rate:g} and div_yield {market.div_yield:g} "
                        f"it is {forward:.4g}")


def note_value(note: BufferNote, market: Market) -> float:
    """Closed-form value per security: the bond plus the option legs of the replication."""
    valued_note(note, market)
    return analytic.note_value(note, market)


def note_greeks(note: BufferNote, market: Market) -> np.ndarray:
    """Delta, gamma, vega, theta, rho of the note per security (display units, see display_greeks)."""
    valued_note(note, market)
    return display_greeks(note_greeks_per_unit(note, market))


@lru_cache(maxsize=1024)
def note_mc_value(note: BufferNote, market: Market, settings: MonteCarlo | None = None) -> Estimate:
    """Monte Carlo value of the note: the principal plus the simulated payment beyond it, all
    discounted at rate + funding_spread, with the discounted final underlying value as control
    variate. Once the final value is fixed (as_of on or after final_date) the payment is known:
    the closed form, no error."""
    valued_note(note, market)
    t_fix, t_pay = analytic.note_times(note, market)
    if t_fix <= 0:
        return Estimate(note_value(note, market), 0.0, 0)
    discount = analytic.note_discount(note, market, t_pay)
    bond = note.principal * discount

    # The control, the discounted final value, only where its lognormal tail is light: beyond a
    # stdev of 0.5 its mean comes from paths so rare that every replicate misses them alike, and
    # the correction would carry that miss into the answer without widening the error.
    control = market.vol ** 2 * t_fix <= 0.25

    def sample(z):
        final = lognormal_paths(market.spot, np.array([t_fix]), market.vol,
                                market.rate - market.div_yield, z)[:, 0]
        return discount * (note.payment(final) - note.principal), discount * final * control

    forward = market.spot * np.exp((market.rate - market.div_yield) * t_fix) * control
    largest = discount * max(note.maximum_payment - note.principal, note.principal - note.lowest_payment)
    options = estimate(sample, 1, discount * forward, settings or MonteCarlo(), note.principal, largest)
    return Estimate(bond + options.value, options.stderr, options.paths)


def solve_max_return(target_value, note: BufferNote, market: Market) -> float:
    """The maximum return at which the note's closed-form value equals `target_value`."""
    target = finite("target_value", target_value)
    out_of_reach = note.cap_out_of_reach

    def gap(max_return):
        return note_value(replace(note, max_return=max_return), market) - target

    # The value rises with the cap up to out_of_reach, but may be flat to the last digit where
    # the final values the model gives do not reach the cap: then no single cap gives it.
    low, high = gap(0.0), gap(out_of_reach)
    reach = "cap out of reach" if out_of_reach < note.FIELDS["max_return"].high else f"max_return {out_of_reach:g}"
    require(low <= 0 <= high, "target_value",
            f"must be between {low + target:.4f} (no upside) and {high + target:.4f} ({reach})", target)
    cap = brentq(gap, 0.0, out_of_reach, xtol=1e-14, rtol=4 * np.finfo(float).eps)
    flat = 1e-9 * note.principal
    first = brentq(lambda c: gap(c) + flat, 0.0, cap) if low < -flat else 0.0
    last = brentq(lambda c: gap(c) - flat, cap, out_of_reach) if high > flat else out_of_reach
    if last - first > 1e-4:  # caps a hundredth of a percentage point apart give the same value
        raise TermError(f"target_value is the value at every max_return from {first:.4%} to {last:.4%} (the "
                        "final values the model gives do not reach a cap there): no single maximum return")
    return cap


# Bearish Put Warrants

def window_times(warrant: PutWarrant, market: Market) -> np.ndarray:
    """The window's trading days after as_of, in years from as_of."""
    return np.array([market.time_to(day) for day in warrant.window_days if day > market.as_of])


def warrant_value(warrant: PutWarrant, market: Market) -> float:
    """Exact value per warrant on any day of its life (the reflected-walk engine, lookback.py)."""
    near_initial("spot", market.spot, warrant.initial)
    return exact_value(warrant, market)


@lru_cache(maxsize=1024)
def exact_value(warrant: PutWarrant, market: Market) -> float:
    """warrant_value for a market the caller has checked, or moved by a greek's bump."""
    warrant.alive_on(market.as_of)
    return lookback.warrant_value(
        warrant, warrant.lookback_so_far(market), market.spot, window_times(warrant, market),
        market.time_to(warrant.expiration), market.time_to(warrant.settlement), market.vol, market.rate,
        market.div_yield)


@lru_cache(maxsize=1024)
def warrant_mc_value(warrant: PutWarrant, market: Market, settings: MonteCarlo | None = None) -> Estimate:
    """Value per warrant with its standard error.

    While the window is open, paths are simulated exactly on its remaining trading days; at
    the window's end the payment's conditional expectation is a closed-form put spread, so
    the last step to expiration is not simulated. Control variate: the put spread with the
    strikes known today (lookback so far), whose value today is closed form. After the window
    the value is that closed form, with no error.
    """
    warrant.alive_on(market.as_of)
    near_initial("spot", market.spot, warrant.initial)
    lookback_so_far = warrant.lookback_so_far(market)
    t_expiry, t_settle = market.time_to(warrant.expiration), market.time_to(warrant.settlement)
    args = (market.vol, market.rate, market.div_yield)
    known_strikes = float(put_spread_value(warrant, lookback_so_far, market.spot, t_expiry, t_settle, *args))
    times = window_times(warrant, market)
    if times.size == 0:
        return Estimate(known_strikes, 0.0, 0)
    to_expiry = t_expiry - times[-1]

    def sample(z):
        path = lognormal_paths(market.spot, times, market.vol, market.rate - market.div_yield, z)
        lookback = np.maximum(lookback_so_far, path.max(axis=1))
        window_end = path[:, -1]
        short = lower_put(warrant, window_end, to_expiry, t_settle, *args)
        return (lookback_put(warrant, lookback, window_end, to_expiry, t_settle, *args) - short,
                lookback_put(warrant, lookback_so_far, window_end, to_expiry, t_settle, *args) - short)

    largest = warrant.notional * warrant.upper_strike * np.exp(-market.rate * t_settle)  # discounted, as y is
    return estimate(sample, times.size, known_strikes, settings or MonteCarlo(), warrant.notional, largest)


def roll_forward(warrant: PutWarrant, market: Market) -> Market:
    """The market one calendar day later with the spot unchanged (for theta); a window trading
    day passed on the way closes at the spot. Never past expiration."""
    as_of = min(market.as_of + ONE_DAY, warrant.expiration)
    elapsed = warrant.closed_by(market.as_of)
    newly = warrant.closed_by(as_of) - elapsed
    return market.bumped(as_of=as_of, closes=tuple(market.closes[:elapsed]) + (market.spot,) * newly)


def warrant_greeks(warrant: PutWarrant, market: Market) -> np.ndarray:
    """Delta (per index point), gamma, vega (per vol point), theta (per calendar day: the change
    to the next day, spot unchanged), rho (per 1% of rate): central differences of the exact
    value, whose error (below 1e-9) is far under the bumps' effect."""
    def value(**changes):
        return exact_value(warrant, market.bumped(**changes))

    base = warrant_value(warrant, market)
    spot_step, vol_step, rate_step = 1e-4 * market.spot, 1e-4, 1e-5
    up, down = value(spot=market.spot + spot_step), value(spot=market.spot - spot_step)
    vega = (value(vol=market.vol + vol_step) - value(vol=market.vol - vol_step)) / (2 * vol_step)
    rho = (value(rate=market.rate + rate_step) - value(rate=market.rate - rate_step)) / (2 * rate_step)
    if market.as_of < warrant.expiration:
        theta = exact_value(warrant, roll_forward(warrant, market)) - base
    else:  # the payment is fixed: only its discounting to settlement is left
        theta = base * np.expm1(market.rate * min(1, (warrant.settlement - market.as_of).days) / 365)
    return np.array([(up - down) / (2 * spot_step), (up - 2 * base + down) / spot_step ** 2,
                     vega / 100, theta, rho / 100])


def warrant_implied_vol(price: float, warrant: PutWarrant, market: Market) -> float:
    """The flat vol at which the warrant's exact value equals `price`.

    A put spread's value is not monotone in vol (deep in the money it falls), so the vol range
    of market.py is cut at the value's turning points into monotone pieces, found on a
    geometric grid and refined; each piece holds at most one root, found by bracketing. A
    price that more than one vol gives is an error naming them."""
    low, high = MARKET_FIELDS["vol"].low, MARKET_FIELDS["vol"].high
    flat = 1e-9 * warrant.notional  # below the exact engine's resolution

    price = finite("price", price)
    warrant_value(warrant, market)  # the user's inputs are checked once

    @lru_cache(maxsize=None)
    def value(vol):
        return exact_value(warrant, market.bumped(vol=vol))

    # The slope over each grid cell, and at both ends of the range over a tiny step, so that a
    # turning point inside an end cell shows too.
    grid = np.geomspace(low, high, 9)
    points = np.array([low, low * (1 + 1e-6), *grid[1:-1], high * (1 - 1e-6), high])
    changes = np.diff([value(vol) for vol in points])
    tolerance = np.full(len(changes), flat)
    tolerance[[0, -1]] *= 1e-6  # the end steps are a millionth of the vol
    slopes = np.sign(np.where(np.abs(changes) > tolerance, changes, 0))
    edges = [low]
    for i in range(1, len(points) - 1):
        if slopes[i - 1] * slopes[i] < 0:  # a turning point between the points either side
            sign = slopes[i - 1]  # rising then falling: a maximum
            turn = minimize_scalar(lambda vol: -sign * value(vol), bounds=(points[i - 1], points[i + 1]),
                                   method="bounded", options={"xatol": 1e-9})
            edges.append(float(turn.x))
        elif slopes[i - 1] != slopes[i] and 1 < i < len(points) - 2:  # a flat stretch starts or ends
            edges.append(float(points[i]))
    edges.append(high)
    roots = []
    for left, right in zip(edges, edges[1:]):
        gap_left, gap_right = value(left) - price, value(right) - price
        if abs(gap_left) <= flat and abs(gap_right) <= flat:
            raise TermError(f"price is the value at every vol from {left:.4%} to {right:.4%} (the value does "
                            "not move with vol there): no single implied vol")
        if abs(gap_left) <= flat:
            roots.append(left)
        elif gap_left * gap_right < 0:
            roots.append(brentq(lambda vol: value(vol) - price, left, right, xtol=1e-12, rtol=1e-12))
    if abs(value(high) - price) <= flat:
        roots.append(high)
    roots.sort()
    roots = [root for i, root in enumerate(roots) if i == 0 or root > roots[i - 1] * (1 + 1e-6)]
    if len(roots) == 1:
        return roots[0]
    if roots:
        raise TermError(f"price is the value at more than one vol ({', '.join(f'{r:.4%}' for r in roots)}): "
                        "no single implied vol")
    attained = [value(vol) for vol in [*edges, *points]]
    raise TermError(f"price must be a value some vol from {low:.1%} to {high:.0%} gives "
                    f"({min(attained):.4f} to {max(attained):.4f}), got {price:g}")
