"""Values, greeks and solvers of both products on any day of their life.

Black-Scholes GBM with flat vol, rate and dividend yield (see market.py). The note has a
closed form (analytic.py) and a Monte Carlo check; the warrant's lookback needs Monte Carlo
while its window is open and is a closed-form put spread once the window has closed.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

import numpy as np
from scipy.optimize import brentq

from . import analytic
from .analytic import display_greeks, lookback_put, lower_put, note_greeks_per_unit, put_spread_value
from .calendar import trading_days
from .market import Market
from .montecarlo import Estimate, MonteCarlo, estimate, lognormal_paths
from .payments import lookback_value, note_payment
from .terms import BufferNote, PutWarrant, TermError, finite, in_order, require

ONE_DAY = dt.timedelta(days=1)
VOL_BRACKET = (0.005, 3.0)


# Bearish Buffer Securities

def checked_spread(funding_spread) -> float:
    spread = finite("funding_spread", funding_spread)
    require(abs(spread) < 1, "funding_spread", "must be a fraction between -1 and 1 (1% is 0.01)", spread)
    return spread


def note_value(note: BufferNote, market: Market, final_date: dt.date, payment_date: dt.date,
               funding_spread: float) -> float:
    """Closed-form value per security: the bond plus the option legs of the replication."""
    return analytic.note_value(note, market, final_date, payment_date, checked_spread(funding_spread))


def note_greeks(note: BufferNote, market: Market, final_date: dt.date, payment_date: dt.date,
                funding_spread: float) -> np.ndarray:
    """Delta, gamma, vega, theta, rho of the note per security (display units, see display_greeks)."""
    return display_greeks(note_greeks_per_unit(note, market, final_date, payment_date,
                                               checked_spread(funding_spread)))


@lru_cache(maxsize=1024)
def note_mc_value(note: BufferNote, market: Market, final_date: dt.date, payment_date: dt.date,
                  funding_spread: float, settings: MonteCarlo) -> Estimate:
    """Monte Carlo value of the note: the closed-form bond plus the simulated option payment,
    with the discounted final underlying value as control variate."""
    t_fix, t_pay = analytic.note_times(market, final_date, payment_date)
    bond = note.principal * np.exp(-(market.rate + checked_spread(funding_spread)) * t_pay)
    discount = np.exp(-market.rate * t_pay)

    def sample(z):
        final = lognormal_paths(market.spot, np.array([t_fix]), market.vol,
                                market.rate - market.div_yield, z)[:, 0]
        return discount * (note_payment(note, final) - note.principal), discount * final

    forward = market.spot * np.exp((market.rate - market.div_yield) * t_fix)
    options = estimate(sample, 1, discount * forward, settings)
    return Estimate(bond + options.value, options.stderr, options.paths)


def solve_max_return(target_value, note: BufferNote, market: Market, final_date: dt.date,
                     payment_date: dt.date, funding_spread: float) -> float:
    """The maximum return at which the note's closed-form value equals `target_value`."""
    target = finite("target_value", target_value)

    def gap(max_return):
        return note_value(replace(note, max_return=max_return), market, final_date, payment_date,
                          funding_spread) - target

    # The value rises with the cap until the cap is out of reach (max_return = participation).
    low, high = gap(0.0), gap(note.participation)
    require(low <= 0 <= high, "target_value",
            f"must be between {low + target:.4f} (no upside) and {high + target:.4f} "
            "(cap out of reach)", target)
    return brentq(gap, 0.0, note.participation, xtol=1e-14, rtol=4 * np.finfo(float).eps)


# Bearish Put Warrants

@dataclass(frozen=True)
class LookbackSchedule:
    """The warrant's dates: lookback window, expiration (fixing) and exercise settlement (payment)."""

    window_start: dt.date
    window_end: dt.date
    expiration: dt.date
    settlement: dt.date

    def __post_init__(self):
        in_order(("window_start", self.window_start), ("window_end", self.window_end),
                 ("expiration", self.expiration), ("settlement", self.settlement))

    @cached_property
    def window_days(self) -> tuple[dt.date, ...]:
        """Scheduled trading days of the lookback window."""
        days = tuple(trading_days(self.window_start, self.window_end))
        if not days:
            raise TermError(f"the lookback window {self.window_start.isoformat()} to "
                            f"{self.window_end.isoformat()} has no scheduled trading day")
        return days

    def closed_by(self, as_of: dt.date) -> int:
        """How many of the window's trading days have closed by `as_of` (after its close)."""
        return sum(day <= as_of for day in self.window_days)


