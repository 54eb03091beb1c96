"""Workbooks computed without Excel: the `formulas` engine with our Excel functions registered.

The engine evaluates a workbook's formulas, defined names and legacy array formulas; our
functions run exactly as Excel calls them (xlfuncs.excel), with the engine's cells turned
into Excel's: empty and error cells become None, dates come back as date serials.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import re
from pathlib import Path

import formulas
import numpy as np
import schedula as sh
from formulas.functions import text as formulas_text
from formulas.functions import wrap_func, wrap_ufunc
from formulas.tokens.operand import XlError

from ..core.cells import serial
from ..excel.functions import FUNCTIONS
from ..products import layout
from .sheets import range_cells
from .xlsx import ErrorValue

CELL = re.compile(r"^'\[(?P<book>[^\]]+)\](?P<sheet>.+)'!(?P<ref>[A-Z]+\d+(:[A-Z]+\d+)?)$")


def excel_cell(value):
    """One engine value as Excel hands it to a function through xlwings: None for an empty cell,
    an error cell as its text (#N/A), as udfs.py reads them (err_to_str), so it is refused by
    name, never read as blank."""
    if value is sh.EMPTY:
        return None
    if isinstance(value, XlError):
        return str(value)
    return value.item() if isinstance(value, np.generic) else value


def engine_cell(value):
    """One result of ours as the engine stores it: blanks as "", dates as serials."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return serial(value)
    return value


def as_engine_function(func):
    @functools.wraps(func)
    def call(*args):
        cells = [[[excel_cell(v) for v in row] for row in np.atleast_2d(arg).tolist()]
                 if isinstance(arg, np.ndarray) else excel_cell(arg) for arg in args]
        result = func(*cells)
        rows = result if isinstance(result, list) else [[result]]
        return np.asarray([[engine_cell(v) for v in row] for row in rows], dtype=object)
    return wrap_func(call)


TEXT_FORMATS = {"#,##0.00": (2, False), "0.0%": (1, True), "0.00%": (2, True)}  # those the layouts use


def excel_text(value, format_code):
    """TEXT as Excel computes it for the number formats our layouts use (the engine's own
    writes 0.5 as "0,.50" and rounds 2.675 to "2.67"); any other, the engine's."""
    known = TEXT_FORMATS.get(str(format_code))
    if known and isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)) \
            and np.isfinite(value):
        return layout.excel_text(float(value), *known)
    return formulas_text.xtext(value, format_code)


@functools.lru_cache(maxsize=None)
def register_functions() -> None:
    """Make our Excel functions known to the engine (once per process), and Excel's TEXT."""
    functions = formulas.get_functions()
    for func in FUNCTIONS:
        functions[func.__name__] = as_engine_function(func)
    functions["TEXT"] = wrap_ufunc(excel_text, input_parser=lambda *args: args)


class Calculation:
    """A loaded workbook model: calculate it, change inputs, read cell values."""

    def __init__(self, path: Path):
        register_functions()
        self.book = Path(path).name
        with contextlib.redirect_stderr(io.StringIO()):  # formulas draws a progress bar while compiling
            self.model = formulas.ExcelModel().loads(str(path)).finish()

    def calculate(self, changes: dict | None = None, sheets=None) -> dict[tuple[str, str], object]:
        """Values of the workbook's cells, {(SHEET, A1): value}, after setting `changes`
        ({(sheet, A1): value}) as inputs; ranges are split into their cells. With `sheets`,
        only those sheets' cells (and what they depend on) are computed."""
        inputs = {f"'[{self.book}]{sheet.upper()}'!{ref.upper()}": value
                  for (sheet, ref), value in (changes or {}).items()}
        outputs = None
        if sheets is not None:
            wanted = {sheet.upper() for sheet in sheets}
            outputs = [node for node in self.model.dsp.data_nodes
                       if (match := CELL.match(str(node))) and match["sheet"] in wanted]
        solution = self.model.calculate(inputs=inputs, outputs=outputs)
        values = {}
        for key, ranges in solution.items():
            match = CELL.match(str(key))
            if not match or not hasattr(ranges, "value"):
                continue
            for ref, value in zip(range_cells(match["ref"]), np.atleast_2d(ranges.value).ravel().tolist()):
                values[(match["sheet"], ref)] = (None if value is sh.EMPTY else ErrorValue(value)
                                                 if isinstance(value, XlError) else value)
        return values
