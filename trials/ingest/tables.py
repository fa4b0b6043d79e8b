"""Reading an uploaded file (CSV, TSV or XLSX) into rows of cells, safely.

What a platform exports is rarely clean: a byte-order mark or none, GB18030 from Chinese
Excel, UTF-16 from "Unicode text" exports, semicolons from European locales, title lines
above the header. This module only turns bytes into rows; which row is the header and
what the cells mean is decided later (``trials.ingest.columns``, ``trials.ingest.cells``).

Limits: a file larger than ``max_bytes`` or with more than ``max_rows`` rows is refused
with a message saying so. An XLSX file is opened without macros, with formulas read as
their saved values (never evaluated), XML parsed by defusedxml, and its zip members'
inflated size bounded before anything is read.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePath

from trials.domain import UserError
from trials.ingest.cells import Cell

__all__ = ["ImportLimits", "RawTable", "TableError", "read_table"]

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_SAMPLE_LINES = 60


class TableError(UserError):
    """A file that cannot be read as a table at all."""


@dataclass(frozen=True)
class ImportLimits:
    """How big an upload may be. ``from_env`` reads ``TRIALS_MAX_UPLOAD_MB`` and
    ``TRIALS_MAX_ROWS``."""

    max_bytes: int = 50 * 1024 * 1024
    max_rows: int = 200_000
    # An XLSX is a zip; a small file can inflate to gigabytes ("zip bomb").
    max_inflated_bytes: int = 500 * 1024 * 1024
    max_inflation_ratio: int = 200

    @classmethod
    def from_env(cls) -> ImportLimits:
        out = cls()
        mb = os.environ.get("TRIALS_MAX_UPLOAD_MB", "").strip()
        rows = os.environ.get("TRIALS_MAX_ROWS", "").strip()
        if mb:
            out = cls(max_bytes=int(float(mb) * 1024 * 1024), max_rows=out.max_rows)
        if rows:
            out = cls(max_bytes=out.max_bytes, max_rows=int(rows))
        return out


@dataclass(frozen=True)
class RawTable:
    """A file's rows as read, before any meaning is given to them.

    ``rows[i]`` is line (or sheet row) ``numbers[i]`` of the file, counting from 1 as a
    spreadsheet does; blank lines are left out but keep their numbers free.
    """

    file_name: str
    kind: str  # "csv" or "xlsx"
    rows: tuple[tuple[Cell, ...], ...]
    numbers: tuple[int, ...]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None

    @property
    def format_label(self) -> str:
        if self.kind == "xlsx":
            return f"Excel workbook, sheet '{self.sheet}'"
        return f"{DELIMITER_NAMES[self.delimiter]}-separated text, {self.encoding}"


def read_table(data: bytes, file_name: str, limits: ImportLimits | None = None) -> RawTable:
    """Read ``data`` (the file's bytes) as a table; XLSX by content, text otherwise."""
    limits = limits or ImportLimits.from_env()
    if len(data) > limits.max_bytes:
        raise TableError(
            f"{file_name}: the file is {len(data) / 1024 / 1024:.1f} MB; the limit is "
            f"{limits.max_bytes / 1024 / 1024:.0f} MB (TRIALS_MAX_UPLOAD_MB). "
            "Export a shorter date range or fewer columns."
        )
    if not data.strip():
        raise TableError(f"{file_name}: the file is empty")
    if data[:4] == b"PK\x03\x04":
        table = _read_xlsx(data, file_name, limits)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise TableError(
            f"{file_name}: this is an old Excel .xls file; save it as .xlsx or CSV and try again"
        )
    else:
        table = _read_text(data, file_name, limits)
    if not table.rows:
        raise TableError(f"{file_name}: the file has no rows")
    return table


# -- text ---------------------------------------------------------------------------------


def decode(data: bytes, file_name: str) -> tuple[str, str]:
    """The file's text and the encoding it was read with.

    A byte-order mark decides; otherwise UTF-8 if it decodes, UTF-16 if every other byte
    is zero, then GB18030 (what Chinese Excel writes; a superset of GBK) when the result
    reads as Chinese, and Windows-1252 last.
    """
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding), "UTF-16" if "16" in encoding else "UTF-8 (BOM)"
            except UnicodeDecodeError as e:
                raise TableError(f"{file_name}: not valid {encoding} text ({e.reason})") from e
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    head = data[:4000]
    if len(head) > 3 and head.count(0) >= len(head) // 3:
        endian = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        try:
            return data.decode(endian), "UTF-16"
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode("gb18030")
        if _mostly_chinese(text):
            return text, "GB18030"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as e:
        raise TableError(
            f"{file_name}: could not tell the text encoding; save the file as UTF-8 CSV"
        ) from e


