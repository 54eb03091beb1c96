"""Batch client quotes: `xlfuncs quote DEALS --out DIR` turns a deal list (deals.py) into one
client workbook per deal (quote_files.py), optionally a PDF of each (pdf.py), and a summary.csv.

Values, greeks and breakevens come from xlfuncs (each product's quote). A bad deal is reported
with its row and reason, its previous quote is removed, and every good deal is still produced.
An unchanged deal whose workbook is up to date is skipped, so a run that was stopped can simply
be run again. One run at a time writes into a folder.

The list is read as a stream, never held: first for the deals' ids (every row must be readable
before anything is written; rows naming the same file all fail); then, under the folder's lock,
to replace the old summary by one calling every deal "not done", so a run killed at any moment
leaves no summary that looks current; then in chunks, which worker processes quote (each
parses, checks and writes its deals), printed to PDF chunk by chunk, their rows streamed into
the new summary. An interrupted run (Ctrl-C, SIGTERM, SIGHUP) finishes the
deals in progress, stops its workers and still writes the summary.
"""
from __future__ import annotations

import errno
import hashlib
import itertools
import os
import shutil
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ..core.fields import TermError
from ..products import BY_KEY, PRODUCTS
from ..products.layout import template_folder
from ..workbooks import xlsx
from . import pdf
from .cluster import Cluster, ClusterError
from .deals import DealError, DealList, DealListError, SameFiles, identity, parse_deal
from .quote_files import (
    GREEKS,
    SUMMARY,
    Properties,
    QuoteBook,
    Summary,
    check_market_room,
    code_digest,
    fingerprint,
    stored_stamp,
    write_summary,
)
from .snapshot import read_snapshot
from .template_check import check_template

TEMPLATES = {product.key: product.template for product in PRODUCTS}
LOCK = ".xlfuncs-quote.lock"
LEFTOVERS = (".*.xlsx.*.tmp", ".*.pdf.*.tmp", f".{SUMMARY}.*.tmp", f"{pdf.STAGING}*")
CHUNK = 200  # deals a chunk gives each worker (with --pdf, one LibreOffice batch)
PARTITION = 1000  # deals a partition gives a cluster's worker
UNFINISHED = "the run writing this folder has not finished (or was killed); run it again"
INTERRUPTED = "the run was interrupted before this deal was quoted; run it again"


STOP: dict = {}  # the signal that asked the run to stop, set by the handlers main() installs


def check_stop() -> None:
    """Raise Interrupted at a safe point if a stop was asked for."""
    if STOP:
        raise Interrupted()


class Interrupted(Exception):
    """The run was asked to stop (Ctrl-C, SIGTERM or SIGHUP); `summary` is the summary written."""

    summary: Path | None = None


def analyse(deal) -> dict:
    """The numbers a deal's quote and summary show: value, greeks, breakeven."""
    contract, market, _ = deal.objects()
    quote = BY_KEY[deal.product].quote(contract, market)
    return dict(value=quote.value, breakeven=quote.breakeven, **dict(zip(GREEKS, map(float, quote.greeks))))


@dataclass(frozen=True)
class Settings:
    """What every worker needs: the folder, each product's template and its digest, the code's
    digest, the document properties, --force, --pdf and the --market snapshot's inputs."""

    out: str
    templates: dict[str, str]
    digests: dict[str, str]
    code: str
    properties: Properties
    force: bool
    pdf: bool
    market: dict | None = None


WORKER: dict = {}


def start_worker(settings: Settings, parent: int | None = None) -> None:
    """A worker process: its settings and templates; with a `parent` pid, it ignores Ctrl-C (the
    parent stops it) and exits as soon as that parent is gone, however it died."""
    WORKER.clear()
    WORKER.update(settings=settings, books={})
    if parent is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        threading.Thread(target=watch_parent, args=(parent,), daemon=True).start()


def watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(1)


