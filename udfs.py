"""Excel functions of the add-in: turn cell inputs into numbers, call xlfuncs, return cells or a clear error.

The only module that imports xlwings. It runs unchanged in the classic add-in (Windows,
COM) and in xlwings' Office.js runtimes (xlwings Lite, xlwings Server). Every argument
arrives as a 2-D list of cells (ndim=2): a blank or error cell is None, an omitted
optional argument its Python default.
"""
import functools
import inspect

import numpy as np
import xlwings as xw

from xlfuncs import payments
from xlfuncs.terms import DEFAULT_PRINCIPAL, BufferNote, PutWarrant, TermError, finite

ARG_DOCS = {
    "final": "Final underlying value: one number, or a range of them for a result of the same shape.",
    "finals": "Final underlying values: a single column or row; one result row each.",
    "initial": "Initial underlying value (the closing value on the pricing date).",
    "participation": "Participation rate as a fraction: 300% is 3.",
    "buffer": "Buffer percentage as a fraction: 10% is 0.1.",
    "max_return": "Maximum return at maturity as a fraction of principal: 23% is 0.23.",
    "min_payment": "Minimum payment at maturity as a fraction of principal: 10% is 0.1.",
    "principal": "Stated principal amount per security; blank or omitted means 1000.",
    "price": "Payment per security to break even on, e.g. the issue price 1000.",
    "closes": "Closing values of the lookback window; blank or error cells (disrupted days) are skipped.",
    "lookback": "Lookback underlying value: the highest window close, never below the initial value.",
    "upper_strike": "Upper strike as a fraction of the lookback value: 95% is 0.95.",
    "lower_strike": "Lower strike as a fraction of the initial value: 75% is 0.75.",
    "premium": "Premium as a fraction of notional: 2.728% is 0.02728.",
    "notional": "Notional amount per warrant; blank or omitted means 1000.",
}


class ExcelInputError(xw.XlwingsError):
    """A bad cell input. xlwings shows the message in the cell; xlwings Server answers 400, so no retry."""


def excel_function(func):
    """Register `func` with xlwings: its docstring and ARG_DOCS become Excel's help, TermErrors cell errors."""
    @functools.wraps(func)
    def call(*args):
        try:
            return func(*args)
        except TermError as error:
            raise ExcelInputError(str(error)) from None

    for name in inspect.signature(func).parameters:
        call = xw.arg(name, ndim=2, doc=ARG_DOCS[name])(call)
    return xw.func(call)


def cells(value) -> list:
    """Any Excel input as a 2-D list of cells."""
    if not isinstance(value, (list, tuple)):
        return [[value]]
    if not value or not isinstance(value[0], (list, tuple)):
        return [list(value)]
    return [list(row) for row in value]


def shape(rows) -> str:
    """Rows x columns of a 2-D list or array, as Excel writes a range's size."""
    return f"{len(rows)}x{len(rows[0])}"


def number(value, name, default=None) -> float:
    """One cell as a finite number; a blank cell is `default`, or an error if there is none."""
    rows = cells(value)
    if len(rows) != 1 or len(rows[0]) != 1:
        raise TermError(f"{name} must be a single cell, got a {shape(rows)} range")
    cell = rows[0][0]
    if cell is None:
        if default is None:
            raise TermError(f"{name} is required but blank")
        return default
    return finite(name, cell)


def number_grid(value, name) -> np.ndarray:
    """A range of cells as a 2-D float array; blank cells become NaN, a lone blank cell is an error."""
    rows = cells(value)
    if any(len(row) != len(rows[0]) for row in rows):
        raise TermError(f"{name} must be a rectangular range")
    if len(rows) == 1 and len(rows[0]) == 1 and rows[0][0] is None:
        raise TermError(f"{name} is required but blank")
    grid = np.full((len(rows), len(rows[0])), np.nan)
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            if cell is not None:
                try:
                    grid[i, j] = finite(name, cell)
                except TermError as error:
                    where = f" (row {i + 1}, column {j + 1} of the range)" if grid.size > 1 else ""
                    raise TermError(f"{error}{where}") from None
    return grid


