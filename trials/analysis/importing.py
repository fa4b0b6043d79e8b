"""Importing a file into a trial: read and check it (``trials.ingest``), compare it with
what is stored (``trials.storage``: the plan), show the preview, then write it as one
batch, all or nothing.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date

from trials.analysis.sources import orders_effect
from trials.domain import Trial, UserError, segment_key
from trials.domain.imports import ImportOutcome
from trials.domain.limits import FILE_NAME, text_problem
from trials.ingest.daily import ImportPreview, read_daily_file
from trials.ingest.orders import OrdersPreview, read_orders_file
from trials.ingest.reading import ImportOptions, RowProblem
from trials.ingest.tables import ImportLimits
from trials.storage.store import TrialStore

__all__ = [
    "EDITED_FIELDS",
    "RowsRefused",
    "commit_import",
    "commit_orders",
    "preview_import",
    "preview_orders",
    "save_edited_rows",
    "within_limits",
]


def preview_import(
    store: TrialStore,
    trial: Trial,
    data: bytes,
    file_name: str,
    options: ImportOptions | None = None,
    limits: ImportLimits | None = None,
) -> ImportPreview:
    """Read the file and, when it has no errors, what committing it would change."""
    reading = within_limits(read_daily_file(data, file_name, trial, options, limits))
    if not reading.ok:
        return ImportPreview(reading, None)
    try:
        plan = store.plan_results(trial.id, reading.rows, digest=reading.digest)
    except UserError as e:
        return ImportPreview(_with_error(reading, e), None)
    return ImportPreview(reading, plan)


def commit_import(
    store: TrialStore,
    trial: Trial,
    preview: ImportPreview,
    *,
    replace: bool = False,
    add_arms: bool = False,
) -> ImportOutcome:
    """Write a previewed file's rows as one import batch (nothing if it has errors)."""
    reading = preview.reading
    _refuse_unreadable(reading)
    return store.commit_results(
        trial.id,
        reading.rows,
        kind="daily",
        file_name=reading.file_name,
        digest=reading.digest,
        replace=replace,
        add_arms=add_arms,
    )


def preview_orders(
    store: TrialStore,
    trial: Trial,
    data: bytes,
    file_name: str,
    options: ImportOptions | None = None,
    limits: ImportLimits | None = None,
) -> OrdersPreview:
    reading = within_limits(read_orders_file(data, file_name, options, limits))
    if not reading.ok:
        return OrdersPreview(reading, None)
    whole = trial.whole()  # with rounds: from round 1's start to the current round's end
    outside = [
        o for o in reading.orders if not whole.spec.start <= o.ordered_at.date() <= whole.spec.end
    ]
    if outside:
        reading = replace(
            reading,
            warnings=(
                *reading.warnings,
                RowProblem(
                    reading.file_name,
                    outside[0].row,
                    reading.columns.header("timestamp"),
                    f"{len(outside)} orders fall outside the trial's dates ({whole.spec.start} "
                    f"to {whole.spec.end}); they are stored but not counted",
                ),
            ),
        )
    try:
        plan = store.plan_orders(trial.id, reading.orders, digest=reading.digest)
    except UserError as e:
        return OrdersPreview(_with_error(reading, e), None)
    return OrdersPreview(reading, plan, orders_effect(store, trial, reading.orders))


def commit_orders(
    store: TrialStore, trial: Trial, preview: OrdersPreview, *, replace: bool = False
):
    reading = preview.reading
    _refuse_unreadable(reading)
    return store.commit_orders(
        trial.id,
        reading.orders,
        file_name=reading.file_name,
        digest=reading.digest,
        replace=replace,
    )


def within_limits(reading):
    """The reading (daily results or own orders) with an error for each value that is
    beyond what the registry stores (``trials.domain.limits``: too long a text, too large
    a number), at its row and column, so the preview lists them and nothing is written."""
    items = reading.rows if hasattr(reading, "rows") else reading.orders
    found = []
    why = text_problem(reading.file_name, FILE_NAME)
    if why:
        found.append(RowProblem(reading.file_name, 0, "", f"the file name {why}; rename the file"))
    columns = reading.columns.columns if reading.columns else {}
    for item in items:
        for problem in item.problems():
            column = reading.columns.header(problem.field) if problem.field in columns else ""
            found.append(
                RowProblem(reading.file_name, item.row, column or problem.field, problem.message)
            )
    if not found:
        return reading
    errors = sorted((*reading.errors, *found), key=lambda p: p.row)
    return replace(reading, errors=tuple(errors))


def _with_error(reading, error: UserError):
    """The reading with the store's refusal added as a problem of the whole file."""
    problem = RowProblem(reading.file_name, 0, "", str(error))
    return replace(reading, errors=(*reading.errors, problem))


def _refuse_unreadable(reading) -> None:
    if not reading.ok:
        raise UserError(
            f"{reading.file_name} has {len(reading.errors)} problems; nothing was written"
        )


class RowsRefused(UserError):
    """Rows edited by hand that do not read as a file would; ``problems`` name each one."""

    def __init__(self, problems: list[RowProblem]):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


EDITED_FIELDS = ("day", "arm", "impressions", "clicks", "conversions", "spend", "revenue")


def save_edited_rows(
    store: TrialStore, trial: Trial, rows: Sequence[Mapping[str, object]]
) -> ImportOutcome:
    """A trial's daily rows as edited by hand (``EDITED_FIELDS``; ``arm`` by name, blank
    as None), checked by the same reader as an uploaded file and saved as one undoable
    manual import: the rows replace the stored ones, and stored days left out are removed.
    Refuses (``RowsRefused``, row numbers counted from 1) with every problem; nothing is
    written then."""
    by_name = {a.name: a for a in trial.arms}
    buffer = io.StringIO()
    out = csv.writer(buffer)
    # Rows may carry a "segment" (the grid shows it once a trial has segments).
    by_segment = any("segment" in row for row in rows)
    out.writerow(["date", "channel", "creative", *EDITED_FIELDS[2:], *["segment"] * by_segment])
    for row in rows:
        arm = by_name.get(str(row.get("arm") or ""))
        day = row.get("day")
        out.writerow(
            [
                day.isoformat() if isinstance(day, date) else _text(day),
                arm.spec.channel if arm else "",
                arm.spec.creative if arm else "",
                *(_text(row.get(name)) for name in EDITED_FIELDS[2:]),
                *[_text(row.get("segment"))] * by_segment,
            ]
        )
    reading = read_daily_file(
        buffer.getvalue().encode(), "grid", trial, ImportOptions(preset="generic", decimal=".")
    )
    reading = within_limits(reading)
    if reading.errors:
        # CSV line n is edited row n - 1 (the header is line 1).
        raise RowsRefused(
            [
                RowProblem("the grid", max(p.row - 1, 0), p.column.capitalize(), p.message)
                for p in reading.errors
            ]
        )
    kept = {
        (by_name[r.arm_name].id, r.day, r.segment_key)
        for r in reading.rows
        if r.arm_name in by_name
    }
    removals = [
        (r.arm_id, r.day, r.segment)
        for r in store.daily_results(trial.id, segments=True)
        if (r.arm_id, r.day, segment_key(r.segment)) not in kept
    ]
    return store.commit_results(
        trial.id, reading.rows, kind="manual", replace=True, removals=removals
    )


def _text(value: object) -> str:
    """A cell as the reader sees it: blank for None or NaN, numbers as Python writes them."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)
