"""A template's Quote sheet computed in Python: what the formulas engine gives its cells, from
the same Excel functions and the layout's Python twins, in about a millisecond instead of a
tenth of a second.

Every template's formulas are its product's layout's (template_check.py refuses others; its
constants, such as the issuer's name or the scenario changes, and where its cells stand may
differ), so each formula is computed by the twin or function its text names. The tests hold
this cell for cell against the formulas engine computing the template, over many deals.
"""
from __future__ import annotations

import datetime as dt
import re
from numbers import Real
from pathlib import Path

import numpy as np
from openpyxl import load_workbook
from openpyxl.worksheet.formula import ArrayFormula

from ..core.cells import serial
from ..core.fields import TermError
from ..excel import functions
from ..products.layout import (
    CLIENT,
    ArrayRow,
    Calendar,
    Payout,
    Scenarios,
    finals_formula,
)
from ..products.product import Product
from ..workbooks.sheets import STRING, key_cells, range_cells
from .deals import DealError

FUNCTIONS = {function.__name__: function for function in functions.FUNCTIONS}
CALL = re.compile(r"=([A-Z][A-Z_]*)\(([A-Za-z0-9_,{}]*)\)")
NAME = re.compile(r"=([A-Za-z][A-Za-z0-9_]*)")
QUOTE = "Quote"


def excel_value(value):
    """A value as a cell holds it: dates as serials, blanks as None."""
    if isinstance(value, (dt.date, dt.datetime)):
        return serial(value)
    return None if value == "" else value


def column(values) -> list[list]:
    return [[excel_value(value)] for value in values]


def call(formula: str):
    """An evaluator of a call of one of our functions whose arguments are names or array
    constants ({3,4}), as layout.call writes them; None for any other formula."""
    match = CALL.fullmatch(formula)
    if not match or match[1] not in FUNCTIONS:
        return None
    function, args = FUNCTIONS[match[1]], re.findall(r"\{[^}]*\}|[^,]+", match[2])

    def evaluate(sheet):
        values = [[[float(v) for v in arg[1:-1].split(",")]] if arg.startswith("{") else sheet.get(arg)
                  for arg in args]
        result = function(*values)
        return [[excel_value(v) for v in row] for row in result] if isinstance(result, list) else excel_value(result)
    return evaluate


def evaluators(product: Product) -> dict[str, object]:
    """Formula text -> evaluator(sheet) for every formula of the product's layout that has a
    Python twin, names a value, or calls our functions with names."""
    found = {}

    def add(formula: str, twin=None):
        if twin is not None:
            found[formula] = lambda sheet: excel_value(twin(sheet.contract, sheet.market))
        elif NAME.fullmatch(formula):
            found[formula] = lambda sheet: sheet.get(formula[1:])
        elif (evaluate := call(formula)) is not None:
            found[formula] = evaluate

    def finals(base, changes):
        return lambda sheet: column(sheet.number(base) * (1 + sheet.numbers(changes)))

    for page in product.layout().pages:
        for block in page.blocks:
            for row in (*getattr(block, "rows", ()), *getattr(block, "rows_above", ())):
                if isinstance(row.value, str) and row.value.startswith("="):
                    add(row.value, row.twin)
            if isinstance(block, Scenarios):
                add("=" + block.table)
                if block.base:
                    found[finals_formula(block.base, block.input_name)] = finals(block.base, block.input_name)
            if isinstance(block, Payout):
                prefix = block.prefix
                found[finals_formula(block.base, f"{prefix}Changes")] = finals(block.base, f"{prefix}Changes")
                add(block.payment.replace("{prefix}", prefix))
                found[block.line] = (
                    lambda sheet, prefix=prefix, block=block: column(
                        sheet.numbers(f"{prefix}Payments") / sheet.number(block.per) - (1 if block.less_one else 0)))
            if isinstance(block, ArrayRow):
                add(block.formula)
            if isinstance(block, Calendar):
                add(block.days)
    return found


def formulas(wb) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], list[str]]]:
    """A workbook's formulas, {(sheet, A1): text}, and its array formulas' cells by anchor; the
    functions' names in capitals, as Excel reads them whatever their case (LibreOffice writes
    the names of functions it does not know in lower case)."""
    texts, arrays = {}, {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, ArrayFormula):
                    texts[(ws.title, cell.coordinate)] = capitals(cell.value.text)
                    arrays[(ws.title, cell.coordinate)] = range_cells(cell.value.ref)
                elif isinstance(cell.value, str) and cell.value.startswith("="):
                    texts[(ws.title, cell.coordinate)] = capitals(cell.value)
    return texts, arrays


