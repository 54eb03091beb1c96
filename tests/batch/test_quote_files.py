"""Never a corrupt, stale or leaked client file, whatever the deal list, the disk or the
processes do: each fault reproduced first, as the issue reported it."""
import datetime as dt
import errno
import re
import signal
import subprocess
import sys
import time
import zipfile

import openpyxl
import pytest

from xlfuncs.batch import quote_files, quotes
from xlfuncs.workbooks import xlsx

from helpers import (
    ROOT,
    alive,
    cli,
    example,
    example_rows,
    listing,
    running_children,
    start_big_run,
    summary,
    summary_rows,
    write_deals,
)


@pytest.mark.parametrize("client, character", [("Acme\x01 Fund", "U+0001"), ("Acme\x1b[31m", "U+001B"),
                                                ("Acme\x00", "U+0000"), ("Acme \ud800", "U+D800"),
                                                ("Acme \ufffe", "U+FFFE")])
def test_client_text_a_workbook_cannot_hold_fails_the_deal_clearly(tmp_path, client, character):
    """Was: an .xlsx that would not open, marked written (and up to date on rerun)."""
    deal = {k: v for k, v in example("N-101").items() if v}
    (tmp_path / "deals.yaml").write_text(
        "- " + "\n  ".join(f"{k}: {v!r}" if k != "client" else f'client: "{client.encode("unicode_escape").decode()}"'
                           for k, v in deal.items()) + "\n", encoding="utf-8")
    records, _ = quotes.run(tmp_path / "deals.yaml", tmp_path / "out")
    assert records[0]["status"] == "failed"
    assert records[0]["message"] == f"client holds the character {character}, which a workbook cannot hold; remove it"
    assert listing(tmp_path / "out") == ["summary.csv"]
    assert summary_rows(tmp_path / "out")[0]["status"] == "failed"  # the summary is written, whatever the text


def test_tabs_and_any_script_are_kept_and_a_line_break_fails_its_deal(tmp_path):
    """A line break in a cell that does not wrap draws its second line over the next row."""
    client = "Fondation\tÉlan 基金 — Ωmega 🙂"
    rows = [dict(example("N-101"), client=client), dict(example("N-102"), client="Fondation Élan\nLausanne")]
    records, _ = quotes.run(write_deals(tmp_path / "deals.csv", rows), tmp_path / "out")
    assert [r["status"] for r in records] == ["written", "failed"]
    assert openpyxl.load_workbook(tmp_path / "out" / "N-101.xlsx")["Quote"]["B4"].value == client
    assert records[1]["message"] == ("the quote's cell B4 is too narrow for 'Fondation Élan\\nLausanne': a line break "
                                     "in a cell that does not wrap would print over the next row; remove it")
    assert summary(tmp_path / "out")["N-102"]["client"] == "Fondation Élan\nLausanne"  # kept as given


def test_a_workbook_that_would_not_reopen_is_never_put_in_place(tmp_path, monkeypatch):
    """Every quote is checked to reopen before its rename: a broken one fails its deal only."""
    rows = [example("N-101"), example("W-201")]
    deals = write_deals(tmp_path / "deals.csv", rows)
    quotes.run(deals, tmp_path / "out")
    before = (tmp_path / "out" / "N-101.xlsx").read_bytes()
    filled = xlsx.Slots.filled
    monkeypatch.setattr(xlsx.Slots, "filled", lambda self, values: filled(self, values).replace(b"</sheetData>", b"", 1)
                        if "B4" in self.refs and values.get("B4") == "Broken" else filled(self, values))
    rows[0] = dict(rows[0], client="Broken")
    records, _ = quotes.run(write_deals(deals, rows), tmp_path / "out")
    by_id = {r["deal_id"]: r for r in records}
    assert by_id["N-101"]["status"] == "failed" and "does not reopen" in by_id["N-101"]["message"]
    assert by_id["W-201"]["status"] == "skipped"
    assert "its previous quote (N-101.xlsx) was removed" in by_id["N-101"]["message"]
    assert listing(tmp_path / "out") == ["W-201.xlsx", "summary.csv"] and before


