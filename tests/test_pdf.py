"""--pdf: each quote printed by LibreOffice headless to a one-page PDF whose text holds the
deal's estimated value and breakeven; without LibreOffice, a clear error up front."""
import os
import shutil
import subprocess
import sys

import pytest

from xlfuncs import pdf, quotes
from xlfuncs.quote_book import stored_stamp

from test_quotes import ROOT, example_rows, listing, summary, write_deals

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
