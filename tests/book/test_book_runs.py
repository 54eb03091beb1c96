"""`xlfuncs book` as operations run it: hostile positions files (each bad row fails alone), bad
snapshots and histories (the run stops before touching the folder), a killed run (nothing that
looks current is left), two runs into one folder, a re-run (up to date), the same book from
worker processes and from a Dask LocalCluster (identical digits), xlsx positions, relative
paths, and the report printed to PDF."""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import openpyxl
import pytest

from helpers import MISSING_PDF_TOOLS, ROOT, command
from test_book import BEFORE, CLOSES, MARKET, POSITIONS, rows_of

TABLES = ("positions.csv", "risk.csv", "stress.csv", "pnl.csv", "report.xlsx")


def book(out, *extra, positions=POSITIONS, market=MARKET, closes=CLOSES, **kwargs):
    return command("book", positions, "--market", market, "--closes", closes, "--out", out, *extra, **kwargs)


def write_positions(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def example_positions():
    return rows_of(POSITIONS)


def by_row(out):
    return {int(row["row"]): row for row in rows_of(out / "positions.csv")}


@pytest.mark.parametrize("change, message", [
    ({"spot": "5800"}, "spot comes from the market snapshot in a book: leave the column blank"),
    ({"quantity": ""}, "quantity is required in a book"),
    ({"quantity": "12.5"}, "quantity must be a whole number, got 12.5"),
    ({"quantity": "1,000"}, "quantity must be a plain number, without thousands separators"),
    ({"quantity": "ten"}, "quantity must be a number"),
    ({"trade_date": "2025-06-13"}, "trade_date 2025-06-13 is after the snapshot's as_of (2025-06-12)"),
    ({"trade_price": "-5"}, "trade_price must be"),
    ({"product": "swap"}, "product must be note, warrant or bullish_note"),
    ({"participation": "300%"}, "participation must be a fraction: 300% is 3"),
    ({"final_date": "2026-03-06"}, "payment_date must not be before final_date (2026-03-06), got 2026-03-05"),
])
def test_a_bad_position_fails_alone_and_says_why(tmp_path, change, message):
    rows = example_positions()
    rows[0] = {**rows[0], **change}
    result = book(tmp_path / "out", "--flat", positions=write_positions(tmp_path / "positions.csv", rows))
    assert result.returncode == 1, result.stderr
    positions = by_row(tmp_path / "out")
    assert positions[2]["status"] == "failed" and message in positions[2]["message"], positions[2]["message"]
    assert all(row["status"] != "failed" for number, row in positions.items() if number != 2)
    assert "row 2 (N-LIVE-1): " in result.stderr
    report = openpyxl.load_workbook(tmp_path / "out" / "report.xlsx")["Book"]
    texts = [cell.value for row in report.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert "Failed positions: 1" in texts and any(message in text for text in texts)


def test_one_deal_id_with_two_sets_of_terms_fails_every_row_of_it(tmp_path):
    rows = example_positions()
    rows[1] = {**rows[1], "buffer": "0.15"}
    result = book(tmp_path / "out", "--flat", positions=write_positions(tmp_path / "positions.csv", rows))
    positions = by_row(tmp_path / "out")
    same = [row for row in positions.values() if row["deal_id"] == "N-LIVE-1"]
    assert result.returncode == 1 and len(same) == 16
    assert all(row["status"] == "failed" and "is given different terms (rows 2, 3, 4" in row["message"]
               for row in same)


def test_positions_saved_as_an_xlsx_with_typed_cells_give_the_same_book(tmp_path):
    rows = example_positions()
    sheet_book = openpyxl.Workbook()
    sheet = sheet_book.active
    sheet.append(list(rows[0]))
    for row in rows:
        cells = []
        for name, value in row.items():
            if value and name.endswith(("date", "_start", "_end", "expiration", "settlement")):
                import datetime as dt
                cells.append(dt.datetime.fromisoformat(value))
            else:
                try:
                    cells.append(float(value) if value else None)
                except ValueError:
                    cells.append(value)
        sheet.append(cells)
    sheet_book.save(tmp_path / "positions.xlsx")
    assert book(tmp_path / "csv", "--flat").returncode == 0
    result = book(tmp_path / "xlsx", "--flat", positions=tmp_path / "positions.xlsx")
    assert result.returncode == 0, result.stderr
    for name in TABLES[:3]:
        assert (tmp_path / "csv" / name).read_bytes() == (tmp_path / "xlsx" / name).read_bytes()


def test_a_snapshot_without_a_surface_stops_the_run_before_the_folder_is_touched(tmp_path):
    snapshot = json.loads(MARKET.read_text())
    del snapshot["vol"]
    (tmp_path / "market.json").write_text(json.dumps(snapshot))
    out = tmp_path / "out"
    assert book(out, "--flat").returncode == 0
    before = {name: (out / name).read_bytes() for name in TABLES[:3]}
    result = book(out, "--flat", "--force", market=tmp_path / "market.json")
    assert result.returncode == 2
    assert "market snapshot market.json has no vol" in result.stderr
    assert {name: (out / name).read_bytes() for name in TABLES[:3]} == before


def test_closes_with_a_gap_stop_the_run_naming_the_dates(tmp_path):
    lines = CLOSES.read_text().splitlines()
    kept = [line for line in lines if not line.startswith(("2025-04-1", "2025-06-10"))]
    (tmp_path / "closes.csv").write_text("\n".join(kept) + "\n")
    result = book(tmp_path / "out", "--flat", closes=tmp_path / "closes.csv")
    assert result.returncode == 2
    assert "skips 7 scheduled trading day(s): 2025-04-10, 2025-04-11, 2025-04-14, 2025-04-15, 2025-04-16 and 2 " \
           "more" in result.stderr
    assert not (tmp_path / "out").exists()


def test_closes_that_stop_before_the_snapshot_s_date_are_refused(tmp_path):
    lines = CLOSES.read_text().splitlines()
    (tmp_path / "closes.csv").write_text("\n".join(lines[:-1]) + "\n")
    result = book(tmp_path / "out", "--flat", closes=tmp_path / "closes.csv")
    assert result.returncode == 2 and "add the close of 2025-06-12" in result.stderr


def test_a_previous_snapshot_must_be_earlier(tmp_path):
    result = book(tmp_path / "out", "--flat", "--previous", MARKET)
    assert result.returncode == 2 and "--previous snapshot's as_of (2025-06-12) must be before" in result.stderr


def test_a_rerun_is_up_to_date_and_forced_gives_the_same_digits(tmp_path):
    out = tmp_path / "out"
    assert book(out, "--flat", "--previous", BEFORE).returncode == 0
    first = {name: (out / name).read_bytes() for name in TABLES}
    again = book(out, "--flat", "--previous", BEFORE)
    assert again.returncode == 0 and "book up to date" in again.stdout
    forced = book(out, "--flat", "--previous", BEFORE, "--force")
    assert forced.returncode == 0 and "book written" in forced.stdout
    assert {name: (out / name).read_bytes() for name in TABLES} == first
    (out / "risk.csv").write_text("edited")
    assert "book written" in book(out, "--flat", "--previous", BEFORE).stdout  # a changed output is not up to date
    assert (out / "risk.csv").read_bytes() == first["risk.csv"]


def test_worker_processes_and_a_dask_local_cluster_give_the_same_digits(tmp_path):
    pytest.importorskip("dask.distributed")
    outputs = {}
    for name, extra in (("one", ()), ("jobs", ("--jobs", "2")), ("dask", ("--dask", "local", "--jobs", "2"))):
        result = book(tmp_path / name, "--flat", "--previous", BEFORE, *extra)
        assert result.returncode == 0, result.stderr
        outputs[name] = {table: (tmp_path / name / table).read_bytes() for table in TABLES}
    assert outputs["one"] == outputs["jobs"] == outputs["dask"]


def test_a_dask_address_that_does_not_answer_is_a_clear_error(tmp_path):
    pytest.importorskip("dask.distributed")
    result = book(tmp_path / "out", "--flat", "--dask", "tcp://127.0.0.1:9")
    assert result.returncode == 2 and "--dask tcp://127.0.0.1:9: the cluster cannot be reached" in result.stderr
    assert not (tmp_path / "out").exists()  # the cluster is reached before the folder is made


def test_relative_paths_from_another_folder(tmp_path):
    work = tmp_path / "desk"
    shutil.copytree(POSITIONS.parent, work / "inputs")
    result = command("book", "inputs/positions.csv", "--market", f"inputs/{MARKET.name}", "--closes",
                     "inputs/closes.csv", "--previous", f"inputs/{BEFORE.name}", "--out", "book", "--flat", cwd=work)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (work / "book").iterdir()) == [
        ".xlfuncs-quote.lock", "book.json", "pnl.csv", "positions.csv", "report.xlsx", "risk.csv", "stress.csv"]


def slow_run(tmp_path, out):
    """A book whose only deal is a warrant in its window under the smile: about a minute of work."""
    rows = [row for row in example_positions() if row["deal_id"] == "W-IN"][:1]
    positions = write_positions(tmp_path / "slow.csv", rows)
    process = subprocess.Popen([sys.executable, "-m", "xlfuncs", "book", str(positions), "--market", str(MARKET),
                                "--closes", str(CLOSES), "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(out.glob(".book-staging-*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert list(out.glob(".book-staging-*")), process.communicate()
    return process


def test_a_killed_run_leaves_nothing_that_looks_current_and_the_next_run_cleans_up(tmp_path):
    out = tmp_path / "out"
    assert book(out, "--flat").returncode == 0
    process = slow_run(tmp_path, out)
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    left = sorted(path.name for path in out.iterdir())
    assert [name for name in left if not name.startswith(".")] == []  # the old book was withdrawn first
    assert any(name.startswith(".book-staging-") for name in left)
    assert book(out, "--flat").returncode == 0
    assert sorted(path.name for path in out.iterdir()) == [
        ".xlfuncs-quote.lock", "book.json", "positions.csv", "report.xlsx", "risk.csv", "stress.csv"]


def test_two_runs_into_one_folder_the_second_is_refused(tmp_path):
    out = tmp_path / "out"
    process = slow_run(tmp_path, out)
    try:
        second = book(out, "--flat")
        assert second.returncode == 2
        assert "another xlfuncs run (quote or book) is writing there" in second.stderr
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


@pytest.mark.skipif(MISSING_PDF_TOOLS and not os.environ.get("XLFUNCS_REQUIRE_PDF"),
                    reason=f"needs LibreOffice and poppler ({', '.join(MISSING_PDF_TOOLS)} missing)")
def test_the_report_prints_to_one_pdf_page_with_its_numbers(tmp_path):
    from pypdf import PdfReader
    result = book(tmp_path / "out", "--flat", "--previous", BEFORE, "--pdf")
    assert result.returncode == 0, result.stderr
    reader = PdfReader(tmp_path / "out" / "report.pdf")
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    risk = {row["scope"]: row for row in rows_of(tmp_path / "out" / "risk.csv")}
    assert f"{float(risk['book']['market_value']):,.2f}" in text
    assert "Stress: change of the book's value" in text and "Failed positions: none" in text