def test_a_full_disk_fails_the_deals_it_hits_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    write = xlsx.write_package

    def full(handle, parts, when=None):
        if b"Alder" in b"".join(parts.values()):
            raise OSError(errno.ENOSPC, "No space left on device")
        return write(handle, parts, when)
    monkeypatch.setattr(xlsx, "write_package", full)
    rows = [example("N-101"), example("N-102"), example("W-201")]
    records, _ = quotes.run(write_deals(tmp_path / "deals.csv", rows), tmp_path / "out")
    by_id = {r["deal_id"]: r for r in records}
    assert by_id["N-102"]["status"] == "failed" and "No space left on device" in by_id["N-102"]["message"]
    assert listing(tmp_path / "out") == ["N-101.xlsx", "W-201.xlsx", "summary.csv"]


def test_a_deal_that_now_fails_withdraws_its_previous_quote(tmp_path):
    """Was: the old quote stayed in the folder, looking current."""
    rows = [example("N-101"), example("W-201")]
    deals = write_deals(tmp_path / "deals.csv", rows)
    quotes.run(deals, tmp_path / "out", make_pdf=False)
    (tmp_path / "out" / "W-201.pdf").write_bytes(b"%PDF an old one")
    rows[1] = dict(rows[1], vol="16.7")
    records, _ = quotes.run(write_deals(deals, rows), tmp_path / "out")
    failed = next(r for r in records if r["deal_id"] == "W-201")
    assert failed["message"] == ("vol must be a fraction: 16.7% is 0.167, got 16.7; its previous quote "
                                 "(W-201.xlsx, W-201.pdf) was removed")
    assert listing(tmp_path / "out") == ["N-101.xlsx", "summary.csv"]


def test_a_bad_row_never_withdraws_a_good_deal_s_quote_of_the_same_id(tmp_path):
    rows = [example("N-101"), dict(example("N-102"), deal_id="N-101", vol="16.7")]
    records, _ = quotes.run(write_deals(tmp_path / "deals.csv", rows), tmp_path / "out")
    assert [r["message"] for r in records] == ["duplicate deal_id (rows 2, 3)"] * 2
    assert listing(tmp_path / "out") == ["summary.csv"]


def test_a_long_deal_id_or_a_folder_in_the_way_fails_that_deal_only(tmp_path):
    """Was: a 237-character deal_id or a folder at an output path aborted the run with no summary."""
    rows = [dict(example("N-101"), deal_id="L" * 237), example("N-102"), example("W-201")]
    (tmp_path / "out" / "N-102.xlsx").mkdir(parents=True)
    code = quotes.main(write_deals(tmp_path / "deals.csv", rows), tmp_path / "out", 2, False, [])
    assert code == 1
    by_id = summary(tmp_path / "out")
    assert by_id["L" * 237]["message"].startswith("deal_id must name a file of at most 120 bytes in UTF-8, got 237")
    assert by_id["N-102"]["status"] == "failed" and by_id["N-102"]["message"].startswith("cannot write N-102.xlsx")
    assert by_id["W-201"]["status"] == "written"


def test_jobs_must_be_at_least_one():
    """Was: --jobs 0 and --jobs -3 accepted silently."""
    for jobs in ("0", "-3", "two"):
        result = cli(ROOT / "examples" / "deals.csv", "--out", "/nonexistent/never", "--jobs", jobs)
        assert result.returncode == 2 and f"--jobs: must be a whole number of at least 1, got '{jobs}'" in result.stderr
    with pytest.raises(quotes.DealListError, match="--jobs must be at least 1, got 0"):
        quotes.run(ROOT / "examples" / "deals.csv", "/nonexistent/never", jobs=0)


