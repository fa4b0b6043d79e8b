"""Importing daily results from an ad platform's export: read, map, check, preview, commit.

The steps, each visible in the preview before anything is written:

1. read the file (``trials.ingest.tables``): encoding, delimiter or sheet;
2. find the header (title lines above it are skipped) and map columns to fields, by the
   chosen preset or automatically (``trials.ingest.columns``);
3. settle the file's conventions once: decimal mark, day/month order (``trials.ingest.cells``);
4. read every row; impossible rows are errors naming file, row and column; conversions
   above clicks are a warning (platforms count view-through conversions); total rows and
   blank lines are skipped and listed;
5. compare with what is stored (``TrialStore.plan_results``): new, unchanged, changed rows
   and arms the trial does not have.

:func:`commit_import` then writes the rows as one batch, all or nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from trials.domain import ResultRow, Trial, UserError
from trials.domain.imports import ImportOutcome, ResultsPlan
from trials.ingest.cells import (
    CellError,
    Evidence,
    date_order_evidence,
    decimal_evidence,
    is_blank,
    needs_date_order,
    parse_amount,
    parse_count,
    parse_date,
)
from trials.ingest.columns import (
    DAILY_FIELDS,
    PRESETS,
    ColumnMap,
    Preset,
    find_header,
    is_total_row,
    map_columns,
    normalise_header,
)
from trials.ingest.tables import ImportLimits, RawTable, read_table

__all__ = [
    "FileReading",
    "ImportOptions",
    "ImportPreview",
    "RowProblem",
    "digest_of",
    "outcome_line",
    "read_daily_file",
]

REQUIRED = ("date", "channel", "creative", "impressions", "clicks", "conversions", "spend")
COUNTS = ("impressions", "clicks", "conversions")
AMOUNTS = ("spend", "revenue")


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file; everything left as None is detected.

    ``mapping`` overrides single fields (field → column header or 1-based number);
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


@dataclass(frozen=True)
class FileReading:
    """What a file says, read against a trial but before comparing with stored data."""

    file_name: str
    digest: str
    format_label: str
    preset: str
    columns: ColumnMap | None
    header_row: int
    decimal: str
    decimal_reason: str
    date_order: str | None
    rows: tuple[ResultRow, ...]
    errors: tuple[RowProblem, ...]
    warnings: tuple[RowProblem, ...]
    skipped: tuple[tuple[int, str], ...]  # (row, why)
    ask_date_order: bool = False  # dates like 01/09/2026 and nothing settles the order

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ImportPreview:
    """A file's reading plus what committing it would change."""

    reading: FileReading
    plan: ResultsPlan | None  # None while the file has errors


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_daily_file(
    data: bytes,
    file_name: str,
    trial: Trial,
    options: ImportOptions | None = None,
    limits: ImportLimits | None = None,
) -> FileReading:
    """Read and check a daily results file against ``trial`` (its dates and currency)."""
    options = options or ImportOptions()
    table = read_table(data, file_name, limits)
    fields = DAILY_FIELDS
    preset = _choose_preset(table, options.preset)
    header_index = find_header(table.rows, fields, preset)
    overrides = dict(options.mapping)
    columns = map_columns(table.rows[header_index], fields, preset, overrides)
    base = dict(
        file_name=file_name,
        digest=digest_of(data),
        format_label=table.format_label,
        preset=preset.name,
        columns=columns,
        header_row=table.numbers[header_index],
    )
    required = [f for f in REQUIRED if not (f == "channel" and options.channel)]
    missing = columns.missing(required)
    if missing:
        error = missing_columns(file_name, table.numbers[header_index], columns, missing)
        return FileReading(
            **base,
            decimal=".",
            decimal_reason="",
            date_order=None,
            rows=(),
            errors=(error,),
            warnings=(),
            skipped=(),
        )
    body = table.rows[header_index + 1 :]
    numbers = table.numbers[header_index + 1 :]
    decimal, decimal_reason, decimal_error = settle_decimal(
        table, column_cells(body, columns, (*COUNTS, *AMOUNTS)), options
    )
    order, order_error, ask = settle_date_order(column_cells(body, columns, ["date"]), options)
    errors: list[RowProblem] = [
        RowProblem(file_name, 0, "", m) for m in (decimal_error, order_error) if m
    ]
    warnings: list[RowProblem] = []
    if "revenue" not in columns.columns:
        warnings.append(
            RowProblem(
                file_name,
                table.numbers[header_index],
                "",
                "no revenue column: revenue is recorded as 0 for every row",
            )
        )
    rows: list[ResultRow] = []
    skipped: list[tuple[int, str]] = []
    seen: dict[tuple[tuple[str, str], date], int] = {}
    width = len(columns.headers)
    for cells, number in zip(body, numbers, strict=True):
        cells = tuple(cells) + (None,) * (width - len(cells))
        if is_total_row(cells, columns.columns.get("date")):
            skipped.append((number, "a total or summary row"))
            continue
        row, row_errors, row_warnings = _read_row(
            cells, number, columns, preset, options, decimal, order, trial, file_name
        )
        errors.extend(row_errors)
        warnings.extend(row_warnings)
        if row is None:
            continue
        first = seen.setdefault((row.key, row.day), number)
        if first != number:
            errors.append(
                RowProblem(
                    file_name,
                    number,
                    columns.header("date"),
                    f"{row.arm_name} on {row.day} is also on row {first}; each arm may have "
                    "one row per day. If these are breakdowns (e.g. by placement or device), "
                    "export without the breakdown or add them up first.",
                )
            )
            continue
        rows.append(row)
    return FileReading(
        **base,
        decimal=decimal,
        decimal_reason=decimal_reason,
        date_order=order,
        rows=tuple(rows),
        errors=tuple(errors),
        warnings=tuple(warnings),
        skipped=tuple(skipped),
        ask_date_order=ask,
    )


