"""Reading an uploaded file (CSV, TSV or XLSX) into rows of cells, safely.

What a platform exports is rarely clean: a byte-order mark or none, GB18030 from Chinese
Excel, UTF-16 from "Unicode text" exports, semicolons from European locales, title lines
above the header. This module only turns bytes into rows; which row is the header and
what the cells mean is decided later (``trials.ingest.columns``, ``trials.ingest.cells``).

Limits (``trials.ingest.limits``): a file larger than ``max_bytes`` is refused before it
is read; text is decoded and split a piece at a time, never held a second time as a
whole, and refused at the first row, line, cell or column over its cap. An XLSX file is
read by ``trials.ingest.workbook``: streamed, bounded, its active visible sheet only.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath

from trials.ingest.cells import Cell
from trials.ingest.limits import ImportLimits, TableError, quote
from trials.ingest.workbook import read_sheet

__all__ = ["ImportLimits", "RawTable", "TableError", "read_table"]

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_SAMPLE_LINES = 60


@dataclass(frozen=True)
class RawTable:
    """A file's rows as read, before any meaning is given to them.

    ``rows[i]`` is line (or sheet row) ``numbers[i]`` of the file, counting from 1 as a
    spreadsheet does; blank lines are left out but keep their numbers free. ``notes`` say
    what of the file was not read (a workbook's hidden sheets) for the preview.
    """

    file_name: str
    kind: str  # "csv" or "xlsx"
    rows: tuple[tuple[Cell, ...], ...]
    numbers: tuple[int, ...]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def format_label(self) -> str:
        if self.kind == "xlsx":
            return f"Excel workbook, sheet '{quote(self.sheet)}'"
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
    if not data or data.isspace():  # (strip() would copy the whole file)
        raise TableError(f"{file_name}: the file is empty")
    if data[:4] == b"PK\x03\x04":
        sheet = read_sheet(data, file_name, limits)
        table = RawTable(
            file_name=file_name,
            kind="xlsx",
            rows=sheet.rows,
            numbers=sheet.numbers,
            sheet=sheet.name,
            notes=sheet.notes,
        )
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise TableError(
            f"{file_name}: this is an old Excel .xls file; save it as .xlsx or CSV and try again"
        )
    else:
        table = _read_text(data, file_name, limits)
    if not table.rows:
        raise TableError(f"{file_name}: the file has no rows")
    return table


# -- text: which encoding -----------------------------------------------------------------

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig", "UTF-8 (BOM)"),
    (b"\xff\xfe", "utf-16", "UTF-16"),
    (b"\xfe\xff", "utf-16", "UTF-16"),
)
_PIECE = 1024 * 1024  # bytes decoded at a time when a whole file is checked
_CJK = re.compile("[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")


def _candidates(data: bytes) -> Iterator[tuple[str, str]]:
    """The encodings to try, in order, as (codec, label); each is tried by reading the
    file with it, a piece at a time, and the next is tried when a piece does not decode.

    A byte-order mark decides; otherwise UTF-16 when a third of the first bytes are zero,
    UTF-8, then GB18030 (what Chinese Excel writes; a superset of GBK) when the whole file
    decodes and reads as Chinese, and Windows-1252 last.
    """
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            yield codec, label
            return
    head = data[:4000]
    if len(head) > 3 and head.count(0) >= len(head) // 3:
        yield (
            ("utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"),
            ("UTF-16"),
        )
    yield "utf-8", "UTF-8"
    if _decodes(data, "gb18030", chinese=True):
        yield "gb18030", "GB18030"
    yield "cp1252", "Windows-1252"


def _decodes(data: bytes, codec: str, chinese: bool = False) -> bool:
    """Whether all of ``data`` decodes (and, with ``chinese``, reads as Chinese: at least
    80 % of its non-ASCII characters are CJK), checked a piece at a time."""
    decoder = codecs.getincrementaldecoder(codec)()
    wide = cjk = 0
    try:
        for start in range(0, len(data), _PIECE):
            piece = data[start : start + _PIECE]
            text = decoder.decode(piece, final=start + _PIECE >= len(data))
            if chinese:
                wide += len(text) - len(text.encode("ascii", "ignore"))
                cjk += len(_CJK.findall(text))
    except UnicodeDecodeError:
        return False
    return not chinese or cjk >= 0.8 * wide


def decode(data: bytes, file_name: str) -> tuple[str, str]:
    """The whole text of a small file and the encoding it was read with (as
    ``read_table`` reads it; ``read_table`` itself never holds the text whole)."""
    for codec, label in _candidates(data):
        try:
            return data.decode(codec), label
        except UnicodeDecodeError:
            continue
    raise TableError(f"{file_name}: could not tell the text encoding; save the file as UTF-8 CSV")


def detect_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the most sample lines into the same number of fields.

    Looks at up to 60 non-blank lines, not just the first: title lines above a header
    ("Campaign report", "1 Sep 2026 - 30 Sep 2026") would fool a first-line sniffer.
    """
    sample = [line for line in lines if line.strip()][:_SAMPLE_LINES]
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(sample, delimiter=delimiter)]
        except csv.Error:
            continue
        wide = [w for w in widths if w > 1]
        if not wide:
            continue
        width, lines_at_width = Counter(wide).most_common(1)[0]
        score = (lines_at_width, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


# -- text: rows, a line at a time ---------------------------------------------------------


class _Lines:
    """The lines of the text, read a piece at a time; refuses a record (one row, which a
    quoted cell may spread over several lines) longer than ``max_record_chars``."""

    def __init__(self, data: bytes, codec: str, file_name: str, limits: ImportLimits):
        self.stream = io.TextIOWrapper(io.BytesIO(data), encoding=codec, newline="")
        self.file_name = file_name
        self.limit = limits.max_record_chars
        self.record = 0  # characters of the record being read
        self.line = 0

    def __iter__(self) -> Iterator[str]:
        while line := self.stream.readline(self.limit + 1):
            self.line += 1
            self.record += len(line)
            if self.record > self.limit:
                raise TableError(
                    f"{self.file_name}, line {self.line}: a row of more than "
                    f"{self.limit:,} characters; it starts '{quote(line)}'. This is not a "
                    "table an ad platform writes; check the file, or split long cells."
                )
            if "\x00" in line:
                raise TableError(
                    f"{self.file_name}: this is not a text table (it contains binary data)"
                )
            yield line

    def head(self, count: int) -> list[str]:
        out = []
        for line in self:
            self.record = 0
            out.append(line)
            if len(out) >= count:
                break
        return out


def _read_text(data: bytes, file_name: str, limits: ImportLimits) -> RawTable:
    tried = []
    for codec, label in _candidates(data):
        try:
            return _read_text_as(data, file_name, limits, codec, label)
        except UnicodeDecodeError as e:
            tried.append((label, e))
    if len(tried) == 1:  # a byte-order mark named the encoding, and it does not decode
        label, e = tried[0]
        raise TableError(f"{file_name}: not valid {label} text ({e.reason})")
    raise TableError(f"{file_name}: could not tell the text encoding; save the file as UTF-8 CSV")


def _read_text_as(
    data: bytes, file_name: str, limits: ImportLimits, codec: str, label: str
) -> RawTable:
    if PurePath(file_name).suffix.lower() == ".tsv":
        delimiter = "\t"
    else:
        delimiter = detect_delimiter(_Lines(data, codec, file_name, limits).head(500))
    lines = _Lines(data, codec, file_name, limits)
    rows: list[tuple[str, ...]] = []
    numbers: list[int] = []
    width = 0
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        for row in reader:
            lines.record = 0
            if reader.line_num > 2 * limits.max_rows + 1000:  # blank lines count too
                raise TableError(_too_many_rows(file_name, limits))
            if not any(cell.strip() for cell in row):
                continue
            if len(rows) >= limits.max_rows:
                raise TableError(_too_many_rows(file_name, limits))
            if max(map(len, row)) > limits.max_cell_chars:
                raise TableError(_long_cell(file_name, reader.line_num, row, limits))
            width = max(width, len(row))
            if width > limits.max_columns or (len(rows) + 1) * width > limits.max_cells:
                raise TableError(_too_many_cells(file_name, limits, width))
            rows.append(tuple(cell.strip() for cell in row))
            numbers.append(reader.line_num)
    except csv.Error as e:
        if "field larger than field limit" in str(e):
            raise TableError(
                f"{file_name}, line {reader.line_num + 1}: a cell of more than "
                f"{limits.max_cell_chars:,} characters (Excel's limit for a cell); check the "
                "file (a quote left open makes the rest of the file one cell)"
            ) from e
        raise TableError(f"{file_name}, line {reader.line_num}: {quote(e)}") from e
    return RawTable(
        file_name=file_name,
        kind="csv",
        rows=tuple(rows),
        numbers=tuple(numbers),
        encoding=label,
        delimiter=delimiter,
    )


def _long_cell(file_name: str, line: int, row: list[str], limits: ImportLimits) -> str:
    cell = max(row, key=len)
    return (
        f"{file_name}, line {line}, column {row.index(cell) + 1}: a cell of {len(cell):,} "
        f"characters; the limit is {limits.max_cell_chars:,} (Excel's own). It starts "
        f"'{quote(cell)}'; check the file (a quote left open makes the rest one cell)."
    )


def _too_many_rows(file_name: str, limits: ImportLimits) -> str:
    return (
        f"{file_name}: more than {limits.max_rows:,} rows (TRIALS_MAX_ROWS); it was not "
        "read. Split the file, or export a shorter date range or one trial's campaigns only."
    )


def _too_many_cells(file_name: str, limits: ImportLimits, width: int) -> str:
    if width > limits.max_columns:
        return (
            f"{file_name}: a row of more than {limits.max_columns:,} columns; it was not "
            "read. Export only the columns the import needs."
        )
    return (
        f"{file_name}: more than {limits.max_cells:,} cells ({width:,} columns wide; "
        "TRIALS_MAX_CELLS); it was not read. Export fewer columns or a shorter date range, "
        "or split the file."
    )
