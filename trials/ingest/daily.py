"""Importing daily results from an ad platform's export: read, map, check, preview, commit.

The steps, each visible in the preview before anything is written:

1. read the file (``trials.ingest.tables``): encoding, delimiter or sheet (a workbook's
   active visible sheet; hidden sheets are ignored, and named in the notes);
2. find the header (title lines above it are skipped) and map columns to fields, by the
   chosen preset or automatically (``trials.ingest.columns``); a field two columns could
   be is refused until one is chosen;
3. settle the file's conventions once: decimal mark, day/month order (``trials.ingest.reading``,
   from the evidence ``trials.ingest.cells`` finds); a number or date that reads two ways
   with nothing to settle it stops the reading, and the preview asks;
4. read every row; impossible rows are errors naming file, row and column; conversions
   above clicks are a warning (platforms count view-through conversions); total rows
   (only rows without a date) and blank lines are skipped and listed;
5. compare with what is stored (``TrialStore.plan_results``): new, unchanged, changed rows
   and arms the trial does not have.

:func:`commit_import` then writes the rows as one batch, all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from trials.domain import ResultRow, Trial, arm_key
from trials.domain.imports import ImportOutcome, ResultsPlan
from trials.ingest.cells import Cell, CellError, is_blank, parse_amount, parse_count, parse_date
from trials.ingest.columns import (
    DAILY_FIELDS,
    PRESETS,
    ColumnMap,
    Preset,
    find_header,
    map_columns,
    normalise_header,
)
from trials.ingest.limits import quote
from trials.ingest.reading import (
    ImportOptions,
    RowContext,
    RowProblem,
    Unreadable,
    body_rows,
    cell_message,
    column_problems,
    digest_of,
    read_fields,
    settle_conventions,
    table_notes,
)
from trials.ingest.tables import ImportLimits, RawTable, read_table

__all__ = ["FileReading", "ImportPreview", "outcome_line", "read_daily_file"]

REQUIRED = ("date", "channel", "creative", "impressions", "clicks", "conversions", "spend")
COUNTS = ("impressions", "clicks", "conversions")
AMOUNTS = ("spend", "revenue")


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
    ask_decimal: bool = False  # numbers like 1.500 and nothing settles the decimal mark

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ImportPreview:
    """A file's reading plus what committing it would change."""

    reading: FileReading
    plan: ResultsPlan | None  # None while the file has errors


