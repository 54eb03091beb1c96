"""Excel functions of the add-in, registered with xlwings: the only module that imports it.

The functions themselves are generated in xlfuncs.excel from the product descriptions; here
each gets its help texts and its errors become xlwings errors. Runs unchanged in the classic
add-in (Windows, COM) and in xlwings' Office.js runtimes (xlwings Lite, xlwings Server). Every
argument is read as a 2-D list of cells (ndim=2), error cells as their text (err_to_str), so
that an error cell is refused by name instead of being read as blank.
"""
import functools
import importlib.util
import inspect
import sys
import types

import xlwings as xw

from xlfuncs import excel
from xlfuncs.fields import TermError


def stand_in_for_pyodide_ffi() -> None:
    """Outside Pyodide (xlwings Server, the classic add-in), xlwings' Office.js code tries
    `from pyodide.ffi import JsNull` for every argument; the failing import is most of a
    1,000-cell call. A stand-in module whose JsNull nothing is an instance of gives xlwings the
    same answer at once. Only `pyodide.ffi` is provided (no `pyodide` package, no `to_js`),
    and xlwings tells Pyodide apart by sys.platform, so nothing takes this for Pyodide."""
    if sys.platform != "emscripten" and importlib.util.find_spec("pyodide") is None:
        ffi = types.ModuleType("pyodide.ffi", "Stand-in: see udfs.stand_in_for_pyodide_ffi")
        ffi.JsNull = type("JsNull", (), {})
        sys.modules["pyodide.ffi"] = ffi


stand_in_for_pyodide_ffi()


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
            return func(*args)
        except TermError as error:
            raise ExcelInputError(str(error)) from None
        except (ArithmeticError, ValueError, RuntimeError) as error:  # a gap in our rules: say so, never a 500
            raise ExcelInputError(f"{func.__name__} cannot compute these inputs "
                                  f"({type(error).__name__}: {error})") from None

    for name in inspect.signature(func).parameters:
        call = xw.arg(name, ndim=2, err_to_str=True, doc=func.fields[name].help)(call)
    return xw.func(call)


globals().update({func.__name__: excel_function(func) for func in excel.FUNCTIONS})
