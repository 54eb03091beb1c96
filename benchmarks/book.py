"""`xlfuncs book` on 10,000 positions over 2,000 deals (half notes, half warrants, at every stage
of their lives) with values, greeks, the explain and the full stress grid: wall time with --flat
(the flat-vol engines) and --jobs 2, against the same book in one process in the same run; then
the surface engines (the snapshot's smile and curves) on a sample of the deals, scaled to the
whole book. Prints the figures and the machine."""
import csv
import datetime as dt
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "book"
TODAY = dt.date(2025, 6, 12)
DEALS, PER_DEAL, SAMPLE = 2000, 5, 40


def history() -> dict:
    with (EXAMPLE / "closes.csv").open(newline="") as handle:
        return {dt.date.fromisoformat(row["date"]): row["close"] for row in csv.DictReader(handle)}


def trading_day(day: dt.date, closes: dict) -> dt.date:
    """The first scheduled trading day from `day` whose close, if the history has it, is not blank."""
    from xlfuncs.core.calendar import trading_days
    return next(d for d in trading_days(day, day + dt.timedelta(days=10)) if closes.get(d, "x"))


def positions(path: Path, deals: int) -> None:
    """`deals` deals, alternately notes (bearish and bullish) and warrants, dated so that they fall
    at every stage on TODAY (notes' final dates from a month ago to two years on; warrants'
    windows from five months ago to two months on), each held in PER_DEAL positions."""
    with (EXAMPLE / "positions.csv").open(newline="") as handle:
        columns = csv.DictReader(handle).fieldnames
        handle.seek(0)
        examples = {row["product"]: row for row in csv.DictReader(handle)}
    closes = history()
    trading = [day for day, close in closes.items() if close]
    rng = random.Random(1)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for number in range(deals):
            product = ("note", "warrant", "bullish_note", "warrant")[number % 4]
            deal = dict(examples[product], deal_id=f"D-{number:05d}")
            if product == "warrant":
                start = TODAY + dt.timedelta(days=rng.randint(-150, 60))
                priced = max(day for day in trading if day <= start - dt.timedelta(days=5))
                end = start + dt.timedelta(days=rng.randint(20, 40))
                expiration = trading_day(end + dt.timedelta(days=rng.randint(60, 120)), closes)
                deal.update(initial=closes[priced], window_start=start.isoformat(), window_end=end.isoformat(),
                            expiration=expiration.isoformat(),
                            settlement=(expiration + dt.timedelta(days=7)).isoformat(),
                            upper_strike=f"{rng.uniform(0.90, 0.98):.3f}")
            else:
                final = trading_day(TODAY + dt.timedelta(days=rng.randint(-30, 730)), closes)
                priced = max(day for day in trading if day <= min(final - dt.timedelta(days=180), TODAY))
                deal.update(initial=closes[priced], final_date=final.isoformat(),
                            payment_date=(final + dt.timedelta(days=3)).isoformat(),
                            max_return=f"{rng.uniform(0.15, 0.35):.3f}")
            for _ in range(PER_DEAL):
                quantity = rng.randint(1, 50) * 10 * rng.choice((-1, -1, 1))
                writer.writerow({**deal, "client": "Benchmark", "quantity": quantity, "trade_date": ""})


def timed(folder: Path, book: Path, name: str, *options, jobs: int = 1) -> float:
    from xlfuncs.book import run
    start = time.perf_counter()
    summary = run.run(book, EXAMPLE / "market-2025-06-12.json", EXAMPLE / "closes.csv", folder / name,
                      EXAMPLE / "market-2025-06-11.json", jobs=jobs, force=True, **dict(options))
    seconds = time.perf_counter() - start
    print(f"  {name}: {summary['positions']:,} positions over {summary['deals']:,} deals, "
          f"{len(summary['failed'])} failed, in {seconds:.1f} s")
    return seconds


def main() -> None:
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        positions(folder / "book.csv", DEALS)
        print(f"flat-vol engines (--flat), {DEALS * PER_DEAL:,} positions, explain and stress grid:")
        parallel = timed(folder, folder / "book.csv", "jobs-2", ("flat", True), jobs=2)
        single = timed(folder, folder / "book.csv", "one-process", ("flat", True))
        print(f"  --jobs 2: {parallel:.1f} s (target 60 s), {single / parallel:.2f}x one process")
        positions(folder / "sample.csv", SAMPLE)
        print(f"surface engines (smile and curves), a sample of {SAMPLE} deals of the same mix:")
        sample = timed(folder, folder / "sample.csv", "surface-sample", jobs=2)
        print(f"  scaled to {DEALS:,} deals with --jobs 2: about {sample * DEALS / SAMPLE / 60:.0f} min")


if __name__ == "__main__":
    main()
