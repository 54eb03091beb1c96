"""Batch client quotes: `xlfuncs quote DEALS --out DIR` turns a deal list (deals.py) into one
client workbook per deal (quote_book.py), optionally a PDF of each (pdf.py), and a summary.csv.

Values, greeks and breakevens come from xlfuncs (each product's quote). A bad deal is reported
with its row and reason, its previous quote is removed, and every good deal is still produced.
An unchanged deal whose workbook is up to date is skipped, so a run that was stopped can simply
be run again. One run at a time writes into a folder; an interrupted run (Ctrl-C, SIGTERM)
finishes the deals in progress, stops its workers and still writes the summary.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm

from . import pdf
from .deals import Deal, DealError, DealListError, read_deals, record_of
from .fields import TermError
from .products import BY_KEY, PRODUCTS
from .quote_book import GREEKS, Properties, QuoteBook, code_digest, fingerprint, stored_fingerprint, write_summary
from .template_check import check_template

TEMPLATES = {product.key: product.template for product in PRODUCTS}
LOCK = ".xlfuncs-quote.lock"
LEFTOVERS = (".*.xlsx.*.tmp", ".*.pdf.*.tmp", ".summary.csv.*.tmp", f"{pdf.STAGING}*")


STOP: dict = {}  # the signal that asked the run to stop, set by the handlers main() installs


def check_stop() -> None:
    """Raise Interrupted at a safe point if a stop was asked for."""
    if STOP:
        raise Interrupted()


class Interrupted(Exception):
    """The run was asked to stop (Ctrl-C or SIGTERM); `records` and `summary` say what was done."""

    records: list = []
    summary: Path | None = None


def template_folder() -> Path:
    """The product templates: the copies a wheel installs inside the package (xlfuncs/workbooks),
    else workbooks/ beside the package in a checkout (or an editable install)."""
    installed = Path(__file__).resolve().parent / "workbooks"
    return installed if installed.is_dir() else installed.parent.parent / "workbooks"


def analyse(deal: Deal) -> dict:
    """The numbers a deal's quote and summary show: value, greeks, breakeven."""
    contract, market, _ = deal.objects()
    quote = BY_KEY[deal.product].quote(contract, market)
    return dict(value=quote.value, breakeven=quote.breakeven, **dict(zip(GREEKS, map(float, quote.greeks))))


WORKER: dict = {}


def start_worker(templates: dict[str, str], properties: Properties, parent: int | None = None) -> None:
    """A worker process: its templates and document properties; with a `parent` pid, it ignores
    Ctrl-C (the parent stops it) and exits as soon as that parent is gone, however it died."""
    WORKER.clear()
    WORKER.update(templates=templates, properties=properties, books={})
    if parent is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        threading.Thread(target=watch_parent, args=(parent,), daemon=True).start()


def watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(1)


def quote_one(deal: Deal, target: str, stamp: str) -> dict:
    """Write one deal's client workbook; returns its summary record."""
    books = WORKER["books"]
    try:
        if deal.product not in books:
            books[deal.product] = QuoteBook(WORKER["templates"][deal.product], BY_KEY[deal.product])
        summary = analyse(deal)
        pdf = Path(target).with_suffix(".pdf")
        try:
            pdf.unlink(missing_ok=True)  # the old quote's PDF, before the new quote: made again or gone
        except OSError as error:
            return {**record_of(deal), "status": "failed", "message": f"its old {pdf.name} cannot be removed: {error}"}
        books[deal.product].write(deal, Path(target), stamp, WORKER["properties"], summary)
        return {**record_of(deal), "status": "written", **summary, "output": Path(target).name, "message": ""}
    except (DealError, DealListError, TermError) as error:
        return {**record_of(deal), "status": "failed", "message": str(error)}
    except (OSError, ValueError) as error:  # this deal's file cannot be written (a folder there, a full disk)
        return {**record_of(deal), "status": "failed", "message": f"cannot write {Path(target).name}: {error}"}
    except Exception as error:  # a fault of ours: this deal fails, saying so; the run and its summary go on
        return {**record_of(deal), "status": "failed",
                "message": f"could not be quoted (an internal error; please report it): {type(error).__name__}: {error}"}


def outcome(future, deal: Deal) -> dict:
    """A worker's summary record, or "not done" if a worker process died (out of memory, killed)."""
    try:
        return future.result()
    except BrokenProcessPool:
        return {**record_of(deal), "status": "not done",
                "message": "a worker process died (out of memory or killed) before this deal was quoted; run again"}


@contextmanager
def folder_lock(out: Path):
    """Hold the output folder's lock for a run; another run holding it is an error saying so.
    The operating system releases it when the process ends, however it ends."""
    try:
        handle = open(out / LOCK, "a+")
    except OSError as error:
        raise DealListError(f"{out}: cannot be written: {error}") from None
    try:
        try:
            if os.name == "nt":
                import msvcrt
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise DealListError(f"{out}: another xlfuncs quote run is writing there; wait for it to finish "
                                f"or choose another --out") from None
        yield
    finally:
        handle.close()


def remove_leftovers(out: Path) -> None:
    """Temporary files and folders a killed run left behind (safe: the lock is held)."""
    for pattern in LEFTOVERS:
        for path in out.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


def withdraw(out: Path, record: dict) -> None:
    """Remove the previous quote of a deal that failed, so no stale quote looks current."""
    stem = record.get("stem")
    if not stem:
        return
    removed = []
    for path in (out / f"{stem}.xlsx", out / f"{stem}.pdf"):
        try:
            if path.is_file():
                path.unlink()
                removed.append(path.name)
        except OSError as error:
            record["message"] += f"; its previous {path.name} could not be removed: {error}"
    if removed:
        record["message"] += f"; its previous quote ({', '.join(removed)}) was removed"