def number_list(value, name) -> np.ndarray:
    """A single row or column of cells as a 1-D float array (NaN for blanks)."""
    grid = number_grid(value, name)
    if min(grid.shape) != 1:
        raise TermError(f"{name} must be a single row or column, got a {shape(grid)} range")
    return grid.ravel()


def results(array: np.ndarray):
    """Numbers back to Excel: a single number as itself, an array as rows with blanks for NaN."""
    array = np.asarray(array, dtype=float)
    if array.size == 1:
        return float(array.flat[0])
    out = array.astype(object)
    out[np.isnan(array)] = None
    return out.tolist()


def buffer_note(initial, participation, buffer, max_return, min_payment, principal) -> BufferNote:
    return BufferNote(initial=number(initial, "initial"),
                      participation=number(participation, "participation"),
                      buffer=number(buffer, "buffer"),
                      max_return=number(max_return, "max_return"),
                      min_payment=number(min_payment, "min_payment"),
                      principal=number(principal, "principal", DEFAULT_PRINCIPAL))


def put_warrant(initial, upper_strike, lower_strike, notional) -> PutWarrant:
    return PutWarrant(initial=number(initial, "initial"),
                      upper_strike=number(upper_strike, "upper_strike"),
                      lower_strike=number(lower_strike, "lower_strike"),
                      notional=number(notional, "notional", DEFAULT_PRINCIPAL))


@excel_function
def NOTE_PAYMENT(final, initial, participation, buffer, max_return, min_payment,
                 principal=DEFAULT_PRINCIPAL):
    """Payment at maturity per security of the Bearish Buffer Securities for a final underlying value."""
    note = buffer_note(initial, participation, buffer, max_return, min_payment, principal)
    return results(payments.note_payment(note, number_grid(final, "final")))


@excel_function
def NOTE_BREAKEVEN(price, initial, participation, buffer, max_return, min_payment,
                   principal=DEFAULT_PRINCIPAL):
    """Highest final underlying value at which the note still pays at least `price`."""
    note = buffer_note(initial, participation, buffer, max_return, min_payment, principal)
    return payments.note_breakeven(note, number(price, "price"))


@excel_function
def NOTE_TABLE(finals, initial, participation, buffer, max_return, min_payment,
               principal=DEFAULT_PRINCIPAL):
    """Scenario rows of the note: final value, underlying return, payment, total return."""
    note = buffer_note(initial, participation, buffer, max_return, min_payment, principal)
    return results(np.atleast_2d(payments.note_table(note, number_list(finals, "finals"))))


@excel_function
def LOOKBACK_VALUE(closes, initial):
    """Lookback underlying value: the highest close in the window, never below the initial value."""
    return payments.lookback_value(number_grid(closes, "closes"), number(initial, "initial"))


@excel_function
def WARRANT_PAYMENT(final, initial, lookback, upper_strike, lower_strike,
                    notional=DEFAULT_PRINCIPAL):
    """Payment upon exercise per Bearish Put Warrant for a final underlying value."""
    warrant = put_warrant(initial, upper_strike, lower_strike, notional)
    return results(payments.warrant_payment(warrant, number(lookback, "lookback"),
                                            number_grid(final, "final")))


@excel_function
def WARRANT_BREAKEVEN(premium, initial, lookback, upper_strike, lower_strike,
                      notional=DEFAULT_PRINCIPAL):
    """Final underlying value at which the warrant's payment upon exercise equals its premium."""
    warrant = put_warrant(initial, upper_strike, lower_strike, notional)
    return payments.warrant_breakeven(warrant, number(lookback, "lookback"),
                                      number(premium, "premium"))


@excel_function
def WARRANT_TABLE(finals, initial, lookback, upper_strike, lower_strike, premium,
                  notional=DEFAULT_PRINCIPAL):
    """Scenario rows of the warrant with the columns of the supplement's Tables 1 and 2 (blank for N/A)."""
    warrant = put_warrant(initial, upper_strike, lower_strike, notional)
    table = payments.warrant_table(warrant, number(lookback, "lookback"),
                                   number(premium, "premium"), number_list(finals, "finals"))
    return results(np.atleast_2d(table))
