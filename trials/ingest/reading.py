"""What reading a daily results file and reading an orders file share.

The options a user gives (:class:`ImportOptions`), the problems a reading reports
(:class:`RowProblem`), the file's digest, and the steps both readings take the same way:
settling the file's conventions once (decimal mark, day/month order), listing the rows
below the header with total rows set aside, and the message for columns not found.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trials.domain import UserError
from trials.ingest.cells import (
    Cell,
    CellError,
    Evidence,
    ambiguous_decimal,
    date_order_evidence,
    decimal_evidence,
    needs_date_order,
    parse_amount,
)
from trials.ingest.columns import PRESETS, ColumnMap, ambiguous_columns, is_total_row, listed
from trials.ingest.limits import quote
from trials.ingest.tables import RawTable

__all__ = [
    "Conventions",
    "ImportOptions",
    "RowContext",
    "RowProblem",
    "Unreadable",
    "body_rows",
    "cell_message",
    "column_cells",
    "column_problems",
    "digest_of",
    "missing_columns",
    "read_fields",
    "settle_conventions",
    "settle_date_order",
    "settle_decimal",
    "table_notes",
]


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file; everything left as None is detected.

    ``mapping`` overrides single fields (field → column header or 1-based number);
    ``decimal`` ("." or ",") answers the decimal-mark question (a file whose numbers
    could be read either way, "1.500", is not read until it is answered);
    ``date_order`` ("dmy" or "mdy") answers the day/month question; ``date_format``
    (strptime codes) overrides date reading altogether; ``channel`` names the channel of
    every row, for a one-platform export that has no channel column.
    """

    preset: str = "auto"
    mapping: Mapping[str, str] = field(default_factory=dict)
    decimal: str | None = None
    date_format: str | None = None
    date_order: str | None = None
    channel: str | None = None

    def __post_init__(self) -> None:
        if self.preset != "auto" and self.preset not in PRESETS:
            raise UserError(f"unknown preset '{self.preset}'; presets: auto, {', '.join(PRESETS)}")
        if self.decimal not in (None, ".", ","):
            raise UserError("--decimal must be , or .")
        if self.date_order not in (None, "dmy", "mdy", "ymd"):
            raise UserError("date order must be dmy or mdy")


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong (or worth a second look) in a file, at its row and column."""

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, row {self.row}" if self.row else self.file
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def missing_columns(file_name: str, header_row: int, columns: ColumnMap, missing) -> RowProblem:
    return RowProblem(
        file_name,
        header_row,
        "",
        f"no column found for {', '.join(missing)}. The header row has: "
        f"{listed(columns.headers)}. Choose the column for each (under Columns on the Data "
        "page, or --map FIELD=COLUMN).",
    )


def column_problems(
    file_name: str, header_row: int, columns: ColumnMap, required: Sequence[str]
) -> list[RowProblem]:
    """A problem for each field two columns could be, and one for the required fields
    no column was found for; empty when every field has its column."""
    problems = [
        RowProblem(file_name, header_row, "", message) for message in ambiguous_columns(columns)
    ]
    missing = [f for f in columns.missing(required) if f not in columns.ambiguous]
    if missing:
        problems.append(missing_columns(file_name, header_row, columns, missing))
    return problems


def table_notes(table: RawTable) -> tuple[RowProblem, ...]:
    """What of the file was not read (a workbook's hidden sheets), as notes to check."""
    return tuple(RowProblem(table.file_name, 0, "", note) for note in table.notes)


def cell_message(error: CellError, what: str) -> str:
    """A cell's error as a sentence: "is blank" becomes "the amount is blank"."""
    text = str(error)
    return f"the {what} {text}" if text.startswith("is") else text


# -- the rows below the header ------------------------------------------------------------


def body_rows(
    table: RawTable, header_index: int, columns: ColumnMap, date_field: str
) -> tuple[list[tuple[tuple[Cell, ...], int]], list[tuple[int, str]]]:
    """The rows below the header, each padded to the header's width with its row number,
    and the total or summary rows set aside as (row, why)."""
    width = len(columns.headers)
    rows: list[tuple[tuple[Cell, ...], int]] = []
    skipped: list[tuple[int, str]] = []
    body = zip(table.rows[header_index + 1 :], table.numbers[header_index + 1 :], strict=True)
    for cells, number in body:
        cells = tuple(cells) + (None,) * (width - len(cells))
        if is_total_row(cells, columns.columns.get(date_field)):
            skipped.append((number, "a total or summary row"))
        else:
            rows.append((cells, number))
    return rows, skipped


@dataclass(frozen=True)
class RowContext:
    """What reading one row needs to know about its file: the columns, the options and
    the conventions settled for the whole file."""

    file_name: str
    columns: ColumnMap
    options: ImportOptions
    decimal: str
    date_order: str | None

    def cell(self, cells: Sequence[Cell], name: str) -> Cell:
        return cells[self.columns.columns[name]]

    def problem(self, number: int, name: str, message: str) -> RowProblem:
        header = self.columns.header(name) if name in self.columns.columns else name
        return RowProblem(self.file_name, number, header, message)


class Unreadable(Exception):
    """A cell that cannot be taken; the message says why, for the row's problem."""


FieldReader = Callable[[str, Sequence[Cell], Any], Any]


def read_fields(
    readers: Mapping[str, FieldReader], cells: Sequence[Cell], number: int, context: RowContext
) -> tuple[dict[str, Any], list[RowProblem]]:
    """Each field's value read by its reader, and a problem for each that is unreadable
    (in the readers' order)."""
    values: dict[str, Any] = {}
    errors: list[RowProblem] = []
    for name, read in readers.items():
        try:
            values[name] = read(name, cells, context)
        except Unreadable as e:
            errors.append(context.problem(number, name, str(e)))
    return values, errors


def column_cells(body, columns: ColumnMap, names) -> Iterator[Cell]:
    """Every cell of the named fields' columns, for settling a file's conventions."""
    for name in names:
        index = columns.columns.get(name)
        if index is None:
            continue
        for cells in body:
            if index < len(cells):
                yield cells[index]


# -- the file's conventions ---------------------------------------------------------------


@dataclass(frozen=True)
class Conventions:
    """How a file writes numbers and dates, settled once from all its cells."""

    decimal: str
    decimal_reason: str
    date_order: str | None
    ask_date_order: bool
    errors: tuple[RowProblem, ...]  # the file's numbers or dates disagree, or are unsettled
    ask_decimal: bool = False  # a number reads two ways and nothing settles the mark


def settle_conventions(
    table: RawTable,
    header_index: int,
    columns: ColumnMap,
    number_fields: Iterable[str],
    date_field: str,
    options: ImportOptions,
) -> Conventions:
    """The decimal mark from the ``number_fields`` and the day/month order from the
    ``date_field``, each set by ``options`` or read from the cells below the header."""
    body = table.rows[header_index + 1 :]
    decimal, decimal_reason, decimal_error, guessed = _decimal(
        table, column_cells(body, columns, number_fields), options
    )
    errors: list[RowProblem] = []
    if decimal_error:
        errors.append(RowProblem(table.file_name, 0, "", decimal_error))
    ask_decimal = False
    if guessed:
        # Nothing settled the mark: a number that reads two ways stops the reading.
        example = _two_ways(table, header_index, columns, number_fields, decimal)
        if example is not None:
            errors.append(example)
            ask_decimal, decimal_reason = True, ""
    order, order_error, ask = settle_date_order(column_cells(body, columns, [date_field]), options)
    if order_error:
        errors.append(RowProblem(table.file_name, 0, "", order_error))
    return Conventions(decimal, decimal_reason, order, ask, tuple(errors), ask_decimal)


def _two_ways(
    table: RawTable, header_index: int, columns: ColumnMap, number_fields, decimal: str
) -> RowProblem | None:
    """The first number cell that reads as another number under the other decimal mark
    ("1.500": 1.5 or 1500), as the question to ask; None when there is none."""
    fields = [(f, columns.columns[f]) for f in number_fields if f in columns.columns]
    body = zip(table.rows[header_index + 1 :], table.numbers[header_index + 1 :], strict=True)
    for cells, number in body:
        for name, index in fields:
            if index < len(cells) and ambiguous_decimal(cells[index], decimal):
                value = cells[index]
                point, comma = parse_amount(value, "."), parse_amount(value, ",")
                return RowProblem(
                    table.file_name,
                    number,
                    columns.header(name),
                    f"'{quote(value)}' could be {point:.12g} (decimal point) or {comma:.12g} "
                    "(decimal comma), and nothing else in the file shows which it uses. Say "
                    "which (--decimal . or --decimal ,; on the Data page, the Decimal mark "
                    "choice).",
                )
    return None


def settle_decimal(table: RawTable, cells, options) -> tuple[str, str, str]:
    """The file's decimal mark, why, and an error message when the cells disagree."""
    return _decimal(table, cells, options)[:3]


def _decimal(table: RawTable, cells, options) -> tuple[str, str, str, bool]:
    """``settle_decimal``'s answer, and whether the mark is only the file's default
    (nothing in it, nor the user, said which)."""
    if options.decimal:
        return options.decimal, "set by you", "", False
    evidence: Evidence = decimal_evidence(cells)
    if evidence.conflict:
        return (
            ".",
            "",
            f"the numbers mix decimal marks ('{quote(evidence.example)}' reads as a decimal "
            f"point, '{quote(evidence.conflict)}' as a decimal comma); say which the file "
            "uses (--decimal)",
            False,
        )
    mark = "comma" if evidence.value == "," else "point"
    if evidence.value:
        return evidence.value, f"decimal {mark}, as in '{quote(evidence.example)}'", "", False
    if table.delimiter == ";":
        return ",", "decimal comma (semicolon-separated file; no number says otherwise)", "", True
    return ".", "decimal point (no number says otherwise)", "", True


def settle_date_order(cells, options) -> tuple[str | None, str, bool]:
    """Day or month first, an error message when unsettled, and whether to ask."""
    if options.date_format:
        return None, "", False
    cells = list(cells)
    evidence = date_order_evidence(cells)
    if options.date_order:
        return options.date_order, "", False
    if evidence.conflict:
        return (
            None,
            f"dates disagree on day/month order ('{quote(evidence.example)}' is day first, "
            f"'{quote(evidence.conflict)}' month first); set the format (--date-format)",
            False,
        )
    if evidence.value:
        return evidence.value, "", False
    if needs_date_order(cells):
        return (
            None,
            "dates like '01/09/2026' could be day/month or month/day; say which "
            "(--date-format %d/%m/%Y or %m/%d/%Y)",
            True,
        )
    return None, "", False
