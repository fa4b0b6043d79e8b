"""Reading a workbook in bounded memory and time: what openpyxl reads, from the active
visible sheet only, with every cap checked while the XML streams (small limits here; the
real-size hostile files are in test_hostile.py)."""

import io
import struct
import zipfile
from datetime import datetime

import openpyxl
import pytest
import xlsxwriter

from tests.trials.ingest.workbooks import (
    SHEET,
    STRINGS,
    first_cell_is_string,
    numbered_rows,
    repeated,
    sheet_xml,
    strings_xml,
    text_cell,
    with_parts,
    workbook,
)
from trials.ingest.limits import ImportLimits, TableError
from trials.ingest.tables import read_table


def refusal(data: bytes, **limits) -> str:
    with pytest.raises(TableError) as e:
        read_table(data, "w.xlsx", ImportLimits(**limits))
    message = str(e.value)
    assert message.startswith("w.xlsx")
    assert len(message) < 400
    return message


def _every_kind_of_cell(book) -> None:
    sheet = book.add_worksheet("Data")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    chinese = book.add_format({"num_format": 'yyyy"年"m"月"d"日"'})
    bold = book.add_format({"bold": True})
    sheet.write_row(0, 0, ["date", "channel", " creative ", "n", "x", "b", "f", "rich"])
    sheet.write_datetime(1, 0, datetime(2026, 9, 1), day)
    sheet.write_row(1, 1, ["微信", "Video A", 12410, 1.25])
    sheet.write_boolean(1, 5, True)
    sheet.write_formula(1, 6, "=D2*2", None, 24820)
    sheet.write_rich_string(1, 7, "ab", bold, "cd", "ef")
    sheet.write_datetime(3, 0, datetime(2026, 9, 2, 13, 5), moment)
    sheet.write_datetime(3, 1, datetime(2026, 9, 3), chinese)
    sheet.write(3, 5, "")
    sheet.write_formula(3, 6, '="x"&"y"', None, "xy")
    sheet.write(3, 10, "far")
    sheet.write(5, 0, 45658, day)
    sheet.write(5, 1, 59, day)  # Excel's calendar before its 29 February 1900
    sheet.write(6, 0, "  ")
    sheet.write(7, 2, -3)
    sheet.write(7, 3, 1e300)
    sheet.write_formula(7, 4, "=1/0", None, "#DIV/0!")


