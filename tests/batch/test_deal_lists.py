"""Deal lists as spreadsheets and scripts save them: delimiters, encodings, decimal commas, blank
rows, line numbers, trailing columns, YAML and JSON ids, and unit slips, each fault first
reproduced as the issue reported it."""
import csv
import io
import json
import re

import pytest
import yaml

from xlfuncs.batch import quotes
from xlfuncs.batch.deals import DealListError, read_deals
from xlfuncs.core.fields import TermError

from helpers import EXAMPLES, HEADER, example, example_rows, listing, summary, write_deals


def european(value: str) -> str:
    """A number as European Excel saves it: decimal comma."""
    try:
        float(value)
    except ValueError:
        return value
    return value.replace(".", ",")


def as_text(rows, delimiter=",", header=HEADER, convert=lambda v: v, trailing=0):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header + [""] * trailing)
    for row in rows:
        writer.writerow([convert(row.get(column, "")) for column in header] + [""] * trailing)
    return out.getvalue()


def quoted_values(folder):
    return {deal: float(row["value"]) for deal, row in summary(folder).items() if row["status"] == "written"}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The example list's values, quoted from the plain comma-separated UTF-8 file."""
    out = tmp_path_factory.mktemp("reference")
    records, _ = quotes.run(EXAMPLES, out)
    return {r["deal_id"]: r["value"] for r in records}


def test_a_semicolon_list_with_decimal_commas_gives_the_same_quotes(tmp_path, reference):
    """Was: unknown column 'deal_id;client;...'; then 4550,58 read as 455058."""
    path = tmp_path / "deals.csv"
    path.write_text(as_text(example_rows(), ";", convert=european), encoding="utf-8")
    records, _ = quotes.run(path, tmp_path / "out")
    assert {r["deal_id"]: r["value"] for r in records} == reference


def test_a_tab_separated_list_is_read(tmp_path, reference):
    path = tmp_path / "deals.csv"
    path.write_text(as_text(example_rows(), "\t"), encoding="utf-8")
    records, _ = quotes.run(path, tmp_path / "out")
    assert {r["deal_id"]: r["value"] for r in records} == reference


