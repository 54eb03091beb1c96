"""PDF quotes: each client workbook printed to a one-page PDF by LibreOffice headless.

Workbooks are converted in batches of at most BATCH_FILES (LibreOffice silently stops after
about 250 files of one command line), one `soffice` process per batch and at most `jobs` at
once, each with its own profile, into a staging folder in the output folder. Each PDF is read
with pypdf, checked to be one page, stamped with the fingerprint and content digest of the
workbook it was printed from and a digest of itself, and renamed into place: a rerun keeps a
PDF only if it is ours, unchanged, and printed from the quote beside it. LibreOffice runs in
its own session (a Ctrl-C reaches the run, which stops it) and, on Linux, dies with the run.
"""
from __future__ import annotations

import ctypes
import hashlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..workbooks.xlsx import write_atomically
from .deals import DealListError
from .quote_files import NUMBERS

STAGING = ".pdf-staging-"
BATCH_FILES = 200
SECONDS_PER_FILE, SECONDS_PER_BATCH = 20, 60  # beyond these a LibreOffice process is taken to hang
INSTALL = ("--pdf needs LibreOffice (its soffice command): install it, e.g. `sudo apt-get install "
           "libreoffice-calc` on Debian or Ubuntu, or put soffice on PATH")
STAMP_KEY = "/XlfuncsQuote"
STAMP = re.compile(rb"xlfuncs ([0-9a-f]{64}) ([0-9a-f]{64}) ([0-9a-f]{64})")
UNSIGNED = "0" * 64


