"""Render the first page of every template sheet to docs/*.png as LibreOffice shows it.

LibreOffice has no add-in, so it is given a frozen copy of each sheet (every formula replaced
by the value the engine computed and cached in the template). Needs LibreOffice (soffice)
and poppler (pdftoppm): apt-get install libreoffice-calc-nogui poppler-utils.
"""
import subprocess
import tempfile
from pathlib import Path

from openpyxl import load_workbook

from xlfuncs import xlsx

ROOT = Path(__file__).resolve().parent.parent


def main():
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for template in sorted((ROOT / "workbooks").glob("*.xlsx")):
            for title in load_workbook(template, read_only=True).sheetnames:
                if title == "xlwings.conf":
                    continue
                stem = f"{template.stem}_{title.lower().replace(' ', '_')}"
                copy = folder / f"{stem}.xlsx"
                xlsx.frozen_sheet(template, title, copy)
                subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(folder),
                                str(copy)], check=True, capture_output=True)
                subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                                str(folder / f"{stem}.pdf"), str(ROOT / "docs" / stem)], check=True)
                print(f"docs/{stem}.png")


if __name__ == "__main__":
    main()
