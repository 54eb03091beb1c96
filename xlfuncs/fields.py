"""Every input's name, help and rule, in one table: the only place a range or a unit hint lives.

Excel's function help, the checks of the contract and market objects and their messages come
from here, so a cell and a deal-list column are held to the same rule and a unit slip gets
the same answer everywhere: "vol must be a fraction: 16.7% is 0.167, got 16.7".
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real


class TermError(ValueError):
    """An input that breaks a rule; the message names it, the rule and the value."""


@dataclass(frozen=True)
class Field:
    """A numeric input: allowed from `low` to `high` (ends open where flagged); `percent` is the
    hint for fraction inputs ("16.7% is 0.167"), so a whole-number percentage is caught."""

    help: str
    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    percent: str = ""

    def allows(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def rule(self) -> str:
        lower = f"greater than {self.low:g}" if self.low_open else f"at least {self.low:g}"
        upper = f"below {self.high:g}" if self.high_open else f"at most {self.high:g}"
        span = (f"from {self.low:g} to {self.high:g}" if not (self.low_open or self.high_open)
                else f"{lower} and {upper}")
        return f"must be a fraction {span} ({self.percent})" if self.percent else f"must be {span}"


LEVEL_MIN, LEVEL_MAX = 1e-6, 1e9  # index levels: far beyond any equity index, far from under- or overflow
AMOUNT_MAX = 1e12  # principal, notional, prices


def level(help_text: str, zero_allowed: bool = False) -> Field:
    return Field(help_text, 0.0 if zero_allowed else LEVEL_MIN, LEVEL_MAX)


FIELDS: dict[str, Field] = {
    "final": level("Final underlying value: one number, or a range of them for a result of the same shape.",
                   zero_allowed=True),
    "finals": level("Final underlying values: a single column or row; one result row each.", zero_allowed=True),
    "initial": level("Initial underlying value (the closing value on the pricing date)."),
    "participation": Field("Participation rate as a fraction: 300% is 3.", 0, 10, low_open=True,
                           percent="300% is 3"),
    "buffer": Field("Buffer percentage as a fraction: 10% is 0.1.", 0, 1, high_open=True, percent="10% is 0.1"),
    "max_return": Field("Maximum return at maturity as a fraction of principal: 23% is 0.23.", 0, 10,
                        percent="23% is 0.23"),
    "min_payment": Field("Minimum payment at maturity as a fraction of principal: 10% is 0.1.", 0, 1,
                         percent="10% is 0.1"),
    "principal": Field("Stated principal amount per security; blank or omitted means 1000.", 0, AMOUNT_MAX,
                       low_open=True),
    "price": Field("Price per security or warrant: the payment to break even on, or the value to match.",
                   0, AMOUNT_MAX, low_open=True),
    "closes": level("Closes of the lookback window's trading days in order from its start (up to as_of); "
                    "a blank cell is a disrupted day, skipped."),
    "lookback": level("Lookback underlying value: the highest window close, never below the initial value."),
    "upper_strike": Field("Upper strike as a fraction of the lookback value: 95% is 0.95.", 0, 2,
                          low_open=True, percent="95% is 0.95"),
    "lower_strike": Field("Lower strike as a fraction of the initial value: 75% is 0.75.", 0, 2,
                          high_open=True, percent="75% is 0.75"),
    "premium": Field("Premium as a fraction of notional: 2.728% is 0.02728.", 0, 2, low_open=True,
                     percent="2.728% is 0.02728"),
    "notional": Field("Notional amount per warrant; blank or omitted means 1000.", 0, AMOUNT_MAX, low_open=True),
    "spot": level("Underlying value after the close on as_of."),
    "vol": Field("Flat volatility as a fraction: 16.7% is 0.167.", 0.005, 3, percent="16.7% is 0.167"),
    "rate": Field("Continuously compounded flat interest rate: 4.3% is 0.043.", -0.5, 0.5,
                  percent="4.3% is 0.043"),
    "div_yield": Field("Continuously compounded dividend yield: 1.3% is 0.013.", -0.5, 0.5,
                       percent="1.3% is 0.013"),
    "funding_spread": Field("Issuer's funding spread over rate, for the note's bond component: 1% is 0.01.",
                            -0.5, 0.5, percent="1% is 0.01"),
    "target_value": Field("Value per security the maximum return should give, e.g. the estimated value.",
                          0, AMOUNT_MAX, low_open=True),
}

DATE_HELP = {
    "as_of": "Valuation date, after that day's close: a date or an Excel date serial.",
    "final_date": "The note's valuation date, when the final underlying value is fixed.",
    "payment_date": "The note's maturity date, when the payment is made.",
    "window_start": "First day of the lookback observation period.",
    "window_end": "Last day of the lookback observation period.",
    "expiration": "The warrant's expiration date, when the final underlying value is fixed.",
    "settlement": "The warrant's exercise settlement date, when the payment is made.",
    "start": "First calendar date to list.",
    "end": "Last calendar date to list.",
    "holidays": "Optional range of holiday dates that replaces the NYSE holiday rules.",
}


def finite(name: str, value) -> float:
    """`value` as a float, or a TermError if it is not a finite real number."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TermError(f"{name} must be a number, got {value!r}")
    try:
        value = float(value)
    except OverflowError:
        value = math.inf if value > 0 else -math.inf
    if not math.isfinite(value):
        raise TermError(f"{name} must be a finite number, got {value}")
    return value + 0.0  # -0.0 is 0


def check(name: str, value) -> float:
    """`value` as a float that keeps the rule of FIELDS[name], or a TermError that says what to type."""
    value, field = finite(name, value), FIELDS[name]
    if not field.allows(value):
        if field.percent and value > field.high and field.allows(value / 100):
            raise TermError(f"{name} must be a fraction: {value:g}% is {value / 100:g}, got {value:g}")
        raise TermError(f"{name} {field.rule()}, got {value:g}")
    return value


def require(ok: bool, name: str, rule: str, value: float) -> None:
    """Raise a TermError saying `name` `rule`, got `value`, unless `ok` (rules between inputs)."""
    if not ok:
        raise TermError(f"{name} {rule}, got {value:g}")
