"""Batch client quotes: `xlfuncs quote DEALS --out DIR`, end to end."""
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import openpyxl
import pytest
import yaml

from xlfuncs.batch import deals as deal_lists
from xlfuncs.batch import quotes
from xlfuncs.core.market import Market
from xlfuncs.products import PRODUCTS, buffer_note, lookback_warrant
from xlfuncs.products.bullish_note import BullishBufferNote
from xlfuncs.products.put_warrant import PutWarrant
from xlfuncs.workbooks.sheets import INPUT_FILL

from helpers import (
    EXAMPLES,
    ROOT,
    cli,
    example_rows,
    listing,
    summary,
    summary_rows,
    write_deals,
)

TEMPLATES = sorted((ROOT / "workbooks").glob("*.xlsx"))


def digests(paths):
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in paths}


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("quotes")
    before = digests(TEMPLATES)
    result = cli(EXAMPLES, "--out", out, "--jobs", 2)
    return out, result, before


def test_every_example_deal_becomes_a_client_workbook(example_run):
    out, result, _ = example_run
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"16 deals: 16 written, 0 up to date, 0 failed in [\d.]+ s; summary in \S+summary.csv\n",
                        result.stdout)
    ids = [row["deal_id"] for row in example_rows()]
    assert listing(out) == sorted([f"{i}.xlsx" for i in ids] + ["summary.csv"])


def test_client_workbook_is_the_quote_sheet_frozen_with_its_chart(example_run):
    """One printed sheet of values; the chart's source cells on a hidden sheet, still plotted."""
    out, _, _ = example_run
    for path in out.glob("*.xlsx"):
        with zipfile.ZipFile(path) as package:
            assert package.testzip() is None
            sheets = [n for n in package.namelist() if n.startswith("xl/worksheets/sheet")]
            assert len(sheets) == 2 and not any(b"<f" in package.read(sheet) for sheet in sheets)
        wb = openpyxl.load_workbook(path)
        assert wb.sheetnames == ["Quote", "Chart data"] and len(wb["Quote"]._charts) == 1
        assert wb["Quote"].sheet_state == "visible" and wb["Chart data"].sheet_state == "hidden"
        beside = [c.value for row in wb["Quote"].iter_rows(min_col=6) for c in row]  # beside the printed page
        assert not any(beside) and wb["Chart data"].min_column > 5
        chart = wb["Quote"]._charts[0]
        assert chart.visible_cells_only is False
        assert {s.yVal.numRef.f.split("!")[0] for s in chart.series} == {"'Chart data'"}
        assert wb["Quote"].print_area and not list(wb.defined_names)
        assert wb["Quote"].page_setup.fitToHeight == 1 and wb["Quote"].page_setup.fitToWidth == 1
        fills = {cell.fill.fgColor.rgb for row in wb["Quote"].iter_rows() for cell in row}
        assert not any(str(rgb).endswith(INPUT_FILL.fgColor.rgb[-6:]) for rgb in fills)  # no form look


def quote_cells(path):
    """Label -> value of the quote's labelled fields, and its scenario rows."""
    ws = openpyxl.load_workbook(path)["Quote"]
    fields = {row[0]: row[1] for row in ws.iter_rows(min_col=1, max_col=2, values_only=True) if row[0]}
    start = next(r for r in range(1, 80) if str(ws.cell(r, 1).value).startswith("Change from") or
                 ws.cell(r, 1).value == "Underlying return") + 1
    scenarios = [[ws.cell(r, c).value for c in range(1, 6)] for r in range(start, start + 10)]
    return fields, scenarios


