"""Template workbooks: rebuilt by code, computed by the formulas engine with our functions, live."""
import datetime as dt
import os
import subprocess
import sys
import zipfile

import numpy as np
import openpyxl
import pytest

from xlfuncs.batch.snapshot import read_snapshot
from xlfuncs.core.market import Market
from xlfuncs.products import BEARISH_NOTE, BULLISH_NOTE, PRODUCTS, PUT_WARRANT, buffer_note
from xlfuncs.products.bearish_note import BearishBufferNote as BufferNote
from xlfuncs.products.buffer_note import note_value
from xlfuncs.products.lookback_warrant import LookbackWarrant
from xlfuncs.products.put_warrant import PutWarrant
from xlfuncs.workbooks import builder as templates
from xlfuncs.workbooks.calculation import Calculation

from helpers import ROOT, names
from oracles import (
    NOTE_EXAMPLES,
    TABLES,
    assert_printed,
    expected_payment,
    printed_rows,
)

NOTE = ROOT / "workbooks" / BEARISH_NOTE.template
WARRANT = ROOT / "workbooks" / PUT_WARRANT.template
BULLISH = ROOT / "workbooks" / BULLISH_NOTE.template
ALL = [ROOT / "workbooks" / product.template for product in PRODUCTS]
BY_FILE = {product.template: product for product in PRODUCTS}
FAMILY_NAMES = {  # what every template of a family names
    buffer_note.BufferNote: {"Initial", "Participation", "Buffer", "MaxReturn", "MinPayment", "Principal",
                             "ScenarioFinals", "ScenarioPayments", "Breakeven", "EstimatedValue", "StdError"},
    LookbackWarrant: {"Initial", "Lookback", "UpperStrike", "LowerStrike", "Premium", "Notional", "Breakeven",
                      "ScenarioFinals", "ScenarioPayments", "EstimatedValue", "StdError", "Closes"},
}
REQUIRED_NAMES = {ROOT / "workbooks" / product.template: names - ({"StdError"} if product.settings is None else set())
                  for product in PRODUCTS for family, names in FAMILY_NAMES.items()
                  if issubclass(product.contract, family)}  # StdError: the Monte Carlo check's


class Template:
    """A committed template in the formulas engine: calculate, change named inputs, read names."""

    def __init__(self, path):
        self.calculation = Calculation(path)
        self.names = names(path)
        self.values = self.calculation.calculate()

    def change(self, **inputs):
        changes = {}
        for name, value in inputs.items():
            cells = self.names[name]
            values = value if isinstance(value, list) else [value]
            changes.update({cell: v for cell, v in zip(cells, values)})
        self.values = self.calculation.calculate(changes)
        return self

    def __getitem__(self, name):
        cells = [self.values[(sheet.upper(), ref)] for sheet, ref in self.names[name]]
        return cells if len(cells) > 1 else cells[0]


@pytest.fixture(scope="module")
def note():
    return Template(NOTE)


@pytest.fixture(scope="module")
def warrant():
    return Template(WARRANT)


