"""Market inputs and conventions: flat vol, continuously compounded flat rate and dividend
yield, ACT/365F year fractions between calendar dates; `as_of` is after that day's close, and
`closes` are the underlying's closes observed so far where a product looks back at them."""
from __future__ import annotations

import copy
import datetime as dt
import math
from dataclasses import dataclass

from .fields import Contract, TermError, date, fraction, level, require, table

SPOT_RANGE = 1000.0  # spot and closes within this factor of the initial value

FIELDS = table(
    level("spot", "Underlying value after the close on as_of.", "Spot (underlying close on the valuation date)"),
    date("as_of", "The date the values are as of, after that day's close: a date or an Excel date serial.",
         "Values as of (after that day's close)"),
    fraction("vol", "Flat volatility as a fraction: 16.7% is 0.167.", 0.005, 3, "16.7% is 0.167",
             "Volatility (flat)"),
    fraction("rate", "Continuously compounded flat interest rate: 4.3% is 0.043.", -0.5, 0.5, "4.3% is 0.043",
             "Interest rate (continuously compounded)", unit="percent3"),
    fraction("div_yield", "Continuously compounded dividend yield: 1.3% is 0.013.", -0.5, 0.5, "1.3% is 0.013",
             "Dividend yield (continuously compounded)", unit="percent3"),
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


@dataclass(frozen=True)
class Market(Contract):
    """Spot after the close of `as_of`, flat vol, rate and dividend yield (fractions), and the
    closes observed so far (None for a disrupted day), each an index level."""

    FIELDS = {name: field for name, field in FIELDS.items() if name != "closes"}

    spot: float
    as_of: dt.date
    vol: float
    rate: float
    div_yield: float
    closes: tuple = ()

    def __post_init__(self):
        super().__post_init__()
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

    def bumped(self, **changes) -> "Market":
        """The same market with inputs moved by a greek's bump or a solver's trial: not checked
        again, as the user typed none of them (a bump may step just past a bound)."""
        moved = copy.copy(self)
        for name, value in changes.items():
            object.__setattr__(moved, name, value)
        return moved

