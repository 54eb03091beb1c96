"""Batch client quotes: `xlfuncs quote DEALS --out DIR` turns a deal list (deals.py) into one
client workbook per deal (quote_book.py) and a summary.csv.

Values, greeks and breakevens come from xlfuncs (each product's quote). A bad deal is reported
with its row and reason and every good deal is still produced. An unchanged deal whose workbook
is up to date is skipped, so a run that was killed can simply be run again.
"""
from __future__ import annotations

import hashlib
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from openpyxl import load_workbook
from tqdm import tqdm

from . import calendar
from .deals import Deal, DealError, DealListError, read_deals, record_of
from .fields import TermError
from .layout import CLIENT, PRODUCT_NAME
from .product import Product
from .products import BY_KEY, PRODUCTS
from .quote_book import QuoteBook, code_digest, fingerprint, stored_quote, write_summary

TEMPLATES = {product.key: product.template for product in PRODUCTS}
GREEKS = ("delta", "gamma", "vega", "theta", "rho")


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


def check_template(path: Path, product: Product) -> None:
    """A template is read with defused XML, must have a Quote sheet, be the product's (its
    PRODUCT_NAME) and name every input a deal of the product fills; else a DealListError saying
    why (the first cause, such as an XML entity defusedxml forbids)."""
    try:
        wb = load_workbook(path, read_only=True)
    except Exception as error:  # openpyxl wraps the cause; report the first one
        cause = error
        while cause.__cause__ or cause.__context__:
            cause = cause.__cause__ or cause.__context__
        raise DealListError(f"{path}: cannot be read safely: {type(cause).__name__}: {cause}") from None
    if "Quote" not in wb.sheetnames:
        raise DealListError(f"{path}: a template needs a Quote sheet")
    named = wb.defined_names.get(PRODUCT_NAME)
    key = named.attr_text if named else None
    if key != f'"{product.key}"':
        raise DealListError(f"{path}: is not a {product.key} template (its {PRODUCT_NAME} name is {key})")
    others = sorted(used_functions(path) - {function.name for function in product.functions} - CALENDAR)
    if others:
        raise DealListError(f"{path}: is not a {product.key} template: it calls {', '.join(others)}")
    needed = {field.defined_name for field in product.deal_fields.values()} | {CLIENT}
    missing = sorted(needed - set(wb.defined_names))
    if missing:
        raise DealListError(f"{path}: a {product.key} template must name the cells {', '.join(missing)}")


CALENDAR = {function.name for function in calendar.FUNCTIONS}
OUR_FUNCTIONS = re.compile("|".join(sorted((rf"\b{name}\(" for name in
                                              [*(f.name for p in PRODUCTS for f in p.functions), *CALENDAR]),
                                             key=len, reverse=True)))


def used_functions(path: Path) -> set[str]:
    """The names of our Excel functions the template's formulas call."""
    used = set()
    for ws in load_workbook(path).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                text = getattr(cell.value, "text", cell.value)
                if isinstance(text, str) and text.startswith("="):
                    used.update(match[:-1] for match in OUR_FUNCTIONS.findall(text))
    return used


WORKER: dict = {}


def start_worker(templates: dict[str, str]) -> None:
    WORKER.clear()
    WORKER["templates"] = templates


def quote_one(deal: Deal, target: str, stamp: str) -> dict:
    """Write one deal's client workbook; returns its summary record."""
    books = WORKER.setdefault("books", {})
    try:
        if deal.product not in books:
            books[deal.product] = QuoteBook(WORKER["templates"][deal.product])
        summary = analyse(deal)
        books[deal.product].write(deal, Path(target), summary, stamp)
        return {**record_of(deal), "status": "written", **summary, "output": Path(target).name, "message": ""}
    except (DealError, TermError) as error:
        return {**record_of(deal), "status": "failed", "message": str(error)}


def run(deals_path: Path, out: Path, jobs: int = 1, force: bool = False,
        templates: dict[str, Path] | None = None) -> tuple[list[dict], Path]:
    """Quote every deal of `deals_path` into `out`; returns the summary records and the summary file."""
    root = template_folder()
    chosen = {product: Path((templates or {}).get(product, root / name)) for product, name in TEMPLATES.items()}
    for product, path in chosen.items():
        if not path.is_file():
            raise DealListError(f"{path}: no {product} template there")
    for key, path in chosen.items():
        check_template(path, BY_KEY[key])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(".*.xlsx.*.tmp"):  # left by a run that was killed mid-write
        stale.unlink()
    deals, records = read_deals(deals_path)
    code = code_digest()
    digests = {product: hashlib.sha256(path.read_bytes()).hexdigest() for product, path in chosen.items()}
    todo = []
    for deal in deals:
        target = out / deal.output_name
        stamp = fingerprint(deal, digests[deal.product], code)
        stored, numbers = stored_quote(target) if target.exists() and not force else (None, {})
        if stored == stamp:
            records.append({**record_of(deal), "status": "skipped", **numbers, "output": target.name,
                            "message": "up to date"})
        else:
            todo.append((deal, str(target), stamp))
    bar = tqdm(total=len(todo), unit="deal", disable=None, file=sys.stderr)  # shown on a terminal only
    paths = {product: str(path) for product, path in chosen.items()}
    if jobs <= 1:
        start_worker(paths)
        for args in todo:
            records.append(quote_one(*args))
            bar.update()
    else:
        with ProcessPoolExecutor(jobs, initializer=start_worker, initargs=(paths,)) as pool:
            for future in as_completed([pool.submit(quote_one, *args) for args in todo]):
                records.append(future.result())
                bar.update()
    bar.close()
    return records, write_summary(out, records)


def main(deals: Path, out: Path, jobs: int, force: bool, templates: list[str]) -> int:
    started = time.perf_counter()
    try:
        chosen = {}
        for template in templates:
            product, given, path = template.partition("=")
            product = product.strip().lower()
            if not given or product not in TEMPLATES or not path:
                raise DealListError(f"--template takes PRODUCT=PATH with PRODUCT one of {', '.join(TEMPLATES)}, "
                                    f"got {template!r}")
            chosen[product] = Path(path)
        records, summary = run(deals, out, jobs, force, chosen)
    except (DealListError, TermError, OSError) as error:
        print(f"xlfuncs quote: {error}", file=sys.stderr)
        return 2
    counts = {status: sum(r["status"] == status for r in records) for status in ("written", "skipped", "failed")}
    for record in sorted((r for r in records if r["status"] == "failed"), key=lambda r: r["row"]):
        print(f"row {record['row']} ({record['deal_id'] or 'no deal_id'}): {record['message']}", file=sys.stderr)
    print(f"{len(records)} deals: {counts['written']} written, {counts['skipped']} up to date, "
          f"{counts['failed']} failed in {time.perf_counter() - started:.1f} s; summary in {summary}")
    return 1 if counts["failed"] else 0