def _openpyxl_rows(data: bytes):
    """The rows as the reader before this one read them: openpyxl, read-only."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    rows, numbers = [], []
    for number, row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
        cells = tuple(c.strip() if isinstance(c, str) else c for c in row)
        if any(c is not None and c != "" for c in cells):
            rows.append(cells)
            numbers.append(number)
    width = max(len(r) for r in rows)
    return tuple(r + (None,) * (width - len(r)) for r in rows), tuple(numbers)


@pytest.mark.parametrize(
    "options", [{}, {"constant_memory": True}, {"date_1904": True}], ids=str
)  # shared strings; inline strings; the Mac calendar
def test_cells_read_as_openpyxl_reads_them(options):
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, **options})
    _every_kind_of_cell(book)
    book.close()
    data = buffer.getvalue()
    table = read_table(data, "w.xlsx")
    assert (table.rows, table.numbers) == _openpyxl_rows(data)
    assert table.rows[0][2] == "creative" and table.rows[1][7] == "abcdef"
    assert table.rows[1][0] == datetime(2026, 9, 1)
    assert table.numbers == (1, 2, 4, 6, 8)  # the blank row 7 ("  ") is left out


def test_the_active_visible_sheet_is_read_and_the_others_are_named():
    data = workbook(
        {
            "Raw": [["date", "clicks"], ["2026-09-01", 999]],
            "Notes": [["read me"]],
            "Daily": [["date", "clicks"], ["2026-09-01", 10]],
            "Secret": [["x"]],
        },
        active="Daily",
        hidden=["Raw"],
        very_hidden=["Secret"],
    )
    table = read_table(data, "w.xlsx")
    assert table.sheet == "Daily" and table.rows[1] == ("2026-09-01", 10)
    assert table.notes == (
        "ignored hidden sheet 'Raw'",
        "ignored hidden sheet 'Secret'",
        "did not read sheet 'Notes' (one sheet is read: the active one)",
    )


def test_a_hidden_first_sheet_is_never_read_even_when_it_is_the_only_one_with_data():
    data = workbook(
        {"Raw": [["date", "clicks"], ["2026-09-01", 999]], "Daily": [["date"]]},
        active="Daily",
        hidden=["Raw"],
    )
    table = read_table(data, "w.xlsx")
    assert table.sheet == "Daily" and table.rows == (("date",),)


def test_an_empty_active_sheet_gives_way_to_the_next_visible_one_and_says_so():
    data = workbook({"Empty": [], "Daily": [["date"], ["2026-09-01"]]}, active="Empty")
    table = read_table(data, "w.xlsx")
    assert table.sheet == "Daily"
    assert "the active sheet 'Empty' is empty; read sheet 'Daily'" in table.notes


def test_a_workbook_of_hidden_sheets_only_is_refused():
    data = workbook({"A": [["x"]], "B": [["y"]]})
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        book = z.read("xl/workbook.xml").replace(b'r:id="', b'state="hidden" r:id="')
    assert "every sheet of the workbook is hidden" in refusal(
        with_parts(data, {"xl/workbook.xml": book})
    )


# -- caps ---------------------------------------------------------------------------------


def test_a_shared_string_over_the_cell_cap_is_refused_as_it_streams():
    data = with_parts(
        workbook(),
        {STRINGS: strings_xml([text_cell(200_000)]), SHEET: b"".join(first_cell_is_string())},
    )
    message = refusal(data)
    assert "a text cell of the workbook has more than 32,767 characters" in message
    assert "it starts 'Summary of the campaign" in message and "…'" in message


def test_an_inline_string_over_the_cell_cap_is_refused_naming_the_cell():
    row = b'<row r="3"><c r="B3" t="inlineStr"><is><t>' + b"y" * 500 + b"</t></is></c></row>"
    data = with_parts(workbook(), {SHEET: sheet_xml([row])})
    message = refusal(data, max_cell_chars=100)
    assert message.startswith("w.xlsx, sheet 'Daily', cell B3: more than 100 characters")
    assert "y" * 80 + "…" in message and "y" * 81 not in message


def test_rows_and_cells_are_capped_as_they_are_read():
    data = with_parts(workbook(), {SHEET: sheet_xml(numbered_rows(50, 2))})
    assert "more than 20 rows (TRIALS_MAX_ROWS)" in refusal(data, max_rows=20)
    data = with_parts(workbook(), {SHEET: sheet_xml(numbered_rows(30, 9))})
    assert "more than 100 cells (9 columns wide" in refusal(data, max_cells=400)


def test_a_cell_in_the_far_corner_counts_the_whole_width():
    rows = [
        b'<row r="%d"><c r="A%d"><v>1</v></c><c r="XFD%d"><v>1</v></c></row>' % (r, r, r)
        for r in (1, 9)
    ]
    before = b'<dimension ref="A1:XFD1048576"/>'
    data = with_parts(workbook(), {SHEET: b"".join(sheet_xml(rows, before))})
    assert "16,384 columns wide" in refusal(data, max_cells=100_000)
    assert "past the last column" in refusal(data, max_columns=100)


def test_a_part_with_too_many_tags_is_refused_before_it_is_parsed():
    data = with_parts(workbook(), {SHEET: sheet_xml(repeated(b"<x/>", 1))}, padding=20_000)
    message = refusal(data, max_cells=4000, max_rows=100)
    assert "sheet 'Daily' is too big to read (more than" in message and "XML tags" in message


def test_a_stretch_without_markup_is_refused():
    data = with_parts(workbook(), {SHEET: sheet_xml([b" " * 300_000])})
    assert "more than 100,000 characters without a break" in refusal(data, max_record_chars=100_000)


@pytest.mark.parametrize(
    ("piece", "refused"),
    [
        # A comment with tags in it, which a parser holds whole: the parse stops it.
        (b"<!-- " + b"<x> " * 50_000 + b" -->", "a piece of XML longer than 100,000 bytes"),
        # One attribute of 200,000 bytes, no tag in it: the scan stops it.
        (b'<row><c r="A1" x="' + b">" * 200_000 + b'"><v>1</v></c></row>', "without a break"),
    ],
    ids=["comment", "attribute"],
)
def test_no_piece_of_xml_may_grow_past_the_cap(piece, refused):
    data = with_parts(workbook(), {SHEET: sheet_xml([piece])})
    assert refused in refusal(data, max_record_chars=100_000)


def test_document_types_entities_and_deep_nesting_are_refused():
    doctype = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet/>'
    assert "declares a document type or entities" in refusal(
        with_parts(workbook(), {SHEET: doctype})
    )
    deep = b"<a>" * 100 + b"</a>" * 100
    assert "too deeply nested" in refusal(with_parts(workbook(), {SHEET: sheet_xml([deep])}))


def test_rows_out_of_order_and_missing_text_are_damage():
    rows = [b'<row r="5"><c><v>1</v></c></row>', b'<row r="3"><c><v>1</v></c></row>']
    message = refusal(with_parts(workbook(), {SHEET: sheet_xml(rows)}))
    assert "lists row 3 after row 5; the workbook is damaged" in message
    row = [b'<row r="1"><c t="s"><v>7</v></c></row>']
    data = with_parts(workbook(), {SHEET: sheet_xml(row), STRINGS: strings_xml([b"<t>a</t>"])})
    assert "refers to text number 7, which is not there" in refusal(data)


# -- the zip ------------------------------------------------------------------------------


def _patch_central_directory(data: bytes, name: str, size: int) -> bytes:
    """``data`` with the declared inflated size of member ``name`` set to ``size``."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02" + b"\x00" * 0, 0)
    target = name.encode()
    while at >= 0:
        length = struct.unpack("<H", out[at + 28 : at + 30])[0]
        if bytes(out[at + 46 : at + 46 + length]) == target:
            out[at + 24 : at + 28] = struct.pack("<I", size)
            return bytes(out)
        at = out.find(b"PK\x01\x02", at + 4)
    raise AssertionError(name)


def test_a_member_that_inflates_past_its_declared_size_is_damage():
    data = with_parts(workbook(), {SHEET: sheet_xml(numbered_rows(500, 3))})
    lying = _patch_central_directory(data, SHEET, 1000)
    assert "the workbook is damaged" in refusal(lying)


def test_the_zip_directory_is_checked_before_it_is_read():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        for i in range(50):
            z.writestr(f"xl/media/{i}.bin", b"")
    assert "lists 51 parts" in refusal(out.getvalue(), max_zip_members=20)


def test_odd_compression_and_encryption_are_refused():
    data = with_parts(workbook(), {})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item.filename, src.read(item), compress_type=zipfile.ZIP_BZIP2)
    assert "compressed in a way Excel does not write" in refusal(out.getvalue())
    encrypted = bytearray(data)
    at = encrypted.find(b"PK\x01\x02")
    encrypted[at + 8] |= 0x1
    assert "password-protected" in refusal(bytes(encrypted))
