"""Market inputs and conventions: flat vol, continuously compounded flat rate and dividend
yield, ACT/365F year fractions between calendar dates; `as_of` is after that day's close."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from .terms import finite, positive, require


def year_fraction(start: dt.date, end: dt.date) -> float:
    """ACT/365F: calendar days / 365."""
    return (end - start).days / 365.0


def rate_like(name: str, value) -> float:
    value = finite(name, value)
    require(abs(value) < 1, name, "must be a fraction between -1 and 1 (4.3% is 0.043)", value)
    return value


@dataclass(frozen=True)
class Market:
    """Spot after the close of `as_of`, flat vol, rate and dividend yield (fractions)."""

    spot: float
    as_of: dt.date
    vol: float
    rate: float
    div_yield: float

    def __post_init__(self):
        object.__setattr__(self, "spot", positive("spot", self.spot))
        object.__setattr__(self, "vol", positive("vol", self.vol))
        object.__setattr__(self, "rate", rate_like("rate", self.rate))
        object.__setattr__(self, "div_yield", rate_like("div_yield", self.div_yield))

    def time_to(self, day: dt.date) -> float:
        return year_fraction(self.as_of, day)

    def bumped(self, **changes) -> "Market":
        """The same market with some inputs changed (for greeks)."""
        return replace(self, **changes)
