"""`xlfuncs quote --pdf --jobs 2` on 1,000 deals (half notes, half warrants), against the same
list without --pdf in the same run: the time LibreOffice adds, one process per 200 quotes, two
at a time. Target: 1,000 quotes with PDFs within 3 minutes. Needs LibreOffice and poppler.
Usage: python3 benchmarks/batch_pdf.py [DEALS]   (default: 1000)"""
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from batch_quotes import deal_list


def timed(deals: Path, out: Path, *options: str) -> tuple[float, str]:
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "xlfuncs", "quote", str(deals), "--out", str(out), "--jobs", "2",
                          *options], capture_output=True, text=True)
    return time.perf_counter() - start, (run.stdout.strip() or run.stderr.strip()[-300:]).splitlines()[-1]


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as folder:
        deals = Path(folder) / "deals.csv"
        deal_list(deals, count)
        plain, _ = timed(deals, Path(folder) / "plain")
        printed, summary = timed(deals, Path(folder) / "pdf", "--pdf")
        pdfs = len(list((Path(folder) / "pdf").glob("*.pdf")))
        print(f"{count:,} deals, --jobs 2: {plain:.1f} s without --pdf, {printed:.1f} s with it ({pdfs:,} PDFs; "
              f"{(printed - plain) / pdfs * 1e3:.0f} ms per PDF); target: at most 180 s")
        print(f"  {summary}")


if __name__ == "__main__":
    main()
