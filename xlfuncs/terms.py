"""Contract terms of the two products, validated once when they are built.

Field names are the Excel functions' argument names, so every error message names
the argument a trader typed: "buffer must be at least 0 and below 1, got 1.5".
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

DEFAULT_PRINCIPAL = 1000.0


class TermError(ValueError):
    """An input that breaks a rule of the term sheet; the message names it, the rule and the value."""


def finite(name: str, value) -> float:
    """`value` as a float, or a TermError if it is not a finite real number."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TermError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise TermError(f"{name} must be a finite number, got {value}")
    return float(value)


def require(ok: bool, name: str, rule: str, value: float) -> None:
    """Raise a TermError saying `name` `rule`, got `value`, unless `ok`."""
    if not ok:
        raise TermError(f"{name} {rule}, got {value:g}")


def positive(name: str, value) -> float:
    value = finite(name, value)
    require(value > 0, name, "must be greater than 0", value)
    return value


def fraction(name: str, value, *, below_one: bool = False) -> float:
    value = finite(name, value)
    if below_one:
        require(0 <= value < 1, name, "must be at least 0 and below 1", value)
    else:
        require(0 <= value <= 1, name, "must be between 0 and 1", value)
    return value


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
        set_ = object.__setattr__
        set_(self, "initial", positive("initial", self.initial))
        set_(self, "participation", positive("participation", self.participation))
        set_(self, "buffer", fraction("buffer", self.buffer, below_one=True))
        max_return = finite("max_return", self.max_return)
        require(max_return >= 0, "max_return", "must be at least 0", max_return)
        set_(self, "max_return", max_return)
        min_payment = finite("min_payment", self.min_payment)
        require(min_payment >= 0, "min_payment", "must be at least 0", min_payment)
        require(min_payment <= 1, "min_payment", "must not exceed the principal (1 = 100%)", min_payment)
        set_(self, "min_payment", min_payment)
        set_(self, "principal", positive("principal", self.principal))

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
        set_ = object.__setattr__
        set_(self, "initial", positive("initial", self.initial))
        set_(self, "upper_strike", positive("upper_strike", self.upper_strike))
        lower = finite("lower_strike", self.lower_strike)
        require(lower >= 0, "lower_strike", "must be at least 0", lower)
        require(lower < self.upper_strike, "lower_strike",
                f"must be below upper_strike ({self.upper_strike:g})", lower)
        set_(self, "lower_strike", lower)
        set_(self, "notional", positive("notional", self.notional))

    @property
    def lower_strike_value(self) -> float:
        return self.lower_strike * self.initial

    def upper_strike_value(self, lookback: float) -> float:
        return self.upper_strike * self.checked_lookback(lookback)

    def checked_lookback(self, lookback) -> float:
        """`lookback` validated against the rule that it is never below the initial value."""
        lookback = finite("lookback", lookback)
        require(lookback >= self.initial, "lookback",
                f"must be at least the initial value ({self.initial:g})", lookback)
        return lookback


def in_order(*named_dates) -> None:
    """Raise a TermError unless the (name, date) pairs are in calendar order (equal is fine)."""
    for (before, early), (name, late) in zip(named_dates, named_dates[1:]):
        if late < early:
            raise TermError(f"{name} must not be before {before} ({early.isoformat()}), "
                            f"got {late.isoformat()}")