def soffice() -> str:
    """The LibreOffice program, or a DealListError saying what to install: soffice.bin beside
    the `soffice` command where there is one (Linux), so that the process the run starts is the
    one that prints and dies with the run (the command is a script whose launcher starts
    soffice.bin as a child of its own, which a killed run would leave printing)."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise DealListError(INSTALL)
    program = Path(os.path.realpath(found)).with_name("soffice.bin")
    return str(program) if program.is_file() and os.access(program, os.X_OK) else found


RESTART = 81  # soffice.bin's exit status after it has set up a new profile: it asks to be started again


def stamped(pdf: bytes, stamp: str) -> bytes:
    """A one-page PDF with `stamp` (its workbook's "fingerprint:content digest") and a digest of
    the PDF itself in its document information, or a ValueError saying what is wrong with it."""
    from pypdf import PdfReader, PdfWriter  # here: only --pdf runs need it
    from pypdf.errors import PdfReadError
    try:
        reader = PdfReader(io.BytesIO(pdf))
        pages = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"cannot be read as a PDF ({error})") from None
    if pages != 1:
        raise ValueError(f"is {pages} pages, not one")
    writer = PdfWriter(clone_from=reader)
    unsigned = f"xlfuncs {stamp.replace(':', ' ')} {UNSIGNED}"
    writer.add_metadata({STAMP_KEY: unsigned})
    with io.BytesIO() as buffer:
        writer.write(buffer)
        data = buffer.getvalue()
    if data.count(unsigned.encode()) != 1:
        raise ValueError("could not be stamped")
    return data.replace(unsigned.encode(), unsigned[:-64].encode() + hashlib.sha256(data).hexdigest().encode())


def stamp_of(path: Path) -> str | None:
    """The "fingerprint:content digest" of the workbook a PDF was printed from, if the PDF is a
    file of ours (not a link) unchanged since it was stamped; else None."""
    try:
        if path.is_symlink() or not path.is_file():
            return None
        data = path.read_bytes()
    except OSError:
        return None
    found = list(STAMP.finditer(data))
    if len(found) != 1:
        return None
    match = found[0]
    unsigned = data[:match.start(3)] + UNSIGNED.encode() + data[match.end(3):]
    if hashlib.sha256(unsigned).hexdigest().encode() != match[3]:
        return None
    return f"{match[1].decode()}:{match[2].decode()}"


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
        self.arguments = [command, f"-env:UserInstallation={self.profile.as_uri()}", "--headless", "--norestore",
                          "--convert-to", "pdf", "--outdir", str(staging), *(str(out / r["output"]) for r in records)]
        self.start()

    def start(self) -> None:
        with self.log.open("ab") as errors:
            self.process = subprocess.Popen(
                self.arguments, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                start_new_session=True,  # a Ctrl-C at the terminal reaches the run, which stops it
                preexec_fn=die_with_parent if sys.platform == "linux" else None)

    def running(self) -> bool:
        """Whether the batch is still printing (started again once after setting up its profile)."""
        if self.process.poll() == RESTART and not getattr(self, "restarted", False):
            self.restarted = True
            self.start()
        return self.process.poll() is None and time.monotonic() < self.deadline

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


def print_quotes(command: str, out: Path, records: list[dict], jobs: int, check_stop) -> None:
    """A PDF beside each quote of `records` written or kept this run, unless the one there is
    current (a worker said so: "pdf_current"). A deal whose PDF cannot be made fails with the
    reason (its quote is then withdrawn). When the run is asked to stop (check_stop raises),
    LibreOffice is stopped and the records of the PDFs not made are left without "pdf"."""
    wanted = []
    for record in (r for r in records if r["status"] in ("written", "skipped")):
        if record.pop("pdf_current", False):
            record["pdf"] = f"{record['stem']}.pdf"
        else:
            wanted.append(record)
    if not wanted:
        return
    batches = [wanted[start:start + BATCH_FILES] for start in range(0, len(wanted), BATCH_FILES)]
    staging = Path(tempfile.mkdtemp(prefix=STAGING, dir=out))
    running: list[Batch] = []
    try:
        for number, batch in enumerate(batches):
            while len(running) >= jobs:
                running = finished(running, staging, out, check_stop)
            try:
                running.append(Batch(command, batch, out, staging, number))
            except OSError as error:
                for record in batch:
                    fail(record, f"was not made: LibreOffice could not be started: {error}")
        while running:
            running = finished(running, staging, out, check_stop)
    finally:  # after an interruption: LibreOffice stopped, nothing staged left
        for batch in running:
            batch.stop()
        shutil.rmtree(staging, ignore_errors=True)


def finished(running: list[Batch], staging: Path, out: Path, check_stop) -> list[Batch]:
    """Wait a moment for the running batches; place the PDFs of those that ended. Returns the
    batches still running."""
    check_stop()
    time.sleep(0.05)
    still = []
    for batch in running:
        if batch.running():
            still.append(batch)
            continue
        problem = batch.problem() if batch.process.poll() is not None else "LibreOffice did not finish in time"
        batch.stop()
        for record in batch.records:
            place(record, staging / f"{record['stem']}.pdf", out, problem)
    return still


def place(record: dict, staged: Path, out: Path, problem: str) -> None:
    """Put a staged PDF in place, stamped with its quote's stamp, or fail its deal saying why;
    anything unexpected fails the deal too, never the run."""
    try:
        try:
            content = staged.read_bytes()
        except FileNotFoundError:
            fail(record, f"was not made{': ' + problem if problem else ''}")
            return
        try:
            content = stamped(content, record["stamp"])
        except ValueError as error:
            fail(record, str(error))
            return
        target = out / staged.name
        if target.is_dir() and not target.is_symlink():
            fail(record, f"could not be put in place: {target.name} is a folder")
            return
        write_atomically(target, lambda handle: handle.write(content))
        record["pdf"] = staged.name
    except Exception as error:  # a fault of ours or of the disk: this deal fails, saying so
        fail(record, f"could not be made: {type(error).__name__}: {error}")


def fail(record: dict, reason: str) -> None:
    for key in (*NUMBERS, "output"):
        record.pop(key, None)
    record.update(status="failed", message=f"its PDF {reason}")