def test_warrant_quote_shows_the_xlfuncs_numbers(example_run):
    out, _, _ = example_run
    fields, scenarios = quote_cells(out / "W-203.xlsx")
    deal = next(row for row in example_rows() if row["deal_id"] == "W-203")
    closes = tuple(float(c) if c else None for c in deal["closes"].split(";"))
    warrant = PutWarrant(5907.55, 0.95, 0.75, 1000.0, 0.02728, dt.date(2025, 5, 21), dt.date(2025, 6, 20),
                         dt.date(2025, 10, 10), dt.date(2025, 10, 17))
    market = Market(5951.30, dt.date(2025, 6, 4), 0.16, 0.043, 0.013, closes)
    expected = lookback_warrant.warrant_value(warrant, market)  # exact, as the quote shows it
    assert fields["Estimated value"] == pytest.approx(expected, rel=1e-12)
    assert float(summary(out)["W-203"]["value"]) == pytest.approx(expected, rel=1e-12)
    assert fields["Prepared for"] == "Meridian Endowment"
    assert fields["Values as of"] == dt.datetime(2025, 6, 4)
    assert fields["Lookback underlying value"] == 5951.30 and fields["Lookback window"] == "open: the highest close so far"
    assert fields["Breakeven final value"] == pytest.approx((0.95 - 0.02728) * 5951.30)
    assert fields["Model inputs"] == "spot 5,951.30, vol 16.0%"
    assert fields["Rates"] == "rate 4.30%, dividend yield 1.30%"
    finals = np.array([row[1] for row in scenarios], dtype=float)
    assert finals == pytest.approx(5951.30 * (1 + np.array([row[0] for row in scenarios])))
    assert [row[2] for row in scenarios] == pytest.approx(warrant.payment(5951.30, finals).tolist())


def test_note_quote_and_summary(example_run):
    out, _, _ = example_run
    fields, scenarios = quote_cells(out / "17291TGZ5.xlsx")
    row = summary(out)["17291TGZ5"]
    assert fields["Estimated value"] == pytest.approx(float(row["value"]), rel=1e-12)
    assert "stderr" not in row and float(row["breakeven"]) == pytest.approx(1.1 * 4550.58)
    assert [r[2] for r in scenarios[:2]] == [1230.0, 1230.0]  # -50% and -30%: capped at $1,230.00
    assert set(summary(out)) == {r["deal_id"] for r in example_rows()}
    assert {r["status"] for r in summary(out).values()} == {"written"}


def test_bullish_note_quote_shows_the_xlfuncs_numbers(example_run):
    out, _, _ = example_run
    fields, scenarios = quote_cells(out / "B-401.xlsx")
    note = BullishBufferNote(4550.58, 1.5, 0.10, 0.25, 0.10, 1000.0, dt.date(2024, 12, 2), dt.date(2024, 12, 5), 0.01)
    market = Market(4550.58, dt.date(2023, 11, 29), 0.15, 0.053, 0.015)
    assert fields["Estimated value"] == pytest.approx(buffer_note.note_value(note, market), rel=1e-12)
    row = summary(out)["B-401"]
    assert row["product"] == "bullish_note" and float(row["breakeven"]) == pytest.approx(0.9 * 4550.58)
    assert fields["Breakeven final value"] == pytest.approx(0.9 * 4550.58)
    changes = [r[0] for r in scenarios]
    assert [r[2] for r in scenarios] == pytest.approx(note.payment(4550.58 * (1 + np.array(changes))).tolist())
    assert scenarios[changes.index(0.5)][2] == pytest.approx(1250.0)  # +50%: capped at $1,250.00


def test_a_fully_protected_note_is_quoted_without_a_breakeven(tmp_path):
    rows = [dict(row, deal_id=f"P-{row['product']}", min_payment="1") for row in example_rows()
            if row["deal_id"] in ("N-101", "B-401")]
    out = tmp_path / "out"
    records, _ = quotes.run(write_deals(tmp_path / "deals.csv", rows), out)
    assert {r["status"] for r in records} == {"written"}
    for product in ("note", "bullish_note"):
        fields, scenarios = quote_cells(out / f"P-{product}.xlsx")
        assert fields["Breakeven final value"] == "none (protected)"
        assert min(row[2] for row in scenarios) == pytest.approx(1000.0)
        assert summary(out)[f"P-{product}"]["breakeven"] == ""