def test_help_lists_every_option():
    result = subprocess.run([sys.executable, "-m", "xlfuncs", "quote", "--help"], capture_output=True, text=True)
    for option in ("--out", "--jobs", "--force", "--pdf", "--author", "--company", "--template"):
        assert option in result.stdout
    assert "Exit status" in result.stdout


def test_leftover_temporary_files_are_cleaned(tmp_path):
    """Was: a .summary.csv.*.tmp left by a kill never cleaned up."""
    out = tmp_path / "out"
    out.mkdir()
    leftovers = [".summary.csv.abc123.tmp", ".N-101.xlsx.x1y2.tmp", ".N-101.pdf.q9.tmp"]
    for name in leftovers:
        (out / name).write_bytes(b"half")
    (out / ".pdf-staging-k1").mkdir()
    (out / ".pdf-staging-k1" / "N-101.pdf").write_bytes(b"half")
    (out / "notes.txt").write_text("a user's file stays")
    quotes.run(write_deals(tmp_path / "deals.csv", [example("N-101")]), out)
    assert listing(out) == ["N-101.xlsx", "notes.txt", "summary.csv"]


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_runs(tmp_path):
    """Was: two runs deleted each other's temporary files and one aborted."""
    rows = [{**row, "deal_id": f"C-{n}-{row['deal_id']}"} for n in range(6) for row in example_rows()]
    deals = write_deals(tmp_path / "deals.csv", rows)
    first = subprocess.Popen([sys.executable, "-m", "xlfuncs", "quote", str(deals), "--out", str(tmp_path / "out")],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list((tmp_path / "out").glob("*.xlsx")) and time.monotonic() < deadline:
        time.sleep(0.01)
    second = cli(deals, "--out", tmp_path / "out")
    assert first.wait(timeout=300) == 0, first.communicate()
    assert second.returncode == 2
    assert "another xlfuncs run (quote or book) is writing there; wait for it to finish or choose another --out" in second.stderr
    assert len(listing(tmp_path / "out")) == len(rows) + 1
    assert cli(deals, "--out", tmp_path / "out").returncode == 0  # and after it, a run goes ahead


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_run_stops_its_workers_and_still_writes_the_summary(tmp_path, number):
    """Was: SIGTERM left workers running; Ctrl-C kept quoting, then a traceback and no summary.csv."""
    process, rows = start_big_run(tmp_path)
    workers = running_children(process.pid)
    assert workers
    process.send_signal(number)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 128 + number, err
    assert "Traceback" not in err
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers)
    records = summary_rows(tmp_path / "out")
    statuses = [r["status"] for r in records]
    assert len(records) == len(rows) and set(statuses) == {"written", "not done"}
    written = {r["deal_id"] for r in records if r["status"] == "written"}
    assert {p.stem for p in (tmp_path / "out").glob("*.xlsx")} == written  # the summary says what was done
    assert re.search(rf"{len(rows)} deals: {len(written)} written, 0 up to date, 0 failed, "
                     rf"{len(rows) - len(written)} not done \(interrupted\)", out)
    resumed = cli(tmp_path / "deals.csv", "--out", tmp_path / "out")
    assert resumed.returncode == 0 and f"{len(written)} up to date" in resumed.stdout


def test_workers_die_with_a_killed_parent(tmp_path):
    """Was: SIGKILL to the parent left its --jobs workers running indefinitely."""
    process, _ = start_big_run(tmp_path)
    workers = running_children(process.pid)
    assert workers
    process.kill()
    process.communicate()
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers)
    assert cli(tmp_path / "deals.csv", "--out", tmp_path / "out").returncode == 0  # the lock died with it


def core_properties(path):
    with zipfile.ZipFile(path) as package:
        return package.read("docProps/core.xml").decode(), package.read("docProps/app.xml").decode()


