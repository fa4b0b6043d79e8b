"""Turning uploaded bytes into rows: encodings, delimiters, XLSX, limits and safety."""

import io
import zipfile

import pytest
import xlsxwriter

from tests.conftest import ROOT
from trials.ingest.tables import ImportLimits, TableError, decode, detect_delimiter, read_table

FILES = ROOT / "tests" / "trials" / "files"
CSV = "date,channel,creative\n2026-09-01,微信,视频A\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (CSV.encode("utf-8"), "UTF-8"),
        (b"\xef\xbb\xbf" + CSV.encode("utf-8"), "UTF-8 (BOM)"),
        (CSV.encode("utf-16"), "UTF-16"),
        (CSV.encode("utf-16-le"), "UTF-16"),  # no byte-order mark
        (CSV.encode("gb18030"), "GB18030"),
        (CSV.encode("gbk"), "GB18030"),
        ("date,channel\n2026-09-01,Café\n".encode("cp1252"), "Windows-1252"),
    ],
)
def test_encodings_are_detected_and_text_comes_back_intact(data, encoding):
    table = read_table(data, "x.csv")
    assert table.encoding == encoding
    if "微信" in CSV and encoding not in ("Windows-1252",):
        assert table.rows[1] == ("2026-09-01", "微信", "视频A")
    assert decode(data, "x.csv")[1] == encoding


def test_delimiter_is_detected_past_title_lines():
    lines = [
        "Campaign report",
        "1 Sep 2026 - 30 Sep 2026, all campaigns",
        "Day;Campaign;Cost",
        "2026-09-01;WeChat;12,50",
        "2026-09-02;WeChat;13,75",
    ]
    assert detect_delimiter(lines) == ";"
    assert detect_delimiter(["a|b|c", "1|2|3"]) == "|"
    assert detect_delimiter(["a\tb\tc", "1\t2,5\t3"]) == "\t"


def test_blank_lines_are_skipped_but_row_numbers_are_the_files():
    table = read_table(b"a,b\n\n1,2\n,\n3,4\n", "x.csv")
    assert table.rows == (("a", "b"), ("1", "2"), ("3", "4"))
    assert table.numbers == (1, 3, 5)


def test_size_and_row_caps_are_clear():
    with pytest.raises(TableError, match="limit is 1 MB"):
        read_table(b"a,b\n" * 300_000, "big.csv", ImportLimits(max_bytes=1024 * 1024))
    with pytest.raises(TableError, match="more than 10 rows"):
        read_table(b"a,b\n" * 20, "long.csv", ImportLimits(max_rows=10))


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRIALS_MAX_UPLOAD_MB", "2")
    monkeypatch.setenv("TRIALS_MAX_ROWS", "500")
    limits = ImportLimits.from_env()
    assert (limits.max_bytes, limits.max_rows) == (2 * 1024 * 1024, 500)


def test_empty_and_old_excel_files_are_refused():
    with pytest.raises(TableError, match="empty"):
        read_table(b"  \n", "x.csv")
    with pytest.raises(TableError, match=r"old Excel \.xls"):
        read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "x.xls")


def test_xlsx_reads_saved_values_of_formulas_never_the_formula():
    table = read_table((FILES / "results.xlsx").read_bytes(), "results.xlsx")
    assert table.sheet == "Daily"
    revenue = [row[7] for row in table.rows[2:]]
    assert revenue == [450, 210, 600, 99.99]  # 600 is the formula's saved value


def _xlsx_bytes(**extra_members) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet().write_row(0, 0, ["a", "b"])
    book.close()
    data = buffer.getvalue()
    if not extra_members:
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        for name, content in extra_members.items():
            dst.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def test_xlsx_with_macros_is_refused():
    data = _xlsx_bytes(**{"xl/vbaProject.bin": b"macro"})
    with pytest.raises(TableError, match="macros"):
        read_table(data, "m.xlsm")


def test_zip_bomb_is_not_opened():
    data = _xlsx_bytes(**{"xl/padding.bin": b"\0" * 50_000_000})
    with pytest.raises(TableError, match="unpack"):
        read_table(data, "bomb.xlsx")


def test_a_zip_that_is_not_a_workbook_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(TableError, match="not an Excel"):
        read_table(out.getvalue(), "x.xlsx")
