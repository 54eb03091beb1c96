"""`xlfuncs quote` on 1,000 deals (half notes, half warrants, exact values and greeks)
with --jobs 2: prints wall time, deals per second and peak memory (largest process); then, in
one process, the cost of one quote (numbers, workbook, check, rename) against one openpyxl load
and save of its template, measured in the same run (the target: at most one)."""
import csv
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEALS = 1000


def deal_list(path: Path, count: int = DEALS) -> None:
    """`count` variations of the bundled example deals: spots, vols, strikes, caps."""
    with (ROOT / "examples" / "deals.csv").open(newline="") as handle:
        examples = list(csv.DictReader(handle))
    notes = [d for d in examples if d["product"] == "note"]
    warrants = [d for d in examples if d["product"] == "warrant"]
    rng = random.Random(1)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(examples[0]))
        writer.writeheader()
        for number in range(count):
            deal = dict(rng.choice(notes if number % 2 == 0 else warrants))
            deal["deal_id"] = f"B-{number:06d}"
            deal["spot"] = f"{float(deal['spot']) * rng.uniform(0.9, 1.1):.2f}"
            deal["vol"] = f"{rng.uniform(0.12, 0.25):.4f}"
            if deal["product"] == "warrant":
                deal["upper_strike"] = f"{rng.uniform(0.90, 0.98):.3f}"
            else:
                deal["max_return"] = f"{rng.uniform(0.15, 0.35):.3f}"
            writer.writerow(deal)


def per_quote(deals_path: Path, folder: Path) -> None:
    """Milliseconds per quote and per openpyxl load+save of the template, same process, same run."""
    from openpyxl import load_workbook

    from xlfuncs.batch import quotes
    from xlfuncs.batch.deals import read_deals
    from xlfuncs.batch.quote_files import Properties, QuoteBook
    from xlfuncs.products import BY_KEY

    deals, _ = read_deals(deals_path)
    for key in ("note", "warrant"):
        template = quotes.template_folder() / quotes.TEMPLATES[key]
        book = QuoteBook(template, BY_KEY[key])
        sample = [deal for deal in deals if deal.product == key][:100]
        start = time.perf_counter()
        for deal in sample:
            book.write(deal, folder / f"{deal.stem}.xlsx", "0" * 64, Properties(), quotes.analyse(deal))
        quote = (time.perf_counter() - start) / len(sample) * 1e3
        start = time.perf_counter()
        for _ in range(10):
            load_workbook(template).save(folder / "copy.xlsx")
        openpyxl = (time.perf_counter() - start) / 10 * 1e3
        print(f"{key}: {quote:.1f} ms per quote, {openpyxl:.1f} ms per openpyxl load+save of its template: "
              f"{quote / openpyxl:.2f} of one")


def main():
    with tempfile.TemporaryDirectory() as folder:
        deals = Path(folder) / "deals.csv"
        deal_list(deals)
        start = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "xlfuncs", "quote", str(deals), "--out", f"{folder}/out",
                              "--jobs", "2"], capture_output=True, text=True)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        print(run.stdout.strip() or run.stderr.strip()[-500:])
        print(f"{DEALS} deals with --jobs 2: {seconds:.1f} s, {DEALS / seconds:.1f} deals per second, "
              f"peak memory {peak:.0f} MB (largest process)")
        (Path(folder) / "single").mkdir()
        per_quote(deals, Path(folder) / "single")


if __name__ == "__main__":
    main()