def test_a_windows_1252_list_is_read_with_a_note(tmp_path, reference):
    """Was: a UTF-8 decode error for the whole list."""
    rows = [dict(row, client=row["client"] + " Zürich Señor") for row in example_rows()]
    path = tmp_path / "deals.csv"
    path.write_bytes(as_text(rows).encode("cp1252"))
    notes = []
    records, _ = quotes.run(path, tmp_path / "out", notes=notes)
    assert {r["deal_id"]: r["value"] for r in records} == reference
    assert {r["client"] for r in records} == {row["client"] for row in rows}
    assert notes == [f"{path}: not UTF-8; read as Windows-1252 (save as CSV UTF-8 to be sure of accented text)"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_utf8_with_a_byte_order_mark_and_utf16_are_read(tmp_path, reference, encoding):
    path = tmp_path / "deals.csv"
    path.write_bytes(as_text(example_rows(), "\t" if encoding == "utf-16" else ",").encode(encoding))
    notes = []
    records, _ = quotes.run(path, tmp_path / "out", notes=notes)
    assert {r["deal_id"]: r["value"] for r in records} == reference and notes == []


def test_bytes_that_are_no_text_are_an_error_for_the_list(tmp_path):
    path = tmp_path / "deals.csv"
    path.write_bytes(as_text(example_rows()[:1]).encode() + b"\x81\x8d\x8f\x90\x9d")
    with pytest.raises(DealListError, match="is neither UTF-8 nor Windows-1252 text"):
        read_deals(path)


@pytest.mark.parametrize("text, message", [
    ("1,234", "initial '1,234' is ambiguous in a semicolon-separated list"),
    ("4.550", "initial '4.550' is ambiguous in a semicolon-separated list"),
    ("4.550,58", "initial must be a plain number, without thousands separators"),
])
def test_a_value_that_could_be_a_thousands_group_is_refused_never_guessed(tmp_path, text, message):
    rows = [dict(example("N-101"), initial=text), example("N-102")]
    path = tmp_path / "deals.csv"
    path.write_text(as_text(rows, ";", convert=lambda v: v if v == text else european(v)))
    deals, failures = read_deals(path)
    assert [d.deal_id for d in deals] == ["N-102"] and deals[0].values["initial"] == 4550.58
    assert failures[0]["deal_id"] == "N-101" and failures[0]["message"].startswith(message)


@pytest.mark.parametrize("text, value", [("0,167", 0.167), ("0.167", 0.167), ("16,70e-2", 0.167)])
def test_unambiguous_decimals_in_a_semicolon_list(tmp_path, text, value):
    path = tmp_path / "deals.csv"
    path.write_text(as_text([dict(example("N-101"), vol=text)], ";"))
    deals, failures = read_deals(path)
    assert failures == [] and deals[0].values["vol"] == pytest.approx(value, rel=1e-15)


def test_blank_rows_are_skipped_and_rows_keep_their_file_line_numbers(tmp_path):
    """Was: a blank row (,,,,) a failed deal, an empty line shifting every later row number."""
    rows = example_rows()[:3]
    lines = as_text(rows).splitlines()
    blank = "," * (len(HEADER) - 1)
    bad = as_text([dict(example("N-104"), vol="16.7")]).splitlines()[1]
    text = "\r\n".join([lines[0], lines[1], blank, "", lines[2], "   ", bad, lines[3], blank]) + "\r\n"
    path = tmp_path / "deals.csv"
    path.write_text(text)
    deals, failures = read_deals(path)
    assert [(d.row, d.deal_id) for d in deals] == [(2, rows[0]["deal_id"]), (5, rows[1]["deal_id"]),
                                                   (8, rows[2]["deal_id"])]
    assert [(f["row"], f["deal_id"]) for f in failures] == [(7, "N-104")]


def test_a_quoted_value_over_several_lines_keeps_later_line_numbers(tmp_path):
    rows = [dict(example("N-101"), client="Harbor\nPension Trust"), example("N-102")]
    path = tmp_path / "deals.csv"
    path.write_text(as_text(rows))
    deals, _ = read_deals(path)
    assert [(d.row, d.client) for d in deals] == [(2, "Harbor\nPension Trust"), (4, example("N-102")["client"])]


def test_empty_trailing_columns_are_ignored_and_a_value_under_no_header_is_that_deal_s_error(tmp_path):
    """Was: trailing empty columns (as Excel saves a sheet with formatted empty columns) rejected the list."""
    path = tmp_path / "deals.csv"
    text = as_text(example_rows()[:3], trailing=3).splitlines()
    text[2] = text[2] + "oops"
    path.write_text("\n".join(text) + "\n")
    deals, failures = read_deals(path)
    assert [d.row for d in deals] == [2, 4]
    assert failures[0]["row"] == 3 and failures[0]["message"] == (
        f"column {len(HEADER) + 3} has no header but holds 'oops'")


def test_headers_are_matched_without_case_or_spaces_and_may_not_repeat(tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text(as_text(example_rows()[:1], header=HEADER).replace("deal_id,", " Deal_ID ,", 1))
    assert [d.deal_id for d in read_deals(path)[0]] == [example_rows()[0]["deal_id"]]
    path.write_text(as_text(example_rows()[:1], header=HEADER + ["vol"]))
    with pytest.raises(DealListError, match="column 'vol' appears more than once"):
        read_deals(path)


def yaml_deal(deal_id_text: str) -> str:
    fields = {k: v for k, v in example("N-101").items() if v and k != "deal_id"}
    return f"- deal_id: {deal_id_text}\n" + "".join(f"  {k}: {v}\n" for k, v in fields.items())


@pytest.mark.parametrize("text, deal_id", [("0123", "0123"), ("1e3", "1e3"), ("2025-05-28", "2025-05-28"),
                                           ("yes", "yes"), ("1_000", "1_000"), ("0x1F", "0x1F")])
def test_unquoted_yaml_ids_stay_as_written(tmp_path, text, deal_id):
    """Was: 0123 retyped to 83 (an octal number), its quote named 83.xlsx."""
    (tmp_path / "deals.yaml").write_text(yaml_deal(text))
    records, _ = quotes.run(tmp_path / "deals.yaml", tmp_path / "out")
    assert records[0]["deal_id"] == deal_id and records[0]["status"] == "written", records[0]["message"]
    assert listing(tmp_path / "out") == sorted([f"{deal_id}.xlsx", "summary.csv"])


def test_yaml_records_report_their_line(tmp_path):
    text = yaml_deal("A-1") + yaml_deal("A-2").replace("vol: 0.150", "vol: 15")
    (tmp_path / "deals.yaml").write_text(text)
    deals, failures = read_deals(tmp_path / "deals.yaml")
    assert [d.row for d in deals] == [1] and failures[0]["row"] == text.splitlines().index("- deal_id: A-2") + 1


@pytest.mark.parametrize("literal", ["1.50", "true", "1e3"])
def test_json_ids_stay_as_written(tmp_path, literal):
    """Was: true became the id True (a file True.xlsx)."""
    deal = {k: v for k, v in example("N-101").items() if v}
    text = json.dumps([{**deal, "deal_id": "X"}]).replace('"X"', literal)
    (tmp_path / "deals.json").write_text(text)
    deals, failures = read_deals(tmp_path / "deals.json")
    assert failures == [] and deals[0].deal_id == literal


@pytest.mark.parametrize("column, text, message", [
    ("participation", "300%", "participation must be a fraction: 300% is 3, got '300%'"),
    ("vol", "16.7 %", "vol must be a fraction: 16.7% is 0.167, got '16.7 %'"),
    ("vol", "16.7", "vol must be a fraction: 16.7% is 0.167, got 16.7"),
    ("max_return", "23", "max_return must be a fraction: 23% is 0.23, got 23"),
    ("participation", "300", "participation must be a fraction: 300% is 3, got 300"),
    ("spot", "4550%", "spot must be a number, got '4550%'"),
])
def test_a_percentage_where_a_fraction_belongs_is_refused_saying_what_to_type(tmp_path, column, text, message):
    """Was: unit slips quoted (vol "1500%"), and "300%" refused without the fraction to type."""
    path = tmp_path / "deals.csv"
    path.write_text(as_text([dict(example("N-101"), **{column: text})]))
    records, _ = quotes.run(path, tmp_path / "out")
    assert records[0]["status"] == "failed" and records[0]["message"] == message
    assert listing(tmp_path / "out") == ["summary.csv"]


def test_an_upper_strike_in_percent_is_refused(tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text(as_text([dict(example("W-201"), upper_strike="95")]))
    records, _ = quotes.run(path, tmp_path / "out")
    assert records[0]["message"] == "upper_strike must be a fraction: 95% is 0.95, got 95"


def test_excel_cells_holding_percent_text_get_the_same_answer():
    """The rule lives in the field: an Excel cell holding the text 300% gets the same message."""
    from xlfuncs.excel import functions as excel
    with pytest.raises(TermError, match=r"participation must be a fraction: 300% is 3, got '300%'"):
        excel.NOTE_PAYMENT(4000.0, 4550.58, "300%", 0.1, 0.25, 0.1)


def parsed(path):
    """What read_deals makes of a list: good deal ids, and (row, deal_id, message) of the others."""
    deals, failures = read_deals(path)
    return [d.deal_id for d in deals], [(f["row"], f["deal_id"], f["message"]) for f in failures]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_without_a_byte_order_mark_are_detected_with_a_note(tmp_path, encoding):
    """Was: read as Windows-1252, every column name garbage ("unknown column 'd\\x00e\\x00...')."""
    path = tmp_path / "deals.csv"
    rows = [dict(example("N-101"), client="Zürich Pensionskasse"), example("W-201")]
    path.write_bytes(as_text(rows, "\t").encode(encoding))
    notes = []
    deals, failures = read_deals(path, notes)
    assert failures == [] and [d.client for d in deals] == ["Zürich Pensionskasse", example("W-201")["client"]]
    assert notes == [f"{path}: no byte order mark; read as {encoding.upper()} (save as CSV UTF-8 to be sure)"]
    path.write_bytes(as_text(rows).encode(encoding[:6]))  # with a byte order mark: no note
    notes = []
    assert read_deals(path, notes)[1] == [] and notes == []


def test_zero_bytes_that_are_no_text_are_refused_saying_so(tmp_path):
    path = tmp_path / "deals.csv"
    path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4)  # a zip, saved as .csv
    with pytest.raises(DealListError, match="holds zero bytes, so it is no text in UTF-8, UTF-16, UTF-32 or "
                                            "Windows-1252; save it as CSV UTF-8"):
        read_deals(path)


@pytest.mark.parametrize("first_line", ['"sep=,"', "sep=,", '"sep=;"', '"sep=,",,,,'])
def test_excel_s_sep_line_quoted_or_not(tmp_path, first_line):
    """Was: a quoted "sep=," first line, as some programs write it, was an unknown column."""
    delimiter = first_line.strip('"')[-1]
    path = tmp_path / "deals.csv"
    path.write_text(first_line + "\r\n" + as_text([example("N-101"), example("W-201")], delimiter))
    assert parsed(path) == (["N-101", "W-201"], [])


def test_a_huge_csv_cell_fails_its_deal_only_naming_row_and_column(tmp_path):
    """Was: a cell over 131,072 characters refused the whole list, without a row number."""
    path = tmp_path / "deals.csv"
    rows = [example("N-101"), dict(example("W-201"), closes="5907.55;" * 20_000), example("W-202")]
    path.write_text(as_text(rows))
    assert parsed(path) == (["N-101", "W-202"], [(3, "W-201", "closes must have at most 1,000 entries, got 20,001")])


@pytest.mark.parametrize("text, message", [
    ("," * 5_000_000, "line 3 is longer than 4,194,304 characters; no deal list holds one"),
    ('"' + "x\n" * 2_200_000 + '"', "line 3 starts a cell longer than 4,194,304 characters; no deal list holds one")])
def test_a_line_or_cell_longer_than_any_deal_refuses_the_list_before_it_is_split(tmp_path, text, message):
    """Was: 5 million cells of one row took 156 MB; a 4-million-character cell with line breaks
    left the reader inside it, where a deal row in its text became a deal."""
    path = tmp_path / "deals.csv"
    path.write_text(as_text([example("N-101")]) + "N-102,Client," + text + "\r\n" + as_text([example("W-201")])
                    .split("\r\n", 1)[1])
    with pytest.raises(DealListError, match=re.escape(message)):
        read_deals(path)


@pytest.mark.parametrize("first_line", ['"sep=,",,,,,', "sep=;;;;"])
def test_a_sep_line_padded_with_delimiters_as_spreadsheets_save_it(tmp_path, first_line):
    delimiter = "," if "," in first_line else ";"
    path = tmp_path / "deals.csv"
    path.write_text(first_line + "\r\n" + as_text([example("N-101")], delimiter))
    assert parsed(path) == (["N-101"], [])


def test_a_ten_megabyte_json_cell_is_refused_before_it_is_converted(tmp_path):
    """Was: a 10 MB closes cell in a JSON list took 465 MB before it was refused."""
    deals = [{k: v for k, v in example(i).items() if v} for i in ("N-101", "W-201", "W-202", "W-203")]
    deals[1]["closes"] = "5907.55;" * 1_250_000
    deals[2]["closes"] = [5907.55] * 200_000
    (tmp_path / "deals.json").write_text(json.dumps(deals))
    good, bad = parsed(tmp_path / "deals.json")
    assert good == ["N-101", "W-203"]  # the deals after the huge ones are read in their place
    assert bad == [(2, "", "the deal is longer than 4,194,304 characters of JSON"),  # passed over unread
                   (3, "W-202", "closes must have at most 1,000 entries, got 200,000")]


def test_a_json_list_cut_off_inside_a_deal_too_long_to_read_is_refused_naming_the_file(tmp_path):
    """Was: the message did not name the file."""
    path = tmp_path / "deals.json"
    path.write_text('[{"deal_id": "N-101", "closes": "' + "5907.55;" * 600_000)
    with pytest.raises(DealListError, match=f"^{re.escape(str(path))}: cannot be read: the file ends inside a deal$"):
        read_deals(path)


def test_a_yaml_deal_with_more_values_than_any_deal_fails_alone(tmp_path):
    deals = [{k: v for k, v in example(i).items() if v} for i in ("N-101", "W-201", "W-203")]
    deals[1]["closes"] = [5907.55] * 3000
    (tmp_path / "deals.yaml").write_text(yaml.safe_dump(deals))
    good, bad = parsed(tmp_path / "deals.yaml")
    assert good == ["N-101", "W-203"] and [message for _, _, message in bad] == ["the deal holds more than 2,100 values"]


def test_long_json_and_yaml_lists_stream_to_the_same_deals(tmp_path):
    """Lists are read a record at a time (a window of the file), never as a whole: the same
    deals as a reader of the whole file, across many windows."""
    base = [{k: v for k, v in row.items() if v} for row in example_rows()]
    deals = [dict(deal, deal_id=f"{deal['deal_id']}-{n}", client=deal["client"] + " " * (n % 7))
             for n in range(60) for deal in base]
    (tmp_path / "deals.json").write_text(json.dumps(deals, indent=3))
    (tmp_path / "deals.yaml").write_text(yaml.safe_dump(deals))
    for path in (tmp_path / "deals.json", tmp_path / "deals.yaml"):
        assert path.stat().st_size > 4 * (1 << 16)
        good, bad = parsed(path)
        assert bad == [] and good == [deal["deal_id"] for deal in deals]


@pytest.mark.parametrize("text, message", [
    ('{"deal_id": "A"}', "must hold a list of deals"), ('[{"deal_id": "A"}] x', "text after the list of deals"),
    ('[{"deal_id": "A"} {"deal_id": "B"}]', "expected ',' or ']' after deal 1"), ("[1, 2]", "must hold a list of deals"),
    ('[{"deal_id": "A", ', "cannot be read"), ('[{"deal_id": "A"},]', "a comma after the last deal (1)")])
def test_json_that_is_not_a_list_of_deals_is_refused(tmp_path, text, message):
    (tmp_path / "deals.json").write_text(text)
    with pytest.raises(DealListError, match=re.escape(message)):
        read_deals(tmp_path / "deals.json")


def test_yaml_with_several_documents_is_refused(tmp_path):
    deal = {k: v for k, v in example("N-101").items() if v}
    (tmp_path / "deals.yaml").write_text(yaml.safe_dump([deal]) + "---\n" + yaml.safe_dump([deal]))
    with pytest.raises(DealListError, match="must hold one list of deals, not several documents"):
        read_deals(tmp_path / "deals.yaml")


def test_unicode_ids_name_their_files_and_windows_devices_fail_their_deal(tmp_path):
    """Was: an id of only non-ASCII letters (é) refused, and con.txt made con.txt.xlsx."""
    rows = [dict(example("N-101"), deal_id="é"), dict(example("N-102"), deal_id="con.txt"),
            dict(example("N-103"), deal_id="e\u0301"), dict(example("B-401"), deal_id="Zürich-7"),
            dict(example("B-402"), deal_id="हिन्दी")]
    records, _ = quotes.run(write_deals(tmp_path / "deals.csv", rows), tmp_path / "out")
    by_id = {r["deal_id"]: r for r in records}
    assert by_id["Zürich-7"]["status"] == "written" and (tmp_path / "out" / "Zürich-7.xlsx").is_file()
    # é and e + combining acute are one id on screen and one file name (composed): both fail
    assert by_id["é"]["message"] == by_id["e\u0301"]["message"] == (
        "deal_id names the same output file as another deal (rows 2, 4)")
    assert by_id["con.txt"]["message"] == ("deal_id 'con.txt' would name the file con.txt.xlsx, which names the "
                                           "Windows device CON: choose another id")
    assert listing(tmp_path / "out") == sorted(["summary.csv", "Zürich-7.xlsx", "हिन्दी.xlsx"])  # its marks kept


def test_a_product_without_a_monte_carlo_check_has_no_paths_or_seed_and_is_quoted_without_them(monkeypatch):
    """Only a family knows that its products have a Monte Carlo check (Product.settings)."""
    from dataclasses import replace

    from xlfuncs.batch import deals
    row = next(r for r in example_rows() if r["deal_id"] == "N-101")
    with_check = quotes.analyse(deals.parse_deal(2, row))
    monkeypatch.setitem(deals.BY_KEY, "note", replace(deals.BY_KEY["note"], settings=None))
    assert {"paths", "seed"}.isdisjoint(deals.BY_KEY["note"].deal_fields)
    deal = deals.parse_deal(2, {**row, "paths": "", "seed": ""})
    assert deal.objects()[2] is None and quotes.analyse(deal) == with_check
    with pytest.raises(deals.DealError, match="^paths is not a term of a note$"):
        deals.parse_deal(2, {**row, "paths": "2000"})
