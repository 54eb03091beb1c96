"""What every surface knows about a product, read from its description: the Excel functions,
the fields behind their arguments, the valuation a quote shows, and the template's layout.

A product module (xlfuncs/products/) builds one Product; udfs.py, the Excel function module,
the workbook builder and the batch read PRODUCTS and hold no product knowledge.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..core import market
from ..core.fields import COLUMNS, FINAL, FINALS, PRICE, Field, TermError


@dataclass(frozen=True)
class Function:
    """An Excel function: its name, its help (Excel's function wizard shows it), its arguments
    in order (names of fields), and what it computes from the converted arguments, a dict by
    name: numbers, or a list of rows of cells passed to Excel as they are. `blanks`: NaN
    results are blank cells (a blank scenario), not errors. `fields` replace the product's
    fields of the same names for this function's arguments. `dates`: the result is rows of
    dates."""

    name: str
    help: str
    args: tuple[str, ...]
    compute: Callable[[dict], object]
    blanks: bool = False
    fields: tuple[Field, ...] = ()
    dates: bool = False


@dataclass(frozen=True)
class Quote:
    """What a client quote shows besides the template's cells: the estimated value, its greeks
    (delta, gamma, vega, theta, rho in display units) and the breakeven final value (None when
    there is none: every final value repays the price)."""

    value: float
    greeks: np.ndarray
    breakeven: float | None


# Where a deal is in its life on a date, as the book reports it
BEFORE_FIXING, BEFORE_WINDOW, IN_WINDOW, WINDOW_CLOSED = "before final date", "before window", "in window", \
    "window closed"
FIXED, SETTLED = "final fixed", "settled"


@dataclass(frozen=True)
class Stage:
    """A deal's stage on a date, read from the closes history: its `status`; the lookback
    window's `closes` observed so far (its market's closes); once the final value is fixed, the
    `payment` per security (None before, and for a deal settled before `since`); the dates its
    final value is fixed (`fixing`) and its payment made (`paid`); the days of `closes`."""

    status: str
    closes: tuple
    payment: float | None
    fixing: dt.date
    paid: dt.date
    days: tuple = ()

    @property
    def live(self) -> bool:
        """Whether the value still depends on the market beyond discounting."""
        return self.status not in (FIXED, SETTLED)


@dataclass(frozen=True)
class Life:
    """How a book follows a product: `stage(contract, as_of, history, since)` (its Stage; a
    deal paid on or before `since` needs no close), `value(contract, market)` and `greeks(contract,
    market)` while live (the Excel functions' own), `values_at(contract, market, spots)` the
    values at an array of spots in one call where the engine can, `paid_value(contract, payment,
    market)` the present value of a payment fixed and not yet made."""

    stage: Callable
    value: Callable
    values_at: Callable
    greeks: Callable
    paid_value: Callable


@dataclass(frozen=True)
class Product:
    """One product, described once.

    `key` is its name in a deal list's product column; `prefix` starts its functions' names;
    `title` and `issuer`, `guarantor` name it on its templates; `contract` is the dataclass of
    its terms (a fields.Contract); `market_fields` the market inputs it is valued with;
    `functions` its Excel functions; `extra_fields` the other fields their arguments name;
    `quote(contract, market)` the numbers a quote shows; `layout()` its template's layout
    (layout.py), saved as `template`; `life` how a book follows it (Life); `settings` the
    Contract of its valuation's settings (the Monte Carlo check's paths and seed), None when it
    has none."""

    key: str
    prefix: str
    title: str
    contract: type
    market_fields: tuple[str, ...]
    functions: tuple[Function, ...]
    extra_fields: tuple[Field, ...]
    quote: Callable[[object, market.Market], Quote]
    layout: Callable[[], object]
    template: str
    issuer: str
    guarantor: str
    life: Life
    settings: type | None = None

    @property
    def deal_fields(self) -> dict[str, Field]:
        """The columns of a deal of this product: its terms, market inputs and valuation settings."""
        return {**self.contract.FIELDS, **{name: market.FIELDS[name] for name in self.market_fields},
                **self.settings_fields}

    @property
    def settings_fields(self) -> dict[str, Field]:
        return self.settings.FIELDS if self.settings else {}

    @property
    def fields(self) -> dict[str, Field]:
        """Every field an argument of this product's functions names."""
        return {**market.FIELDS, **self.settings_fields, **self.contract.FIELDS,
                **{field.name: field for field in (FINAL, FINALS, PRICE, COLUMNS, *self.extra_fields)}}

    def function(self, suffix: str) -> Function:
        """The function named prefix_suffix: VALUE is NOTE_VALUE for the note."""
        return next(f for f in self.functions if f.name == f"{self.prefix}_{suffix}")


def final_values(final) -> np.ndarray:
    """Final underlying values as a float array; NaN (a blank cell) is kept, negatives are refused."""
    final = np.asarray(final, dtype=float)
    if np.isinf(final).any():
        raise TermError("final must be finite, got inf")
    negative = final < 0
    if negative.any():
        raise TermError(f"final must be at least 0, got {final[negative].flat[0]:g}")
    return final


def chosen_columns(table: np.ndarray, columns) -> np.ndarray:
    """The columns of a scenario table numbered in `columns` (from 1; blanks skipped), all when
    None or blank (a blank cell is what some runtimes pass for an omitted argument)."""
    picked = [] if columns is None else [int(column) for column in columns if not np.isnan(column)]
    if not picked:
        return table
    beyond = [column for column in picked if column > table.shape[1]]
    if beyond:
        raise TermError(f"columns must be from 1 to {table.shape[1]} for this table, got {beyond[0]}")
    return table[:, [column - 1 for column in picked]]


def change(value, base):
    """Relative change from `base` to `value`, as the supplements define returns: (value - base) / base."""
    return (value - base) / base
