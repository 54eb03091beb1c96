"""Excel functions of the add-in, registered with xlwings: the only module that imports it.

The functions themselves are generated in xlfuncs.excel from the product descriptions; here
each gets its help texts and its errors become xlwings errors. Runs unchanged in the classic
add-in (Windows, COM) and in xlwings' Office.js runtimes (xlwings Lite, xlwings Server).

Arguments are taken raw (xlwings' "raw" converter, so xlwings does no work per cell) and made
plain cells here in one pass: rows as lists, an empty cell as None, an error cell as its text
(#N/A; the classic runtime's COM error codes are named by xlfuncs.excel), so an error cell is
refused by name instead of being read as blank. Results of numbers go back as rows with "" for
a blank cell (as xlfuncs.excel gives them); dates (TRADING_DAYS) through xlwings' converter,
which knows each runtime's dates.
"""
import datetime as dt
import functools
import importlib.util
import inspect
import sys
from decimal import Decimal

import xlwings as xw

from xlfuncs.core.fields import TermError
from xlfuncs.excel import functions as excel


def no_pyodide_probe() -> None:
    """Outside Pyodide (xlwings Server, the classic add-in), xlwings' Office.js code tries
    `from pyodide.ffi import JsNull` for every argument, and each failing import searches the
    whole import path. Python's own marker for a missing module, None in sys.modules, makes it
    fail at once with the same ModuleNotFoundError; find_spec gives the same answers as before
    (None for "pyodide", ModuleNotFoundError for "pyodide.ffi"), so nothing else changes."""
    if sys.platform != "emscripten" and "pyodide" not in sys.modules and importlib.util.find_spec("pyodide") is None:
        sys.modules["pyodide"] = None


no_pyodide_probe()
try:  # xlwings Lite on Pyodide >= 0.28 hands over the empty cells of a range as JsNull
    from pyodide.ffi import JsNull
except ImportError:
    JsNull = type(None)


ROWS = frozenset({list, tuple})
PLAIN = frozenset({float, int, bool, type(None), dt.date, dt.datetime, Decimal})  # cells that stay as they are


def plain(value):
    """An argument as plain cells: rows (lists or COM's tuples) as lists, an Office.js entity as
    its basic value (an error cell's text, a formatted number's number), "" or JsNull as None."""
    if type(value) in ROWS:  # a range: its rows' cells are mostly plain already (no call per cell)
        return [[cell if type(cell) in PLAIN else plain(cell) for cell in row] if type(row) in ROWS
                else row if type(row) in PLAIN else plain(row) for row in value]
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return value.get("basicValue", value)
    if isinstance(value, JsNull) or (isinstance(value, str) and value == ""):
        return None
    return value


def rows_back(result):
    """A result as the rows xlwings' own converter would give Excel (blank cells are already "")."""
    return result if isinstance(result, list) else [[result]]


try:  # Windows with pywin32, where the classic add-in runs
    from win32com.server.exception import COMException
except ImportError:
    COMException = None
E_FAIL = -2147467259  # 0x80004005, the COM error code for an unspecified failure


class ExcelInputError(*(COMException, xw.XlwingsError) if COMException else (xw.XlwingsError,)):
    """A bad cell input; the cell shows just the message. An XlwingsError, so xlwings Server
    answers 400 (no retry); on Windows also pywin32's COMException with the message as its
    description, which the classic add-in's VBA wrapper puts in the cell as it is, instead of
    "Unexpected Python Error: Traceback ..." (xlwings issue #1108)."""

    def __init__(self, message: str):
        if COMException:
            COMException.__init__(self, description=message, scode=E_FAIL)
        else:
            super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def excel_function(func):
    """Register `func` with xlwings: its docstring and its fields' help become Excel's help, TermErrors cell errors."""
    @functools.wraps(func)
    def call(*args):
        try:
            result = func(*map(plain, args))
        except TermError as error:
            raise ExcelInputError(str(error)) from None
        except (ArithmeticError, ValueError, RuntimeError) as error:  # a gap in our rules: say so, never a 500
            raise ExcelInputError(f"{func.__name__} cannot compute these inputs "
                                  f"({type(error).__name__}: {error})") from None
        return result if func.dates else rows_back(result)

    for name in inspect.signature(func).parameters:
        call = xw.arg(name, "raw", doc=func.fields[name].help)(call)
    if not func.dates:
        call = xw.ret("raw")(call)
    return xw.func(call)


globals().update({func.__name__: excel_function(func) for func in excel.FUNCTIONS})