def test_live_templates_are_never_modified(example_run):
    _, _, before = example_run
    assert digests(TEMPLATES) == before


def test_rerun_skips_up_to_date_quotes_rebuilds_changed_ones_and_force(tmp_path):
    rows = [r for r in example_rows() if r["deal_id"] in ("N-101", "W-201")]
    deals = write_deals(tmp_path / "deals.csv", rows)
    out = tmp_path / "out"
    records, _ = quotes.run(deals, out)
    assert sorted(r["status"] for r in records) == ["written", "written"]
    written = {p.name: p.stat().st_mtime_ns for p in out.glob("*.xlsx")}
    records, _ = quotes.run(deals, out)
    assert sorted(r["status"] for r in records) == ["skipped", "skipped"]
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.xlsx")} == written
    assert float(summary(out)["W-201"]["value"]) > 0  # numbers kept for skipped deals
    rows[1]["vol"] = "0.2"
    write_deals(deals, rows)
    records, _ = quotes.run(deals, out)
    assert {r["deal_id"]: r["status"] for r in records} == {"N-101": "skipped", "W-201": "written"}
    records, _ = quotes.run(deals, out, force=True)
    assert sorted(r["status"] for r in records) == ["written", "written"]


KEYS = [product.key for product in PRODUCTS]  # note, warrant and bullish_note, then any added
BAD_ROWS = [
    ({"deal_id": "X-1", "product": "bond"}, f"product must be {', '.join(KEYS[:-1])} or {KEYS[-1]}, got 'bond'"),
    ({"deal_id": "X-2", "buffer": ""}, "buffer is required for a note"),
    ({"deal_id": "X-3", "buffer": "1.5"}, "buffer must be a fraction: 1.5% is 0.015, got 1.5"),
    ({"deal_id": "X-4", "initial": "4,55O.58"}, "initial must be a number, got '4,55O.58'"),
    ({"deal_id": "X-5", "as_of": "29/11/2023"}, "as_of must be an ISO date like 2025-05-28, got '29/11/2023'"),
    ({"deal_id": "X-6", "upper_strike": "0.95"}, "upper_strike is not a term of a note"),
    ({"deal_id": "X-7", "as_of": "2024-12-03"}, "final_date must not be before as_of (2024-12-03), got 2024-12-02"),
    ({"deal_id": "X-8", "paths": "500"}, "paths must be from 1000 to 1048576, got 500"),
    ({"deal_id": "X-9", "client": ""}, "client is required"),
]


def test_bad_rows_are_reported_and_every_good_deal_is_still_produced(tmp_path, capsys):
    base = next(r for r in example_rows() if r["deal_id"] == "N-101")
    good_warrant = next(r for r in example_rows() if r["deal_id"] == "W-201")
    rows = [base] + [{**base, **changes} for changes, _ in BAD_ROWS]
    rows += [{**good_warrant, "deal_id": "DUP"}, {**good_warrant, "deal_id": "DUP", "vol": "0.3"}, good_warrant]
    rows.append({**good_warrant, "deal_id": "W-short", "closes": "5907.55;5907.55"})
    deals = write_deals(tmp_path / "deals.csv", rows)
    assert quotes.main(deals, tmp_path / "out", 1, False, []) == 1
    err = capsys.readouterr().err.splitlines()
    expected = [f"row {row} ({changes['deal_id']}): {message}"
                for row, (changes, message) in enumerate(BAD_ROWS, start=3)]
    expected += ["row 12 (DUP): duplicate deal_id (rows 12, 13)", "row 13 (DUP): duplicate deal_id (rows 12, 13)",
                 "row 15 (W-short): closes must have an entry for each of the 5 window trading days from "
                 "window_start (2025-05-21) closed by "
                 "as_of (2025-05-28), got 2"]
    assert err == expected
    assert listing(tmp_path / "out") == ["N-101.xlsx", "W-201.xlsx", "summary.csv"]
    statuses = {(r["row"], r["status"]) for r in summary_rows(tmp_path / "out")}
    assert ("2", "written") in statuses and ("14", "written") in statuses and ("3", "failed") in statuses


