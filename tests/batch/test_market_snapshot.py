"""`xlfuncs quote --market`: one snapshot for the run, a deal's own market columns over it; the
templates' Market sheet, which the Valuation and Quote sheets value off (the formulas engine
computing the template against the Excel functions called with the snapshot's ranges, and the
quote's Python computation against that engine)."""
import csv
import datetime as dt
import json
import math

import openpyxl
import pytest

import udfs
from xlfuncs.batch import quotes
from xlfuncs.batch.deals import DealList, parse_deal
from xlfuncs.batch.quote_files import QuoteBook
from xlfuncs.batch.snapshot import read_snapshot
from xlfuncs.core.market import Market
from xlfuncs.products import BY_KEY
from xlfuncs.workbooks.calculation import Calculation

from helpers import ROOT, arguments, cli, engine_values, serial, summary_rows, surface_grid, write_deals

SNAPSHOT = ROOT / "workbooks" / "market" / "2025-05-28.json"
DEALS = ROOT / "examples" / "deals-2025-05-28.csv"
FUNCTION = {"warrant": "WARRANT_VALUE", "note": "NOTE_VALUE", "bullish_note": "BULL_NOTE_VALUE"}


def excel_range(rows):
    """A snapshot range as Excel hands it over: dates as serials."""
    return [[serial(cell) if isinstance(cell, str) and cell[:2] == "20" else cell for cell in row] for row in rows]


def function_value(row: dict, snapshot: dict) -> float:
    """The deal's value from its Excel function, called with the snapshot's ranges as cells (or
    the deal's own number where its list gives one)."""
    values = {name: value for name, value in row.items() if value not in ("", None)}
    values.update({name: snapshot[name] for name in ("spot", "as_of") if name not in values})
    values["as_of"] = serial(values["as_of"])
    for name in ("vol", "rate", "div_yield"):
        values[name] = float(values[name]) if name in values else excel_range(snapshot[name])
    for name in ("final_date", "payment_date", "window_start", "window_end", "expiration", "settlement"):
        if name in values:
            values[name] = serial(values[name])
    if "closes" in values:
        values["closes"] = [[float(close)] for close in values["closes"].split(";")]
    function = FUNCTION[row["product"]]
    cells = arguments(function, {name: float(value) if isinstance(value, str) else value
                                 for name, value in values.items() if name not in ("deal_id", "client", "product")})
    [[value]] = getattr(udfs, function)(*cells.values())
    return value


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("snapshot") / "quotes"
    result = cli(DEALS, "--market", SNAPSHOT.relative_to(ROOT), "--out", out, "--jobs", 2)
    return result, out


def test_the_readme_s_snapshot_run_values_every_deal_as_its_excel_function_does(run):
    result, out = run
    assert result.returncode == 0, result.stderr
    snapshot = json.loads(SNAPSHOT.read_text())
    rows = {row["deal_id"]: row for row in csv.DictReader(DEALS.open(newline=""))}
    for record in summary_rows(out):
        expected = function_value(rows[record["deal_id"]], snapshot)
        assert float(record["value"]) == pytest.approx(expected, rel=1e-12), record["deal_id"]


def test_a_deal_s_own_vol_overrides_the_snapshot_s_surface_and_the_quote_says_which(run):
    _, out = run
    values = {record["deal_id"]: float(record["value"]) for record in summary_rows(out)}
    assert values["W-303"] != pytest.approx(values["W-301"], abs=1.0)  # the same terms: flat 16.7% against the skew
    texts = {}
    for deal_id in ("W-301", "W-303"):
        ws = openpyxl.load_workbook(out / f"{deal_id}.xlsx")["Quote"]
        texts[deal_id] = [cell.value for row in ws.iter_rows() for cell in row
                          if isinstance(cell.value, str) and cell.value.startswith(("spot", "rate"))]
    assert texts["W-301"] == ["spot 5,907.55, vol: implied volatility surface", "rate: zero curve, dividend yield: zero curve"]
    assert texts["W-303"] == ["spot 5,907.55, vol 16.7%", "rate: zero curve, dividend yield: zero curve"]


