"""Market inputs and conventions: vol flat or a surface (surface.py), continuously compounded
rate and dividend yield flat or curves (curves.py), ACT/365F year fractions between calendar
dates; `as_of` is after that day's close, and `closes` are the underlying's closes observed so
far where a product looks back at them."""
from __future__ import annotations

import copy
import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .curves import Curve, CurveQuotes, curve_of, curve_quotes
from .fields import Contract, TermError, date, fraction, level, require, table
from .surface import Surface, SurfaceQuotes, surface_of, surface_quotes

SPOT_RANGE = 1000.0  # spot and closes within this factor of the initial value

FIELDS = table(
    level("spot", "Underlying value after the close on as_of.", "Spot (underlying close on the valuation date)"),
    date("as_of", "The date the values are as of, after that day's close: a date or an Excel date serial.",
         "Values as of (after that day's close)"),
    fraction("vol", "Volatility as a fraction (16.7% is 0.167), flat; or a surface range: strikes across, expiry "
                    "dates down, vols inside (top-left blank), or SVI rows under expiry, a, b, rho, m, sigma.",
             0.005, 3, "16.7% is 0.167", "Volatility (flat)", ranges=surface_quotes),
    fraction("rate", "Continuously compounded interest rate (4.3% is 0.043), flat; or a curve: a two-column range "
                     "of dates and zero rates.", -0.5, 0.5, "4.3% is 0.043",
             "Interest rate (continuously compounded)", unit="percent3", ranges=curve_quotes),
    fraction("div_yield", "Continuously compounded dividend yield (1.3% is 0.013), flat; or a curve: a two-column "
                          "range of dates and zero rates.", -0.5, 0.5, "1.3% is 0.013",
             "Dividend yield (continuously compounded)", unit="percent3", ranges=curve_quotes),
    level("closes", "Closes of the lookback window's trading days in order from its start (up to as_of); "
                    "a blank cell is a disrupted day, skipped.", "Closing value", shape="list", default=None),
)


def near_initial(name: str, level: float, initial: float) -> float:
    """A spot or close held within a factor SPOT_RANGE of the initial value: further away a
    product's value is its bounds to the last digit, and rounding would show instead."""
    require(initial / SPOT_RANGE <= level <= initial * SPOT_RANGE, name,
            f"must be within a factor of {SPOT_RANGE:g} of initial ({initial:g})", level)
    return level


def year_fraction(start: dt.date, end: dt.date) -> float:
    """ACT/365F: calendar days / 365."""
    return (end - start).days / 365.0


CURVED = ("rate", "div_yield")


@lru_cache(maxsize=256)
def market_data(as_of: dt.date, spot: float, vol, rate, div_yield) -> tuple:
    """Curves and a surface built from their quotes as of `as_of` (once per content): the
    surface's moneyness is measured against the forwards of this spot and these curves."""
    rate, div_yield = (curve_of(value, as_of, name) if isinstance(value, CurveQuotes) else value
                       for name, value in zip(CURVED, (rate, div_yield)))
    if isinstance(vol, SurfaceQuotes):
        snapshot = Market(spot, as_of, 0.2, rate, div_yield)
        vol = surface_of(vol, as_of, lambda t: spot * snapshot.growth(t), FIELDS["vol"])
    return vol, rate, div_yield