def test_client_files_hold_no_desk_data_and_say_who_made_them_and_when(tmp_path):
    """Was: value and greeks as JSON in the metadata, author "openpyxl", dates fixed at 2025-01-01."""
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    out = tmp_path / "out"
    assert quotes.main(write_deals(tmp_path / "deals.csv", [example("N-101")]), out, 1, False, [],
                       "Jane Doe, Structured Sales", "Example & Co") == 0
    core, app = core_properties(out / "N-101.xlsx")
    numbers = summary(out)["N-101"]
    for column in ("value", "delta", "gamma", "vega", "theta", "rho"):
        assert numbers[column][:8] not in core + app
    assert "description" not in core and re.search(r"<dc:identifier>xlfuncs:[0-9a-f]{64}:[0-9a-f]{64}</dc:identifier>", core)
    assert "<dc:creator>Jane Doe, Structured Sales</dc:creator>" in core and "openpyxl" not in core + app
    assert "<Company>Example &amp; Co</Company>" in app
    wb = openpyxl.load_workbook(out / "N-101.xlsx")
    assert wb.properties.creator == "Jane Doe, Structured Sales" and wb.properties.title == "Bearish Buffer Securities"
    created = wb.properties.created.replace(tzinfo=dt.timezone.utc)
    assert before <= created <= dt.datetime.now(dt.timezone.utc) and wb.properties.modified == wb.properties.created
    with zipfile.ZipFile(out / "N-101.xlsx") as package:
        assert dt.datetime(*package.infolist()[0].date_time).date() >= before.date() - dt.timedelta(days=1)


def test_without_an_author_the_files_name_none(tmp_path):
    quotes.run(write_deals(tmp_path / "deals.csv", [example("N-101")]), tmp_path / "out")
    core, app = core_properties(tmp_path / "out" / "N-101.xlsx")
    assert "creator" not in core and "lastModifiedBy" not in core and "Company" not in app


def test_a_new_author_rebuilds_the_quotes(tmp_path):
    deals = write_deals(tmp_path / "deals.csv", [example("N-101")])
    assert [r["status"] for r in quotes.run(deals, tmp_path / "out")[0]] == ["written"]
    assert [r["status"] for r in quotes.run(deals, tmp_path / "out")[0]] == ["skipped"]
    again = quotes.run(deals, tmp_path / "out", properties=quote_files.Properties("Someone Else"))[0]
    assert [r["status"] for r in again] == ["written"]


def test_a_quote_of_an_optional_term_left_out_uses_its_default_not_the_template_s_example(tmp_path):
    """A warrant deal without closes (before its window): the quote must not show the template's
    example closes' lookback, nor a note without principal the template's."""
    warrant = dict(example("W-201"), closes="", as_of="2025-05-20", spot="5800")
    records, _ = quotes.run(write_deals(tmp_path / "deals.csv", [warrant]), tmp_path / "out")
    assert records[0]["status"] == "written", records[0]["message"]
    ws = openpyxl.load_workbook(tmp_path / "out" / "W-201.xlsx")["Quote"]
    fields = {row[0]: row[1] for row in ws.iter_rows(min_col=1, max_col=2, values_only=True) if row[0]}
    assert fields["Lookback underlying value"] == float(warrant["initial"])
    assert fields["Estimated value"] == pytest.approx(records[0]["value"], rel=1e-12)


def test_a_folder_where_the_summary_belongs_stops_the_run_before_any_quote(tmp_path):
    """Was: exit 2 ("nothing written") after the quotes were written, the failed deal reported nowhere."""
    (tmp_path / "out" / "summary.csv").mkdir(parents=True)
    result = cli(write_deals(tmp_path / "deals.csv", [example("N-101")]), "--out", tmp_path / "out")
    assert result.returncode == 2 and "summary.csv: the summary cannot be written there" in result.stderr
    assert listing(tmp_path / "out") == ["summary.csv"]  # the folder, and no quote