def quote_all(todo: list, templates: dict, properties: Properties, jobs: int, records: list) -> None:
    """Quote the deals of `todo`, appending each summary record as it finishes; an Interrupted
    stops handing out deals, lets the ones in progress finish and stops the workers."""
    bar = tqdm(total=len(todo), unit="deal", disable=None, file=sys.stderr)  # shown on a terminal only
    try:
        if jobs <= 1 or len(todo) <= 1:
            start_worker(templates, properties)
            for args in todo:
                check_stop()
                records.append(quote_one(*args))
                bar.update()
            return
        pool = ProcessPoolExecutor(min(jobs, len(todo), os.cpu_count() or 1), initializer=start_worker,
                                   initargs=(templates, properties, os.getpid()))
        deals = {pool.submit(quote_one, *args): args[0] for args in todo}
        pending = set(deals)
        try:
            while pending:
                check_stop()
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    records.append(outcome(future, deals[future]))
                    bar.update()
        finally:  # on an interruption: the deals in progress finish (a fraction of a second)
            pool.shutdown(wait=True, cancel_futures=True)
            records.extend(outcome(future, deals[future]) for future in pending
                           if future.done() and not future.cancelled())
    finally:
        bar.close()


def run(deals_path: Path, out: Path, jobs: int = 1, force: bool = False,
        templates: dict[str, Path] | None = None, properties: Properties = Properties(),
        make_pdf: bool = False, notes: list | None = None) -> tuple[list[dict], Path]:
    """Quote every deal of `deals_path` into `out`; returns the summary records and the summary
    file. When interrupted, the summary is still written (deals not reached: "not done") and an
    Interrupted carrying both is raised."""
    if jobs < 1:
        raise DealListError(f"--jobs must be at least 1, got {jobs}")
    root = template_folder()
    chosen = {product: Path((templates or {}).get(product, root / name)) for product, name in TEMPLATES.items()}
    for key, path in chosen.items():
        check_template(path, BY_KEY[key])
    soffice = pdf.soffice() if make_pdf else None
    deals, records = read_deals(deals_path, notes)
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DealListError(f"{out}: cannot be the output folder: {error}") from None
    if not out.is_dir():
        raise DealListError(f"{out}: cannot be the output folder: not a folder")
    with folder_lock(out):
        remove_leftovers(out)
        for record in records:
            withdraw(out, record)
        code = code_digest()
        digests = {product: hashlib.sha256(path.read_bytes()).hexdigest() for product, path in chosen.items()}
        todo = []
        for deal in deals:
            target = out / f"{deal.stem}.xlsx"
            stamp = fingerprint(deal, digests[deal.product], code, properties)
            if not force and stored_fingerprint(target) == stamp:
                records.append({**record_of(deal), "status": "skipped", **analyse(deal), "output": target.name,
                                "message": "up to date"})
            else:
                todo.append((deal, str(target), stamp))
        try:
            quote_all(todo, {product: str(path) for product, path in chosen.items()}, properties, jobs, records)
            if soffice:
                pdf.convert_quotes(soffice, out, records, jobs, check_stop)
        except (Interrupted, KeyboardInterrupt) as error:
            finished = {record["row"] for record in records}
            records.extend({**record_of(deal), "status": "not done",
                            "message": "the run was interrupted before this deal was quoted; run it again"}
                           for deal, _, _ in todo if deal.row not in finished)
            interrupted = error
        else:
            interrupted = None
        finally:
            for record in records:  # a deal not quoted now has no current quote: an old one goes
                if record["status"] in ("failed", "not done") and "removed" not in record["message"]:
                    withdraw(out, record)
            summary = write_summary(out, records)
        listed = {record.get("stem") for record in records}
        others = sorted(path.name for path in [*out.glob("*.xlsx"), *out.glob("*.pdf")] if path.stem not in listed)
        if others and notes is not None:
            notes.append(f"{out}: {len(others)} quote(s) of deals not in this list left as they are: "
                         f"{', '.join(others[:5])}{', ...' if len(others) > 5 else ''}")
    if interrupted is not None:
        stopped = Interrupted()
        stopped.records, stopped.summary = records, summary
        raise stopped
    return records, summary


def main(deals: Path, out: Path, jobs: int, force: bool, templates: list[str], author: str = "",
         company: str = "", make_pdf: bool = False) -> int:
    started = time.perf_counter()
    notes: list[str] = []
    records, summary, code = [], None, 0
    STOP.clear()

    def interrupt(number, _frame):
        STOP.setdefault("signal", number)

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
        records, summary = run(deals, out, jobs, force, chosen, Properties(author, company), make_pdf, notes)
    except Interrupted as error:
        code = 128 + STOP.get("signal", signal.SIGINT)
        records, summary = error.records, error.summary or "(none: interrupted before any deal was quoted)"
    except (DealListError, TermError, OSError) as error:
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        print(f"xlfuncs quote: {error}", file=sys.stderr)
        return 2
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for record in sorted((r for r in records if r["status"] == "failed"), key=lambda r: r["row"]):
        print(f"row {record['row']} ({record['deal_id'] or 'no deal_id'}): {record['message']}", file=sys.stderr)
    counts = {status: sum(r["status"] == status for r in records)
              for status in ("written", "skipped", "failed", "not done")}
    stopped = f", {counts['not done']} not done{' (interrupted)' if code else ''}" if counts["not done"] else ""
    print(f"{len(records)} deals: {counts['written']} written, {counts['skipped']} up to date, "
          f"{counts['failed']} failed{stopped} in {time.perf_counter() - started:.1f} s; summary in {summary}")
    return code or (1 if counts["failed"] or counts["not done"] else 0)