def capitals(formula: str) -> str:
    """A formula with its functions' names in capitals (quoted text left as it is)."""
    parts = STRING.split(formula)
    return "".join(part if index % 2 else re.sub(r"\b([A-Za-z_][A-Za-z0-9_.]*)\(",
                                                   lambda match: match.group(1).upper() + "(", part)
                   for index, part in enumerate(parts))


class Evaluation:
    """One deal's evaluation: its names' values, computed on demand."""

    def __init__(self, model: "QuoteSheet", inputs: dict, contract, market):
        self.model, self.known, self.contract, self.market = model, dict(inputs), contract, market

    def get(self, name: str):
        """A name's value as Excel passes it: one cell's value, or a range as rows of cells."""
        if name not in self.known:
            destination = self.model.names.get(name)
            if destination is None:
                raise DealError(f"the template's name {name} refers to nothing the quote can compute")
            self.known[name] = self.model.value(destination, self)
        return self.known[name]

    def number(self, name: str) -> float:
        return self.numbers(name)[0]

    def numbers(self, name: str) -> np.ndarray:
        """A name's cells as Excel's arithmetic reads them: a blank is 0, text an error."""
        value = self.get(name)
        cells = [cell for row in value for cell in row] if isinstance(value, list) else [value]
        bad = next((cell for cell in cells if cell is not None and (isinstance(cell, bool) or
                                                                    not isinstance(cell, Real))), None)
        if bad is not None:
            raise DealError(f"the template's {name} holds {bad!r} where a number belongs")
        return np.array([0.0 if cell is None else float(cell) for cell in cells])


class QuoteSheet:
    """A template's formulas and constants, ready to compute its Quote sheet for deals."""

    def __init__(self, template: Path, product: Product):
        formulas_book = load_workbook(template)
        values_book = load_workbook(template, data_only=True)
        self.formulas, self.arrays = formulas(formulas_book)
        self.key_cells = {name: [cell.coordinate for cell in cells]
                          for name, cells in key_cells(formulas_book[QUOTE]).items()}
        self.constants = {(ws.title, cell.coordinate): excel_value(cell.value)
                          for ws in values_book.worksheets for row in ws.iter_rows() for cell in row}
        self.names = {}
        for name, defined in formulas_book.defined_names.items():
            destinations = list(defined.destinations)
            if len(destinations) == 1:
                sheet, ref = destinations[0]
                self.names[name] = (sheet, range_cells(ref.replace("$", "")))
        self.evaluators = evaluators(product)
        self.outputs = [(anchor, self.arrays.get((QUOTE, anchor), [anchor]))
                        for sheet, anchor in self.formulas if sheet == QUOTE]
        self.client_cells = [ref for sheet, refs in [self.names.get(CLIENT, ("", []))] if sheet == QUOTE
                             for ref in refs]

    def value(self, destination: tuple[str, list[str]], deal: Evaluation):
        """The value of a named cell (its formula's, else its constant) or of a named range (one
        array formula's, or a column of constants)."""
        sheet, refs = destination
        formula = self.formulas.get((sheet, refs[0]))
        if len(refs) == 1:
            if formula is None:
                return self.constants.get((sheet, refs[0]))
            result = self.evaluate(formula, deal)
            return result[0][0] if isinstance(result, list) else result
        if formula is not None and self.arrays.get((sheet, refs[0])) == refs:
            return self.evaluate(formula, deal)
        if any((sheet, ref) in self.formulas for ref in refs):
            raise DealError(f"the template's range {sheet}!{refs[0]}:{refs[-1]} is not one array formula")
        return [[self.constants.get((sheet, ref))] for ref in refs]

    def evaluate(self, formula: str, deal: Evaluation):
        evaluate = self.evaluators.get(formula)
        if evaluate is None:
            raise DealError(f"the quote cannot compute {formula} without the formulas engine")
        try:
            return evaluate(deal)
        except TermError as error:
            raise DealError(str(error)) from None

    def values(self, inputs: dict, client: str, contract, market) -> dict[str, object]:
        """{A1: value} of the Quote sheet's formula cells and client cells for a deal whose
        named inputs are `inputs` ({defined name: Excel value})."""
        deal = Evaluation(self, {**inputs, CLIENT: client}, contract, market)
        values = {ref: client for ref in self.client_cells}
        for anchor, refs in self.outputs:
            result = self.evaluate(self.formulas[(QUOTE, anchor)], deal)
            if len(refs) == 1:
                values[anchor] = result[0][0] if isinstance(result, list) else result
                continue
            flat = [v for row in result for v in row] if isinstance(result, list) else [result] * len(refs)
            if len(flat) != len(refs):
                raise DealError(f"the quote's array at {anchor} expects {len(refs)} values, got {len(flat)}")
            values.update(zip(refs, flat))
        return values
