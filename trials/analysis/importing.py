"""Importing a file into a trial: read and check it (``trials.ingest``), compare it with
what is stored (``trials.storage``: the plan), show the preview, then write it as one
batch, all or nothing.
"""

from __future__ import annotations

from dataclasses import replace

from trials.analysis.sources import orders_effect
from trials.domain import Trial, UserError
from trials.domain.imports import ImportOutcome
from trials.ingest.daily import ImportOptions, ImportPreview, RowProblem, read_daily_file
from trials.ingest.orders import OrdersPreview, read_orders_file
from trials.ingest.tables import ImportLimits
from trials.storage.store import TrialStore

__all__ = ["commit_import", "commit_orders", "preview_import", "preview_orders"]


def preview_import(
    store: TrialStore,
    trial: Trial,
    data: bytes,
    file_name: str,
    options: ImportOptions | None = None,
    limits: ImportLimits | None = None,
) -> ImportPreview:
    """Read the file and, when it has no errors, what committing it would change."""
    reading = read_daily_file(data, file_name, trial, options, limits)
    if not reading.ok:
        return ImportPreview(reading, None)
    try:
        plan = store.plan_results(trial.id, reading.rows, digest=reading.digest)
    except UserError as e:
        problem = RowProblem(file_name, 0, "", str(e))
        return ImportPreview(replace(reading, errors=(*reading.errors, problem)), None)
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
    if not reading.ok:
        raise UserError(
            f"{reading.file_name} has {len(reading.errors)} problems; nothing was written"
        )
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
    reading = read_orders_file(data, file_name, options, limits)
    if not reading.ok:
        return OrdersPreview(reading, None)
    outside = [
        o for o in reading.orders if not trial.spec.start <= o.ordered_at.date() <= trial.spec.end
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
                    f"{len(outside)} orders fall outside the trial's dates ({trial.spec.start} "
                    f"to {trial.spec.end}); they are stored but not counted",
                ),
            ),
        )
    try:
        plan = store.plan_orders(trial.id, reading.orders, digest=reading.digest)
    except UserError as e:
        problem = RowProblem(reading.file_name, 0, "", str(e))
        return OrdersPreview(replace(reading, errors=(*reading.errors, problem)), None)
    return OrdersPreview(reading, plan, orders_effect(store, trial, reading.orders))


def commit_orders(
    store: TrialStore, trial: Trial, preview: OrdersPreview, *, replace: bool = False
):
    reading = preview.reading
    if not reading.ok:
        raise UserError(
            f"{reading.file_name} has {len(reading.errors)} problems; nothing was written"
        )
    return store.commit_orders(
        trial.id,
        reading.orders,
        file_name=reading.file_name,
        digest=reading.digest,
        replace=replace,
    )
