"""The Excel functions, runtime-neutral and generated from the product descriptions: cell
inputs in, numbers out, or a TermError naming the input.

Every argument arrives as a 2-D list of cells (an omitted optional argument is its field's
default) and is converted by its field (core/cells.py). `udfs.py` registers these functions
with xlwings (classic add-in and Office.js); workbooks/calculation.py with the `formulas`
engine that computes the template workbooks.
"""
from __future__ import annotations

import inspect

import numpy as np

from ..core import calendar
from ..core.cells import converted
from ..core.fields import Field, TermError
from ..products import PRODUCTS
from ..products.product import Function


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


CALENDAR_FUNCTIONS = (
    Function("TRADING_DAYS", "Scheduled NYSE trading days from start to end, both included, as a column of dates.",
             ("first_day", "last_day", "holidays"),
             lambda v: calendar.trading_days_column(v["first_day"], v["last_day"], v["holidays"] or None),
             dates=True),)
FUNCTIONS = tuple(excel_function(function, {**fields, **{field.name: field for field in function.fields}})
                  for functions, fields in [*((product.functions, product.fields) for product in PRODUCTS),
                                            (CALENDAR_FUNCTIONS, calendar.FIELDS)]
                  for function in functions)
globals().update({function.__name__: function for function in FUNCTIONS})
