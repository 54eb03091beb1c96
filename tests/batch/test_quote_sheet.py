"""The quote's computation (quote_sheet.py: the Quote sheet computed in Python) against the
formulas engine computing the template itself, cell for cell, over the example deals and
random deals of every product; a template with other constants keeps it, a template with other
formulas is refused."""
import csv
import math
import random

import openpyxl
import pytest

from xlfuncs.batch import quotes
from xlfuncs.batch.deals import DealListError, read_deals
from xlfuncs.batch.quote_files import QuoteBook
from xlfuncs.products import BY_KEY
from xlfuncs.products.layout import excel_text
from xlfuncs.products.lookback_warrant import LookbackWarrant
from xlfuncs.workbooks.calculation import Calculation

from helpers import ROOT, engine_values, example_deal, example_rows, write_deals

RANDOM_DEALS = 40  # per product


def varied(row: dict, rng: random.Random) -> dict:
    """A random legal variation of an example deal: market state, terms and closes seen so far."""
    row = dict(row, spot=f"{float(row['spot']) * rng.uniform(0.3, 2.0):.{rng.choice([2, 7])}f}",
               vol=f"{rng.uniform(0.03, 1.2):.{rng.choice([4, 9])}f}", rate=f"{rng.uniform(-0.01, 0.09):.5f}",
               div_yield=f"{rng.uniform(0, 0.05):.{rng.choice([4, 9])}f}")
    if issubclass(BY_KEY[row["product"]].contract, LookbackWarrant):
        row.update(upper_strike=f"{rng.uniform(0.8, 1.0):.4f}", lower_strike=f"{rng.uniform(0.5, 0.79):.4f}",
                   premium=f"{rng.uniform(0.001, 0.05):.5f}")
        closes = row["closes"].split(";") if row["closes"] else []
        if closes and rng.random() < 0.5:
            closes = [f"{float(c) * rng.uniform(0.9, 1.1):.2f}" if c and rng.random() < 0.8 else "" for c in closes]
            row["closes"] = ";".join(closes)
    else:
        row.update(participation=f"{rng.uniform(0.5, 4):.3f}", buffer=f"{rng.uniform(0, 0.3):.3f}",
                   max_return=f"{rng.uniform(0.01, 1.5):.3f}", min_payment=rng.choice(["0", "0.1", "0.5", "1"]),
                   funding_spread=f"{rng.uniform(0, 0.03):.5f}")
    return row


@pytest.fixture(scope="module")
def deals(tmp_path_factory):
    rng = random.Random(20261122)
    rows = list(example_rows())
    for key, product in BY_KEY.items():
        bases = [row for row in example_rows() if row["product"] == key] or [example_deal(product, f"{key}-T")]
        rows += [dict(varied(bases[n % len(bases)], rng), deal_id=f"{key}-R{n}") for n in range(RANDOM_DEALS)]
    path = write_deals(tmp_path_factory.mktemp("deals") / "deals.csv", rows)
    good, failed = read_deals(path)
    assert len(failed) < len(rows) // 10, failed[:3]  # nearly every random deal is legal
    return good


def same(fast, engine) -> bool:
    if fast in ("", None) and engine in ("", None):
        return True
    if isinstance(fast, (int, float)) and isinstance(engine, (int, float)):
        return math.isclose(fast, engine, rel_tol=1e-12, abs_tol=1e-12)
    return fast == engine


@pytest.mark.parametrize("key", sorted(BY_KEY))
def test_the_fast_path_equals_the_engine_cell_for_cell(deals, key):
    template = quotes.template_folder() / BY_KEY[key].template
    book, engine = QuoteBook(template, BY_KEY[key]), Calculation(template)
    sample = [deal for deal in deals if deal.product == key]
    assert len(sample) >= RANDOM_DEALS
    compared = 0
    for deal in sample:
        fast, slow = book.values(deal), engine_values(engine, book, deal)
        differing = [(ref, fast[ref], slow.get(ref)) for ref in fast if not same(fast[ref], slow.get(ref))]
        assert not differing, (deal.deal_id, differing[:5])
        constants = book.sheet.constants
        beyond = [ref for ref in set(slow) - set(fast) if not same(slow[ref], constants.get(("Quote", ref)))]
        assert not beyond, (deal.deal_id, beyond[:5])  # the engine changes no cell the fast path leaves
        compared += len(fast)
    assert compared > 500 * len(sample)


@pytest.mark.parametrize("value, decimals, percent, text", [
    (4550.58, 2, False, "4,550.58"), (0.0125, 1, True, "1.3%"), (0.00125, 2, True, "0.13%"),
    (1234567.005, 2, False, "1,234,567.01"), (-0.0125, 1, True, "-1.3%"), (0.1675, 1, True, "16.8%"),
    (-0.00001, 2, True, "0.00%"), (0.0, 2, True, "0.00%"), (0.06505, 2, True, "6.51%"), (2.675, 2, False, "2.68"),
    (0.05 + 0.1175, 1, True, "16.8%"), (1234.5649999999998, 2, False, "1,234.57"), (0.000049999999999999996, 2, True, "0.01%")])
def test_model_inputs_text_rounds_as_excel_does(value, decimals, percent, text):
    """Excel keeps 15 significant digits, then rounds half away from zero (16.75% shows 16.8%,
    and so does 0.05 + 0.1175, which is 0.16749999999999998 in binary)."""
    assert excel_text(value, decimals, percent) == text


def test_a_template_with_a_formula_of_its_own_is_refused_naming_the_cell(tmp_path):
    """Was: computed by the formulas engine, so an outside template could print any number."""
    wb = openpyxl.load_workbook(ROOT / "workbooks" / "bearish_buffer_note.xlsx")
    cell = next(c for row in wb["Quote"].iter_rows() for c in row if c.value == "=AsOf")
    cell.value = "=AsOf+1"
    wb.save(tmp_path / "changed.xlsx")
    deal = next(row for row in example_rows() if row["deal_id"] == "N-101")
    with pytest.raises(DealListError, match=rf"Quote!{cell.coordinate} computes =AsOf\+1, which is not a formula "
                                            "of the note layout"):
        quotes.run(write_deals(tmp_path / "deals.csv", [deal]), tmp_path / "out",
                   templates={"note": tmp_path / "changed.xlsx"})
    assert not (tmp_path / "out").exists()


def test_a_template_with_other_constants_keeps_the_fast_path_and_shows_them(tmp_path):
    wb = openpyxl.load_workbook(ROOT / "workbooks" / "bearish_put_warrant.xlsx")
    issuer = wb.defined_names["Issuer"].destinations
    sheet, ref = next(iter(issuer))
    wb[sheet][ref.replace("$", "")] = "Another Issuer LLC"
    wb.save(tmp_path / "other.xlsx")
    deal = next(row for row in example_rows() if row["deal_id"] == "W-201")
    quotes.run(write_deals(tmp_path / "deals.csv", [deal]), tmp_path / "out", templates={"warrant": tmp_path / "other.xlsx"})
    ws = openpyxl.load_workbook(tmp_path / "out" / "W-201.xlsx")["Quote"]
    assert "Another Issuer LLC" in [c.value for row in ws.iter_rows() for c in row]
    with (tmp_path / "out" / "summary.csv").open(encoding="utf-8-sig") as handle:
        assert next(csv.DictReader(handle))["status"] == "written"
