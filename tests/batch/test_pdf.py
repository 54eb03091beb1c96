"""--pdf: each quote printed by LibreOffice headless to a one-page PDF whose text holds the
deal's estimated value and breakeven; without LibreOffice, a clear error up front."""
import os
import re
import shutil
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from xlfuncs.batch import pdf, quotes
from xlfuncs.batch.quote_files import stored_stamp

from helpers import ROOT, example_rows, listing, needs_pdf_tools, summary, write_deals

IDS = ("N-101", "W-203", "B-401")


def pdf_text(path):
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pdf_pages(path):
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@pytest.fixture(scope="module")
def pdf_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pdf")
    rows = [r for r in example_rows() if r["deal_id"] in IDS]
    deals = write_deals(folder / "deals.csv", rows)
    result = subprocess.run([sys.executable, "-m", "xlfuncs", "quote", str(deals), "--out", str(folder / "out"),
                             "--pdf", "--jobs", "2"], capture_output=True, text=True, cwd=ROOT)
    return folder, result


@needs_pdf_tools
def test_every_quote_gets_a_one_page_pdf_showing_its_value_and_breakeven(pdf_run):
    folder, result = pdf_run
    assert result.returncode == 0, result.stderr
    out = folder / "out"
    assert listing(out) == sorted([f"{i}.{kind}" for i in IDS for kind in ("xlsx", "pdf")] + ["summary.csv"])
    rows = summary(out)
    for deal_id in IDS:
        path = out / f"{deal_id}.pdf"
        assert pdf_pages(path) == 1  # poppler's count
        assert pdf.stamp_of(path) == stored_stamp(out / f"{deal_id}.xlsx") is not None  # printed from its quote
        text = pdf_text(path)
        value, breakeven = float(rows[deal_id]["value"]), float(rows[deal_id]["breakeven"])
        assert f"${value:,.2f}" in text and f"{breakeven:,.2f}" in text, text
        assert rows[deal_id]["client"] in text and "Payout Diagram" in text
        assert "###" not in text  # nothing beside the page, no cell too narrow for its number
        assert rows[deal_id]["pdf"] == f"{deal_id}.pdf"


@needs_pdf_tools
def test_a_rerun_makes_missing_pdfs_and_drops_stale_ones(pdf_run, tmp_path):
    folder, _ = pdf_run
    out = tmp_path / "out"
    shutil.copytree(folder / "out", out)
    deals = folder / "deals.csv"
    (out / "N-101.pdf").unlink()
    records, _ = quotes.run(deals, out, make_pdf=True)
    assert {r["deal_id"]: r["status"] for r in records} == dict.fromkeys(IDS, "skipped")
    assert (out / "N-101.pdf").is_file() and pdf_pages(out / "N-101.pdf") == 1
    rows = [dict(r, vol="0.21") if r["deal_id"] == "W-203" else r for r in example_rows() if r["deal_id"] in IDS]
    records, _ = quotes.run(write_deals(tmp_path / "deals.csv", rows), out)  # no --pdf: W-203's old PDF goes
    assert {r["deal_id"]: r["status"] for r in records}["W-203"] == "written"
    assert not (out / "W-203.pdf").exists() and (out / "N-101.pdf").exists()


def fake_soffice(folder, script):
    folder.mkdir()
    path = folder / "soffice"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def test_a_pdf_that_cannot_be_made_fails_its_deal_and_withdraws_the_quote(tmp_path):
    env = fake_soffice(tmp_path / "bin", "echo 'soffice: cannot open display' >&2\nexit 1\n")
    rows = [r for r in example_rows() if r["deal_id"] == "N-101"]
    result = subprocess.run([sys.executable, "-m", "xlfuncs", "quote", str(write_deals(tmp_path / "d.csv", rows)),
                             "--out", str(tmp_path / "out"), "--pdf"], capture_output=True, text=True, cwd=ROOT,
                            env=env)
    assert result.returncode == 1
    assert "row 2 (N-101): its PDF was not made: soffice: cannot open display; its previous quote (N-101.xlsx) " \
           "was removed" in result.stderr
    assert listing(tmp_path / "out") == ["summary.csv"]


