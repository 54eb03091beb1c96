"""The Excel functions, runtime-neutral and generated from the product descriptions: cell
inputs in, numbers out, or a TermError naming the input.

Every argument arrives as a 2-D list of cells (a blank or error cell is None; an omitted
optional argument is its field's default) and is converted by its field (fields.py): a date,
a number held to its rule, a grid or list of numbers, a list of dates. `udfs.py` registers
these functions with xlwings (classic add-in and Office.js); `engine.py` with the `formulas`
engine that computes the template workbooks.
"""
from __future__ import annotations

import datetime as dt
import inspect

import numpy as np

from . import calendar
from .fields import Field, TermError, finite
from .product import Function
from .products import PRODUCTS

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


def results(array, blanks: bool = False):
    """Numbers back to Excel: a single number as itself, an array as rows, with a blank cell
    ("") for NaN where a blank is an answer (`blanks`: N/A table cells, blank scenario cells).
    Anything else not finite is an error, never a number that looks like one."""
    array = np.asarray(array, dtype=float)
    if np.isinf(array).any() or (not blanks and np.isnan(array).any()):
        raise TermError("these inputs give no finite result: check the magnitudes of the inputs")
    if array.size == 1:
        return "" if np.isnan(array.flat[0]) else float(array.flat[0])
    out = array.astype(object)
    out[np.isnan(array)] = ""
    return out.tolist()


def excel_function(function: Function, fields: dict[str, Field]):
    """`function` as a Python function with its arguments as parameters (optional ones with
    their defaults), its help as docstring, and `fields` for the help of each argument."""
    signature = inspect.Signature([
        inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          default=inspect.Parameter.empty if fields[name].required else fields[name].default)
        for name in function.args])

    names, required = function.args, sum(fields[name].required for name in function.args)

    def convert(*args, **kwargs) -> dict:
        """The arguments as the computation receives them, by name."""
        if kwargs or not required <= len(args) <= len(names):
            try:
                given = signature.bind(*args, **kwargs)
            except TypeError as error:
                counts = f"{required} to {len(names)}" if required < len(names) else f"{required}"
                raise TermError(f"{function.name} takes {counts} arguments ({', '.join(names)}), got "
                                f"{len(args) + len(kwargs)}: {error}") from None
            given.apply_defaults()
            args = tuple(given.arguments.values())
        args += tuple(fields[name].default for name in names[len(args):])
        return {name: converted(fields[name], value) for name, value in zip(names, args)}

    def call(*args, **kwargs):
        result = function.compute(convert(*args, **kwargs))
        return result if isinstance(result, list) else results(result, function.blanks)

    call.__name__ = call.__qualname__ = function.name
    call.__doc__ = function.help
    call.__signature__ = signature
    call.fields = {name: fields[name] for name in function.args}
    call.dates = function.dates
    call.convert = convert
    return call


FUNCTIONS = tuple(excel_function(function, {**fields, **{field.name: field for field in function.fields}})
                  for functions, fields in [*((product.functions, product.fields) for product in PRODUCTS),
                                            (calendar.FUNCTIONS, calendar.FIELDS)]
                  for function in functions)
globals().update({function.__name__: function for function in FUNCTIONS})