@dataclass(frozen=True)
class Market(Contract):
    """Spot after the close of `as_of`, vol (a fraction or a Surface), rate and dividend yield
    (fractions or Curves; quotes of either are built as of `as_of`), and the closes observed so
    far (None for a disrupted day), each an index level."""

    FIELDS = {name: field for name, field in FIELDS.items() if name not in ("closes", "vol", *CURVED)}

    spot: float
    as_of: dt.date
    vol: float | Surface
    rate: float | Curve
    div_yield: float | Curve
    closes: tuple = ()

    def __post_init__(self):
        super().__post_init__()
        quoted = False
        for name in ("vol", *CURVED):
            value = getattr(self, name)
            if isinstance(value, (CurveQuotes, SurfaceQuotes)):
                quoted = True
            elif not isinstance(value, (Curve, Surface)):
                object.__setattr__(self, name, FIELDS[name].check(value) if value is not None else None)
            if getattr(self, name) is None:
                raise TermError(f"{name} is required")
        if quoted:
            data = market_data(self.as_of, self.spot, self.vol, self.rate, self.div_yield)
            for name, value in zip(("vol", *CURVED), data):
                object.__setattr__(self, name, value)
        closes = () if self.closes is None else self.closes
        if isinstance(closes, (str, bytes)) or not hasattr(closes, "__iter__"):
            raise TermError(f"closes must be a list of the window's closes, got {closes!r}")
        object.__setattr__(self, "closes", tuple(
            None if close is None or (isinstance(close, float) and math.isnan(close)) else FIELDS["closes"].check(close)
            for close in closes))

    @classmethod
    def of(cls, values: dict) -> "Market":
        return cls(**{name: values[name] for name in FIELDS if name in values})

    def time_to(self, day: dt.date) -> float:
        return year_fraction(self.as_of, day)

    @property
    def flat(self) -> bool:
        """Whether vol, rate and dividend yield are each one number."""
        return not isinstance(self.vol, Surface) and not isinstance(self.rate, Curve) \
            and not isinstance(self.div_yield, Curve)

    @property
    def smile(self) -> bool:
        """Whether the vol depends on the strike (a surface with a smile)."""
        return isinstance(self.vol, Surface) and not self.vol.flat_in_strike

    def shifted(self, vol: float = 0.0, rate: float = 0.0) -> "Market":
        """Every vol moved by `vol` (a flat vol, or each of the surface's implied vols) and the
        rate (or every zero rate of its curve) by `rate`: a greek's parallel bump."""
        return self.bumped(vol=self.vol.shifted(vol) if isinstance(self.vol, Surface) else self.vol + vol,
                           rate=self.rate.shifted(rate) if isinstance(self.rate, Curve) else self.rate + rate)

    def moved(self, spot: float) -> "Market":
        """The market with the spot moved and a surface's smile moved with it (sticky moneyness:
        each implied vol kept at its moneyness, so the moved market is as free of arbitrage as
        this one): a stress scenario's."""
        vol = self.vol.moved(spot / self.spot) if isinstance(self.vol, Surface) else self.vol
        return self.bumped(spot=spot, vol=vol)

    def log_discount(self, curve: float | Curve, t):
        """log of a curve's (or flat rate's) discount factor from as_of to t years on."""
        if isinstance(curve, Curve):
            return curve.log_discount_between(year_fraction(curve.anchor, self.as_of), t)
        return -curve * np.asarray(t, float)

    def short_rate(self, curve: float | Curve) -> float:
        """A curve's (or flat rate's) instantaneous forward rate at as_of."""
        if isinstance(curve, Curve):
            return curve.forward_at(year_fraction(curve.anchor, self.as_of))
        return curve

    def log_growth(self, t) -> np.ndarray:
        """log of the forward t years on over spot."""
        return self.log_discount(self.div_yield, t) - self.log_discount(self.rate, t)

    def flat_equivalent(self, t_fix: float, t_pay: float, start: float = 0.0) -> tuple[float, float]:
        """The flat rate and dividend yield that give Black's formula this market's discount
        factor to t_pay and its forward from `start` to t_fix (years from as_of)."""
        rate = -float(self.log_discount(self.rate, t_pay)) / t_pay if t_pay > 0 else self.short_rate(self.rate)
        if t_fix <= start:
            return rate, rate
        return rate, rate - float(self.log_growth(t_fix) - self.log_growth(start)) / (t_fix - start)

    def growth(self, t) -> np.ndarray:
        """The forward t years on over spot."""
        if self.flat:
            return np.exp((self.rate - self.div_yield) * t)
        return np.exp(self.log_growth(t))

    def flattened(self, t_fix: float, t_pay: float) -> "Market":
        """The flat market a desk compares with: the surface's at-the-money vol to t_fix (strike
        at the forward; to the next day once the fixing is today or past, where no vol matters)
        and the flat rate and dividend yield that keep the forward to t_fix and the discount to
        t_pay (years from as_of)."""
        if self.flat:
            return self
        horizon = max(t_fix, 1 / 365)
        vol = self.implied_vols([self.spot * float(self.growth(horizon))], horizon)[0] \
            if isinstance(self.vol, Surface) else self.vol
        rate, div_yield = self.flat_equivalent(t_fix, t_pay)
        return self.bumped(vol=float(vol), rate=rate, div_yield=div_yield)

    def discount(self, t, spread: float = 0.0) -> np.ndarray:
        """The discount factor to t years on at the rate (plus a funding spread)."""
        if not isinstance(self.rate, Curve):
            return np.exp(-(self.rate + spread) * t)
        return np.exp(self.log_discount(self.rate, t) - spread * np.asarray(t, float))

    def surface_later(self) -> float:
        """Years from the surface's quote date to as_of (0 but for theta's next day)."""
        return year_fraction(self.vol.anchor, self.as_of)

    def total_variance(self, strike: float, t: float) -> float:
        """Black total variance of an option on `strike` from as_of to t years on."""
        if t <= 0:
            return 0.0
        if not isinstance(self.vol, Surface):
            return self.vol * self.vol * t
        return self.implied_vols([strike], t)[0] ** 2 * t

    def vol_changes(self, horizon: float) -> list[float]:
        """Times from as_of (before `horizon`) where the local vol jumps in time: the surface's
        expiries, between which total variance is linear in time. Steps of a scheme in time should
        not straddle them."""
        if not isinstance(self.vol, Surface):
            return []
        later = self.surface_later()
        return [float(t) - later for t in self.vol.times if 0 < float(t) - later < horizon]

    def local_vol(self, spots: np.ndarray, t: float, start: float, end: float) -> np.ndarray:
        """Local vols at index levels `spots`, t years on, for a step from `start` to `end`
        (whose carry change against the surface's snapshot enters Dupire's formula)."""
        if not isinstance(self.vol, Surface):
            return np.full(len(spots), self.vol)
        later = self.surface_later()
        snapshot = np.log(self.vol.forward(end + later) / self.vol.forward(start + later))
        carry_change = (float(self.log_growth(end) - self.log_growth(start)) - snapshot) / (end - start)
        return self.vol.local_vol(spots, t, later, self.spot * float(self.growth(t)), carry_change)

    def implied_vols(self, strikes: list[float], t: float) -> list[float]:
        """The Black implied vols of options on `strikes` fixing t years on (t > 0)."""
        if not isinstance(self.vol, Surface):
            return [self.vol] * len(strikes)
        return self.vol.implied_vols(strikes, t + self.surface_later())

    def bumped(self, **changes) -> "Market":
        """The same market with inputs moved by a greek's bump or a solver's trial: not checked
        again, as the user typed none of them (a bump may step just past a bound)."""
        moved = copy.copy(self)
        for name, value in changes.items():
            object.__setattr__(moved, name, value)
        return moved

