"""Excel cells in, Python values out: what a cell of each field holds, the same for an Excel
call and a deal list's cell.

An argument arrives as a 2-D list of cells (a blank or error cell is None; an error cell may
also be its text or a COM error code) and is converted by its field (fields.py): a date, a
number held to its rule, a grid or list of numbers, a list of dates.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from itertools import chain

import numpy as np

from .fields import Field, TermError, finite

EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 is 1900-01-01 (for serials after Feb 1900)
ERROR_CELLS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                         "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
                         "#PYTHON!", "#TIMEOUT!", "#EXTERNAL!"})


def serial(day: dt.date) -> int:
    """The Excel date serial of a date (or of a datetime's day)."""
    return ((day.date() if isinstance(day, dt.datetime) else day) - EXCEL_EPOCH).days


def cells(value) -> list:
    """Any Excel input as a 2-D list of cells."""
    if not isinstance(value, (list, tuple)):
        return [[value]]
    if not value or not isinstance(value[0], (list, tuple)):
        return [list(value)]
    return value if all(type(row) is list for row in value) else [list(row) for row in value]


def shape(rows) -> str:
    """Rows x columns of a 2-D list or array, as Excel writes a range's size."""
    return f"{len(rows)}x{len(rows[0]) if len(rows) else 0}"


# The classic add-in hands over error cells that xlwings does not name as their COM codes,
# 0x800A0000 + Excel's error number (Microsoft's XlCVError): large negative integers.
COM_ERROR_BASE = -0x7FF60000
COM_ERRORS = {2000: "#NULL!", 2007: "#DIV/0!", 2015: "#VALUE!", 2023: "#REF!", 2029: "#NAME?", 2036: "#NUM!",
              2042: "#N/A", 2043: "#GETTING_DATA", 2045: "#SPILL!", 2046: "#CONNECT!", 2047: "#BLOCKED!",
              2048: "#UNKNOWN!", 2049: "#FIELD!", 2050: "#CALC!"}


def error_cell(cell) -> str | None:
    """The Excel error a cell holds, as its text (#N/A), or None: error text as xlwings passes
    it (err_to_str) or a COM error code (no cell of ours can hold a number that large)."""
    if isinstance(cell, str):
        text = cell.strip().upper()
        return text if text in ERROR_CELLS else None
    if isinstance(cell, int) and not isinstance(cell, bool) and 0 <= cell - COM_ERROR_BASE <= 0xFFFF:
        number = cell - COM_ERROR_BASE
        return COM_ERRORS.get(number, f"Excel error {number}")
    return None


def not_an_error(cell, name, where=""):
    """The cell, unless it holds an Excel error (#REF!, #N/A, ...): that is never read as blank."""
    error = error_cell(cell)
    if error is not None:
        raise TermError(f"{name} is an error cell ({error}){where}: fix or clear it")
    return cell


def single_cell(value, name, blank_allowed: bool = False):
    """The one cell of an argument: an error for a range, an error cell, and a blank unless allowed."""
    rows = cells(value)
    if len(rows) != 1 or len(rows[0]) != 1:
        raise TermError(f"{name} must be a single cell, got a {shape(rows)} range")
    cell = not_an_error(rows[0][0], name)
    if cell is None and not blank_allowed:
        raise TermError(f"{name} is required but blank")
    return cell


def date_cell(cell, name) -> dt.date:
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    try:
        day_number = finite(name, cell)
    except TermError:
        raise TermError(f"{name} must be a date (a date cell or an Excel date serial), got {cell!r}") from None
    if not 61 <= day_number < 2958466:
        raise TermError(f"{name} must be a date (an Excel serial from 61 to 2958465), got {day_number:g}")
    return EXCEL_EPOCH + dt.timedelta(days=int(day_number))


def dates(value, name) -> tuple[dt.date, ...]:
    """A range of date cells, blanks skipped."""
    given = (not_an_error(cell, name) for row in cells(value) for cell in row)
    return tuple(date_cell(cell, name) for cell in given if cell is not None)


def iso_dated(value):
    """ISO date text as dates, in a value or in the rows of a range (a snapshot file's)."""
    if isinstance(value, list):
        return [iso_dated(item) for item in value]
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return value
    return value


def number_grid(value, field: Field, required: bool = True) -> np.ndarray:
    """A range of cells as a 2-D float array that keeps the field's rule; blank cells become
    NaN, a lone blank cell is an error when the argument is `required`."""
    name, rows = field.name, cells(value)
    if not rows or not rows[0] or any(len(row) != len(rows[0]) for row in rows):
        raise TermError(f"{name} must be a rectangular range")
    if required and len(rows) == 1 and len(rows[0]) == 1 and rows[0][0] is None:
        raise TermError(f"{name} is required but blank")
    if {type(cell) for row in rows for cell in row} <= {float, int}:  # the usual range: checked at once
        try:
            grid = np.array(rows, dtype=float)
        except OverflowError:
            grid = None
        if grid is not None and field.allows_all(grid):
            return grid + 0.0  # -0.0 is 0
    grid = np.full((len(rows), len(rows[0])), np.nan)
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            where = f" (row {i + 1}, column {j + 1} of the range)" if grid.size > 1 else ""
            if not_an_error(cell, name, where) is not None:
                try:
                    grid[i, j] = field.check(cell)
                except TermError as error:
                    raise TermError(f"{error}{where}") from None
    return grid


def number_list(value, field: Field, required: bool = True) -> np.ndarray:
    """A single row or column of cells as a 1-D float array (NaN for blanks)."""
    grid = number_grid(value, field, required)
    if min(grid.shape) != 1:
        raise TermError(f"{field.name} must be a single row or column, got a {shape(grid)} range")
    return grid.ravel()


def converted(field: Field, value):
    """One argument's cells as its field says: a number or date (blank: the default), a grid
    or list of numbers, or a list of dates (omitted: the default)."""
    if field.shape == "cell" and field.ranges is not None and isinstance(value, (list, tuple)):
        rows = cells(value)
        first, *rest = [*chain.from_iterable(rows), None]
        if rest[:-1] and all(cell is None for cell in rest) and isinstance(first, (int, float, Decimal, np.number)) \
                and not isinstance(first, (bool, np.bool_)):
            value = first  # one number in a range's first cell, the rest blank: that number (a flat input)
        elif len(rows) > 1 or len(rows[0]) > 1:
            try:
                key = tuple(tuple(row) for row in rows)
                hash(key)
            except TypeError:
                return field.ranges(rows, field)
            if bool in set(map(type, chain.from_iterable(key))):  # TRUE would share 1.0's reading
                return field.ranges(rows, field)
            return quotes_of(key, field)
    if field.shape == "cell":
        cell = single_cell(value, field.name, blank_allowed=not field.required)
        if cell is None:
            return field.default
        return date_cell(cell, field.name) if field.unit == "date" else field.check(cell)
    if value is None and not field.required:
        return field.default
    if field.shape == "grid":
        return number_grid(value, field)
    if field.shape == "list":
        return number_list(value, field, required=field.required)
    return dates(value, field.name)


@lru_cache(maxsize=256)
def quotes_of(rows: tuple, field: Field):
    """A range read by its field's reader, once per content (a surface is read once, then every
    call that passes the same cells reuses it)."""
    return field.ranges(rows, field)