def observed_lookback(warrant: PutWarrant, as_of: dt.date, schedule: LookbackSchedule,
                      closes: tuple) -> float:
    """The lookback value so far: the highest close observed up to `as_of`, floored at initial.

    `closes` holds one entry per window trading day from the start, None for a disrupted
    day. It must reach every day closed by `as_of`; entries for later days must be blank,
    so one fixed range of the whole window can be passed all along.
    """
    days, elapsed = schedule.window_days, schedule.closed_by(as_of)
    if len(closes) > len(days):
        raise TermError(f"closes must have at most {len(days)} entries, one per window trading day, "
                        f"got {len(closes)}")
    if len(closes) < elapsed:
        raise TermError(f"closes must have an entry for each of the {elapsed} window trading days "
                        f"closed by as_of ({as_of.isoformat()}), got {len(closes)}")
    for day, close in zip(days[elapsed:], closes[elapsed:]):
        if close is not None:
            raise TermError(f"closes must stop at as_of ({as_of.isoformat()}): "
                            f"it has a close for {day.isoformat()}")
    observed = [finite("closes", close) for close in closes[:elapsed] if close is not None]
    return lookback_value(observed, warrant.initial) if observed else warrant.initial


@lru_cache(maxsize=1024)
def warrant_mc_value(warrant: PutWarrant, market: Market, schedule: LookbackSchedule,
                     closes: tuple, settings: MonteCarlo) -> Estimate:
    """Value per warrant with its standard error.

    While the window is open, paths are simulated exactly on its remaining trading days; at
    the window's end the payment's conditional expectation is a closed-form put spread, so
    the last step to expiration is not simulated. Control variate: the put spread with the
    strikes known today (lookback so far), whose value today is closed form. After the window
    the value is that closed form, with no error.
    """
    in_order(("as_of", market.as_of), ("expiration", schedule.expiration))
    lookback_so_far = observed_lookback(warrant, market.as_of, schedule, closes)
    t_expiry, t_settle = market.time_to(schedule.expiration), market.time_to(schedule.settlement)
    args = (market.vol, market.rate, market.div_yield)
    known_strikes = float(put_spread_value(warrant, lookback_so_far, market.spot, t_expiry, t_settle, *args))
    times = np.array([market.time_to(day) for day in schedule.window_days if day > market.as_of])
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

    return estimate(sample, times.size, known_strikes, settings)


def roll_forward(market: Market, schedule: LookbackSchedule, closes: tuple):
    """Market and closes one calendar day later with the spot unchanged (for theta); a window
    trading day passed on the way closes at the spot. Never past expiration."""
    as_of = min(market.as_of + ONE_DAY, schedule.expiration)
    elapsed = schedule.closed_by(market.as_of)
    newly = schedule.closed_by(as_of) - elapsed
    closes = tuple(closes[:elapsed]) + (market.spot,) * newly
    return market.bumped(as_of=as_of), closes


def warrant_greeks(warrant: PutWarrant, market: Market, schedule: LookbackSchedule, closes: tuple,
                   settings: MonteCarlo) -> np.ndarray:
    """Delta, gamma, vega, theta, rho per warrant by bumping and revaluing with the same random numbers."""
    def value(**changes):
        return warrant_mc_value(warrant, market.bumped(**changes), schedule, closes, settings).value

    base, spot_step = value(), 0.005 * market.spot
    up, down = value(spot=market.spot + spot_step), value(spot=market.spot - spot_step)
    vol_step = min(0.01, market.vol / 2)
    vega = (value(vol=market.vol + vol_step) - value(vol=market.vol - vol_step)) / (2 * vol_step) / 100
    rho = (value(rate=market.rate + 0.01) - value(rate=market.rate - 0.01)) / 2
    tomorrow, closes_tomorrow = roll_forward(market, schedule, closes)
    theta = warrant_mc_value(warrant, tomorrow, schedule, closes_tomorrow, settings).value - base
    return np.array([(up - down) / (2 * spot_step), (up - 2 * base + down) / spot_step ** 2,
                     vega, theta, rho])


def warrant_implied_vol(price, warrant: PutWarrant, market: Market, schedule: LookbackSchedule,
                        closes: tuple, settings: MonteCarlo) -> float:
    """The flat vol at which the warrant's value equals `price` (same random numbers for every vol)."""
    price = finite("price", price)

    def gap(vol):
        return warrant_mc_value(warrant, market.bumped(vol=vol), schedule, closes, settings).value - price

    grid = np.geomspace(*VOL_BRACKET, 12)
    gaps = [gap(vol) for vol in grid]
    for low, high, gap_low, gap_high in zip(grid, grid[1:], gaps, gaps[1:]):
        if gap_low == 0:
            return float(low)
        if gap_low * gap_high < 0:
            return brentq(gap, low, high, xtol=1e-10)
    raise TermError(f"price must be a value some vol between {VOL_BRACKET[0]:.1%} and "
                    f"{VOL_BRACKET[1]:.0%} gives ({min(gaps) + price:.4f} to {max(gaps) + price:.4f}), "
                    f"got {price:g}")
