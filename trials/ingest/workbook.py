"""Reading one sheet of an .xlsx workbook in bounded memory and time.

A workbook is a zip of XML parts. A 3 MB upload can hold a cell of hundreds of megabytes
or millions of cells once inflated, and a general-purpose reader (openpyxl) holds the
shared strings and builds an object per cell before anything can be checked. Here every
part is streamed instead:

- the zip's directory is checked first (members, declared sizes, inflation ratio,
  compression methods, no encryption, no macros), and each member's *actual* inflated
  size is counted while it is read, never trusted from its header;
- each part is scanned before it is parsed (at C speed: its tags are counted and no
  stretch without markup may exceed ``max_record_chars``), so a part too big to read is
  refused in a fraction of a second;
- the XML is parsed by expat with handlers, never into a tree: no DTD or entity
  declaration is accepted, nesting is bounded, no token may grow past
  ``max_record_chars``, and every cell's text is cut off at ``max_cell_chars`` (Excel's
  own limit) while it is read;
- rows and cells are counted as they come; the sheet is refused at the first one over
  its cap. Shared strings are read after the sheet, keeping only those its cells use.

Which sheet: the workbook's active sheet when it is visible, else its first visible one;
hidden and very hidden sheets are never read, and the notes name them. Values are read as
openpyxl reads them with ``data_only=True``: a formula's saved value, never the formula;
numbers in a date format as datetimes (the workbook's 1900 or 1904 calendar).
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.parsers import expat

from trials.ingest.limits import ImportLimits, TableError, quote

__all__ = ["Sheet", "read_sheet"]

_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
    "http://schemas.openxmlformats.org/package/2006/relationships",
    "",
)
_RELATIONSHIP_ID = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships id",
    "http://purl.oclc.org/ooxml/officeDocument/relationships id",
)
_LOCAL = (
    "Relationship",
    "bookViews",
    "c",
    "cellXfs",
    "f",
    "is",
    "numFmt",
    "r",
    "rPh",
    "row",
    "sheet",
    "si",
    "t",
    "v",
    "workbookPr",
    "workbookView",
    "xf",
)
# "namespace local" (how expat names an element with namespace_separator=" ") → local name.
_TAGS = {(f"{ns} {name}" if ns else name): name for ns in _NAMESPACES for name in _LOCAL}
_MAX_DEPTH = 64
_MAX_ROW = 1_048_576  # Excel's last row
_CHUNK = 64 * 1024
_HIDDEN = {"hidden", "veryHidden"}
_EPOCH_1900 = datetime(1899, 12, 30)
_EPOCH_1904 = datetime(1904, 1, 1)
_ZIP_END = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"

Value = str | int | float | bool | datetime | None


@dataclass(frozen=True)
class Sheet:
    """The rows of the sheet read (blank rows left out), their row numbers in the sheet,
    the sheet's name, and notes for the preview (sheets not read, and why)."""

    name: str
    rows: tuple[tuple[Value, ...], ...]
    numbers: tuple[int, ...]
    notes: tuple[str, ...]


def read_sheet(data: bytes, file_name: str, limits: ImportLimits) -> Sheet:
    """The active visible sheet of the workbook ``data``, within ``limits``."""
    try:
        archive = _open_archive(data, file_name, limits)
    except _DAMAGED as e:
        raise TableError(f"{file_name}: not a valid .xlsx file ({quote(e)})") from e
    with archive:
        book = _Book(archive, file_name, limits)
        try:
            return book.read()
        except _DAMAGED as e:
            raise TableError(
                f"{file_name}: the workbook is damaged ({quote(e)}); open it in Excel and "
                "save it again, or export it as CSV"
            ) from e


# What ``zipfile`` raises for a damaged archive (a bad header, a seek before the start, a
# version or method it cannot read, a stream that ends early or fails its CRC).
_DAMAGED = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    ValueError,
    struct.error,
    OSError,
)


# -- the zip ------------------------------------------------------------------------------