def read_daily_file(
    data: bytes,
    file_name: str,
    trial: Trial,
    options: ImportOptions | None = None,
    limits: ImportLimits | None = None,
) -> FileReading:
    """Read and check a daily results file against ``trial`` (its dates and currency;
    with rounds, every round's dates, and each row's arm against the round of its day)."""
    trial = trial.whole()
    options = options or ImportOptions()
    table = read_table(data, file_name, limits)
    preset = _choose_preset(table, options.preset)
    header_index = find_header(table.rows, DAILY_FIELDS, preset)
    columns = map_columns(table.rows[header_index], DAILY_FIELDS, preset, dict(options.mapping))
    header_row = table.numbers[header_index]
    base = dict(
        file_name=file_name,
        digest=digest_of(data),
        format_label=table.format_label,
        preset=preset.name,
        columns=columns,
        header_row=header_row,
    )
    notes = table_notes(table)
    problems = column_problems(file_name, header_row, columns, _required(options))
    if problems:
        return FileReading(
            **base,
            decimal=".",
            decimal_reason="",
            date_order=None,
            rows=(),
            errors=tuple(problems),
            warnings=notes,
            skipped=(),
        )
    # The file's conventions, then every row below the header.
    settled = settle_conventions(table, header_index, columns, (*COUNTS, *AMOUNTS), "date", options)
    context = _DailyContext(
        file_name, columns, options, settled.decimal, settled.date_order, preset, trial
    )
    body, skipped = body_rows(table, header_index, columns, "date")
    rows, errors, warnings = _read_rows(body, context)
    return FileReading(
        **base,
        decimal=settled.decimal,
        decimal_reason=settled.decimal_reason,
        date_order=settled.date_order,
        rows=() if settled.ask_decimal else tuple(rows),
        errors=(*settled.errors, *errors),
        warnings=(*notes, *_column_warnings(file_name, header_row, columns), *warnings),
        skipped=tuple(skipped),
        ask_date_order=settled.ask_date_order,
        ask_decimal=settled.ask_decimal,
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


def _required(options: ImportOptions) -> list[str]:
    """The fields the file must have a column for (no channel when options name it)."""
    return [f for f in REQUIRED if not (f == "channel" and options.channel)]


def _column_warnings(file_name: str, header_row: int, columns: ColumnMap) -> list[RowProblem]:
    if "revenue" in columns.columns:
        return []
    message = "no revenue column: revenue is recorded as 0 for every row"
    return [RowProblem(file_name, header_row, "", message)]


# -- reading the rows ---------------------------------------------------------------------


@dataclass(frozen=True)
class _DailyContext(RowContext):
    """A row's context, with the preset (its blank cells that mean 0) and the trial."""

    preset: Preset
    trial: Trial


def _read_rows(
    body: Sequence[tuple[tuple[Cell, ...], int]], context: _DailyContext
) -> tuple[list[ResultRow], list[RowProblem], list[RowProblem]]:
    """The rows that read cleanly, then every error and warning in row order; an arm's
    second row for the same day is an error."""
    rows: list[ResultRow] = []
    errors: list[RowProblem] = []
    warnings: list[RowProblem] = []
    seen: dict[tuple[tuple[str, str], date, str], int] = {}
    for cells, number in body:
        row, row_errors, row_warnings = _read_row(cells, number, context)
        errors.extend(row_errors)
        warnings.extend(row_warnings)
        if row is None:
            continue
        first = seen.setdefault((row.key, row.day, row.segment_key), number)
        if first != number:
            errors.append(_duplicate(row, number, first, context))
            continue
        rows.append(row)
    return rows, errors, warnings


def _duplicate(row: ResultRow, number: int, first: int, context: _DailyContext) -> RowProblem:
    columns = context.columns
    if "segment" in columns.columns:
        named = ", ".join(
            f"'{columns.header(f)}'"
            for f in ("channel", "creative", "date", "segment")
            if f in columns.columns
        )
        segment = f"segment '{quote(row.segment)}'" if row.segment else "no segment"
        return context.problem(
            number,
            "segment",
            f"{quote(row.arm_name)} on {row.day} with {segment} is also on row {first} "
            f"(the same {named}); each arm may have one row per day and segment. "
            "Remove one of the rows or add them up first.",
        )
    return context.problem(
        number,
        "date",
        f"{quote(row.arm_name)} on {row.day} is also on row {first}; each arm may have "
        "one row per day. If these are breakdowns (e.g. by placement or device), "
        "add a column naming the segment (segment, region, device, placement, 人群, 地区, "
        "设备, 版位), export without the breakdown, or add them up first.",
    )


def _read_row(
    cells: Sequence[Cell], number: int, context: _DailyContext
) -> tuple[ResultRow | None, list[RowProblem], list[RowProblem]]:
    """One row as a ResultRow (None when it has errors), its errors and its warnings."""
    values, errors = read_fields(_FIELDS, cells, number, context)
    if errors:
        return None, errors, []
    outside_its_round = _round_problem(values, context.trial)
    if outside_its_round:
        return None, [context.problem(number, "date", outside_its_round)], []
    if values["clicks"] > values["impressions"]:
        message = (
            f"{values['clicks']:,} clicks but only {values['impressions']:,} impressions; "
            "check the columns are mapped right"
        )
        return None, [context.problem(number, "clicks", message)], []
    warnings: list[RowProblem] = []
    if values["conversions"] > values["clicks"]:
        message = (
            f"{values['conversions']} conversions from {values['clicks']} clicks: "
            "accepted (platforms count view-through conversions); the models use at "
            "most one conversion per click"
        )
        warnings.append(context.problem(number, "conversions", message))
    row = ResultRow(
        channel=values["channel"],
        creative=values["creative"],
        day=values["date"],
        impressions=values["impressions"],
        clicks=values["clicks"],
        conversions=values["conversions"],
        spend=values["spend"],
        revenue=values["revenue"],
        row=number,
        segment=values["segment"],
    )
    return row, [], warnings


def _round_problem(values: dict, trial: Trial) -> str | None:
    """Why the row's day is in no round that ran its arm (a trial in rounds), or None."""
    key = arm_key(values["channel"], values["creative"])
    for arm in trial.all_arms:
        if arm_key(arm.spec.channel, arm.spec.creative) == key:
            return trial.arm_round_problem(arm.id, values["date"])
    return None  # an arm the trial lacks: the import says so (or adds it)


# -- one cell of a row, per field ---------------------------------------------------------


def _read_day(name: str, cells: Sequence[Cell], context: _DailyContext) -> date:
    try:
        day = parse_date(context.cell(cells, name), context.date_order, context.options.date_format)
    except CellError as e:
        raise Unreadable(cell_message(e, "date")) from None
    spec = context.trial.spec
    if not spec.start <= day <= spec.end:
        raise Unreadable(
            f"{day} is outside the trial's dates ({spec.start} to {spec.end}); "
            "remove the row or change the trial's dates"
        )
    return day


def _read_name(name: str, cells: Sequence[Cell], context: _DailyContext) -> str:
    """The channel or the creative; the options may name the channel of every row."""
    if name == "channel" and context.options.channel:
        return context.options.channel
    raw = context.cell(cells, name)
    if is_blank(raw):
        raise Unreadable(f"the {name} is blank; every row needs one")
    return str(raw).strip()


def _read_number(name: str, cells: Sequence[Cell], context: _DailyContext) -> int | float:
    """A count (whole) or an amount; 0 when the file has no such column, or when the
    preset says a blank cell of this field means 0."""
    zero = 0 if name in COUNTS else 0.0
    if name not in context.columns.columns:
        return zero
    raw = context.cell(cells, name)
    if is_blank(raw):
        if name in context.preset.blank_is_zero:
            return zero
        raise Unreadable(f"the {name} cell is blank; write 0 if there were none")
    parse = parse_count if name in COUNTS else parse_amount
    try:
        value = parse(raw, context.decimal)
    except CellError as e:
        raise Unreadable(cell_message(e, "value")) from None
    if value < 0:
        raise Unreadable(f"{quote(raw)} is negative; {name} cannot be below 0")
    return value


def _read_segment(name: str, cells: Sequence[Cell], context: _DailyContext) -> str:
    """The row's segment (customer group, region, device, placement): "" when the file
    has no segment column, or for a blank cell."""
    if name not in context.columns.columns:
        return ""
    raw = context.cell(cells, name)
    return "" if is_blank(raw) else " ".join(str(raw).split())


# Each field of a row and how its cell is read, in the order problems are listed.
_FIELDS = {
    "date": _read_day,
    "channel": _read_name,
    "creative": _read_name,
    **{name: _read_number for name in (*COUNTS, *AMOUNTS)},
    "segment": _read_segment,
}
