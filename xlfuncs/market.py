"""Market inputs and conventions: flat vol, continuously compounded flat rate and dividend
yield, ACT/365F year fractions between calendar dates; `as_of` is after that day's close."""
from __future__ import annotations

import datetime as dt
import copy
from dataclasses import dataclass

from .terms import checked


def year_fraction(start: dt.date, end: dt.date) -> float:
    """ACT/365F: calendar days / 365."""
    return (end - start).days / 365.0


@dataclass(frozen=True)
class Market:
    """Spot after the close of `as_of`, flat vol, rate and dividend yield (fractions)."""

    spot: float
    as_of: dt.date
    vol: float
    rate: float
    div_yield: float

    def __post_init__(self):
        checked(self, "spot", "vol", "rate", "div_yield")

    def time_to(self, day: dt.date) -> float:
        return year_fraction(self.as_of, day)

    def bumped(self, **changes) -> "Market":
        """The same market with inputs moved by a greek's bump or a solver's trial: not checked
        again, as the user typed none of them (a bump may step just past a bound)."""
        moved = copy.copy(self)
        for name, value in changes.items():
            object.__setattr__(moved, name, value)
        return moved