def quote_one(info: dict, record: dict) -> dict:
    """Read, check and quote one deal of the list (or find its quote up to date); its summary
    record, with "stamp", its quote's fingerprint and content digest, and with --pdf
    "pdf_current", whether the PDF beside it was printed from that quote."""
    settings, books = WORKER["settings"], WORKER["books"]
    try:
        deal = parse_deal(info["row"], record, settings.market)
        target = Path(settings.out) / f"{deal.stem}.xlsx"
        stamp = fingerprint(deal, settings.digests[deal.product], settings.code, settings.properties)
        summary = analyse(deal)
        current = None if settings.force else stored_stamp(target)
        if current is not None and current.startswith(f"{stamp}:"):
            result = {**info, "status": "skipped", **summary, "output": target.name, "message": "up to date"}
        else:
            old = target.with_suffix(".pdf")
            try:
                old.unlink(missing_ok=True)  # the old quote's PDF, before the new quote: made again or gone
            except OSError as error:
                return {**info, "status": "failed", "message": f"its old {old.name} cannot be removed: {error}"}
            if deal.product not in books:
                books[deal.product] = QuoteBook(settings.templates[deal.product], BY_KEY[deal.product])
            current = books[deal.product].write(deal, target, stamp, settings.properties, summary)
            result = {**info, "status": "written", **summary, "output": target.name, "message": ""}
        result["stamp"] = current
        if settings.pdf:
            result["pdf_current"] = pdf.stamp_of(target.with_suffix(".pdf")) == current
        return result
    except (DealError, DealListError, TermError) as error:
        return {**info, "status": "failed", "message": str(error)}
    except (OSError, ValueError) as error:  # this deal's file cannot be written (a folder there, a full disk)
        return {**info, "status": "failed", "message": f"cannot write {info['stem']}.xlsx: {error}"}
    except Exception as error:  # a fault of ours: this deal fails, saying so; the run and its summary go on
        return {**info, "status": "failed",
                "message": f"could not be quoted (an internal error; please report it): {type(error).__name__}: {error}"}


def outcome(future, info: dict) -> dict:
    """A worker's summary record, or "not done" if a worker process died (out of memory, killed)."""
    try:
        return future.result()
    except BrokenProcessPool:
        return {**info, "status": "not done",
                "message": "a worker process died (out of memory or killed) before this deal was quoted; run again"}


