"""Market snapshots read from JSON, YAML and a workbook's defined names: the same quotes in each
form, and bad files or cells refused naming the file, the key or range and the cell."""
import datetime as dt
import json

import openpyxl
import pytest
import yaml
from openpyxl.workbook.defined_name import DefinedName

from xlfuncs.batch.snapshot import read_snapshot
from xlfuncs.core.fields import TermError

from helpers import ROOT

BUNDLED = sorted((ROOT / "workbooks" / "market").glob("*.json"))


def bundled():
    return json.loads(BUNDLED[-1].read_text())


def as_yaml(tmp_path, data):
    path = tmp_path / "snapshot.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def as_workbook(tmp_path, data):
    """The snapshot as a sheet with its ranges under the defined names a template's Market sheet uses."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Market"
    row = 1

    def put(name, rows):
        nonlocal row
        first = row
        for values in rows:
            for column, value in enumerate(values, 1):
                sheet.cell(row, column, dt.date.fromisoformat(value) if isinstance(value, str) and value[:2] == "20"
                           else value)
            row += 1
        last_column = openpyxl.utils.get_column_letter(max(len(r) for r in rows))
        book.defined_names[name] = DefinedName(name, attr_text=f"Market!$A${first}:${last_column}${row - 1}")
        row += 1
    put("AsOf", [[data["as_of"]]])
    put("Spot", [[data["spot"]]])
    put("RateCurve", data["rate"])
    put("DividendCurve", data["div_yield"])
    put("VolSurface", data["vol"])
    path = tmp_path / "snapshot.xlsx"
    book.save(path)
    return path


@pytest.mark.parametrize("path", BUNDLED, ids=[path.stem for path in BUNDLED])
def test_the_bundled_snapshots_are_read_and_free_of_arbitrage(path):
    values = read_snapshot(path)
    data = json.loads(path.read_text())
    assert values["as_of"] == dt.date.fromisoformat(data["as_of"]) and values["spot"] == data["spot"]
    assert values["rate"].zeros == tuple(zero for _, zero in data["rate"])
    assert values["vol"].strikes == tuple(data["vol"][0][1:])
    assert values["vol"].rows == tuple(tuple(row[1:]) for row in data["vol"][1:])


@pytest.mark.parametrize("form", ["yaml", "workbook"])
def test_every_form_reads_the_same_quotes(tmp_path, form):
    data = bundled()
    path = as_yaml(tmp_path, data) if form == "yaml" else as_workbook(tmp_path, data)
    assert read_snapshot(path) == read_snapshot(BUNDLED[-1])


def test_flat_inputs_are_numbers(tmp_path):
    data = {**bundled(), "rate": 0.043, "div_yield": 0.013, "vol": 0.167}
    values = read_snapshot(as_yaml(tmp_path, data))
    assert (values["rate"], values["div_yield"], values["vol"]) == (0.043, 0.013, 0.167)


def spoiled(change):
    data = bundled()
    change(data)
    return data


@pytest.mark.parametrize("data, message", [
    (spoiled(lambda d: d.pop("vol")), "market snapshot snapshot.yaml has no vol"),
    (spoiled(lambda d: d["vol"][3].__setitem__(4, 17.0)),
     "market snapshot snapshot.yaml, vol: vol must be a fraction: 17% is 0.17, got 17 (row 4, column 5 of the surface)"),
    (spoiled(lambda d: d["rate"][2].__setitem__(1, "#N/A")),
     "market snapshot snapshot.yaml, rate: rate is an error cell (#N/A) (row 3 of the rate curve)"),
    (spoiled(lambda d: d.__setitem__("as_of", "yesterday")), "market snapshot snapshot.yaml, as_of: as_of must be a date"),
    (spoiled(lambda d: d.__setitem__("as_of", "2026-01-01")),
     "market snapshot snapshot.yaml: rate curve pillar dates must be after as_of (2026-01-01), got 2025-06-28"),
    (spoiled(lambda d: d["vol"][5].__setitem__(slice(1, None), [0.05] * (len(d["vol"][5]) - 1))),
     "market snapshot snapshot.yaml: vol surface has calendar arbitrage"),
    (["not", "a", "mapping"], "it must be a mapping of as_of, spot, rate, div_yield and vol"),
])
def test_bad_snapshots_are_refused_naming_what_and_where(tmp_path, data, message):
    with pytest.raises(TermError) as raised:
        read_snapshot(as_yaml(tmp_path, data))
    assert message in str(raised.value)


def test_a_bad_cell_in_a_workbook_names_its_range_and_cell(tmp_path):
    data = bundled()
    data["vol"][2][3] = "high"
    with pytest.raises(TermError, match=r"market snapshot snapshot.xlsx, VolSurface \(Market!A\d+:R\d+\): vol must be "
                                        r"a number, got 'high' \(row 3, column 4 of the surface\)"):
        read_snapshot(as_workbook(tmp_path, data))


def test_unreadable_files(tmp_path):
    broken = tmp_path / "snapshot.json"
    broken.write_text("{not json")
    with pytest.raises(TermError, match="market snapshot snapshot.json cannot be read"):
        read_snapshot(broken)
    with pytest.raises(TermError, match="market snapshot missing.yaml cannot be read"):
        read_snapshot(tmp_path / "missing.yaml")
