"""Contract terms of the two products, validated once when they are built.

Field names are the Excel functions' argument names, so every error message names
the argument a trader typed: "buffer must be at least 0 and below 1, got 1.5".
"""
from __future__ import annotations

from dataclasses import dataclass

from .fields import TermError, check, require

DEFAULT_PRINCIPAL = 1000.0


def checked(obj, *names) -> None:
    """Check the named fields of a frozen dataclass against their rules (fields.py), in place."""
    for name in names:
        object.__setattr__(obj, name, check(name, getattr(obj, name)))


@dataclass(frozen=True)
class BufferNote:
    """Bearish Buffer Securities: inverse exposure with participation, a cap, a buffer and a floor.

    Percent terms are fractions (300% participation is 3.0); `max_return` and
    `min_payment` are fractions of `principal`.
    """

    initial: float
    participation: float
    buffer: float
    max_return: float
    min_payment: float
    principal: float = DEFAULT_PRINCIPAL

    def __post_init__(self):
        checked(self, "initial", "participation", "buffer", "max_return", "min_payment", "principal")

    @property
    def final_buffer_value(self) -> float:
        """The final underlying value up to which the principal is repaid."""
        return self.initial * (1 + self.buffer)

    @property
    def maximum_payment(self) -> float:
        """The largest payment any final value gives: at the cap, or at a final value of 0
        when participation is too low to reach the cap."""
        return self.principal * (1 + min(self.max_return, self.participation))

    @property
    def minimum_payment(self) -> float:
        return self.principal * self.min_payment


@dataclass(frozen=True)
class PutWarrant:
    """Bearish Put Warrants: a put spread whose upper strike is set by a lookback value.

    `upper_strike` is a fraction of the lookback value, `lower_strike` a fraction of
    the initial value. The lookback value is never below the initial value, so a
    lower strike below the upper strike (as fractions) keeps the strike values in
    order whatever the lookback turns out to be.
    """

    initial: float
    upper_strike: float
    lower_strike: float
    notional: float = DEFAULT_PRINCIPAL

    def __post_init__(self):
        checked(self, "initial", "upper_strike", "lower_strike", "notional")
        require(self.lower_strike < self.upper_strike, "lower_strike",
                f"must be below upper_strike ({self.upper_strike:g})", self.lower_strike)

    @property
    def lower_strike_value(self) -> float:
        return self.lower_strike * self.initial

    def upper_strike_value(self, lookback: float) -> float:
        return self.upper_strike * self.checked_lookback(lookback)

    def checked_lookback(self, lookback) -> float:
        """`lookback` validated against the rule that it is never below the initial value."""
        lookback = check("lookback", lookback)
        require(lookback >= self.initial, "lookback",
                f"must be at least the initial value ({self.initial:g})", lookback)
        return lookback


MAX_YEARS = 100  # dates of one product at most this far apart: beyond, discounting and drift overflow


def in_order(*named_dates) -> None:
    """Raise a TermError unless the (name, date) pairs are in calendar order (equal is fine) and
    the last is at most MAX_YEARS after the first."""
    for (before, early), (name, late) in zip(named_dates, named_dates[1:]):
        if late < early:
            raise TermError(f"{name} must not be before {before} ({early.isoformat()}), "
                            f"got {late.isoformat()}")
    (first, start), (last, end) = named_dates[0], named_dates[-1]
    if (end - start).days > MAX_YEARS * 365.25:
        raise TermError(f"{last} must be at most {MAX_YEARS} years after {first} ({start.isoformat()}), "
                        f"got {end.isoformat()}")
