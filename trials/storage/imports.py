"""Writing imported results and own orders: planned, all-or-nothing, and undoable.

Every write of results is an import batch (who, when, which file, its digest). Before
writing, incoming rows are compared with what is stored: identical rows are left alone
(so importing a file twice changes nothing), rows that would change stored numbers are
written only when the caller says ``replace``, and the stored rows they replace are kept
in ``replaced_*`` tables so undoing the batch puts them back exactly.

Behind the facade :class:`trials.storage.store.TrialStore`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import delete, func, insert, select, update

from trials.domain import (
    ArmSpec,
    ResultRow,
    ResultSource,
    Trial,
    UserError,
    arm_key,
    segment_key,
)
from trials.domain.imports import (
    ImportOutcome,
    OverlapError,
    ResultChange,
    ResultsPlan,
)
from trials.storage import schema as t
from trials.storage.batches import batch_by_id, batch_with_digest, new_batch
from trials.storage.rows import (
    daily_from_row,
    refuse_file_name,
    refuse_rows_out_of_bounds,
    refuse_totals_over_limits,
    result_row_values,
    same_result,
    to_micros,
)
from trials.storage.trials import TrialRepository

__all__ = ["ImportRepository"]


class ImportRepository:
    """Import, replace, undo and manual edits of a trial's results; undo also takes back an
    import of own orders."""

    def __init__(self, trials: TrialRepository):
        self.trials = trials

    # -- results -------------------------------------------------------------------------

    def plan_results(
        self,
        trial_id: int,
        rows: Sequence[ResultRow],
        *,
        removals: Sequence[tuple[int, date]] = (),
        digest: str | None = None,
        source: ResultSource = ResultSource.CHANNEL,
    ) -> ResultsPlan:
        """What committing ``rows`` would do, without writing anything."""
        with self.trials.engine.connect() as conn:
            trial = self.trials.load(conn, trial_id)
            return self._plan_results(conn, trial, rows, removals, digest, source)

    def commit_results(
        self,
        trial_id: int,
        rows: Sequence[ResultRow],
        *,
        kind: str,
        file_name: str | None = None,
        digest: str | None = None,
        replace: bool = False,
        add_arms: bool = False,
        removals: Sequence[tuple[int, date]] = (),
        source: ResultSource = ResultSource.CHANNEL,
    ) -> ImportOutcome:
        """Write ``rows`` as one batch, all or nothing.

        Rows identical to stored ones are skipped. Rows that would change stored numbers
        need ``replace``; arms the trial lacks need ``add_arms`` (they are added at the
        end, in the order first seen). ``removals`` are (arm id, day) pairs to delete
        (manual edits). Raises :class:`OverlapError` or :class:`UserError` and writes
        nothing when a condition is not met, or when a row breaks the domain's limits
        (``trials.domain.limits``; so do the trial's totals after the import).
        """
        refuse_rows_out_of_bounds(rows)
        refuse_file_name(file_name)
        with self.trials.write("import data") as conn:
            trial = self.trials.load_for_write(conn, trial_id)
            plan = self._plan_results(conn, trial, rows, removals, digest, source)
            added: list[int] = []
            new_arms = plan.unknown_arms
            if new_arms:
                _refuse_unknown_arms(new_arms, add_arms)
                added = self._add_arms(conn, trial, new_arms)
                trial = self.trials.load(conn, trial.id)
                plan = self._plan_results(conn, trial, rows, removals, digest, source)
            _refuse_changes(plan, replace)
            if not plan.writes:
                return ImportOutcome(batch=None, counts=plan.counts())
            counts = plan.counts()
            batch_id = new_batch(
                conn,
                trial.id,
                actor=self.trials.actor,
                kind=kind,
                file_name=file_name,
                digest=digest,
                row_count=counts["new"] + counts["changed"],
                details={**counts, "added_arm_ids": added},
            )
            self._write_results(conn, trial, plan, source, batch_id)
            return ImportOutcome(
                batch=batch_by_id(conn, batch_id),
                counts=counts,
                added_arms=tuple(f"{c} · {k}" for c, k in new_arms),
            )

    def _write_results(self, conn, trial: Trial, plan: ResultsPlan, source, batch_id) -> None:
        """Set aside the stored rows the plan changes or removes, and insert its new and
        changed rows under ``batch_id``."""
        keys = {arm_key(a.spec.channel, a.spec.creative): a.id for a in trial.all_arms}
        old = [c.old for c in plan.changes if c.kind in ("changed", "removed")]
        fresh = [
            result_row_values(trial.id, keys[c.row.key], batch_id, c.row, source)
            for c in plan.changes
            if c.kind in ("new", "changed")
        ]
        refuse_totals_over_limits(conn, trial.id, source, fresh, [_stored(o) for o in old])
        kept = [(o.arm_id, o.day, o.segment) for o in old]
        self._set_aside_results(conn, trial.id, kept, source, batch_id)
        if fresh:
            conn.execute(insert(t.daily_results), fresh)

    def _plan_results(self, conn, trial, rows, removals, digest, source) -> ResultsPlan:
        # Every arm the trial ran: a late row of an earlier round's arm is that round's.
        arms = {arm_key(a.spec.channel, a.spec.creative): a for a in trial.all_arms}
        r = t.daily_results.c
        stored = {
            (row.arm_id, row.day, segment_key(row.segment)): row
            for row in conn.execute(
                select(t.daily_results).where(
                    r.trial_id == trial.id, r.source == ResultSource(source).value
                )
            )
        }
        changes: list[ResultChange] = []
        unknown: dict[tuple[str, str], tuple[str, str]] = {}
        seen: dict[tuple[int, date, str], ResultRow] = {}
        for row in rows:
            arm = arms.get(row.key)
            if arm is None:
                unknown.setdefault(row.key, (row.channel.strip(), row.creative.strip()))
                continue
            outside_its_round = trial.arm_round_problem(arm.id, row.day)
            if outside_its_round:
                where = f"row {row.row}: " if row.row else ""
                raise UserError(f"{where}{outside_its_round}; nothing was written")
            key = (arm.id, row.day, row.segment_key)
            if key in seen:
                where = f" in segment '{row.segment}'" if row.segment else ""
                raise UserError(
                    f"{row.arm_name} on {row.day}{where} appears twice (rows {seen[key].row} "
                    f"and {row.row}); nothing was written"
                )
            seen[key] = row
            old = stored.get(key)
            if old is None:
                changes.append(ResultChange("new", row))
            elif same_result(old, row):
                changes.append(ResultChange("unchanged", row, daily_from_row(old)))
            else:
                changes.append(ResultChange("changed", row, daily_from_row(old)))
        removed: set[tuple[int, date, str]] = set()
        for arm_id, day, *segment in removals:
            key = (arm_id, day, segment_key(segment[0] if segment else ""))
            old = stored.get(key)
            if old is not None and key not in seen:
                arm = trial.arm(arm_id)
                gone = ResultRow(
                    arm.spec.channel, arm.spec.creative, day, 0, 0, 0, 0.0, 0.0, 0, old.segment
                )
                changes.append(ResultChange("removed", gone, daily_from_row(old)))
                removed.add(key)
        _refuse_mixed_segments(trial, stored, removed, seen)
        return ResultsPlan(
            changes=tuple(changes),
            unknown_arms=tuple(unknown.values()),
            same_file=batch_with_digest(conn, trial.id, digest),
        )

    def _set_aside_results(self, conn, trial_id, keys, source, batch_id) -> None:
        if not keys:
            return
        r = t.daily_results.c
        for arm_id, day, segment in keys:
            where = (
                (r.trial_id == trial_id)
                & (r.arm_id == arm_id)
                & (r.day == day)
                & (r.source == ResultSource(source).value)
                & (r.segment == segment)
            )
            old = conn.execute(select(t.daily_results).where(where)).one()
            values = {k: v for k, v in old._mapping.items() if k != "id"}
            conn.execute(insert(t.replaced_results).values(**values, replaced_by_batch_id=batch_id))
            conn.execute(delete(t.daily_results).where(where))

    def _add_arms(self, conn, trial: Trial, names: Sequence[tuple[str, str]]) -> list[int]:
        position = len(trial.arms)
        ids = []
        for offset, (channel, creative) in enumerate(names):
            arm = ArmSpec(channel=channel, creative=creative)
            problems = arm.problems("arm")
            if problems:
                raise UserError(f"cannot add arm '{arm.name}': {problems[0].message}")
            ids.append(
                conn.execute(
                    insert(t.arms).values(
                        trial_id=trial.id,
                        position=position + offset,
                        channel=arm.channel,
                        creative=arm.creative,
                        budget_share=None,
                        is_control=False,
                        first_round=trial.current_round,
                    )
                ).inserted_primary_key[0]
            )
        return ids

    # -- undo ----------------------------------------------------------------------------

    def undo_batch(self, trial_id: int, batch_id: int):
        """Take back one import: its rows go, the rows it replaced come back.

        Refused while a later import that replaced this one's rows is still in place
        (undo that one first), so the restored state is always one that existed; refused
        too when the rows it replaced are no longer all kept (undo would not bring them
        back, so it does nothing rather than report a success). Arms the import added go
        only when nothing refers to them: no results, no rows kept for an undo and no UTM
        rule (rules are the user's own mapping, kept with their arm).
        """
        b = t.import_batches.c
        with self.trials.write("undo imports") as conn:
            trial = self.trials.load_for_write(conn, trial_id)
            row = conn.execute(
                select(t.import_batches).where(b.id == batch_id, b.trial_id == trial.id)
            ).first()
            if row is None:
                raise UserError(f"no import {batch_id} in trial '{trial.name}'")
            if row.status == "undone":
                raise UserError(f"import {batch_id} was undone already ({row.undone_by})")
            _refuse_replaced_since(conn, batch_id)
            _refuse_lost_set_aside(conn, row)
            conn.execute(
                delete(t.daily_results).where(t.daily_results.c.import_batch_id == batch_id)
            )
            conn.execute(delete(t.orders).where(t.orders.c.import_batch_id == batch_id))
            _restore_replaced(conn, batch_id)
            self._remove_empty_arms(conn, (row.details or {}).get("added_arm_ids", []))
            conn.execute(
                update(t.import_batches)
                .where(b.id == batch_id)
                .values(status="undone", undone_at=datetime.now(UTC), undone_by=self.trials.actor)
            )
            return batch_by_id(conn, batch_id)

    def _remove_empty_arms(self, conn, arm_ids: Sequence[int]) -> None:
        for arm_id in arm_ids:
            used = sum(
                conn.scalar(select(func.count()).where(table.c.arm_id == arm_id))
                for table in (t.daily_results, t.replaced_results, t.utm_rules)
            )
            if not used:
                conn.execute(delete(t.arms).where(t.arms.c.id == arm_id))


def _stored(result) -> dict:
    """A stored row's summed values, as ``result_row_values`` gives them."""
    return {
        "impressions": result.impressions,
        "clicks": result.clicks,
        "conversions": result.conversions,
        "spend_micros": to_micros(result.spend),
        "revenue_micros": to_micros(result.revenue),
    }


def _refuse_mixed_segments(trial: Trial, stored: dict, removed: set, incoming: dict) -> None:
    """UserError when an arm-day would hold rows both with and without a segment: the
    arm-level figures sum an arm-day's rows, so that day would be counted twice."""
    after: dict[tuple[int, date], dict[str, int]] = {}
    for key in (*(k for k in stored if k not in removed), *incoming):
        arm_id, day, segment = key
        row = incoming[key].row if key in incoming else 0
        after.setdefault((arm_id, day), {})[segment] = row
    for (arm_id, day), segments in sorted(after.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if "" in segments and len(segments) > 1:
            named = ", ".join(f"'{s}'" for s in sorted(segments) if s)
            rows = sorted(r for r in segments.values() if r)
            at = f" (rows {', '.join(map(str, rows))})" if rows else ""
            raise UserError(
                f"{trial.arm(arm_id).name} on {day} would have rows both without a segment "
                f"and by segment ({named}){at}, so its day would be counted twice. Import it "
                "with the same breakdown as the rows stored (or none), or undo the import that "
                "stored the other rows first; nothing was written"
            )


def _refuse_unknown_arms(unknown: Sequence[tuple[str, str]], add_arms: bool) -> None:
    """Rows naming arms the trial lacks need ``add_arms`` (UserError otherwise)."""
    if not add_arms:
        names = ", ".join(f"{c} · {k}" for c, k in unknown)
        raise UserError(
            f"rows name arms the trial does not have: {names}. Add them to the "
            "trial (--add-arms), or fix the channel and creative names"
        )


def _refuse_changes(plan: ResultsPlan, replace: bool) -> None:
    """Rows that would change stored numbers need ``replace`` (OverlapError otherwise)."""
    changed = plan.of("changed")
    if changed and not replace:
        first = changed[0]
        raise OverlapError(
            f"{len(changed)} rows would change numbers already stored (first: "
            f"{first.row.arm_name} on {first.row.day}); confirm to replace them "
            "(--replace), or import only new days",
            plan,
        )


def _refuse_replaced_since(conn, batch_id: int) -> None:
    """UserError when a later import replaced rows or orders of ``batch_id``."""
    later = set(
        conn.scalars(
            select(t.replaced_results.c.replaced_by_batch_id).where(
                t.replaced_results.c.import_batch_id == batch_id
            )
        )
    ) | set(
        conn.scalars(
            select(t.replaced_orders.c.replaced_by_batch_id).where(
                t.replaced_orders.c.import_batch_id == batch_id
            )
        )
    )
    if later:
        first = min(later)
        raise UserError(
            f"import {first} replaced rows of import {batch_id} since; undo import {first} first"
        )


def _refuse_lost_set_aside(conn, batch) -> None:
    """UserError when fewer rows or orders are kept for undoing ``batch`` than it set
    aside (its details say how many); undoing it then would restore nothing of them.

    The store no longer lets that happen (an arm with kept rows cannot be removed); this
    guards databases where an older version let it.
    """
    details = batch.details or {}
    if "changed" not in details:
        return  # e.g. the demo loader's batches, which replace nothing
    if batch.kind == "orders":
        expected, kept = details["changed"], t.replaced_orders
    else:
        expected, kept = details["changed"] + details.get("removed", 0), t.replaced_results
    found = conn.scalar(select(func.count()).where(kept.c.replaced_by_batch_id == batch.id))
    if found < expected:
        raise UserError(
            f"import {batch.id} replaced or removed {expected} stored rows, but only {found} "
            "of them are still kept, so undoing it would not bring the others back; nothing "
            "was undone"
        )


def _restore_replaced(conn, batch_id: int) -> None:
    """Put back the results and orders ``batch_id`` replaced, as they were."""
    for kept, live in (
        (t.replaced_results, t.daily_results),
        (t.replaced_orders, t.orders),
    ):
        for old in conn.execute(select(kept).where(kept.c.replaced_by_batch_id == batch_id)).all():
            values = {
                k: v for k, v in old._mapping.items() if k not in ("id", "replaced_by_batch_id")
            }
            conn.execute(insert(live).values(**values))
        conn.execute(delete(kept).where(kept.c.replaced_by_batch_id == batch_id))
