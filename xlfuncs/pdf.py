"""PDF quotes: each client workbook printed to a one-page PDF by LibreOffice headless.

Workbooks are converted in batches (one `soffice` process per batch, each with its own
profile so batches and other LibreOffice users never share one) into a staging folder in the
output folder; each PDF is checked (a PDF of exactly one page) and renamed into place.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .deals import DealListError

STAGING = ".pdf-staging-"
SECONDS_PER_FILE, SECONDS_PER_BATCH = 20, 60  # beyond these a LibreOffice process is taken to hang
PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
INSTALL = ("--pdf needs LibreOffice (its soffice command): install it, e.g. `sudo apt-get install "
           "libreoffice-calc` on Debian or Ubuntu, or put soffice on PATH")


def soffice() -> str:
    """The LibreOffice command, or a DealListError saying what to install."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise DealListError(INSTALL)
    return found


def pages(pdf: bytes) -> int:
    return len(PAGE.findall(pdf))


def convert(command: str, workbooks: list[Path], staging: Path) -> subprocess.Popen:
    """Start one LibreOffice process printing `workbooks` into `staging` (its own profile)."""
    profile = Path(tempfile.mkdtemp(prefix="xlfuncs-soffice-"))
    process = subprocess.Popen([command, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                                "--convert-to", "pdf", "--outdir", str(staging), *map(str, workbooks)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    process.profile = profile
    return process


def convert_quotes(command: str, out: Path, records: list[dict], jobs: int, check_stop) -> None:
    """A PDF beside each quote written this run, or quoted before but without a current PDF;
    a deal whose PDF cannot be made fails with the reason (its quote is then withdrawn)."""
    wanted = []
    for record in records:
        if record["status"] not in ("written", "skipped"):
            continue
        workbook, pdf = out / f"{record['stem']}.xlsx", out / f"{record['stem']}.pdf"
        if record["status"] == "written" or not pdf.is_file() or pdf.stat().st_mtime_ns < workbook.stat().st_mtime_ns:
            wanted.append(record)
    batches = [wanted[start::jobs] for start in range(jobs) if wanted[start::jobs]]
    staging = Path(tempfile.mkdtemp(prefix=STAGING, dir=out))
    try:
        processes = [(batch, convert(command, [out / f"{r['stem']}.xlsx" for r in batch], staging))
                     for batch in batches]
        for batch, process in processes:
            try:
                _, errors = process.communicate(timeout=SECONDS_PER_BATCH + SECONDS_PER_FILE * len(batch))
                problem = errors.decode(errors="replace").strip()[-300:] if process.returncode else ""
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                problem = "LibreOffice did not finish in time"
            finally:
                shutil.rmtree(process.profile, ignore_errors=True)
            for record in batch:
                place(record, staging / f"{record['stem']}.pdf", out, problem)
            check_stop()
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def place(record: dict, staged: Path, out: Path, problem: str) -> None:
    """Rename a checked PDF into place, or fail its deal saying why."""
    try:
        content = staged.read_bytes()
    except OSError:
        content = b""
    count = pages(content) if content.startswith(b"%PDF") else 0
    if count == 1:
        os.replace(staged, out / staged.name)
        record["pdf"] = staged.name
        return
    reason = (f"is {count} pages, not one" if count else
              f"was not made{': ' + problem if problem else ''}")
    for number in ("value", "breakeven", "delta", "gamma", "vega", "theta", "rho", "output"):
        record.pop(number, None)
    record.update(status="failed", message=f"its PDF {reason}")
