"""Workbooks for the tests, ordinary and hostile, built here rather than kept as files.

``workbook`` writes a real .xlsx with xlsxwriter; ``with_parts`` swaps or adds zip
members, streaming each from a generator so a part of hundreds of megabytes is written
without being held; the generators below make the parts a hostile upload would have.
"""

from __future__ import annotations

import io
import os
import random
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import xlsxwriter

MB = 1024 * 1024
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
HEADER = ["date", "channel", "creative", "impressions", "clicks", "conversions", "spend"]


def workbook(
    sheets: dict[str, list[list]] | None = None,
    active: str | None = None,
    hidden: Iterable[str] = (),
    very_hidden: Iterable[str] = (),
    **options,
) -> bytes:
    """An .xlsx of ``sheets`` (name → rows), ``active`` the active tab."""
    sheets = sheets or {"Daily": [HEADER, ["2026-09-01", "WeChat", "Video A", 100, 10, 1, 5]]}
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, **options})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            sheet.write_row(r, 0, row)
        if name == active:
            sheet.activate()
        if name in hidden:
            sheet.hide()
        if name in very_hidden:
            sheet.very_hidden()
    book.close()
    return buffer.getvalue()


def with_parts(
    data: bytes,
    parts: dict[str, bytes | Iterable[bytes]],
    padding: int = 0,
    target: Path | None = None,
) -> bytes | Path:
    """``data`` with the zip members ``parts`` replaced or added (each bytes, or pieces
    streamed from an iterable), plus ``padding`` bytes of random data stored as an image
    (so a compressible part still passes a whole-file inflation ratio). Written to
    ``target`` when given, else returned."""
    out = open(target, "wb") if target else io.BytesIO()  # noqa: SIM115
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            if item.filename not in parts:
                dst.writestr(item, src.read(item.filename), compress_type=zipfile.ZIP_DEFLATED)
        for name, content in parts.items():
            if isinstance(content, bytes):
                dst.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED)
                continue
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(info, "w", force_zip64=True) as stream:
                for piece in content:
                    stream.write(piece)
        if padding:
            noise = random.Random(7).randbytes(padding)
            dst.writestr(zipfile.ZipInfo("xl/media/image1.png"), noise)
    if target:
        out.close()
        return target
    return out.getvalue()


def sheet_xml(rows: Iterable[bytes], before: bytes = b"") -> Iterator[bytes]:
    """A worksheet part around ``rows`` (each the XML of one or more rows)."""
    yield (
        (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}">'
        ).encode()
        + before
        + b"<sheetData>"
    )
    yield from rows
    yield b"</sheetData></worksheet>"


def strings_xml(texts: Iterable[bytes | Iterable[bytes]]) -> Iterator[bytes]:
    """A shared-strings part of ``texts``, each the content of one <si> (bytes, or its
    pieces)."""
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="{MAIN}">'.encode()
    for text in texts:
        yield b"<si>"
        yield from [text] if isinstance(text, bytes) else text
        yield b"</si>"
    yield b"</sst>"