def missing_columns(file_name: str, header_row: int, columns: ColumnMap, missing) -> RowProblem:
    found = ", ".join(f"'{h}'" for h in columns.headers if h)
    return RowProblem(
        file_name,
        header_row,
        "",
        f"no column found for {', '.join(missing)}. The header row has: {found}. Choose "
        "the column for each (under Columns on the Data page, or --map FIELD=COLUMN).",
    )


def outcome_line(outcome: ImportOutcome, what: str = "rows") -> str:
    """One sentence on what a commit did."""
    c = outcome.counts
    if outcome.changed_nothing:
        return f"nothing changed: all {c.get('unchanged', 0)} {what} are stored already"
    parts = [f"{c.get('new', 0)} new", f"{c.get('changed', 0)} replaced"]
    if c.get("removed"):
        parts.append(f"{c['removed']} removed")
    parts.append(f"{c.get('unchanged', 0)} unchanged")
    return f"import {outcome.batch.id}: " + ", ".join(parts) + f" {what}"


# -- steps --------------------------------------------------------------------------------


def _choose_preset(table: RawTable, name: str) -> Preset:
    if name != "auto":
        return PRESETS[name]
    best, best_hits = PRESETS["generic"], 2
    for preset in PRESETS.values():
        if not preset.headers:
            continue
        for row in table.rows[:30]:
            mapped = map_columns(row, DAILY_FIELDS, preset)
            hits = sum(how == "preset" for how in mapped.how.values())
            # A platform's own names (Impr., Amount spent) must show, not just "Clicks".
            distinctive = any(
                mapped.columns.get(f) is not None and mapped.how.get(f) == "preset"
                for f in ("impressions", "spend", "date")
            )
            if distinctive and hits > best_hits and _looks_like(preset, row):
                best, best_hits = preset, hits
    return best


def _looks_like(preset: Preset, row: Sequence) -> bool:
    names = {normalise_header(c) for c in row}
    marks = {"google-ads": {"impr", "cost", "conv value"}, "meta-ads": {"amount spent"}}
    return bool(names & marks.get(preset.name, set()))