def _open_archive(data: bytes, file_name: str, limits: ImportLimits) -> zipfile.ZipFile:
    """The zip, once its directory is known to be small, and its members to be plain,
    deflated parts of a workbook whose declared inflated size is in proportion."""
    _check_directory_size(data, file_name, limits)
    archive = zipfile.ZipFile(io.BytesIO(data))
    infos = archive.infolist()
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names:
        archive.close()
        raise TableError(f"{file_name}: a zip file, but not an Excel .xlsx workbook")
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        archive.close()
        raise TableError(
            f"{file_name}: the workbook contains macros; save it as a plain .xlsx "
            "(Excel Workbook) or CSV and try again"
        )
    if any(info.flag_bits & 0x1 for info in infos):
        archive.close()
        raise TableError(
            f"{file_name}: the workbook is password-protected; save it without a password "
            "or export it as CSV"
        )
    if any(info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for info in infos):
        archive.close()
        raise TableError(
            f"{file_name}: the workbook is compressed in a way Excel does not write; open "
            "it in Excel and save it again, or export it as CSV"
        )
    inflated = sum(info.file_size for info in infos)
    packed = max(1, sum(info.compress_size for info in infos))
    if inflated > limits.max_inflated_bytes or inflated / packed > limits.max_inflation_ratio:
        archive.close()
        raise TableError(_unpacks_to(file_name, inflated))
    return archive


def _unpacks_to(file_name: str, inflated: int) -> str:
    return (
        f"{file_name}: the workbook would unpack to {inflated / 1024 / 1024:,.0f} MB, "
        "far more than its size suggests; it was not opened. Export it as CSV."
    )


def _check_directory_size(data: bytes, file_name: str, limits: ImportLimits) -> None:
    """Refuse a zip whose directory lists more members than a workbook has, before
    ``zipfile`` builds an object for each of them."""
    tail = data[-(22 + 65535) :]
    at = tail.rfind(_ZIP_END)
    if at < 0 or len(tail) - at < 22:
        raise zipfile.BadZipFile("no end of the zip directory")
    members = struct.unpack("<H", tail[at + 10 : at + 12])[0]
    if members == 0xFFFF:  # a zip64 directory: its own record says how many
        locator = tail.rfind(_ZIP64_LOCATOR, 0, at)
        members = limits.max_zip_members + 1
        if locator >= 0 and len(tail) - locator >= 20:
            offset = struct.unpack("<Q", tail[locator + 8 : locator + 16])[0]
            if offset + 40 <= len(data) and data[offset : offset + 4] == b"PK\x06\x06":
                members = struct.unpack("<Q", data[offset + 32 : offset + 40])[0]
    if members > limits.max_zip_members:
        raise TableError(
            f"{file_name}: the workbook's zip lists {members:,} parts (a workbook has a "
            f"few dozen; the limit is {limits.max_zip_members:,}); it was not opened. "
            "Export it as CSV."
        )


# -- streaming one part -------------------------------------------------------------------


class _Stop(Exception):
    """Raised by a handler that has read all it needs of a part."""