@contextmanager
def folder_lock(out: Path):
    """Hold the output folder's lock for a run; another run holding it is an error saying so.
    The lock file is opened without following a link (a planted link would make the run write
    outside the folder). The operating system releases it when the process ends, however it ends."""
    try:
        descriptor = os.open(out / LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise DealListError(f"{out / LOCK}: is a link; remove it (a run's lock is a file of its own)") from None
        raise DealListError(f"{out}: cannot be written: {error}") from None
    handle = os.fdopen(descriptor, "a+")
    try:
        try:
            if os.name == "nt":
                import msvcrt
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise DealListError(f"{out}: another xlfuncs run (quote or book) is writing there; wait for it to "
                                f"finish or choose another --out") from None
        yield
    finally:
        handle.close()


@contextmanager
def output_folder(out: Path, dask: str | None, jobs: int):
    """The run's Dask cluster (None without --dask), reached before `out` is made, then `out`
    made a folder if it is none yet; the cluster is closed when the run ends."""
    cluster = Cluster(dask, jobs) if dask else None
    try:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DealListError(f"{out}: cannot be the output folder: {error}") from None
        if not out.is_dir():
            raise DealListError(f"{out}: cannot be the output folder: not a folder")
        yield cluster
    finally:
        if cluster is not None:
            cluster.close()


def remove_leftovers(out: Path, notes: list) -> None:
    """Temporary files and folders a killed run left behind (safe: the lock is held); one that
    cannot be removed is named in a note, the run goes on."""
    for pattern in LEFTOVERS:
        for path in out.glob(pattern):
            try:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except OSError as error:
                notes.append(f"{path}: left by an earlier run and cannot be removed ({error}); remove it by hand")


def withdraw(out: Path, record: dict) -> None:
    """Remove the previous quote of a deal that failed, so no stale quote looks current."""
    stem = record.get("stem")
    if not stem:
        return
    removed = []
    for path in (out / f"{stem}.xlsx", out / f"{stem}.pdf"):
        try:
            if path.is_file() or path.is_symlink():
                path.unlink()
                removed.append(path.name)
        except OSError as error:
            record["message"] += f"; its previous {path.name} could not be removed: {error}"
    if removed:
        record["message"] += f"; its previous quote ({', '.join(removed)}) was removed"


def index(deal_list: DealList) -> SameFiles:
    """The list's first pass, before anything is written: every row readable, and which rows
    name the same file."""
    same = SameFiles()
    for row, record in deal_list.records():
        same.add(identity(row, record))
    same.finish()
    return same


def unfinished(deal_list: DealList, out: Path) -> None:
    """Replace the old summary, before any quote is touched, by one saying no deal is done yet:
    a run killed at any moment leaves no summary that looks current."""
    try:
        write_summary(out, ({**identity(row, record), "status": "not done", "message": UNFINISHED}
                            for row, record in deal_list.records()))
    except OSError as error:
        raise DealListError(f"{out / SUMMARY}: the summary cannot be written there: {error}") from None


def quote_part(tasks: list, settings: Settings) -> list[dict]:
    """A partition's summary records, on a cluster's worker (its settings set up once)."""
    if WORKER.get("settings") != settings:
        start_worker(settings)
    return [quote_one(info, record) for info, record in tasks]


class Quoting:
    """The deals of a list quoted chunk by chunk by `jobs` worker processes (or in this one), or
    in partitions of PARTITION deals on a Dask cluster (`cluster`, cluster.py)."""

    def __init__(self, settings: Settings, jobs: int, soffice: str | None, same: SameFiles,
                 cluster: Cluster | None = None):
        self.settings, self.soffice, self.same, self.cluster = settings, soffice, same, cluster
        self.workers = min(jobs, os.cpu_count() or 1)
        self.chunk_size = CHUNK * self.workers if cluster is None else PARTITION * max(jobs, 1)
        self.pool = None
        if self.workers <= 1 and cluster is None:
            start_worker(settings)

    def chunk(self, rows: list) -> tuple[list[dict], bool]:
        """The records of a chunk of (row, record), in row order, and whether the run was asked to stop."""
        results, tasks = {}, []
        for row, record in rows:
            info = identity(row, record)
            if clash := self.same.clash(info):
                results[row] = {**info, "status": "failed", "message": clash}
            else:
                tasks.append((info, record))
        stopped = self.quote(tasks, results)
        for info, _ in tasks:
            results.setdefault(info["row"], {**info, "status": "not done", "message": INTERRUPTED})
        records = [results[row] for row in sorted(results)]
        if self.soffice and not stopped:
            try:
                pdf.print_quotes(self.soffice, Path(self.settings.out), records, self.workers, check_stop)
            except (Interrupted, KeyboardInterrupt):
                stopped = True
            except Exception as error:  # the PDF step itself failed: each quote left without its PDF fails
                for record in records:
                    if record["status"] in ("written", "skipped") and "pdf" not in record:
                        pdf.fail(record, f"could not be made: {type(error).__name__}: {error}")
        if self.soffice and stopped:  # the quotes stay; the PDFs not made are said to be missing
            for record in records:
                if record.pop("pdf_current", False):
                    record["pdf"] = f"{record['stem']}.pdf"
                elif record["status"] in ("written", "skipped") and "pdf" not in record:
                    record["message"] = "its PDF was not made: the run was interrupted; run it again with --pdf"
        return records, stopped

    def quote(self, tasks: list, results: dict) -> bool:
        """Quote `tasks` into `results` by row; True if the run was asked to stop (the deals in
        progress then finish, the others are left out)."""
        if self.cluster is not None:
            def keep(_number, records):
                results.update((record["row"], record) for record in records)
            try:
                self.cluster.run(quote_part, [tasks[i:i + PARTITION] for i in range(0, len(tasks), PARTITION)],
                                 self.settings, keep, check_stop)
            except (Interrupted, KeyboardInterrupt):
                return True
            return False
        if self.workers <= 1:
            try:
                for info, record in tasks:
                    check_stop()
                    results[info["row"]] = quote_one(info, record)
            except (Interrupted, KeyboardInterrupt):
                return True
            return False
        if self.pool is None:
            self.pool = ProcessPoolExecutor(self.workers, initializer=start_worker,
                                            initargs=(self.settings, os.getpid()))
        futures = {self.pool.submit(quote_one, info, record): info for info, record in tasks}
        pending = set(futures)
        try:
            while pending:
                check_stop()
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    results[futures[future]["row"]] = outcome(future, futures[future])
            return False
        except (Interrupted, KeyboardInterrupt):  # the deals in progress finish (a fraction of a second)
            for future in pending:
                future.cancel()
            wait(pending)
            for future in pending:
                if not future.cancelled():
                    results[futures[future]["row"]] = outcome(future, futures[future])
            return True
        finally:
            if any(result["status"] == "not done" for result in results.values()):
                self.close()  # a worker died: the next chunk gets fresh ones

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def run(deals_path: Path, out: Path, jobs: int = 1, force: bool = False,
        templates: dict[str, Path] | None = None, properties: Properties = Properties(),
        make_pdf: bool = False, notes: list | None = None, report=None,
        market: Path | None = None, dask: str | None = None) -> tuple[list[dict], Path]:
    """Quote every deal of `deals_path` into `out`, with the snapshot `market` (snapshot.py)
    giving the market inputs a deal leaves blank. Each deal's summary record goes, once final
    and in row order, to `report` (without one, they are returned in a list); returns that list
    and the summary file. When interrupted, the summary is still written (deals not reached: "not
    done") and an Interrupted carrying it is raised."""
    if jobs < 1:
        raise DealListError(f"--jobs must be at least 1, got {jobs}")
    # Paths as absolute, once: workers and LibreOffice must not depend on the working folder.
    deals_path, out = Path(os.path.abspath(deals_path)), Path(os.path.abspath(out))
    root = template_folder()
    chosen = {product: Path(os.path.abspath((templates or {}).get(product, root / name)))
              for product, name in TEMPLATES.items()}
    for key, path in chosen.items():
        check_template(path, BY_KEY[key])
    snapshot = read_snapshot(market) if market is not None else None
    if snapshot:
        check_market_room(snapshot, chosen)
    soffice = pdf.soffice() if make_pdf else None
    deal_list = DealList(deals_path, notes)
    same = index(deal_list)
    kept: list[dict] = []
    report = report or kept.append
    interrupted = False
    with output_folder(out, dask, jobs) as cluster, folder_lock(out):
        remove_leftovers(out, notes if notes is not None else [])
        unfinished(deal_list, out)
        settings = Settings(str(out), {product: str(path) for product, path in chosen.items()},
                            {product: hashlib.sha256(path.read_bytes()).hexdigest() for product, path in chosen.items()},
                            code_digest(), properties, force, make_pdf, snapshot)
        quoting = Quoting(settings, jobs, soffice, same, cluster)
        bar = tqdm(total=same.count, unit="deal", disable=None, file=sys.stderr)  # shown on a terminal only
        with xlsx.atomic_file(out / SUMMARY) as handle:
            summary = Summary(handle)

            def final(record: dict) -> None:
                record.pop("stamp", None)
                if record["status"] in ("failed", "not done"):  # no stale quote may look current
                    withdraw(out, record)
                summary.add(record)
                report(record)
                bar.update()

            rows = deal_list.records()
            try:
                while chunk := list(itertools.islice(rows, quoting.chunk_size)):
                    records, interrupted = quoting.chunk(chunk)
                    for record in records:
                        final(record)
                    if interrupted or STOP:
                        interrupted = True
                        break
            except KeyboardInterrupt:
                interrupted = True
            finally:
                quoting.close()
            for row, record in rows if interrupted else ():
                final({**identity(row, record), "status": "not done", "message": INTERRUPTED})
            summary.finish()
        bar.close()
        others, named = 0, []  # counted, a few named: the folder may hold a million files
        with os.scandir(out) as entries:
            for entry in entries:
                stem, dot, suffix = entry.name.rpartition(".")
                if dot and suffix in ("xlsx", "pdf") and not entry.name.startswith(".") and not same.names(stem):
                    others += 1
                    named = sorted([*named, entry.name])[:5]
        if others and notes is not None:
            notes.append(f"{out}: {others} quote(s) of deals not in this list left as they are: "
                         f"{', '.join(named)}{', ...' if others > 5 else ''}")
    if interrupted:
        stopped = Interrupted()
        stopped.summary = out / SUMMARY
        raise stopped
    return kept, out / SUMMARY


def main(deals: Path, out: Path, jobs: int, force: bool, templates: list[str], author: str = "",
         company: str = "", make_pdf: bool = False, market: Path | None = None, dask: str | None = None) -> int:
    started = time.perf_counter()
    notes: list[str] = []
    counts = dict.fromkeys(("written", "skipped", "failed", "not done"), 0)
    summary, code = None, 0
    STOP.clear()

    def interrupt(number, _frame):
        STOP.setdefault("signal", number)

    def report(record: dict) -> None:
        counts[record["status"]] += 1
        if record["status"] == "failed":
            print(f"row {record['row']} ({record['deal_id'] or 'no deal_id'}): {record['message']}", file=sys.stderr)

    stops = [signal.SIGINT, signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
    previous = {number: signal.signal(number, interrupt) for number in stops}
    try:
        chosen = {}
        for template in templates:
            product, given, path = template.partition("=")
            product = product.strip().lower()
            if not given or product not in TEMPLATES or not path:
                raise DealListError(f"--template takes PRODUCT=PATH with PRODUCT one of {', '.join(TEMPLATES)}, "
                                    f"got {template!r}")
            chosen[product] = Path(path)
        _, summary = run(deals, out, jobs, force, chosen, Properties(author, company), make_pdf, notes, report,
                         market, dask)
    except Interrupted as error:
        code = 128 + STOP.get("signal", signal.SIGINT)
        summary = error.summary or "(none: interrupted before any deal was quoted)"
    except (DealListError, TermError, OSError, ClusterError) as error:
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        print(f"xlfuncs quote: {error}", file=sys.stderr)
        return 2
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    stopped = f", {counts['not done']} not done{' (interrupted)' if code else ''}" if counts["not done"] else ""
    print(f"{sum(counts.values())} deals: {counts['written']} written, {counts['skipped']} up to date, "
          f"{counts['failed']} failed{stopped} in {time.perf_counter() - started:.1f} s; summary in {summary}")
    return code or (1 if counts["failed"] or counts["not done"] else 0)
