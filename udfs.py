"""Excel functions of the add-in, registered with xlwings: the only module that imports it.

The functions themselves live in xlfuncs.excel; here each gets its help texts and its
errors become xlwings errors. Runs unchanged in the classic add-in (Windows, COM) and in
xlwings' Office.js runtimes (xlwings Lite, xlwings Server). Every argument is read as a
2-D list of cells (ndim=2), error cells as their text (err_to_str), so that an error cell is
refused by name instead of being read as blank.
"""
import functools
import inspect

import xlwings as xw

from xlfuncs import excel
from xlfuncs.fields import TermError


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
        except (ArithmeticError, ValueError, RuntimeError) as error:  # a gap in our rules: say so, never a 500
            raise ExcelInputError(f"{func.__name__} cannot compute these inputs "
                                  f"({type(error).__name__}: {error})") from None

    for name in inspect.signature(func).parameters:
        call = xw.arg(name, ndim=2, err_to_str=True, doc=excel.ARG_DOCS[name])(call)
    return xw.func(call)


NOTE_PAYMENT = excel_function(excel.NOTE_PAYMENT)
NOTE_BREAKEVEN = excel_function(excel.NOTE_BREAKEVEN)
NOTE_TABLE = excel_function(excel.NOTE_TABLE)
LOOKBACK_VALUE = excel_function(excel.LOOKBACK_VALUE)
WARRANT_PAYMENT = excel_function(excel.WARRANT_PAYMENT)
WARRANT_BREAKEVEN = excel_function(excel.WARRANT_BREAKEVEN)
WARRANT_TABLE = excel_function(excel.WARRANT_TABLE)
NOTE_VALUE = excel_function(excel.NOTE_VALUE)
NOTE_MC_VALUE = excel_function(excel.NOTE_MC_VALUE)
NOTE_GREEKS = excel_function(excel.NOTE_GREEKS)
NOTE_SOLVE_MAX_RETURN = excel_function(excel.NOTE_SOLVE_MAX_RETURN)
WARRANT_VALUE = excel_function(excel.WARRANT_VALUE)
WARRANT_MC_VALUE = excel_function(excel.WARRANT_MC_VALUE)
WARRANT_GREEKS = excel_function(excel.WARRANT_GREEKS)
WARRANT_IMPLIED_VOL = excel_function(excel.WARRANT_IMPLIED_VOL)
TRADING_DAYS = excel_function(excel.TRADING_DAYS)
