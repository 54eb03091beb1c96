"""Every derived term a template shows as a plain Excel formula equals its Python twin, over many
term sets: the workbook computed by the formulas engine, the twin by the product's own code."""
import datetime as dt

import numpy as np
import openpyxl
import pytest

from xlfuncs.core.cells import converted
from xlfuncs.core.fields import TermError
from xlfuncs.core.market import Market
from xlfuncs.products import PRODUCTS
from xlfuncs.products.lookback_warrant import LookbackWarrant
from xlfuncs.workbooks.calculation import Calculation
from xlfuncs.workbooks.xlsx import ErrorValue

from helpers import ROOT, closed_days, names, template_example

TERM_SETS = 12


def note_terms(rng, initial):
    participation = rng.choice([rng.uniform(0.2, 5.0), 1.0])
    return dict(Initial=initial, Participation=participation, Buffer=rng.uniform(0, 0.6),
                MaxReturn=rng.choice([rng.uniform(0, 3.0), 2.0, participation]), MinPayment=rng.choice([rng.uniform(0, 0.95), 1.0]),
                Principal=rng.choice([1000.0, 100.0, 5000.0]))


def warrant_terms(rng, initial):
    upper = rng.uniform(0.6, 1.4)
    lower = rng.uniform(0.1, upper - 0.05)
    return dict(Initial=initial, UpperStrike=upper, LowerStrike=lower, Premium=rng.uniform(0.001, 0.2),
                Notional=rng.choice([1000.0, 250.0]))


def term_sets(product):
    """Random terms within the rules (including the drift's participation 1 and maximum return 2,
    and maximum returns beyond participation), with spot at the initial value."""
    rng = np.random.default_rng(sum(map(ord, product.key)))
    first = {"Participation": 1.0, "MaxReturn": 2.0}
    for i in range(TERM_SETS):
        initial = float(rng.uniform(50, 8000))
        terms = (warrant_terms if issubclass(product.contract, LookbackWarrant) else note_terms)(rng, initial)
        if i == 0 and "MaxReturn" in terms:
            terms.update(first)
        terms["Spot"] = initial * rng.uniform(0.8, 1.2)
        yield {name: float(value) for name, value in terms.items()}


def cell(values, sheet_ref):
    sheet, ref = sheet_ref
    return values[(sheet.upper(), ref)]


@pytest.mark.parametrize("product", PRODUCTS, ids=lambda p: p.key)
def test_every_plain_formula_term_equals_its_python_twin(product):
    path = ROOT / "workbooks" / product.template
    calculation, cells = Calculation(path), names(path)
    twins = [row for row in product.layout().rows() if row.twin and row.name]  # unnamed ones: test_quote_sheet
    assert twins and all(row.name in cells for row in twins)
    fields = {name: field for name, field in product.deal_fields.items() if field.defined_name in cells}
    compared = errors = 0
    example = template_example(product)
    # The Market sheet's ranges as flat inputs (one number in each first cell): the Valuation
    # sheet's numbers, so its estimated value and the flat value beside it are both the twins'.
    shown = openpyxl.load_workbook(path, data_only=True)
    flat_market = {}
    for surface, flat in (("VolSurface", "Vol"), ("RateCurve", "Rate"), ("DividendCurve", "DivYield")):
        (sheet, ref), = cells[flat]
        flat_market.update({cell: None for cell in cells[surface]})
        flat_market[cells[surface][0]] = shown[sheet][ref].value
    for terms in term_sets(product):
        changes = {**flat_market, **{cells[name][0]: value for name, value in terms.items()}}
        if "Closes" in cells:  # closes for the days closed by as_of, some above the initial value
            closes = [terms["Initial"] * (1 + 0.05 * np.sin(day)) for day in range(closed_days(example))]
            changes.update(zip(cells["Closes"], closes))
        values = calculation.calculate(changes, sheets=["Term Sheet", "Valuation"])
        given = {}
        for name, field in fields.items():
            shown = [cell(values, ref) for ref in cells[field.defined_name]]
            if field.unit == "date":
                shown = [dt.date(1899, 12, 30) + dt.timedelta(days=int(v)) for v in shown]
            given[name] = converted(field, [[v] for v in shown] if field.shape == "list" else shown[0])
        contract, market = product.contract.of(given), Market.of(given)
        for row in twins:
            workbook = cell(values, cells[row.name][0])
            try:
                expected = row.twin(contract, market)
            except TermError:
                assert isinstance(workbook, ErrorValue), (row.name, terms, workbook)
                errors += 1
                continue
            if isinstance(expected, str):  # text in place of a number, e.g. no breakeven to show
                assert workbook == expected, (row.name, terms)
            else:
                assert workbook == pytest.approx(expected, rel=1e-12, abs=1e-12), (row.name, terms)
            compared += 1
    assert compared >= TERM_SETS * len(twins) * 3 // 4, (compared, errors)  # errors only where a term has none
