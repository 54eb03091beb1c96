"""Render what a person sees to docs/*.png: the first page of every template sheet, and the PDF
a client receives for one bundled deal of each product.

LibreOffice has no add-in, so it is given a frozen copy of each template sheet (every formula
replaced by the value the engine computed and cached in the template); the client PDFs come
from `xlfuncs quote --pdf` on the bundled deal list. Needs LibreOffice (soffice) and poppler
(pdftoppm): sudo apt-get install libreoffice-calc poppler-utils.
"""
import subprocess
import sys
import tempfile
from pathlib import Path

from openpyxl import load_workbook

from xlfuncs.workbooks import xlsx

ROOT = Path(__file__).resolve().parent.parent
CLIENT_QUOTES = {"note": "N-101", "warrant": "W-203", "bullish_note": "B-401"}  # a bundled deal of each product


def picture(pdf: Path, stem: str) -> None:
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(ROOT / "docs" / stem)], check=True)
    print(f"docs/{stem}.png")


def main():
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for template in sorted((ROOT / "workbooks").glob("*.xlsx")):
            wb = load_workbook(template, read_only=True)
            for title in (ws.title for ws in wb.worksheets if ws.sheet_state == "visible"):
                stem = f"{template.stem}_{title.lower().replace(' ', '_')}"
                copy = folder / f"{stem}.xlsx"
                xlsx.frozen_sheet(template, title, copy)
                subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(folder),
                                str(copy)], check=True, capture_output=True)
                picture(folder / f"{stem}.pdf", stem)
        subprocess.run([sys.executable, "-m", "xlfuncs", "quote", str(ROOT / "examples" / "deals.csv"), "--out",
                        str(folder / "quotes"), "--pdf", "--jobs", "2"], check=True, capture_output=True)
        for product, deal_id in CLIENT_QUOTES.items():
            picture(folder / "quotes" / f"{deal_id}.pdf", f"client_quote_{product}")


if __name__ == "__main__":
    main()