def test_without_libreoffice_pdf_fails_up_front_saying_what_to_install(tmp_path):
    python_only = tmp_path / "bin"
    python_only.mkdir()
    env = {**os.environ, "PATH": str(python_only)}
    result = subprocess.run([sys.executable, "-m", "xlfuncs", "quote", str(ROOT / "examples" / "deals.csv"),
                             "--out", str(tmp_path / "out"), "--pdf"], capture_output=True, text=True, cwd=ROOT,
                            env=env)
    assert result.returncode == 2 and pdf.INSTALL in result.stderr
    assert not (tmp_path / "out").exists()


@needs_pdf_tools
def test_a_relative_out_folder_as_users_type_it_gets_its_pdfs(tmp_path):
    """Was: `--out quotes --pdf` crashed in pdf.py (relative path can't be expressed as a file URI),
    a traceback, no PDFs, and a summary saying "written"."""
    write_deals(tmp_path / "deals.csv", [r for r in example_rows() if r["deal_id"] in IDS])
    result = subprocess.run([sys.executable, "-m", "xlfuncs", "quote", "deals.csv", "--out", "quotes", "--pdf"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    rows = summary(tmp_path / "quotes")
    assert {deal_id: row["pdf"] for deal_id, row in rows.items()} == {i: f"{i}.pdf" for i in IDS}
    assert all(pdf_pages(tmp_path / "quotes" / f"{i}.pdf") == 1 for i in IDS)


@needs_pdf_tools
def test_a_pdf_is_current_only_if_printed_from_the_quote_beside_it(pdf_run, tmp_path):
    """Was: a PDF was judged by its timestamp: B's PDF copied over A's, or a link to a PDF
    outside the folder, was "up to date" with another deal's quote in it."""
    folder, _ = pdf_run
    out = tmp_path / "out"
    shutil.copytree(folder / "out", out)
    outside = tmp_path / "elsewhere.pdf"
    shutil.copy(out / "B-401.pdf", outside)
    shutil.copy(out / "W-203.pdf", out / "N-101.pdf")  # B's PDF over A's, newer than A's quote
    (out / "W-203.pdf").unlink()
    (out / "W-203.pdf").symlink_to(outside)
    before = outside.read_bytes()
    records, _ = quotes.run(folder / "deals.csv", out, make_pdf=True)
    assert {r["deal_id"]: (r["status"], r["pdf"]) for r in records} == {i: ("skipped", f"{i}.pdf") for i in IDS}
    client = {r["deal_id"]: r["client"] for r in example_rows()}
    for deal_id in ("N-101", "W-203"):
        path = out / f"{deal_id}.pdf"
        assert not path.is_symlink() and pdf.stamp_of(path) == stored_stamp(out / f"{deal_id}.xlsx")
        assert client[deal_id] in pdf_text(path)
    assert outside.read_bytes() == before  # nothing outside the folder is touched
    edited = bytearray((out / "B-401.pdf").read_bytes())
    edited[len(edited) // 2] ^= 1  # one bit of the page changed
    (out / "B-401.pdf").write_bytes(bytes(edited))
    assert pdf.stamp_of(out / "B-401.pdf") is None


@needs_pdf_tools
def test_an_unexpected_error_in_the_pdf_step_fails_that_deal_only(tmp_path, monkeypatch):
    calls = []

    def broken_once(content, stamp):
        calls.append(stamp)
        if len(calls) == 1:
            raise RuntimeError("disk controller on fire")
        return real(content, stamp)

    real = pdf.stamped
    monkeypatch.setattr(pdf, "stamped", broken_once)
    rows = [r for r in example_rows() if r["deal_id"] in IDS]
    records, _ = quotes.run(write_deals(tmp_path / "deals.csv", rows), tmp_path / "out", make_pdf=True)
    failed = [r for r in records if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["message"].startswith(
        "its PDF could not be made: RuntimeError: disk controller on fire; its previous quote")
    assert sorted(r["pdf"] for r in records if r["status"] == "written") == sorted(
        f"{r['deal_id']}.pdf" for r in records if r["status"] == "written")


def object_stream_pdf(pages: int) -> bytes:
    """A PDF whose catalog, page tree and pages sit in a compressed object stream, with a
    cross-reference stream: no "/Type /Page" shows in its bytes."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{' '.join(f'{3 + i} 0 R' for i in range(pages))}] /Count {pages} >>",
               *(["<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * pages)]
    header, body, at = [], b"", 0
    for number, text in enumerate(objects, start=1):
        header.append(f"{number} {at}")
        body += text.encode() + b"\n"
        at = len(body)
    first = " ".join(header).encode() + b"\n"
    stream = zlib.compress(first + body)
    count = len(objects)
    out = b"%PDF-1.5\n"
    stream_offset = len(out)
    out += (f"{count + 1} 0 obj\n<< /Type /ObjStm /N {count} /First {len(first)} /Filter /FlateDecode "
            f"/Length {len(stream)} >>\nstream\n").encode() + stream + b"\nendstream\nendobj\n"
    rows = [b"\x00\x00\x00\xff\xff"] + [b"\x02" + (count + 1).to_bytes(2, "big") + i.to_bytes(2, "big")
                                          for i in range(count)]
    rows.append(b"\x01" + stream_offset.to_bytes(2, "big") + b"\x00\x00")
    xref_offset = len(out)
    table = zlib.compress(b"".join(rows))
    out += (f"{count + 2} 0 obj\n<< /Type /XRef /Size {count + 3} /W [1 2 2] /Root 1 0 R /Filter /FlateDecode "
            f"/Length {len(table)} >>\nstream\n").encode() + table + b"\nendstream\nendobj\n"
    out += f"startxref\n{xref_offset}\n%%EOF\n".encode()
    assert b"/Type /Page" not in out
    return out


def test_pages_are_counted_by_a_pdf_reader_even_inside_compressed_object_streams():
    """Was: a regex on the bytes counted /Type /Page, which compressed object streams hide."""
    stamp = f"{'a' * 64}:{'b' * 64}"
    one = pdf.stamped(object_stream_pdf(1), stamp)
    assert re.search(rb"xlfuncs a{64} b{64} [0-9a-f]{64}", one)
    with pytest.raises(ValueError, match="is 2 pages, not one"):
        pdf.stamped(object_stream_pdf(2), stamp)
    with pytest.raises(ValueError, match="cannot be read as a PDF"):
        pdf.stamped(b"%PDF-1.4 not really", stamp)


@needs_pdf_tools
def test_a_pdf_step_that_breaks_fails_its_deals_not_the_run(tmp_path, monkeypatch):
    """Anything unexpected in the PDF step itself: each deal without its PDF fails saying so, no traceback."""
    def broken(*args, **kwargs):
        raise RuntimeError("LibreOffice's launcher is out of order")

    monkeypatch.setattr(pdf, "Batch", broken)
    rows = [r for r in example_rows() if r["deal_id"] in IDS]
    records, summary_path = quotes.run(write_deals(tmp_path / "deals.csv", rows), tmp_path / "out", make_pdf=True)
    assert {r["status"] for r in records} == {"failed"} and summary_path.is_file()
    assert all(r["message"].startswith("its PDF could not be made: RuntimeError: LibreOffice's launcher is out of "
                                       "order; its previous quote") for r in records)
    assert listing(tmp_path / "out") == ["summary.csv"]


def alive(pid):
    """Whether a process runs (not gone, not a zombie waiting to be reaped)."""
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def processes_mentioning(text):
    """Pids of the processes whose command line mentions `text` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@needs_pdf_tools
@pytest.mark.skipif(sys.platform != "linux", reason="LibreOffice dies with the run on Linux (parent-death signal)")
def test_libreoffice_dies_with_a_killed_run_and_the_next_run_cleans_up(tmp_path):
    """Was: after kill -9 of a --pdf run, soffice.bin went on printing into the staging folder for
    a minute, and the next run failed with "[Errno 39] Directory not empty"."""
    rows = [{**row, "deal_id": f"K-{n}-{row['deal_id']}"} for n in range(2) for row in example_rows()]
    deals = write_deals(tmp_path / "deals.csv", rows)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "xlfuncs", "quote", str(deals), "--out", str(out), "--pdf"],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(out.glob(f"{pdf.STAGING}*/*.pdf")) and time.monotonic() < deadline:
        time.sleep(0.02)  # until LibreOffice is printing
    assert processes_mentioning(str(out / pdf.STAGING)), "LibreOffice is not printing"
    process.kill()
    process.wait()
    time.sleep(1.0)  # LibreOffice dies with the run at once; an orphan would still be printing
    assert [pid for pid in processes_mentioning(str(out / pdf.STAGING)) if alive(pid)] == []
    again = subprocess.run([sys.executable, "-m", "xlfuncs", "quote", str(deals), "--out", str(out), "--pdf"],
                           cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert not list(out.glob(f"{pdf.STAGING}*")) and len(list(out.glob("*.pdf"))) == len(rows)