def test_a_link_planted_as_the_lock_is_refused_and_nothing_outside_is_created(tmp_path):
    """Was: a dangling symlink at .xlfuncs-quote.lock made every run create a file outside --out."""
    out, target = tmp_path / "out", tmp_path / "elsewhere" / "planted"
    out.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (out / quotes.LOCK).symlink_to(target)
    result = cli(write_deals(tmp_path / "deals.csv", [example("N-101")]), "--out", out)
    assert result.returncode == 2 and f"{quotes.LOCK}: is a link; remove it" in result.stderr
    assert not target.exists() and listing(out) == []


def test_a_killed_run_leaves_a_summary_saying_nothing_is_done(tmp_path):
    """Was: a run killed a few seconds in left the previous summary.csv, up to 289 of 300 rows
    "written" with values their quotes no longer showed."""
    process, rows = start_big_run(tmp_path)
    out = tmp_path / "out"
    assert (out / "summary.csv").is_file()  # the run started: its summary replaced the old one
    process.kill()
    process.communicate()
    lines = summary_rows(out)
    assert len(lines) == len(rows) and {(r["status"], r["message"]) for r in lines} == {("not done", quotes.UNFINISHED)}


def test_a_template_s_desk_notes_never_reach_the_client(tmp_path):
    """Was: notes beside the page went to the hidden chart-data sheet, notes below it stayed."""
    wb = openpyxl.load_workbook(ROOT / "workbooks" / "bearish_buffer_note.xlsx")
    ws = wb["Quote"]
    last_row = int(ws.print_area.split("$")[-1])
    ws["Z3"] = "Desk: client pays 40bp over mid"  # beside the page
    ws[f"A{last_row + 5}"] = "Desk: do not show, margin 1.2%"  # below it
    ws["C8"] = "Desk: hidden row note 0.7%"  # in a row we hide
    ws.row_dimensions[8].hidden = True
    ws["E4"] = "Desk: white on white"
    ws["E4"].font = openpyxl.styles.Font(color="FFFFFFFF")
    template = tmp_path / "desk.xlsx"
    wb.save(template)
    result = cli(write_deals(tmp_path / "deals.csv", [example("N-101")]), "--out", tmp_path / "out", "--template",
                 f"note={template}")
    assert result.returncode == 0, result.stderr
    client = openpyxl.load_workbook(tmp_path / "out" / "N-101.xlsx")
    texts = [c.value for sheet in client.worksheets for row in sheet.iter_rows() for c in row
             if isinstance(c.value, str)]
    assert not [text for text in texts if "Desk" in text]
    with zipfile.ZipFile(tmp_path / "out" / "N-101.xlsx") as package:
        assert not [name for name in package.namelist() if b"Desk" in package.read(name)]
    data = client["Chart data"]
    charted = {ref.f.split("!")[1].replace("$", "") for chart in client["Quote"]._charts for series in chart.series
               for ref in (series.xVal.numRef, series.yVal.numRef)}
    cells = {c.coordinate for row in data.iter_rows() for c in row if c.value is not None}
    assert cells <= {cell for ref in charted for cell in xlsx.range_cells(ref)}  # the chart's data, nothing else


@pytest.mark.parametrize("client, fits", [("Harbor Pension Trust", True), ("A" * 40, True),
                                          ("The Very Long Name Retirement Fund of the Municipal Employees of "
                                           "Springfield County (Class B)", False), ("W" * 46, False),
                                          ("\u01c4" * 52, False)])  # Ǆ, a letter of two
def test_client_text_wider_than_its_printed_cell_fails_the_deal_instead_of_being_cut(tmp_path, client, fits):
    """Was: a client name longer than its cell and the empty cells beside it was cut off without a word."""
    records, _ = quotes.run(write_deals(tmp_path / "deals.csv", [dict(example("N-101"), client=client)]),
                            tmp_path / "out")
    if fits:
        assert records[0]["status"] == "written", records[0]["message"]
    else:
        assert records[0]["status"] == "failed"
        assert records[0]["message"].startswith(f"the quote's cell B4 is too narrow for {client[:40]!r}")
        assert "the page would cut it off; shorten it" in records[0]["message"]