def test_committed_templates_are_what_the_code_builds_on_another_cpu_path(tmp_path):
    """`xlfuncs templates`, run with numpy's vector instructions beyond the baseline switched off
    (as on another CPU, where greeks by finite differences differ in their tenth digit),
    rebuilds the committed files byte for byte."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    switched_off = " ".join(feature for feature in __cpu_dispatch__ if __cpu_features__.get(feature))
    result = subprocess.run([sys.executable, "-m", "xlfuncs", "templates", "--out", str(tmp_path)],
                            capture_output=True, text=True, env={**os.environ, "NPY_DISABLE_CPU_FEATURES": switched_off})
    assert result.returncode == 0, result.stderr
    for path in ALL:
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def test_cached_values_keep_three_digits_beyond_their_format():
    assert templates.cached(0.00016866627005896953, "0.000000") == 0.000168666
    assert templates.cached(973.36294805, '"$"#,##0.00') == 973.36295
    assert templates.cached(0.168165685277, "0.000%") == 0.16816569
    assert templates.cached(5612.1725, "#,##0.0000") == 5612.1725
    assert templates.cached(1 / 3, "General") == 0.333333333333
    assert templates.cached("text", "0.00") == "text" and templates.cached(45000, "mmm d, yyyy") == 45000


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_cell_computes_without_an_error(path):
    values = Calculation(path).calculate()
    errors = {cell: value for cell, value in values.items() if str(value).startswith("#")}
    assert errors == {}


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_layout_names_config_and_legacy_array_formulas(path):
    assert REQUIRED_NAMES[path] <= set(names(path))
    wb = openpyxl.load_workbook(path)
    assert wb["xlwings.conf"]["A1"].value == "UDF Modules" and wb["xlwings.conf"]["B1"].value == "udfs"
    for ws in wb.worksheets[:-1]:
        assert ws.sheet_view.showGridLines is False and ws.freeze_panes == "A4" and ws.print_area
        assert ws.page_setup.fitToWidth == 1
    sheet, ref = names(path)["ScenarioPayments"][0]
    ws = wb[sheet]
    [anchor] = [anchor for anchor, cells in ws.array_formulae.items()
                if ref in [c.coordinate for row in ws[cells] for c in row]]
    formula = ws[anchor].value
    assert isinstance(formula, openpyxl.worksheet.formula.ArrayFormula)  # legacy CSE, not a spill
    # the scenario columns are our table function's, not the math rewritten as Excel formulas
    assert formula.text.startswith(f"={BY_FILE[path.name].prefix}_TABLE(ScenarioFinals,Initial,")
    assert "_xlfn" not in zipfile.ZipFile(path).read("xl/worksheets/sheet2.xml").decode()
    assert len(wb["Payout"]._charts) == 1 and len(wb["Quote"]._charts) == 1


def test_note_examples_are_the_supplement_s(note):
    for (_, final, _, payment), got_final, got_payment in zip(
            NOTE_EXAMPLES, note["ExampleFinals"], note["ExamplePayments"]):
        assert_printed(got_final, final)
        assert_printed(got_payment, payment)
    assert note["Breakeven"] == pytest.approx(110.0)


def test_note_grid_breakeven_and_chart_follow_every_term(note):
    changes = dict(Initial=120.0, Participation=2.0, Buffer=0.2, MaxReturn=0.3, MinPayment=0.2, Principal=1000.0)
    note.change(**changes)
    try:
        terms = BufferNote(changes["Initial"], changes["Participation"], changes["Buffer"], changes["MaxReturn"],
                           changes["MinPayment"])
        finals = np.array(note["ScenarioFinals"], dtype=float)
        assert note["ScenarioPayments"] == pytest.approx(terms.payment(finals).tolist())
        assert note["Breakeven"] == pytest.approx(120.0 * 1.2)
        chart_finals = np.array(note["PayoutFinals"], dtype=float)
        assert chart_finals == pytest.approx((1 + np.array(note["PayoutChanges"])) * 120.0)
        assert note["PayoutPayments"] == pytest.approx(terms.payment(chart_finals).tolist())
        # The supplement's examples keep their hypothetical initial value, with the new terms.
        example_terms = BufferNote(100.0, *list(changes.values())[1:])
        assert note["ExamplePayments"] == pytest.approx(
            example_terms.payment(np.array(note["ExampleFinals"], float)).tolist())
    finally:
        note.change(Initial=100.0, Participation=3.0, Buffer=0.1, MaxReturn=0.23, MinPayment=0.1)


@pytest.mark.parametrize("table", TABLES)
def test_warrant_tables_are_the_supplement_s_in_every_cell(warrant, table):
    number = table[-1]
    sheet, first = warrant.names[f"Table{number}Finals"][0]
    rows = printed_rows(TABLES[table][1])
    first_row = int(first[1:])
    for offset, printed in enumerate(rows):
        cells = [warrant.values[(sheet.upper(), f"{column}{first_row + offset}")] for column in "ABCDEFGH"]
        for value, text in zip(cells, printed):
            assert_printed(value, text)


def test_warrant_grid_breakeven_and_chart_follow_strikes_initial_and_lookback(warrant):
    closes = [None] * 21
    closes[2] = 6100.0  # a close above the initial value raises the lookback value
    warrant.change(Initial=6000.0, UpperStrike=0.90, LowerStrike=0.80, Closes=closes)
    try:
        assert warrant["Lookback"] == 6100.0
        terms = PutWarrant(6000.0, 0.90, 0.80)
        finals = np.array(warrant["ScenarioFinals"], dtype=float)
        assert warrant["ScenarioPayments"] == pytest.approx(terms.payment(6100.0, finals).tolist())
        assert warrant["Breakeven"] == pytest.approx((0.90 - 0.02728) * 6100.0)
        chart_finals = np.array(warrant["PayoutFinals"], dtype=float)
        assert chart_finals == pytest.approx((1 + np.array(warrant["PayoutChanges"])) * 6100.0)
        assert warrant["PayoutPayments"] == pytest.approx(
            terms.payment(6100.0, chart_finals).tolist())
        # Table 2's upper strike and breakeven rows follow the strikes.
        table2 = warrant["Table2Finals"]
        assert 0.90 * 102.0 in [pytest.approx(v) for v in table2]
        assert pytest.approx((0.90 - 0.02728) * 102.0) in table2
    finally:
        warrant.change(Initial=5907.55, UpperStrike=0.95, LowerStrike=0.75, Closes=[None] * 21)


def test_valuation_blocks_are_the_functions_values(note, warrant):
    # the flat inputs shown: spot 100 on Nov 29 2023, vol 15%, rate 5.3%, dividend yield 1.5%, spread 1%
    integrated = expected_payment(BufferNote(100.0, 3.0, 0.10, 0.23, 0.10), 100.0, 369 / 365, 0.15, 0.053 - 0.015)
    assert note["FlatValue"] == pytest.approx(integrated * np.exp(-0.063 * 372 / 365), abs=1e-6)
    # off the Market sheet: the bundled 2023-11-29 snapshot with its strikes scaled to the template's
    # index level of 100, which is the supplement note at 4,550.58 on the snapshot itself
    snapshot = read_snapshot(ROOT / "workbooks" / "market" / "2023-11-29.json")
    on_snapshot = note_value(BufferNote(4550.58, 3.0, 0.10, 0.23, 0.10, 1000.0, dt.date(2024, 12, 2),
                                               dt.date(2024, 12, 5), 0.01), Market(**snapshot))
    assert note["EstimatedValue"] == pytest.approx(on_snapshot, abs=1e-5)
    value = warrant["FlatValue"]
    assert 22.4 < value < 22.6 and 0 < warrant["StdError"] <= 0.01
    assert warrant["EstimatedValue"] > value + 1  # the skew: puts below the lookback are dearer
    warrant.change(Vol=0.20)
    try:
        assert warrant["FlatValue"] > value + 1
    finally:
        warrant.change(Vol=0.167)


def test_an_error_cell_among_the_closes_is_an_error_not_a_skipped_day(warrant):
    closes = ["#N/A", 6100.0] + [None] * 19  # the engine passes error cells as Excel would: refused by name
    warrant.change(Closes=closes)
    try:
        assert str(warrant["Lookback"]).startswith("#") and str(warrant["EstimatedValue"]).startswith("#")
    finally:
        warrant.change(Closes=[None] * 21)


@pytest.mark.parametrize("min_payment", [10.0, 1.5, "0.1"])
def test_a_bad_minimum_payment_is_never_shown_as_full_protection(note, min_payment):
    """The second review: MinPayment 10 (a unit slip) showed 'none: every final value repays'."""
    note.change(MinPayment=min_payment)
    try:
        assert str(note["Breakeven"]).startswith("#")
    finally:
        note.change(MinPayment=0.1)
