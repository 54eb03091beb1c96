"""The daily book: `xlfuncs book POSITIONS --market SNAPSHOT --closes CLOSES --out DIR` marks every
position on the snapshot and writes positions.csv, risk.csv, stress.csv, with --previous
pnl.csv, and report.xlsx (report.pdf with --pdf) into DIR, with book.json, the run's manifest.

Inputs are read and checked before the folder is touched (a bad snapshot, closes history or
positions file stops the run, exit 2; a bad position fails only itself). Under the folder's
lock the old outputs are removed, so a run killed at any moment leaves nothing that looks
current; the new files are written into a staging folder and moved into place at the end,
book.json last (the fingerprint of every input and of the code: a run on the same inputs finds
the book up to date). Deals are valued in partitions of about PARTITION positions (runner.py),
here or on a Dask cluster, with the same digits.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from ..batch.cluster import ClusterError
from ..batch.deals import DealListError
from ..batch.quote_files import code_digest, safe_text
from ..batch.quotes import folder_lock, output_folder
from ..batch.snapshot import read_snapshot
from ..core.calendar import trading_days
from ..core.fields import TermError
from ..workbooks.xlsx import write_atomically
from . import ledger, report, runner
from .marks import Context, Day
from .positions import read_history, read_positions

MANIFEST = "book.json"
OUTPUTS = ("positions.csv", "risk.csv", "stress.csv", "pnl.csv", "report.xlsx", "report.pdf")
STAGING = ".book-staging-"
COLUMNS = {"positions.csv": ledger.POSITION_COLUMNS, "risk.csv": ledger.RISK_COLUMNS,
           "stress.csv": ledger.STRESS_COLUMNS, "pnl.csv": ledger.PNL_COLUMNS}


def csv_bytes(rows: list[dict], columns) -> bytes:
    """A CSV file of rows (UTF-8 with a byte order mark, as Excel reads it): floats in full
    (repr: the same digits read back), text never taken for a formula."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: shown(row.get(key, "")) for key in columns})
    return ("\ufeff" + text.getvalue()).encode("utf-8", "backslashreplace")


def shown(value):
    if isinstance(value, float):
        return repr(value)
    return safe_text(value)


def fingerprint(paths: dict, options: dict) -> str:
    """A digest of every input file's bytes, the options and the code."""
    digest = hashlib.sha256(code_digest().encode())
    for name, path in sorted(paths.items()):
        digest.update(name.encode())
        digest.update(hashlib.sha256(Path(path).read_bytes()).digest() if path else b"-")
    digest.update(json.dumps(options, sort_keys=True).encode())
    return digest.hexdigest()


def up_to_date(out: Path, stamp: str, names: set[str]) -> bool:
    """Whether the folder holds a complete book of this fingerprint: the files `names`, each as written."""
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        return manifest.get("fingerprint") == stamp and set(manifest["files"]) == names and all(
            hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
            for name, digest in manifest["files"].items())
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return False


def period_start(as_of: dt.date, previous: Day | None) -> dt.date:
    """The day after which payments are this run's cash: the previous snapshot's date, or the
    trading day before as_of."""
    if previous is not None:
        return previous.as_of
    days = trading_days(as_of - dt.timedelta(days=10), as_of - dt.timedelta(days=1))
    return days[-1]


def run(positions_path: Path, market_path: Path, closes_path: Path, out: Path, previous_path: Path | None = None,
        jobs: int = 1, dask: str | None = None, flat: bool = False, make_pdf: bool = False, force: bool = False,
        notes: list | None = None) -> dict:
    """Mark the book; returns a summary (counts, the folder, whether it was up to date)."""
    notes = notes if notes is not None else []
    paths = {"positions": positions_path, "market": market_path, "closes": closes_path, "previous": previous_path}
    paths = {name: Path(os.path.abspath(path)) if path else None for name, path in paths.items()}
    out = Path(os.path.abspath(out))
    owned = {os.path.realpath(out / name) for name in (MANIFEST, *OUTPUTS)}
    for name, path in paths.items():
        if path and os.path.realpath(path) in owned:
            raise DealListError(f"{path}: the {name} file would be replaced by the book's own {path.name}: keep the "
                                "inputs outside --out")
    try:
        stamp = fingerprint(paths, {"flat": flat, "pdf": make_pdf})  # before reading: a file saved since is new
    except OSError as error:
        raise DealListError(f"cannot read an input: {error}") from None
    snapshot = read_snapshot(paths["market"])
    before = read_snapshot(paths["previous"]) if paths["previous"] else None
    for values, option in ((snapshot, "--market"), (before, "--previous")):
        if values is not None and not trading_days(values["as_of"], values["as_of"]):
            raise TermError(f"{option} snapshot's as_of {values['as_of'].isoformat()} is no scheduled trading day: "
                            "a book is marked after a trading day's close")
    if before is not None and before["as_of"] >= snapshot["as_of"]:
        raise TermError(f"--previous snapshot's as_of ({before['as_of'].isoformat()}) must be before the market "
                        f"snapshot's ({snapshot['as_of'].isoformat()})")
    history = read_history(paths["closes"], notes)
    try:
        history.reaching(snapshot["as_of"])
    except TermError as error:
        raise DealListError(f"{paths['closes']}: {error}") from None
    soffice = None
    if make_pdf:
        from ..batch import pdf
        soffice = pdf.soffice()
    positions, failures, deals = read_positions(paths["positions"], snapshot, notes)
    previous = Day(before, before["as_of"]) if before else None
    context = Context(Day(snapshot, period_start(snapshot["as_of"], previous)), previous, history, flat)
    summary = {"positions": len(positions) + len(failures), "deals": len(deals), "out": out}
    with output_folder(out, dask, jobs) as cluster:
        return marked(out, stamp, force, summary, deals, positions, failures, context, paths, soffice, jobs, cluster,
                      {"fingerprint": stamp, "as_of": snapshot["as_of"].isoformat(),
                       "inputs": {name: str(path) if path else None for name, path in paths.items()},
                       "options": {"flat": flat, "pdf": make_pdf}})