def _mostly_chinese(text: str) -> bool:
    non_ascii = [c for c in text if ord(c) > 127]
    if not non_ascii:
        return True
    cjk = sum(
        "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef"
        for c in non_ascii
    )
    return cjk >= 0.8 * len(non_ascii)


def detect_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the most sample lines into the same number of fields.

    Looks at up to 60 non-blank lines, not just the first: title lines above a header
    ("Campaign report", "1 Sep 2026 - 30 Sep 2026") would fool a first-line sniffer.
    """
    sample = [line for line in lines if line.strip()][:_SAMPLE_LINES]
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        widths = [len(row) for row in csv.reader(sample, delimiter=delimiter)]
        wide = [w for w in widths if w > 1]
        if not wide:
            continue
        width, lines_at_width = Counter(wide).most_common(1)[0]
        score = (lines_at_width, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_text(data: bytes, file_name: str, limits: ImportLimits) -> RawTable:
    text, encoding = decode(data, file_name)
    if "\x00" in text:
        raise TableError(f"{file_name}: this is not a text table (it contains binary data)")
    lines = text.splitlines()
    delimiter = (
        "\t" if PurePath(file_name).suffix.lower() == ".tsv" else detect_delimiter(lines[:500])
    )
    rows, numbers = [], []
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for row in reader:
            if len(rows) >= limits.max_rows:
                raise TableError(_too_many_rows(file_name, limits))
            if any(cell.strip() for cell in row):
                rows.append(tuple(cell.strip() for cell in row))
                numbers.append(reader.line_num)
    except csv.Error as e:
        raise TableError(f"{file_name}, line {reader.line_num}: {e}") from e
    return RawTable(
        file_name=file_name,
        kind="csv",
        rows=tuple(rows),
        numbers=tuple(numbers),
        encoding=encoding,
        delimiter=delimiter,
    )


def _too_many_rows(file_name: str, limits: ImportLimits) -> str:
    return (
        f"{file_name}: more than {limits.max_rows:,} rows (TRIALS_MAX_ROWS); "
        "export a shorter date range or one trial's campaigns only"
    )


# -- XLSX ---------------------------------------------------------------------------------


def _check_zip(data: bytes, file_name: str, limits: ImportLimits) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        raise TableError(f"{file_name}: not a valid .xlsx file ({e})") from e
    with archive:
        names = archive.namelist()
        if "[Content_Types].xml" not in names:
            raise TableError(f"{file_name}: a zip file, but not an Excel .xlsx workbook")
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise TableError(
                f"{file_name}: the workbook contains macros; save it as a plain .xlsx "
                "(Excel Workbook) or CSV and try again"
            )
        inflated = sum(info.file_size for info in archive.infolist())
        packed = max(1, sum(info.compress_size for info in archive.infolist()))
        if inflated > limits.max_inflated_bytes or inflated / packed > limits.max_inflation_ratio:
            raise TableError(
                f"{file_name}: the workbook would unpack to {inflated / 1024 / 1024:,.0f} MB, "
                "far more than its size suggests; it was not opened. Export it as CSV."
            )


def _read_xlsx(data: bytes, file_name: str, limits: ImportLimits) -> RawTable:
    _check_zip(data, file_name, limits)
    # openpyxl parses its XML with defusedxml when that is installed (it is pinned).
    import openpyxl

    try:
        # data_only: a formula cell gives the value Excel saved, never a formula to run.
        book = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_vba=False, keep_links=False
        )
    except Exception as e:  # openpyxl raises many types for a damaged workbook
        raise TableError(f"{file_name}: could not open the workbook ({e})") from e
    try:
        sheet = _first_sheet_with_data(book)
        rows, numbers = [], []
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if len(rows) >= limits.max_rows:
                raise TableError(_too_many_rows(file_name, limits))
            cells = tuple(c.strip() if isinstance(c, str) else c for c in row)
            if any(c is not None and c != "" for c in cells):
                rows.append(cells)
                numbers.append(number)
        width = max((len(r) for r in rows), default=0)
        rows = [r + (None,) * (width - len(r)) for r in rows]
        return RawTable(
            file_name=file_name,
            kind="xlsx",
            rows=tuple(rows),
            numbers=tuple(numbers),
            sheet=sheet.title,
        )
    finally:
        book.close()


def _first_sheet_with_data(book):
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True, max_row=50):
            if any(c is not None and c != "" for c in row):
                return sheet
    return book.worksheets[0]