class _Book:
    """One workbook being read: its archive, limits, and the elements parsed so far."""

    def __init__(self, archive: zipfile.ZipFile, file_name: str, limits: ImportLimits):
        self.archive = archive
        self.file_name = file_name
        self.limits = limits
        self.elements = 0  # across every part, so many parts cannot add up to much

    def _chunks(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The bytes of a part, inflated a chunk at a time and counted as they come."""
        total = 0
        with self.archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
                if total > info.file_size or total > self.limits.max_inflated_bytes:
                    raise TableError(_unpacks_to(self.file_name, total))
                yield chunk

    def _info(self, name: str) -> zipfile.ZipInfo | None:
        try:
            return self.archive.getinfo(name)
        except KeyError:
            return None

    def scan(self, info: zipfile.ZipInfo, what: str) -> None:
        """Count the part's tags and its longest stretch without one, before parsing it."""
        limit, most = self.limits.max_record_chars, self.limits.max_markup
        tags = run = 0
        for chunk in self._chunks(info):
            tags += chunk.count(b"<")
            first = chunk.find(b"<")
            if first < 0:
                run += len(chunk)
            else:
                run += first
                if run > limit:
                    break
                run = len(chunk) - 1 - chunk.rfind(b"<")
            if run > limit or tags > most:
                break
        if run > limit:
            raise TableError(
                f"{self.file_name}: {what} holds more than {limit:,} characters without a "
                f"break, far more than a cell may hold ({self.limits.max_cell_chars:,} "
                "characters, Excel's limit); it was not read. Export the sheet as CSV."
            )
        if tags > most:
            raise TableError(
                f"{self.file_name}: {what} is too big to read (more than {most:,} XML "
                f"tags; at most {self.limits.max_sheet_cells:,} cells are read). Export fewer "
                "days or columns, or split the file."
            )

    def parse(self, name: str, part: _Part) -> bool:
        """Stream the part ``name`` through expat into ``part``'s handlers, after
        scanning it. False when the workbook has no such part."""
        info = self._info(name)
        if info is None:
            return False
        self.scan(info, part.what)
        part.budget = self.limits.max_elements - self.elements
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.StartElementHandler = part.start
        parser.EndElementHandler = part.end
        if part.text is not None:
            parser.CharacterDataHandler = part.text

        def refuse(*_args) -> None:
            raise TableError(
                f"{self.file_name}: {part.what} declares a document type or entities, "
                "which no workbook does; it was not read. Export the sheet as CSV."
            )

        parser.StartDoctypeDeclHandler = refuse
        parser.EntityDeclHandler = refuse
        parser.ExternalEntityRefHandler = refuse
        fed = 0
        try:
            for chunk in self._chunks(info):
                parser.Parse(chunk, False)
                fed += len(chunk)
                # Bytes expat holds for a token not yet complete (a tag, a comment).
                if fed - parser.CurrentByteIndex > self.limits.max_record_chars:
                    raise TableError(
                        f"{self.file_name}: {part.what} has a piece of XML longer than "
                        f"{self.limits.max_record_chars:,} bytes; it was not read. "
                        "Export the sheet as CSV."
                    )
            parser.Parse(b"", True)
        except _Stop:
            pass
        except expat.ExpatError as e:
            raise TableError(
                f"{self.file_name}: {part.what} is not well-formed XML ({quote(e)}); open "
                "the workbook in Excel and save it again, or export it as CSV"
            ) from e
        finally:
            self.elements += part.elements
        return True

    def too_big(self, what: str) -> TableError:
        return TableError(
            f"{self.file_name}: {what} is too big or too deeply nested to read (at most "
            f"{self.limits.max_sheet_cells:,} cells are read). Export fewer days or columns, or "
            "split the file."
        )

    def damaged(self, why: str) -> TableError:
        return TableError(
            f"{self.file_name}: the workbook is damaged ({why}); open it in Excel and save "
            "it again, or export it as CSV"
        )

    # -- the parts --------------------------------------------------------------------

    def read(self) -> Sheet:
        workbook_path = self._workbook_path()
        workbook = _WorkbookPart(self)
        if not self.parse(workbook_path, workbook):
            raise TableError(f"{self.file_name}: a zip file, but not an Excel .xlsx workbook")
        relations = self._relations(workbook_path)
        styles = _Styles(self)
        self.parse(relations.get("styles") or _sibling(workbook_path, "styles.xml"), styles)
        sheets = [
            (name, state, relations["sheets"].get(rid)) for name, state, rid in workbook.sheets
        ]
        worksheets = [(n, s, p) for n, s, p in sheets if p is not None]
        visible = [(n, p) for n, s, p in worksheets if s not in _HIDDEN]
        notes = [f"ignored hidden sheet '{quote(n)}'" for n, s, _ in worksheets if s in _HIDDEN]
        if not visible:
            raise TableError(
                f"{self.file_name}: every sheet of the workbook is hidden, and hidden sheets "
                "are never read. Unhide the sheet to import, make it the active sheet and save."
            )
        # The active sheet first when it is a visible worksheet, then the other visible ones.
        active = sheets[workbook.active] if 0 <= workbook.active < len(sheets) else None
        order = sorted(visible, key=lambda sheet: active is None or sheet != active[::2])
        strings_path = relations.get("strings") or _sibling(workbook_path, "sharedStrings.xml")
        epoch = _EPOCH_1904 if workbook.date1904 else _EPOCH_1900
        for name, path in order:
            reader = _SheetPart(self, name, styles, epoch)
            if not self.parse(path, reader):
                continue
            rows, numbers = self._resolve(reader, strings_path)
            if not rows:
                continue
            if name != order[0][0]:
                notes.append(
                    f"the active sheet '{quote(order[0][0])}' is empty; read sheet '{quote(name)}'"
                )
            notes.extend(
                f"did not read sheet '{quote(other)}' (one sheet is read: the active one)"
                for other, _ in visible
                if other != name
            )
            return Sheet(name, rows, numbers, tuple(notes))
        return Sheet(order[0][0], (), (), tuple(notes))

    def _workbook_path(self) -> str:
        relations = _Relations(self, "")
        self.parse("_rels/.rels", relations)
        for kind, target in relations.items:
            if kind.endswith("/officeDocument"):
                return target
        return "xl/workbook.xml"

    def _relations(self, part: str) -> dict:
        folder, base = posixpath.split(part)
        relations = _Relations(self, folder)
        self.parse(posixpath.join(folder, "_rels", base + ".rels"), relations)
        out: dict = {"sheets": {}}
        for kind, target in relations.items:
            if kind.endswith("/styles"):
                out["styles"] = target
            elif kind.endswith("/sharedStrings"):
                out["strings"] = target
        out["sheets"] = {
            rid: target for rid, kind, target in relations.ids if kind.endswith("/worksheet")
        }
        return out

    def _resolve(
        self, reader: _SheetPart, strings_path: str
    ) -> tuple[tuple[tuple[Value, ...], ...], tuple[int, ...]]:
        """The sheet's rows with shared-string cells replaced by their text, each padded
        to the widest row, and their row numbers; rows left blank by that are dropped."""
        strings: list[str | None] = []
        if reader.last_shared >= 0:
            wanted = bytearray(reader.last_shared + 1)
            for row in reader.rows:
                for v in row:
                    if type(v) is _Shared:
                        wanted[v] = 1
            strings = [None] * len(wanted)
            table = _SharedStrings(self, wanted, strings)
            if not self.parse(strings_path, table):
                raise self.damaged("its text cells have no text part")
        rows, numbers = [], []
        width = reader.width
        for i, (row, number) in enumerate(zip(reader.rows, reader.numbers, strict=True)):
            reader.rows[i] = ()  # the row with placeholders goes as its copy is made
            cells = tuple(_text_of(strings, v, self) if type(v) is _Shared else v for v in row)
            if all(_blank(v) for v in cells):
                continue
            rows.append(cells + (None,) * (width - len(cells)))
            numbers.append(number)
        return tuple(rows), tuple(numbers)


def _text_of(strings: list[str | None], index: int, book: _Book) -> str:
    text = strings[index]
    if text is None:
        raise book.damaged(f"a cell refers to text number {index}, which is not there")
    return text.strip()


def _sibling(part: str, name: str) -> str:
    return posixpath.join(posixpath.dirname(part), name)


def _blank(value: Value) -> bool:
    return value is None or (isinstance(value, str) and not value)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


class _Shared(int):
    """A cell that holds shared string number ``int(self)``, until the strings are read."""

    __slots__ = ()


# -- the parts, each a set of expat handlers ----------------------------------------------


class _Part:
    """Handlers for one part. Every element counts against the workbook's budget, and
    nesting is bounded; ``opened``/``closed`` get the workbook's own elements by local
    name. The sheet and its text override ``start``/``end`` to do this inline."""

    text: Callable[[str], None] | None = None

    def __init__(self, book: _Book, what: str):
        self.book = book
        self.what = what
        self.depth = 0
        self.elements = 0
        self.budget = 0

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        self.elements += 1
        if self.depth > _MAX_DEPTH or self.elements > self.budget:
            raise self.book.too_big(self.what)
        local = _TAGS.get(tag)
        if local is not None:
            self.opened(local, attributes)

    def end(self, tag: str) -> None:
        self.depth -= 1
        local = _TAGS.get(tag)
        if local is not None:
            self.closed(local)

    def opened(self, local: str, attributes: dict[str, str]) -> None:
        pass

    def closed(self, local: str) -> None:
        pass


class _Relations(_Part):
    def __init__(self, book: _Book, folder: str):
        super().__init__(book, "the workbook's relations")
        self.folder = folder
        self.items: list[tuple[str, str]] = []
        self.ids: list[tuple[str, str, str]] = []

    def opened(self, local: str, attributes: dict[str, str]) -> None:
        if local != "Relationship" or attributes.get("TargetMode") == "External":
            return
        target = attributes.get("Target", "")
        if target.startswith("/"):
            path = target.lstrip("/")
        else:
            path = posixpath.normpath(posixpath.join(self.folder, target))
        kind = attributes.get("Type", "")
        self.items.append((kind, path))
        self.ids.append((attributes.get("Id", ""), kind, path))


class _WorkbookPart(_Part):
    def __init__(self, book: _Book):
        super().__init__(book, "the workbook")
        self.sheets: list[tuple[str, str, str]] = []  # name, state, relationship id
        self.active = 0
        self.date1904 = False
        self._views = 0

    def opened(self, local: str, attributes: dict[str, str]) -> None:
        if local == "sheet":
            rid = next((attributes[k] for k in _RELATIONSHIP_ID if k in attributes), "")
            self.sheets.append(
                (attributes.get("name", ""), attributes.get("state", "visible"), rid)
            )
        elif local == "workbookView":
            if self._views == 0:
                self.active = _int(attributes.get("activeTab"), 0)
            self._views += 1
        elif local == "workbookPr":
            self.date1904 = attributes.get("date1904", "").lower() in ("1", "true")


class _Styles(_Part):
    """Which cell styles show a number as a date (or a duration), as openpyxl decides."""

    def __init__(self, book: _Book):
        super().__init__(book, "the workbook's styles")
        self.formats: dict[int, str] = {}
        self.xf_formats: list[int] = []
        self._in_cell_xfs = False

    def opened(self, local: str, attributes: dict[str, str]) -> None:
        if local == "numFmt":
            self.formats[_int(attributes.get("numFmtId"), -1)] = attributes.get("formatCode", "")
        elif local == "cellXfs":
            self._in_cell_xfs = True
        elif local == "xf" and self._in_cell_xfs:
            self.xf_formats.append(_int(attributes.get("numFmtId"), 0))

    def closed(self, local: str) -> None:
        if local == "cellXfs":
            self._in_cell_xfs = False

    def dates(self) -> tuple[frozenset[int], frozenset[int]]:
        """The style indexes with a date format, and those with a duration format."""
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

        dates, durations = set(), set()
        for index, format_id in enumerate(self.xf_formats):
            code = self.formats.get(format_id, BUILTIN_FORMATS.get(format_id))
            if is_date_format(code):
                dates.add(index)
            if is_timedelta_format(code):
                durations.add(index)
        return frozenset(dates), frozenset(durations)


class _SheetPart:
    """The rows of one worksheet, read element by element within the limits.

    The handlers are closures over their state, one Python call per XML event: a sheet
    may have a million cells, and this is where the time of reading a workbook goes.
    After parsing, ``rows`` holds each row up to its last value (shared strings as
    ``_Shared`` placeholders), ``numbers`` the rows' numbers in the sheet, ``width`` the
    widest row and ``last_shared`` the highest shared string used (-1: none).
    """

    text: Callable[[str], None]

    def __init__(self, book: _Book, name: str, styles: _Styles, epoch: datetime):
        self.book = book
        self.name = name
        self.what = f"sheet '{quote(name)}'"
        self.rows: list[tuple[Value, ...]] = []
        self.numbers: list[int] = []
        self.width = 0
        self.last_shared = -1
        self.budget = 0
        self.start, self.end, self.text, self._elements = self._handlers(styles, epoch)

    @property
    def elements(self) -> int:
        return self._elements()

    def _handlers(self, styles: _Styles, epoch: datetime):
        book, what, limits = self.book, self.what, self.book.limits
        rows, numbers = self.rows, self.numbers
        max_columns = min(limits.max_columns, 16_384)
        max_chars, max_shared = limits.max_cell_chars, limits.max_markup
        max_rows, max_cells = limits.max_rows, limits.max_sheet_cells
        dates, durations = styles.dates()
        tags, letters = _TAGS, _COLUMNS
        depth = elements = 0
        row_number = column = style = length = 0
        kind, ref = "n", ""
        columns: list[int] = []  # the row's cells so far: their columns …
        values: list[Value] = []  # … and values
        parts: list[str] | None = None  # the cell's text: its <v>, or <is>'s <t>s
        collect = in_inline = in_phonetic = False  # collect: in a <v>, or an inline <t>

        def bad_cell(why: str) -> TableError:
            where = ref or f"row {row_number}, column {column}"
            return TableError(
                f"{book.file_name}: {what}, cell {quote(where)} {why}; the workbook is "
                "damaged. Open it in Excel and save it again, or export it as CSV."
            )

        def start(tag: str, attributes: dict[str, str]) -> None:
            nonlocal depth, elements, row_number, column, style, length, kind, ref
            nonlocal parts, collect, in_inline, in_phonetic
            depth += 1
            elements += 1
            if depth > _MAX_DEPTH or elements > self.budget:
                raise book.too_big(what)
            local = tags.get(tag)
            if local == "c":
                ref = attributes.get("r", "")
                if ref:
                    column = letters.get(ref.rstrip("0123456789")) or _column(ref)
                else:
                    column += 1
                if not 0 < column <= max_columns:
                    raise bad_cell("is past the last column a sheet may have")
                kind = attributes.get("t", "n")
                text = attributes.get("s")
                style = _int(text, 0) if text else 0
                parts = None
                length = 0
            elif local == "v":
                if not in_inline:
                    parts = []
                    collect = True
            elif local == "row":
                text = attributes.get("r")
                previous = row_number
                row_number = _int(text, -1) if text is not None else previous + 1
                if not previous < row_number <= _MAX_ROW:
                    raise TableError(
                        f"{book.file_name}: {what} lists row {quote(text)} after row "
                        f"{previous}; the workbook is damaged. Open it in Excel and save it "
                        "again, or export it as CSV."
                    )
                column = 0
                columns.clear()
                values.clear()
            elif local == "is":
                in_inline = True
                parts = [] if kind == "inlineStr" else None
            elif local == "t":
                collect = in_inline and parts is not None and not in_phonetic
            elif local == "rPh":
                in_phonetic = True

        def text(data: str) -> None:
            nonlocal length
            if collect:
                length += len(data)
                if length > max_chars:
                    where = ref or f"row {row_number}, column {column}"
                    raise TableError(
                        f"{book.file_name}, {what}, cell {quote(where)}: more than "
                        f"{max_chars:,} characters (Excel's limit for a cell); it starts "
                        f"'{quote(''.join(parts or ()) + data)}'. The file was not read."
                    )
                parts.append(data)

        def end(tag: str) -> None:
            nonlocal depth, parts, collect, in_inline, in_phonetic
            depth -= 1
            local = tags.get(tag)
            if local == "c":
                if parts is not None:
                    value = cell_value(parts[0] if len(parts) == 1 else "".join(parts))
                    if value is not None:
                        if columns and columns[-1] >= column:
                            raise bad_cell("comes twice or out of order")
                        columns.append(column)
                        values.append(value)
                    parts = None
            elif local == "v" or local == "t":
                collect = False
            elif local == "row":
                end_row()
            elif local == "is":
                in_inline = False
            elif local == "rPh":
                in_phonetic = False

        def cell_value(text: str) -> Value:
            if kind == "n":
                if not text:
                    return None
                try:
                    number: int | float = (
                        float(text) if ("." in text or "e" in text or "E" in text) else int(text)
                    )
                except ValueError:
                    raise bad_cell(f"holds '{quote(text)}' as a number") from None
                if style in dates and style not in durations:
                    return _from_excel(number, epoch)
                return number
            if kind == "s":
                try:
                    index = _Shared(text)
                except ValueError:
                    raise bad_cell(f"refers to text '{quote(text)}'") from None
                if not 0 <= index <= max_shared:
                    raise bad_cell(f"refers to text number {quote(text)}, which is not there")
                if index > self.last_shared:
                    self.last_shared = index
                return index
            if kind == "inlineStr" or kind == "str" or kind == "e":
                return text.strip()
            if kind == "b":
                return text.strip() in ("1", "true")
            if kind == "d":
                try:
                    return datetime.fromisoformat(text.strip())
                except ValueError:
                    return text.strip()
            raise bad_cell(f"has the unknown type '{quote(kind)}'")

        def end_row() -> None:
            while values and _blank(values[-1]):
                values.pop()
                columns.pop()
            if not values:
                return
            if len(rows) >= max_rows:
                raise TableError(_too_many_rows(book.file_name, limits))
            width = columns[-1]
            if width > self.width:
                self.width = width
            if (len(rows) + 1) * self.width > max_cells:
                raise TableError(_too_many_cells(book.file_name, limits, self.width))
            if width == len(values):  # no gaps: the common case
                rows.append(tuple(values))
            else:
                row: list[Value] = [None] * width
                for at, value in zip(columns, values, strict=True):
                    row[at - 1] = value
                rows.append(tuple(row))
            numbers.append(row_number)

        return start, end, text, lambda: elements


def _column(ref: str) -> int:
    """The 1-based column of a cell reference ("AB12" → 28); 0 when it has none."""
    number = 0
    for ch in ref:
        code = ord(ch) - 64
        if not 0 < code <= 26:
            break
        number = number * 26 + code
        if number > 16_384:
            break
    return number


# The columns a sheet most often has, by their letters (A … ZZ), to spare the arithmetic.
_COLUMNS = {
    letters: _column(letters)
    for letters in (
        *(chr(65 + a) for a in range(26)),
        *(chr(65 + a) + chr(65 + b) for a in range(26) for b in range(26)),
    )
}


def _from_excel(number: int | float, epoch: datetime) -> Value:
    """An Excel serial number as a datetime (openpyxl's reading, to the millisecond); a
    time of day alone, or a number no date can be, stays a number."""
    try:
        day, fraction = divmod(number, 1)
        time = timedelta(milliseconds=round(fraction * 86_400_000))
        if 0 <= number < 1 and time.days == 0:
            return number
        if 0 < number < 60 and epoch == _EPOCH_1900:
            day += 1  # Excel counts a 29 February 1900 that never was
        return epoch + timedelta(days=day) + time
    except (OverflowError, ValueError):
        return number


class _SharedStrings:
    """The shared strings the sheet's cells use (``wanted``), read into ``strings``;
    stops once the last of them is read. Every string is held to ``max_cell_chars``.
    Closures, as in ``_SheetPart``: a workbook may have a million strings."""

    text: Callable[[str], None]

    def __init__(self, book: _Book, wanted: bytearray, strings: list[str | None]):
        self.book = book
        self.what = "the workbook's text"
        self.budget = 0
        self.start, self.end, self.text, self._elements = self._handlers(wanted, strings)

    @property
    def elements(self) -> int:
        return self._elements()

    def _handlers(self, wanted: bytearray, strings: list[str | None]):
        book, what, tags = self.book, self.what, _TAGS
        max_chars, last = book.limits.max_cell_chars, len(wanted) - 1
        depth = elements = length = 0
        index = -1
        keep = in_text = in_phonetic = False
        parts: list[str] = []

        def start(tag: str, attributes: dict[str, str]) -> None:
            nonlocal depth, elements, index, keep, parts, length, in_text, in_phonetic
            depth += 1
            elements += 1
            if depth > _MAX_DEPTH or elements > self.budget:
                raise book.too_big(what)
            local = tags.get(tag)
            if local == "si":
                index += 1
                keep = index <= last and wanted[index] == 1
                parts = []
                length = 0
            elif local == "t":
                in_text = not in_phonetic
            elif local == "rPh":
                in_phonetic = True

        def text(data: str) -> None:
            nonlocal length
            if in_text:
                length += len(data)
                if length > max_chars:
                    raise TableError(
                        f"{book.file_name}: a text cell of the workbook has more than "
                        f"{max_chars:,} characters (Excel's limit for a cell); it starts "
                        f"'{quote(''.join(parts) + data)}'. The file was not read."
                    )
                if keep or not parts:
                    parts.append(data)

        def end(tag: str) -> None:
            nonlocal depth, in_text, in_phonetic
            depth -= 1
            local = tags.get(tag)
            if local == "si":
                if keep:
                    strings[index] = parts[0] if len(parts) == 1 else "".join(parts)
                if index >= last:
                    raise _Stop
            elif local == "t":
                in_text = False
            elif local == "rPh":
                in_phonetic = False

        return start, end, text, lambda: elements


def _too_many_rows(file_name: str, limits: ImportLimits) -> str:
    return (
        f"{file_name}: more than {limits.max_rows:,} rows (TRIALS_MAX_ROWS); it was not "
        "read. Split the file, or export a shorter date range or one trial's campaigns only."
    )


def _too_many_cells(file_name: str, limits: ImportLimits, width: int) -> str:
    return (
        f"{file_name}: more than {limits.max_sheet_cells:,} cells ({width:,} columns wide; "
        "TRIALS_MAX_CELLS); it was not read. Export fewer columns or a shorter date range, "
        "or split the file."
    )