def marked(out: Path, stamp: str, force: bool, summary: dict, deals, positions, failures, context: Context,
           paths: dict, soffice, jobs: int, cluster, manifest: dict) -> dict:
    """The book written into `out` under its lock (or found up to date): `summary` with "failed"."""
    with folder_lock(out):
        for leftover in out.glob(f"{STAGING}*"):
            shutil.rmtree(leftover, ignore_errors=True)
        names = {*OUTPUTS[:3], "report.xlsx", *(["pnl.csv"] if context.previous else []),
                 *(["report.pdf"] if soffice else [])}
        if not force and up_to_date(out, stamp, names):
            with (out / "positions.csv").open(encoding="utf-8-sig", newline="") as handle:
                failed = [row for row in csv.DictReader(handle) if row["status"] == "failed"]
            return {**summary, "up_to_date": True, "failed": failed}
        for name in (MANIFEST, *OUTPUTS):
            try:
                (out / name).unlink(missing_ok=True)  # a killed run leaves nothing that looks current
            except OSError as error:
                raise DealListError(f"{out / name}: an old output cannot be removed: {error}") from None
        staging = Path(tempfile.mkdtemp(prefix=STAGING, dir=out))
        try:
            marks = runner.mark_all(deals, weights(positions, len(deals)), context, staging, jobs, cluster)
            written = write_outputs(staging, positions, failures, marks, context, paths, soffice)
            for name in written:
                os.replace(staging / name, out / name)
            failed = [row for row in written["positions.csv"] if row["status"] == "failed"]
            manifest = {**manifest, "failed": len(failed),
                        "files": {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in written}}
            write_atomically(out / MANIFEST, lambda handle: handle.write(json.dumps(manifest, indent=1).encode()))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return {**summary, "up_to_date": False, "failed": failed}


def weights(positions, count: int) -> list[int]:
    """How many positions hold each deal."""
    held = [0] * count
    for position in positions:
        held[position.deal] += 1
    return held


def write_outputs(staging: Path, positions, failures, marks, context: Context, paths: dict, soffice) -> dict:
    """The book's files in `staging`; returns the rows of each CSV by file name (and the report's names)."""
    spot, as_of = context.today.market["spot"], context.today.as_of
    tables = {"positions.csv": ledger.position_rows(positions, failures, marks, spot)}
    tables["risk.csv"] = ledger.risk_rows(tables["positions.csv"], marks, positions, as_of)
    tables["stress.csv"] = ledger.stress_rows(positions, marks)
    if context.previous is not None:
        tables["pnl.csv"] = ledger.explain(positions, marks, context)
    for name, rows in tables.items():
        (staging / name).write_bytes(csv_bytes(rows, COLUMNS[name]))
    report.write(staging / "report.xlsx", tables, context, paths)
    tables["report.xlsx"] = []
    if soffice:
        report.print_pdf(soffice, staging, "report.xlsx")
        tables["report.pdf"] = []
    return tables


def main(positions: Path, market: Path, closes: Path, out: Path, previous: Path | None, jobs: int, dask: str | None,
         flat: bool, make_pdf: bool, force: bool) -> int:
    started = time.perf_counter()
    notes: list[str] = []
    try:
        summary = run(positions, market, closes, out, previous, jobs, dask, flat, make_pdf, force, notes)
    except (DealListError, TermError, OSError, ClusterError) as error:
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        print(f"xlfuncs book: {error}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for row in summary["failed"]:
        print(f"row {row['row']} ({row['deal_id'] or 'no deal_id'}): {row['message']}", file=sys.stderr)
    if summary["up_to_date"]:
        print(f"book up to date in {summary['out']} (same inputs and code; --force to mark it again), "
              f"{len(summary['failed'])} positions failed")
        return 1 if summary["failed"] else 0
    print(f"{summary['positions']} positions over {summary['deals']} deals, {len(summary['failed'])} failed: book "
          f"written in {summary['out']} ({time.perf_counter() - started:.1f} s)")
    return 1 if summary["failed"] else 0