def test_unknown_columns_are_an_error_not_ignored(tmp_path, capsys):
    deals = tmp_path / "deals.csv"
    deals.write_text(EXAMPLES.read_text().replace("funding_spread", "fundng_spread", 1))
    assert quotes.main(deals, tmp_path / "out", 1, False, []) == 2
    assert "unknown column 'fundng_spread'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_yaml_and_json_deal_lists_give_the_same_quotes(tmp_path):
    rows = [r for r in example_rows() if r["deal_id"] in ("N-102", "W-203")]
    records = [{key: value for key, value in row.items() if value} for row in rows]
    records[1]["closes"] = [float(c) if c else None for c in records[1]["closes"].split(";")]
    (tmp_path / "deals.yaml").write_text(yaml.safe_dump(records))
    (tmp_path / "deals.json").write_text(json.dumps(records))
    write_deals(tmp_path / "deals.csv", rows)
    values = {}
    for kind in ("csv", "yaml", "json"):
        quotes.run(tmp_path / f"deals.{kind}", tmp_path / kind)
        values[kind] = {deal: row["value"] for deal, row in summary(tmp_path / kind).items()}
    assert values["csv"] == values["yaml"] == values["json"] and len(values["csv"]) == 2


def test_text_that_starts_like_a_formula_is_written_as_text(tmp_path):
    base = next(r for r in example_rows() if r["deal_id"] == "N-101")
    client = '=HYPERLINK("http://example.invalid","click")'
    deals = write_deals(tmp_path / "deals.csv", [{**base, "deal_id": "@SUM(1)", "client": client}])
    records, _ = quotes.run(deals, tmp_path / "out")
    assert records[0]["output"] == "SUM_1.xlsx"
    with zipfile.ZipFile(tmp_path / "out" / "SUM_1.xlsx") as package:
        sheet = package.read(next(n for n in package.namelist() if n.startswith("xl/worksheets/sheet"))).decode()
    assert "HYPERLINK" in sheet and "<f>" not in sheet and 't="inlineStr"' in sheet
    assert openpyxl.load_workbook(tmp_path / "out" / "SUM_1.xlsx")["Quote"]["B4"].value == client
    row = summary_rows(tmp_path / "out")[0]
    assert row["client"] == "'" + client and row["deal_id"] == "'@SUM(1)"


def test_a_run_killed_midway_leaves_only_complete_workbooks_and_a_rerun_finishes(tmp_path):
    rows = [{**row, "deal_id": f"K-{n:03d}-{row['deal_id']}"} for n in range(4) for row in example_rows()]
    deals = write_deals(tmp_path / "deals.csv", rows)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "xlfuncs", "quote", str(deals), "--out", str(out),
                                "--jobs", "2"], cwd=ROOT, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list(out.glob("*.xlsx"))) < 5 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    complete = list(out.glob("*.xlsx"))
    assert 5 <= len(complete) < len(rows)
    unfinished = summary_rows(out)  # no summary that looks current: every deal not done yet
    assert [r["deal_id"] for r in unfinished] == [r["deal_id"] for r in rows]
    assert {(r["status"], r["message"]) for r in unfinished} == {("not done", quotes.UNFINISHED)}
    for path in complete:  # renamed into place only when whole
        with zipfile.ZipFile(path) as package:
            assert package.testzip() is None
        assert openpyxl.load_workbook(path).sheetnames == ["Quote", "Chart data"]
    records, _ = quotes.run(deals, out)
    statuses = [r["status"] for r in records]
    assert statuses.count("skipped") == len(complete) and statuses.count("written") == len(rows) - len(complete)
    assert listing(out) == sorted([f"{r['deal_id']}.xlsx" for r in rows] + ["summary.csv"])