def column_cells(body, columns: ColumnMap, names):
    """Every cell of the named fields' columns, for settling a file's conventions."""
    for name in names:
        index = columns.columns.get(name)
        if index is None:
            continue
        for cells in body:
            if index < len(cells):
                yield cells[index]


def settle_decimal(table: RawTable, cells, options) -> tuple[str, str, str]:
    """The file's decimal mark, why, and an error message when the cells disagree."""
    if options.decimal:
        return options.decimal, "set by you", ""
    evidence: Evidence = decimal_evidence(cells)
    if evidence.conflict:
        return (
            ".",
            "",
            f"the numbers mix decimal marks ('{evidence.example}' reads as a decimal point, "
            f"'{evidence.conflict}' as a decimal comma); say which the file uses (--decimal)",
        )
    mark = "comma" if evidence.value == "," else "point"
    if evidence.value:
        return evidence.value, f"decimal {mark}, as in '{evidence.example}'", ""
    if table.delimiter == ";":
        return ",", "decimal comma (semicolon-separated file; no number says otherwise)", ""
    return ".", "decimal point (no number says otherwise)", ""


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
            f"dates disagree on day/month order ('{evidence.example}' is day first, "
            f"'{evidence.conflict}' month first); set the format (--date-format)",
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


def _read_row(cells, number, columns, preset, options, decimal, order, trial, file_name):
    errors: list[RowProblem] = []
    warnings: list[RowProblem] = []

    def problem(name: str, message: str) -> None:
        header = columns.header(name) if name in columns.columns else name
        errors.append(RowProblem(file_name, number, header, message))

    def cell(name: str):
        return cells[columns.columns[name]]

    values: dict[str, Any] = {}
    try:
        values["day"] = parse_date(cell("date"), order, options.date_format)
    except CellError as e:
        problem("date", f"the date {e}" if str(e).startswith("is") else str(e))
    else:
        if not trial.spec.start <= values["day"] <= trial.spec.end:
            problem(
                "date",
                f"{values['day']} is outside the trial's dates ({trial.spec.start} to "
                f"{trial.spec.end}); remove the row or change the trial's dates",
            )
    for name in ("channel", "creative"):
        if name == "channel" and options.channel:
            values[name] = options.channel
            continue
        raw = cell(name)
        if is_blank(raw):
            problem(name, f"the {name} is blank; every row needs one")
        else:
            values[name] = str(raw).strip()
    for name in (*COUNTS, *AMOUNTS):
        if name not in columns.columns:
            values[name] = 0 if name in COUNTS else 0.0
            continue
        raw = cell(name)
        if is_blank(raw):
            if name in preset.blank_is_zero:
                values[name] = 0 if name in COUNTS else 0.0
                continue
            problem(name, f"the {name} cell is blank; write 0 if there were none")
            continue
        try:
            number_value = (parse_count if name in COUNTS else parse_amount)(raw, decimal)
        except CellError as e:
            problem(name, str(e) if not str(e).startswith("is") else f"the value {e}")
            continue
        if number_value < 0:
            problem(name, f"{raw} is negative; {name} cannot be below 0")
            continue
        values[name] = number_value
    if errors:
        return None, errors, warnings
    if values["clicks"] > values["impressions"]:
        problem(
            "clicks",
            f"{values['clicks']:,} clicks but only {values['impressions']:,} impressions; "
            "check the columns are mapped right",
        )
        return None, errors, warnings
    if values["conversions"] > values["clicks"]:
        warnings.append(
            RowProblem(
                file_name,
                number,
                columns.header("conversions"),
                f"{values['conversions']} conversions from {values['clicks']} clicks: "
                "accepted (platforms count view-through conversions); the models use at "
                "most one conversion per click",
            )
        )
    return (
        ResultRow(
            channel=values["channel"],
            creative=values["creative"],
            day=values["day"],
            impressions=values["impressions"],
            clicks=values["clicks"],
            conversions=values["conversions"],
            spend=values["spend"],
            revenue=values["revenue"],
            row=number,
        ),
        errors,
        warnings,
    )
