"""PDF quotes: each client workbook printed to a one-page PDF by LibreOffice headless.

Workbooks are converted in batches (one `soffice` process per batch, each with its own
profile so batches and other LibreOffice users never share one) into a staging folder in the
output folder; each PDF is checked (a PDF of exactly one page) and renamed into place.
LibreOffice runs in its own session (a Ctrl-C reaches the run, which stops it) and, on
Linux, dies with the run.
"""
from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .deals import DealListError
from .quote_book import NUMBERS

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


def die_with_parent() -> None:
    """In a LibreOffice child on Linux: be killed when the run's process dies, however it dies."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


PR_SET_PDEATHSIG = 1


class Batch:
    """One LibreOffice process printing some quotes into the staging folder, with its own
    profile and error log there (a killed run leaves nothing elsewhere)."""

    def __init__(self, command: str, records: list[dict], out: Path, staging: Path, number: int):
        self.records, self.profile = records, staging / f"profile-{number}"
        self.log = staging / f"errors-{number}.txt"
        self.deadline = time.monotonic() + SECONDS_PER_BATCH + SECONDS_PER_FILE * len(records)
        with self.log.open("wb") as errors:
            self.process = subprocess.Popen(
                [command, f"-env:UserInstallation={self.profile.as_uri()}", "--headless", "--norestore",
                 "--convert-to", "pdf", "--outdir", str(staging), *(str(out / f"{r['stem']}.xlsx") for r in records)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                start_new_session=True,  # a Ctrl-C at the terminal reaches the run, which stops it
                preexec_fn=die_with_parent if sys.platform == "linux" else None)

    def problem(self) -> str:
        """Why PDFs may be missing: LibreOffice's own words if it failed."""
        if self.process.returncode == 0:
            return ""
        return self.log.read_text(errors="replace").strip()[-300:] or f"LibreOffice exited with {self.process.returncode}"

    def stop(self) -> None:
        """Kill the batch's LibreOffice processes: the launcher and what it started (its session)."""
        if os.name == "posix":
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        elif self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def convert_quotes(command: str, out: Path, records: list[dict], jobs: int, check_stop) -> None:
    """A PDF beside each quote written this run, or quoted before but without a current PDF. A
    deal whose PDF cannot be made fails with the reason (its quote is then withdrawn); when the
    run is interrupted, the PDFs not yet made are said to be missing, the quotes stay."""
    wanted = []
    for record in (r for r in records if r["status"] in ("written", "skipped")):
        if current(out / f"{record['stem']}.pdf", out / f"{record['stem']}.xlsx"):
            record["pdf"] = f"{record['stem']}.pdf"
        else:
            wanted.append(record)
    staging = Path(tempfile.mkdtemp(prefix=STAGING, dir=out))
    batches = []
    try:
        for number in range(min(jobs, len(wanted))):
            batches.append(Batch(command, wanted[number::jobs], out, staging, number))
        running = list(batches)
        while running:
            check_stop()
            for batch in list(running):
                if batch.process.poll() is None and time.monotonic() < batch.deadline:
                    continue
                running.remove(batch)
                problem = batch.problem() if batch.process.poll() is not None else "LibreOffice did not finish in time"
                batch.stop()
                for record in batch.records:
                    place(record, staging / f"{record['stem']}.pdf", out, problem)
            time.sleep(0.05)
    finally:  # after an interruption: LibreOffice stopped, the quotes kept, their PDFs said missing
        for batch in batches:
            batch.stop()
            for record in batch.records:
                if "pdf" not in record and record["status"] != "failed":
                    record["message"] = "its PDF was not made: the run was interrupted; run it again with --pdf"
        shutil.rmtree(staging, ignore_errors=True)


def current(pdf: Path, workbook: Path) -> bool:
    """A PDF at least as new as its workbook (a rewritten quote's old PDF is removed at once)."""
    try:
        return pdf.is_file() and pdf.stat().st_mtime_ns >= workbook.stat().st_mtime_ns
    except OSError:
        return False


def place(record: dict, staged: Path, out: Path, problem: str) -> None:
    """Rename a checked PDF into place, or fail its deal saying why."""
    try:
        content = staged.read_bytes()
    except OSError:
        content = b""
    count = pages(content) if content.startswith(b"%PDF") else 0
    if count == 1:
        try:
            os.replace(staged, out / staged.name)
            record["pdf"] = staged.name
            return
        except OSError as error:
            reason = f"could not be put in place: {error}"
    else:
        reason = f"is {count} pages, not one" if count else f"was not made{': ' + problem if problem else ''}"
    for key in (*NUMBERS, "output"):
        record.pop(key, None)
    record.update(status="failed", message=f"its PDF {reason}")