def test_a_template_s_market_sheet_is_a_snapshot_too(tmp_path):
    """The warrant template's Market sheet and Valuation inputs hold the bundled snapshot: read
    as an xlsx snapshot (its names AsOf, Spot, RateCurve, DividendCurve, VolSurface), it gives
    the same inputs as the JSON."""
    assert read_snapshot(ROOT / "workbooks" / "bearish_put_warrant.xlsx") == read_snapshot(SNAPSHOT)


@pytest.mark.parametrize("change, message", [
    (lambda data: data["vol"][3].__setitem__(5, "#N/A"), "market snapshot bad.json, vol: vol is an error cell"),
    (lambda data: data.pop("vol"), "market snapshot bad.json has no vol"),
    (lambda data: data["rate"][1].__setitem__(1, 4.3), "rate must be a fraction: 4.3% is 0.043, got 4.3"),
])
def test_a_bad_snapshot_stops_the_run_before_any_quote_naming_the_file_and_cell(tmp_path, change, message):
    data = json.loads(SNAPSHOT.read_text())
    change(data)
    (tmp_path / "bad.json").write_text(json.dumps(data))
    result = cli(DEALS, "--market", tmp_path / "bad.json", "--out", tmp_path / "out")
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_a_missing_snapshot_file_is_named(tmp_path):
    result = cli(DEALS, "--market", tmp_path / "nowhere.json", "--out", tmp_path / "out")
    assert result.returncode == 2 and "nowhere.json cannot be read" in result.stderr, result.stderr


@pytest.mark.parametrize("key", sorted(BY_KEY))
def test_the_quote_s_python_computation_is_the_template_s_under_the_snapshot(key):
    """Each product's snapshot deals: the Quote sheet computed in Python equals the formulas
    engine computing the template with the deal's ranges on its Market sheet, cell for cell."""
    snapshot = read_snapshot(SNAPSHOT)
    deals = [parse_deal(row, record, snapshot) for row, record in DealList(DEALS, []).records()]
    template = quotes.template_folder() / BY_KEY[key].template
    book, engine = QuoteBook(template, BY_KEY[key]), Calculation(template)
    for deal in (deal for deal in deals if deal.product == key):
        fast, slow = book.values(deal), engine_values(engine, book, deal)
        differing = [(ref, fast[ref], slow.get(ref)) for ref in fast
                     if not (fast[ref] == slow.get(ref) or isinstance(fast[ref], float)
                             and math.isclose(fast[ref], slow.get(ref), rel_tol=1e-12, abs_tol=1e-12))]
        assert not differing, (deal.deal_id, differing[:5])


def test_the_template_values_off_its_market_sheet_beside_the_flat_value():
    """The template as built: the estimated value is the Excel function's with the Market sheet's
    ranges, the flat-vol value beside it the function's with the Valuation sheet's numbers; a
    Market sheet emptied to one number per range gives the flat value."""
    template = ROOT / "workbooks" / "bearish_put_warrant.xlsx"
    snapshot = json.loads(SNAPSHOT.read_text())
    row = {"product": "warrant", "initial": "5907.55", "upper_strike": "0.95", "lower_strike": "0.75",
           "notional": "1000", "window_start": "2025-05-21", "window_end": "2025-06-20", "expiration": "2025-10-10",
           "settlement": "2025-10-17", "closes": ";".join(["5907.55"] * 5)}
    wb = openpyxl.load_workbook(template, data_only=True)
    names = {name: list(wb.defined_names[name].destinations) for name in ("EstimatedValue", "FlatValue")}
    shown = {name: wb[sheet][ref.replace("$", "")].value for name, [(sheet, ref)] in names.items()}
    assert shown["EstimatedValue"] == pytest.approx(function_value(row, snapshot), abs=1e-5)  # cached to 5 decimals
    flat = function_value({**row, "vol": "0.167", "rate": "0.043", "div_yield": "0.013"}, snapshot)
    assert shown["FlatValue"] == pytest.approx(flat, abs=1e-5)
    engine = Calculation(template)
    market = {name: list(wb.defined_names[name].destinations) for name in ("VolSurface", "RateCurve", "DividendCurve")}
    changes = {}
    for name, number in (("VolSurface", 0.167), ("RateCurve", 0.043), ("DividendCurve", 0.013)):
        [(sheet, ref)] = market[name]
        first, last = ref.replace("$", "").split(":")
        for cells in wb[sheet][f"{first}:{last}"]:
            for cell in cells:
                changes[(sheet, cell.coordinate)] = None
        changes[(sheet, first)] = number
    computed = engine.calculate(changes, sheets=["Valuation"])
    [(sheet, ref)] = names["EstimatedValue"]
    assert computed[(sheet.upper(), ref.replace("$", ""))] == pytest.approx(flat, rel=1e-12)


