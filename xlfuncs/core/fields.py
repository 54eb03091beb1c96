"""Input fields: name, unit, rule, default and help, the one place each rule and unit hint lives.

Every product module lists its terms as Fields (and market.py, montecarlo.py theirs); the
Excel functions' argument names and help, the checks of the contract and market objects and
their messages, the workbooks' defined names and the deal lists' columns all come from them,
so a cell and a deal-list column are held to the same rule and a unit slip gets the same
answer everywhere: "vol must be a fraction: 16.7% is 0.167, got 16.7".
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from numbers import Real

import numpy as np


class TermError(ValueError):
    """An input that breaks a rule; the message names it, the rule and the value."""


class Required:
    """The default of a field that must be given."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = Required()


@dataclass(frozen=True)
class Field:
    """An input. `unit` says what it is and how a workbook shows it (level, percent, percent3,
    money, date, count); numbers are allowed from `low` to `high` (ends open where flagged);
    `hint` shows a fraction's unit ("16.7% is 0.167"), so a whole-number percentage is caught.
    `shape` says how Excel passes it: one cell, a grid or a list of numbers, or a list of dates.
    `label` is the term sheet's name for it. `ranges`, for a one-cell field, reads a range of
    cells given instead (a curve, a surface) into quotes the market builds from."""

    name: str
    help: str
    unit: str
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    hint: str = ""
    default: object = REQUIRED
    shape: str = "cell"
    label: str = ""
    ranges: object = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def defined_name(self) -> str:
        """The workbooks' name of the cell holding it: max_return is MaxReturn."""
        return "".join(part.capitalize() for part in self.name.split("_"))

    def allows(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def allows_all(self, values: np.ndarray) -> bool:
        """Whether every one of an array of floats keeps the rule (finite, in range, whole for a count)."""
        above = values > self.low if self.low_open else values >= self.low
        below = values < self.high if self.high_open else values <= self.high
        whole = self.unit != "count" or bool((values == np.round(values)).all())
        return bool(np.isfinite(values).all() and above.all() and below.all()) and whole

    def rule(self) -> str:
        low, high = shown(self.low), shown(self.high)
        lower = f"greater than {low}" if self.low_open else f"at least {low}"
        upper = f"below {high}" if self.high_open else f"at most {high}"
        span = f"from {low} to {high}" if not (self.low_open or self.high_open) else f"{lower} and {upper}"
        return f"must be a fraction {span} ({self.hint})" if self.hint else f"must be {span}"

    def check(self, value):
        """`value` as this field's type (a date, or a float within the rule), or a TermError
        that says what to type."""
        if self.unit == "date":
            if isinstance(value, dt.datetime):
                return value.date()
            if not isinstance(value, dt.date):
                raise TermError(f"{self.name} must be a date, got {value!r}")
            return value
        if isinstance(value, str) and self.hint and (percent := PERCENT.fullmatch(value.strip())):
            number = float(percent[1].replace(",", "."))
            raise TermError(f"{self.name} must be a fraction: {number:g}% is {number / 100:g}, got {value!r}")
        value = finite(self.name, value)
        if self.unit == "count" and not value.is_integer():
            raise TermError(f"{self.name} must be a whole number, got {value:g}")
        if not self.allows(value):
            if self.hint and value > self.high * (1 + 1e-6) and self.allows(value / 100):
                raise TermError(f"{self.name} must be a fraction: {value:g}% is {value / 100:g}, got {value:g}")
            raise TermError(f"{self.name} {self.rule()}, got {value:g}")
        return value


PERCENT = re.compile(r"([+-]?(?:[0-9]+[.,]?[0-9]*|[.,][0-9]+))\s*%")  # text such as "300%" (Excel turns a typed 300% into 3)


def shown(bound: float) -> str:
    """A bound as a rule states it: whole numbers below ten million in full (1048576), others short (1e+12)."""
    return str(int(bound)) if float(bound).is_integer() and abs(bound) < 1e7 else f"{bound:g}"


LEVEL_MIN, LEVEL_MAX = 1e-6, 1e9  # index levels: far beyond any equity index, far from under- or overflow
AMOUNT_MIN, AMOUNT_MAX = 1e-6, 1e12  # principal, notional: no subnormal amounts, whose ratios overflow


def level(name: str, help_text: str, label: str = "", zero_allowed: bool = False, high: float = LEVEL_MAX,
          **more) -> Field:
    return Field(name, help_text, "level", 0.0 if zero_allowed else LEVEL_MIN, high, label=label, **more)


def amount(name: str, help_text: str, label: str = "", **more) -> Field:
    return Field(name, help_text, "money", AMOUNT_MIN, AMOUNT_MAX, label=label, **more)


def fraction(name: str, help_text: str, low: float, high: float, hint: str, label: str = "",
             unit: str = "percent", **more) -> Field:
    return Field(name, help_text, unit, low, high, hint=hint, label=label, **more)


def date(name: str, help_text: str, label: str = "", **more) -> Field:
    return Field(name, help_text, "date", label=label, **more)


def table(*fields: Field) -> dict[str, Field]:
    """Fields by name, in order."""
    return {field.name: field for field in fields}


# Inputs shared by every product
INITIAL = level("initial", "Initial underlying value (the closing value on the pricing date).",
                "Initial underlying value")
FINAL_MAX = 1000 * LEVEL_MAX  # scenarios go far beyond any initial value (a quote's +100% of the largest)
FINAL = level("final", "Final underlying value: one number, or a range of them for a result of the same shape.",
              zero_allowed=True, shape="grid", high=FINAL_MAX)
FINALS = level("finals", "Final underlying values: a single column or row; one result row each.",
               zero_allowed=True, shape="list", high=FINAL_MAX)
COLUMNS = Field("columns", "Which columns of the table to return, numbered from 1, e.g. {2,3}; blank or omitted: "
                           "all.", "count", 1, 8, default=None, shape="list")
PAYMENT_MAX = 11 * AMOUNT_MAX  # the largest payment or value: principal x (1 + a maximum return of at most 10)
PRICE = Field("price", "Price per security or warrant: the payment to break even on, or the value to match.", "money",
              0, PAYMENT_MAX, low_open=True)  # a model value may be far below a cent
DEFAULT_AMOUNT = 1000.0


def finite(name: str, value) -> float:
    """`value` as a float, or a TermError if it is not a finite real number. A Decimal is a
    number: the classic add-in hands over currency-formatted cells as Decimals (Excel's
    Currency type, which keeps four decimals)."""
    if type(value) is float and math.isfinite(value):  # the usual case, without the costlier checks below
        return value + 0.0
    if isinstance(value, bool) or not isinstance(value, (Real, Decimal)):
        raise TermError(f"{name} must be a number, got {value!r}")
    if isinstance(value, Decimal) and value.is_snan():
        value = math.nan
    try:
        value = float(value)
    except OverflowError:
        value = math.inf if value > 0 else -math.inf
    if not math.isfinite(value):
        raise TermError(f"{name} must be a finite number, got {value}")
    return value + 0.0  # -0.0 is 0


def require(ok: bool, name: str, rule: str, value: float) -> None:
    """Raise a TermError saying `name` `rule`, got `value`, unless `ok` (rules between inputs)."""
    if not ok:
        raise TermError(f"{name} {rule}, got {value:g}")


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


class Contract:
    """Base of a product's contract: a frozen dataclass whose fields are the product's terms,
    each checked against FIELDS (a term given as None takes its default, as a blank cell does;
    one left None was not given: a function that needs it says so)."""

    FIELDS: dict[str, Field] = {}

    def __post_init__(self):
        defaults = {term.name: term.default for term in dataclasses.fields(self)}
        for name in self.FIELDS:
            value = getattr(self, name)
            if value is None:
                value = defaults.get(name)
            if value is not None and value is not dataclasses.MISSING:
                object.__setattr__(self, name, self.FIELDS[name].check(value))
            elif value is dataclasses.MISSING:
                raise TermError(f"{name} is required")

    @classmethod
    def of(cls, values: dict):
        """The contract from a mapping of inputs (extra names ignored, missing terms left to
        their defaults; a term without one is an error naming it)."""
        given = {name: values[name] for name in cls.FIELDS if name in values}
        for term in dataclasses.fields(cls):
            if term.name not in given and term.default is dataclasses.MISSING:
                raise TermError(f"{term.name} is required")
        return cls(**given)

    def need(self, *names: str) -> None:
        for name in names:
            if getattr(self, name) is None:
                raise TermError(f"{name} is required")