def text_cell(size: int, block: bytes = b"Summary of the campaign ") -> Iterator[bytes]:
    """One <t> of ``size`` bytes of text, in pieces."""
    yield b"<t>"
    piece = block * (MB // len(block))
    left = size
    while left > 0:
        yield piece[:left]
        left -= len(piece)
    yield b"</t>"


def first_cell_is_string() -> Iterator[bytes]:
    return sheet_xml([b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'])


def numbered_rows(count: int, cells: int, start: int = 1) -> Iterator[bytes]:
    """``count`` rows of ``cells`` numbers each, in blocks."""
    for first in range(start, start + count, 1000):
        yield b"".join(
            b'<row r="%d">' % r + b"<c><v>1</v></c>" * cells + b"</row>"
            for r in range(first, min(start + count, first + 1000))
        )


def repeated(piece: bytes, size: int) -> Iterator[bytes]:
    """``piece`` repeated to ``size`` bytes, in blocks of about a megabyte."""
    block = piece * max(1, MB // len(piece))
    for _ in range(max(1, size // len(block))):
        yield block


def write_hostile(folder: Path, name: str) -> Path:
    """One of the real-size hostile uploads (``HOSTILE``), written under ``folder``."""
    build = HOSTILE[name]
    return build(folder / name)


def _huge_string(path: Path) -> Path:
    # One cell inflating to 470 MB; the zip is about 4 MB, 130 times smaller, so the
    # whole-file ratio check lets it through.
    return with_parts(
        workbook(),
        {STRINGS: strings_xml([text_cell(470 * MB)]), SHEET: b"".join(first_cell_is_string())},
        padding=3 * MB,
        target=path,
    )


def _many_cells(path: Path) -> Path:
    # 25 million cells: rows of 10,000 <c><v>1</v></c>.
    row = b"<row>" + b"<c><v>1</v></c>" * 10_000 + b"</row>"
    return with_parts(
        workbook(), {SHEET: sheet_xml(row for _ in range(2_500))}, padding=3 * MB, target=path
    )


def _repeated_rows(path: Path) -> Path:
    # The same row six million times over: 12 million cells, 6 million rows.
    row = b'<row><c t="s"><v>0</v></c><c><v>1</v></c></row>'
    return with_parts(
        workbook(), {SHEET: sheet_xml(repeated(row, 300 * MB))}, padding=3 * MB, target=path
    )


def _rows_past_the_cap(path: Path) -> Path:
    # 250,000 rows of one cell: few enough tags for the scan, so the parse counts the
    # rows as they come and stops at 200,000.
    return with_parts(
        workbook(), {SHEET: sheet_xml(numbered_rows(250_000, 1))}, padding=3 * MB, target=path
    )


def _cells_past_the_cap(path: Path) -> Path:
    # 60,000 rows of 9 cells: 540,000 cells, past the 500,000 a workbook may hold.
    return with_parts(
        workbook(), {SHEET: sheet_xml(numbered_rows(60_000, 9))}, padding=3 * MB, target=path
    )


def _far_corner(path: Path) -> Path:
    # A dimension claiming the whole sheet and cells in its last column: each row
    # 16,384 cells wide if a reader pads it.
    rows = (
        b'<row r="%d"><c r="A%d"><v>1</v></c><c r="XFD%d"><v>1</v></c></row>' % (r, r, r)
        for r in range(5000, 5000 * 300, 5000)
    )
    before = b'<dimension ref="A1:XFD1048576"/>'
    return with_parts(workbook(), {SHEET: b"".join(sheet_xml(rows, before))}, target=path)


def _whitespace(path: Path) -> Path:
    # 400 MB of spaces between two tags: highly compressible, nothing to hold.
    return with_parts(
        workbook(), {SHEET: sheet_xml(repeated(b" ", 400 * MB))}, padding=3 * MB, target=path
    )


def _comment(path: Path) -> Path:
    # One XML comment of 400 MB, a "<" every 512 KB so no stretch is without one: a
    # parser holds a comment whole until it ends.
    parts = [b"<!-- ", *repeated(b"<" + b"x" * (512 * 1024 - 1), 400 * MB), b" -->"]
    return with_parts(workbook(), {SHEET: sheet_xml(parts)}, padding=3 * MB, target=path)


def _attribute(path: Path) -> Path:
    # One attribute value of 400 MB: a parser holds a tag whole.
    parts = [b'<row><c r="A1" x="', *repeated(b">", 400 * MB), b'"><v>1</v></c></row>']
    return with_parts(workbook(), {SHEET: sheet_xml(parts)}, padding=3 * MB, target=path)


def _short_lines(path: Path) -> Path:
    # A 48 MB text file of short lines: 25 million rows.
    with open(path, "wb") as out:
        out.write(b"date,channel,creative,impressions,clicks,conversions,spend\n")
        for block in repeated(b"1\n", 48 * MB):
            out.write(block)
    return path


HOSTILE = {
    "huge_string.xlsx": _huge_string,
    "many_cells.xlsx": _many_cells,
    "repeated_rows.xlsx": _repeated_rows,
    "rows_past_the_cap.xlsx": _rows_past_the_cap,
    "cells_past_the_cap.xlsx": _cells_past_the_cap,
    "far_corner.xlsx": _far_corner,
    "whitespace.xlsx": _whitespace,
    "comment.xlsx": _comment,
    "attribute.xlsx": _attribute,
    "short_lines.csv": _short_lines,
}


def file_size(path: Path) -> float:
    return os.path.getsize(path) / MB