@pytest.mark.parametrize("as_of, t_fix, t_pay", [("2025-05-28", 0.37, 0.39), ("2025-05-28", 2.5, 2.51),
                                                  ("2025-05-28", 0.0, 0.02)])
def test_the_flat_market_beside_a_snapshot_keeps_its_forward_discount_and_at_the_money_vol(as_of, t_fix, t_pay):
    """Market.flattened, which fills a quote's flat inputs: Black's forward and discount as the
    curves give them, the surface's vol at the forward; a fixing today still a finite vol."""
    snapshot = read_snapshot(SNAPSHOT)
    market = Market(**snapshot)
    flat = market.flattened(t_fix, t_pay)
    assert flat.flat and math.isfinite(flat.vol) and 0.05 < flat.vol < 0.5
    assert float(flat.discount(t_pay)) == pytest.approx(float(market.discount(t_pay)), rel=1e-14)
    assert float(flat.growth(t_fix)) == pytest.approx(float(market.growth(t_fix)), rel=1e-14)
    if t_fix > 0:
        assert flat.vol == market.implied_vols([market.spot * float(market.growth(t_fix))], t_fix)[0]
    assert Market(5907.55, snapshot["as_of"], 0.2, 0.04, 0.01).flattened(t_fix, t_pay).vol == 0.2


def test_a_deal_of_another_date_may_not_take_the_snapshot_s_market(tmp_path):
    """Was: a deal as of 2025-05-20 took the 2025-05-28 spot, and its surface re-anchored to
    05-20 (8 more days of variance at every expiry). Now it fails, saying what to give; with all
    its own market inputs it is quoted."""
    rows = list(csv.DictReader(DEALS.open(newline="")))
    own_date = dict(rows[0], deal_id="OWN-DATE", as_of="2025-05-20", closes="")
    complete = dict(own_date, deal_id="OWN-MARKET", spot="5907.55", vol="0.167", rate="0.043", div_yield="0.013")
    write_deals(tmp_path / "deals.csv", [own_date, complete])
    result = cli(tmp_path / "deals.csv", "--market", SNAPSHOT, "--out", tmp_path / "out")
    assert result.returncode == 1
    by_id = {record["deal_id"]: record for record in summary_rows(tmp_path / "out")}
    assert by_id["OWN-DATE"]["status"] == "failed" and by_id["OWN-DATE"]["message"] == (
        "as_of 2025-05-20 is not the market snapshot's (2025-05-28), whose spot, vol, rate, div_yield it would take: "
        "give the deal's own spot, vol, rate, div_yield, or quote it with a snapshot of its date")
    assert by_id["OWN-MARKET"]["status"] == "written"


def test_a_snapshot_too_large_for_a_template_s_market_sheet_stops_the_run_once(tmp_path):
    data = json.loads(SNAPSHOT.read_text())
    grid = surface_grid(5907.55, dt.date(2025, 5, 28), moneyness=tuple(0.5 + 0.02 * n for n in range(41)))
    data["vol"] = [[cell.isoformat() if isinstance(cell, dt.date) else cell for cell in row] for row in grid]
    (tmp_path / "wide.json").write_text(json.dumps(data))
    result = cli(DEALS, "--market", tmp_path / "wide.json", "--out", tmp_path / "out")
    assert result.returncode == 2 and "its Market sheet's VolSurface range holds 26 rows of 31 cells, too small for " \
                                      "the market snapshot's vol (6 rows of 42)" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()
