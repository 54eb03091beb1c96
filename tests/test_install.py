"""A plain install, as a new user makes it: the wheel into a fresh venv, used from another folder.

Without extras it brings only what the Excel functions need (numpy, scipy, xlwings) and
`import udfs` loads no workbook or batch library; with the batch extra the README's main job
runs from any folder, its templates coming with the wheel."""
import json
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = {"xlfuncs", "numpy", "scipy", "xlwings"}
HEAVY = {"openpyxl", "formulas", "schedula", "yaml", "tqdm", "defusedxml"}


def run(*args, cwd, **kwargs):
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=900, **kwargs)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with the project's wheel installed without extras, and a folder that is not the checkout."""
    folder = tmp_path_factory.mktemp("install")
    # from a copy: pip builds in the source tree, and an old build/ there would go into the wheel
    source = shutil.copytree(ROOT, folder / "source", ignore=shutil.ignore_patterns(
        "build", "dist", ".git", "*.egg-info", "__pycache__", ".venv", ".hypothesis", ".pytest_cache", "quotes"))
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", folder / "dist", source, cwd=folder)
    [wheel] = (folder / "dist").glob("xlfuncs-*.whl")
    venv.create(folder / "venv", with_pip=True)
    python = folder / "venv" / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", wheel, cwd=folder)
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    return python, wheel, elsewhere


def test_the_wheel_holds_the_package_s_modules_and_templates_and_nothing_else(installed):
    _, wheel, _ = installed
    with zipfile.ZipFile(wheel) as archive:
        packaged = {name for name in archive.namelist() if name.startswith("xlfuncs/") or name == "udfs.py"}
    sources = {path.relative_to(ROOT).as_posix() for path in (ROOT / "xlfuncs").rglob("*.py")} | {"udfs.py"}
    templates = {f"xlfuncs/templates/{path.relative_to(ROOT / 'workbooks').as_posix()}"
                 for pattern in ("*.xlsx", "market/*.json") for path in (ROOT / "workbooks").glob(pattern)}
    assert packaged == sources | templates


def test_a_plain_install_brings_only_what_the_excel_functions_need(installed):
    python, _, elsewhere = installed
    listed = {d["name"].lower() for d in json.loads(run(python, "-m", "pip", "list", "--format=json", cwd=elsewhere))}
    assert CORE <= listed and not listed & {"openpyxl", "formulas", "schedula", "pyyaml", "tqdm", "defusedxml"}
    loaded = json.loads(run(python, "-c", "import json, sys, udfs; "
                                          "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))",
                            cwd=elsewhere))
    assert not set(loaded) & HEAVY
    value = run(python, "-c", "import udfs; print(udfs.WARRANT_VALUE(5907.55, 45805, 5907.55, .95, .75, 45798, "
                              "45828, 45940, 45947, .167, .043, .013, [[5907.55]] * 5)[0][0])", cwd=elsewhere)
    assert float(value) == pytest.approx(22.50021280, abs=1e-8)


def test_the_batch_without_its_extra_says_what_to_install(installed):
    python, _, elsewhere = installed
    result = subprocess.run([str(python), "-m", "xlfuncs", "quote", str(ROOT / "examples" / "deals.csv"), "--out",
                             "quotes"], cwd=elsewhere, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "pip install 'xlfuncs[batch]'" in result.stderr


def test_the_main_job_runs_from_another_folder_with_the_batch_extra(installed):
    python, wheel, elsewhere = installed
    run(python, "-m", "pip", "install", "-q", f"{wheel}[batch]", cwd=elsewhere)
    shutil.copy(ROOT / "examples" / "deals.csv", elsewhere / "deals.csv")
    out = run(python, "-m", "xlfuncs", "quote", "deals.csv", "--out", "quotes", cwd=elsewhere)
    assert "16 deals: 16 written, 0 up to date, 0 failed" in out
    assert len(list((elsewhere / "quotes").glob("*.xlsx"))) == 16
    # A snapshot run, the templates' Market sheets built from the snapshots the wheel carries
    shutil.copy(ROOT / "examples" / "deals-2025-05-28.csv", elsewhere / "snapshot-deals.csv")
    shutil.copy(ROOT / "workbooks" / "market" / "2025-05-28.json", elsewhere / "market.json")
    out = run(python, "-m", "xlfuncs", "quote", "snapshot-deals.csv", "--market", "market.json", "--out", "marked",
              cwd=elsewhere)
    assert "5 deals: 5 written, 0 up to date, 0 failed" in out
    # The daily book on the bundled example, relative paths
    shutil.copytree(ROOT / "examples" / "book", elsewhere / "book-inputs")
    out = run(python, "-m", "xlfuncs", "book", "book-inputs/positions.csv", "--market",
              "book-inputs/market-2025-06-12.json", "--previous", "book-inputs/market-2025-06-11.json", "--closes",
              "book-inputs/closes.csv", "--out", "book", "--flat", cwd=elsewhere)
    assert "276 positions over 19 deals, 0 failed: book written" in out
    assert (elsewhere / "book" / "report.xlsx").is_file() and (elsewhere / "book" / "pnl.csv").is_file()