def test_templates_from_outside_are_parsed_with_defused_xml(tmp_path):
    assert openpyxl.xml.DEFUSEDXML  # openpyxl itself refuses entity tricks
    bomb = tmp_path / "bomb.xlsx"
    note_template = ROOT / "workbooks" / "bearish_buffer_note.xlsx"
    with zipfile.ZipFile(note_template) as source, zipfile.ZipFile(bomb, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/workbook.xml":
                entities = '<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                data = data.replace(b"?>", b"?>" + entities.encode(), 1) if data.startswith(b"<?xml") \
                    else entities.encode() + data
            target.writestr(name, data)
    shutil.copy(EXAMPLES, tmp_path / "deals.csv")
    result = cli(tmp_path / "deals.csv", "--out", tmp_path / "out", "--template", f"note={bomb}")
    assert result.returncode == 2
    assert "EntitiesForbidden" in result.stderr or "forbidden" in result.stderr.lower()
    assert not list((tmp_path / "out").glob("*.xlsx"))


@pytest.mark.parametrize("product, template, message", [
    ("bullish_note", "bearish_buffer_note.xlsx", 'is not a bullish_note template (its Product name is "note")'),
    ("note", "buffer_note.xlsx", 'is not a note template (its Product name is "bullish_note")'),
    ("Bullish_Note", "bearish_put_warrant.xlsx", 'is not a bullish_note template (its Product name is "warrant")'),
])
def test_another_product_s_template_is_refused_before_any_quote(tmp_path, product, template, message):
    """The review quoted a Buffer Securities deal on the bearish template (its payments) while the
    summary showed the bullish value."""
    rows = [r for r in example_rows() if r["deal_id"] in ("N-101", "B-401")]
    result = cli(write_deals(tmp_path / "deals.csv", rows), "--out", tmp_path / "out", "--template",
                 f"{product}={ROOT / 'workbooks' / template}")
    assert result.returncode == 2 and message in result.stderr and not (tmp_path / "out").exists()


@pytest.mark.parametrize("product_name", ['"note"', "note", '""note""'])
def test_a_forged_product_name_is_refused(tmp_path, product_name):
    """The second review relabelled the Buffer Securities template as a note's: its formulas call
    BULL_NOTE_ functions, which a note template never does; an unquoted name crashed the run."""
    wb = openpyxl.load_workbook(ROOT / "workbooks" / "buffer_note.xlsx")
    wb.defined_names["Product"] = openpyxl.workbook.defined_name.DefinedName("Product", attr_text=product_name)
    wb.save(tmp_path / "forged.xlsx")
    rows = [r for r in example_rows() if r["deal_id"] == "N-101"]
    result = cli(write_deals(tmp_path / "deals.csv", rows), "--out", tmp_path / "out", "--template",
                 f"note={tmp_path / 'forged.xlsx'}")
    assert result.returncode == 2 and "is not a note template" in result.stderr, result.stderr
    assert not list((tmp_path / "out").glob("*.xlsx")) if (tmp_path / "out").exists() else True


def test_a_template_without_the_names_a_deal_fills_is_refused(tmp_path):
    wb = openpyxl.load_workbook(ROOT / "workbooks" / "buffer_note.xlsx")
    del wb.defined_names["Buffer"]
    wb.save(tmp_path / "no_buffer.xlsx")
    rows = [r for r in example_rows() if r["deal_id"] == "B-401"]
    result = cli(write_deals(tmp_path / "deals.csv", rows), "--out", tmp_path / "out", "--template",
                 f"bullish_note={tmp_path / 'no_buffer.xlsx'}")
    assert result.returncode == 2
    assert "a bullish_note template must name one cell or one column of cells Buffer" in result.stderr


def test_deal_values_are_read_as_excel_reads_cells(tmp_path):
    """A decimal comma is never taken for a thousands separator; Excel date serials are dates."""
    base = next(r for r in example_rows() if r["deal_id"] == "N-101")
    rows = [{**base, "deal_id": "C-1", "initial": "4550,58"}, {**base, "deal_id": "C-2", "as_of": "45259"},
            {**base, "deal_id": "C-3", "final_date": "20241202"}]
    records = {r["deal_id"]: r for r in quotes.run(write_deals(tmp_path / "deals.csv", rows), tmp_path / "out")[0]}
    assert records["C-1"]["message"] == ("initial must be a plain number, without thousands separators and with a "
                                         "decimal point (a decimal comma only in a semicolon-separated list), "
                                         "got '4550,58'")
    assert records["C-2"]["status"] == "written"
    assert records["C-3"]["message"].startswith("final_date must be a date (an Excel serial from 61 to 2958465)")


@pytest.mark.parametrize("text, separated", [("1_000", False), ("4550,58", True), ("\u0664\u0665\u0665\u0660", False),
                                             ("0x10", False), ("4.5.5", True), ("4 550.58", True)])
def test_text_a_spreadsheet_would_not_take_for_a_number_is_an_error(tmp_path, text, separated):
    base = next(r for r in example_rows() if r["deal_id"] == "N-101")
    records, _ = quotes.run(write_deals(tmp_path / "deals.csv", [{**base, "initial": text}]), tmp_path / "out")
    expected = (f"initial must be a plain number, without thousands separators and with a decimal point (a decimal "
                f"comma only in a semicolon-separated list), got {text!r}" if separated
                else f"initial must be a number, got {text!r}")
    assert records[0]["message"] == expected


def test_an_index_near_the_largest_level_is_quoted(tmp_path):
    """Initial 9e8: the quote's +100% scenario is 1.8e9, beyond the largest initial level, and legal."""
    base = next(r for r in example_rows() if r["deal_id"] == "B-401")
    rows = [{**base, "initial": "900000000", "spot": "900000000"}]
    records, _ = quotes.run(write_deals(tmp_path / "deals.csv", rows), tmp_path / "out")
    assert records[0]["status"] == "written", records[0]["message"]


def test_an_empty_closes_list_in_yaml_is_no_closes_yet(tmp_path):
    deal = {k: v for k, v in next(r for r in example_rows() if r["deal_id"] == "W-201").items() if v}
    deal.update(closes=[], as_of="2025-05-20", spot=5907.55)
    (tmp_path / "deals.yaml").write_text(yaml.safe_dump([deal]))
    records, _ = quotes.run(tmp_path / "deals.yaml", tmp_path / "out")
    assert records[0]["status"] == "written", records[0]["message"]


@pytest.mark.parametrize("deal_id, name", [("../../etc/passwd", "etc_passwd"), ("a b/c:d", "a_b_c_d"),
                                           ("N-101", "N-101"), ("x" * 120, "x" * 120), ("é", "é"),
                                           ("e\u0301te", "\u00e9te"), ("Zürich-7", "Zürich-7"), ("東京", "東京"),
                                           ("CONSOLE", "CONSOLE"), ("COM10", "COM10"), ("icon.txt", "icon.txt")])
def test_output_names_use_safe_characters_only(deal_id, name):
    assert deal_lists.file_stem(deal_id) == name


@pytest.mark.parametrize("deal_id, message", [
    ("%%%", "deal_id must contain a letter or digit"),
    ("x" * 121, "deal_id must name a file of at most 120 bytes in UTF-8, got 121"),
    ("é" * 61, "deal_id must name a file of at most 120 bytes in UTF-8, got 122"),
    *((device, re.escape(f"names the Windows device {device.split('.')[0].upper()}")) for device in
      ("CON", "con.txt", "con.txt.bak", "Nul.xlsx", "COM1", "lpt9.csv", "COM¹", "PRN", "AUX.tar.gz"))])
def test_a_deal_id_that_names_no_file_is_an_error(deal_id, message):
    with pytest.raises(deal_lists.DealError, match=message):
        deal_lists.file_stem(deal_id)
