"""Writing imported results and own orders: planned, all-or-nothing, and undoable.

Every write of results is an import batch (who, when, which file, its digest). Before
writing, incoming rows are compared with what is stored: identical rows are left alone
(so importing a file twice changes nothing), rows that would change stored numbers are
written only when the caller says ``replace``, and the stored rows they replace are kept
in ``replaced_*`` tables so undoing the batch puts them back exactly.

Part of :class:`trials.storage.store.TrialStore`; kept apart only to keep files short.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from trials.domain import (
    ArmSpec,
    DailyResult,
    OrderRow,
    OrderStatus,
    ResultRow,
    ResultSource,
    Trial,
    UserError,
    arm_key,
)
from trials.domain.imports import (
    ImportOutcome,
    OrderChange,
    OrdersPlan,
    OverlapError,
    ResultChange,
    ResultsPlan,
    UtmRule,
)
from trials.storage import schema as t

__all__ = ["ImportsMixin"]


class ImportsMixin:
    """Import, replace, undo and manual edits of a trial's results and orders."""

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
        with self.engine.connect() as conn:
            trial = self._get(conn, trial_id)
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
        nothing when a condition is not met.
        """
        with self._writer.begin() as conn:
            trial = self._get(conn, trial_id)
            plan = self._plan_results(conn, trial, rows, removals, digest, source)
            added: list[int] = []
            new_arms = plan.unknown_arms
            if new_arms:
                if not add_arms:
                    names = ", ".join(f"{c} · {k}" for c, k in plan.unknown_arms)
                    raise UserError(
                        f"rows name arms the trial does not have: {names}. Add them to the "
                        "trial (--add-arms), or fix the channel and creative names"
                    )
                added = self._add_arms(conn, trial, plan.unknown_arms)
                trial = self._get(conn, trial.id)
                plan = self._plan_results(conn, trial, rows, removals, digest, source)
            changed = plan.of("changed")
            if changed and not replace:
                first = changed[0]
                raise OverlapError(
                    f"{len(changed)} rows would change numbers already stored (first: "
                    f"{first.row.arm_name} on {first.row.day}); confirm to replace them "
                    "(--replace), or import only new days",
                    plan,
                )
            if not plan.writes:
                return ImportOutcome(batch=None, counts=plan.counts())
            counts = plan.counts()
            batch_id = self._new_batch(
                conn,
                trial.id,
                kind=kind,
                file_name=file_name,
                digest=digest,
                row_count=counts["new"] + counts["changed"],
                details={**counts, "added_arm_ids": added},
            )
            keys = {arm_key(a.spec.channel, a.spec.creative): a.id for a in trial.arms}
            stale = [
                (c.old.arm_id, c.old.day) for c in plan.changes if c.kind in ("changed", "removed")
            ]
            self._set_aside_results(conn, trial.id, stale, source, batch_id)
            fresh = [c.row for c in plan.changes if c.kind in ("new", "changed")]
            if fresh:
                try:
                    conn.execute(
                        insert(t.daily_results),
                        [_row_values(trial.id, keys[r.key], batch_id, r, source) for r in fresh],
                    )
                except IntegrityError as e:  # e.g. clicks above impressions
                    raise UserError(
                        f"the database refused a row ({e.orig}); nothing was written"
                    ) from e
            return ImportOutcome(
                batch=self._batch_by_id(conn, batch_id),
                counts=counts,
                added_arms=tuple(f"{c} · {k}" for c, k in new_arms),
            )

    def _plan_results(self, conn, trial, rows, removals, digest, source) -> ResultsPlan:
        arms = {arm_key(a.spec.channel, a.spec.creative): a for a in trial.arms}
        r = t.daily_results.c
        stored = {
            (row.arm_id, row.day): row
            for row in conn.execute(
                select(t.daily_results).where(
                    r.trial_id == trial.id, r.source == ResultSource(source).value
                )
            )
        }
        changes: list[ResultChange] = []
        unknown: dict[tuple[str, str], tuple[str, str]] = {}
        seen: dict[tuple[int, date], ResultRow] = {}
        for row in rows:
            arm = arms.get(row.key)
            if arm is None:
                unknown.setdefault(row.key, (row.channel.strip(), row.creative.strip()))
                continue
            if (arm.id, row.day) in seen:
                raise UserError(
                    f"{row.arm_name} on {row.day} appears twice (rows {seen[arm.id, row.day].row} "
                    f"and {row.row}); nothing was written"
                )
            seen[arm.id, row.day] = row
            old = stored.get((arm.id, row.day))
            if old is None:
                changes.append(ResultChange("new", row))
            elif _same_result(old, row):
                changes.append(ResultChange("unchanged", row, _daily(old)))
            else:
                changes.append(ResultChange("changed", row, _daily(old)))
        for arm_id, day in removals:
            old = stored.get((arm_id, day))
            if old is not None and (arm_id, day) not in seen:
                arm = trial.arm(arm_id)
                gone = ResultRow(arm.spec.channel, arm.spec.creative, day, 0, 0, 0, 0.0, 0.0)
                changes.append(ResultChange("removed", gone, _daily(old)))
        return ResultsPlan(
            changes=tuple(changes),
            unknown_arms=tuple(unknown.values()),
            same_file=self._batch_with_digest(conn, trial.id, digest),
        )

    def _set_aside_results(self, conn, trial_id, keys, source, batch_id) -> None:
        if not keys:
            return
        r = t.daily_results.c
        for arm_id, day in keys:
            where = (
                (r.trial_id == trial_id)
                & (r.arm_id == arm_id)
                & (r.day == day)
                & (r.source == ResultSource(source).value)
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
                    )
                ).inserted_primary_key[0]
            )
        return ids

    # -- orders --------------------------------------------------------------------------

    def orders(self, trial_id: int) -> list[OrderRow]:
        """Every stored order touch of the trial, oldest first."""
        o = t.orders.c
        with self.engine.connect() as conn:
            self._get(conn, trial_id)
            rows = conn.execute(
                select(t.orders).where(o.trial_id == trial_id).order_by(o.ordered_at, o.id)
            ).all()
        return [_order(row) for row in rows]

    def plan_orders(
        self, trial_id: int, orders: Sequence[OrderRow], *, digest: str | None = None
    ) -> OrdersPlan:
        with self.engine.connect() as conn:
            trial = self._get(conn, trial_id)
            return self._plan_orders(conn, trial, orders, digest)

    def commit_orders(
        self,
        trial_id: int,
        orders: Sequence[OrderRow],
        *,
        file_name: str | None = None,
        digest: str | None = None,
        replace: bool = False,
    ) -> ImportOutcome:
        """Store own orders as one batch; same rules as :meth:`commit_results`."""
        with self._writer.begin() as conn:
            trial = self._get(conn, trial_id)
            plan = self._plan_orders(conn, trial, orders, digest)
            changed = plan.of("changed")
            if changed and not replace:
                raise OverlapError(
                    f"{len(changed)} orders are stored already with other values (first: "
                    f"{changed[0].order.order_id}, e.g. a new status); confirm to replace "
                    "them (--replace)",
                    plan,
                )
            counts = plan.counts()
            if not plan.writes:
                return ImportOutcome(batch=None, counts=counts)
            batch_id = self._new_batch(
                conn,
                trial.id,
                kind="orders",
                file_name=file_name,
                digest=digest,
                row_count=counts["new"] + counts["changed"],
                details={**counts, "added_arm_ids": []},
            )
            o = t.orders.c
            for change in changed:
                where = (
                    (o.trial_id == trial.id)
                    & (o.order_id == change.order.order_id)
                    & (o.touch == change.order.touch)
                )
                old = conn.execute(select(t.orders).where(where)).one()
                values = {k: v for k, v in old._mapping.items() if k != "id"}
                conn.execute(
                    insert(t.replaced_orders).values(**values, replaced_by_batch_id=batch_id)
                )
                conn.execute(delete(t.orders).where(where))
            fresh = [c.order for c in plan.changes if c.kind in ("new", "changed")]
            conn.execute(insert(t.orders), [_order_values(trial.id, batch_id, o) for o in fresh])
            return ImportOutcome(batch=self._batch_by_id(conn, batch_id), counts=counts)

    def _plan_orders(self, conn, trial, orders, digest) -> OrdersPlan:
        o = t.orders.c
        stored = {
            (row.order_id, row.touch): _order(row)
            for row in conn.execute(select(t.orders).where(o.trial_id == trial.id))
        }
        seen: dict[tuple[str, str], OrderRow] = {}
        changes = []
        for order in orders:
            key = (order.order_id, order.touch)
            if key in seen:
                raise UserError(
                    f"order {order.order_id} appears twice with the same source (rows "
                    f"{seen[key].row} and {order.row}); nothing was written"
                )
            seen[key] = order
            old = stored.get(key)
            if old is None:
                changes.append(OrderChange("new", order))
            elif _same_order(old, order):
                changes.append(OrderChange("unchanged", order, old))
            else:
                changes.append(OrderChange("changed", order, old))
        return OrdersPlan(
            changes=tuple(changes), same_file=self._batch_with_digest(conn, trial.id, digest)
        )

    # -- UTM rules -----------------------------------------------------------------------

    def utm_rules(self, trial_id: int) -> list[UtmRule]:
        u = t.utm_rules.c
        with self.engine.connect() as conn:
            self._get(conn, trial_id)
            rows = conn.execute(
                select(t.utm_rules).where(u.trial_id == trial_id).order_by(u.id)
            ).all()
        return [
            UtmRule(r.utm_source, r.utm_medium, r.utm_campaign, r.utm_content, r.arm_id)
            for r in rows
        ]

    def save_utm_rules(self, trial_id: int, rules: Sequence[UtmRule]) -> None:
        """Add or change rules (same UTM values → the arm is updated)."""
        u = t.utm_rules.c
        with self._writer.begin() as conn:
            trial = self._get(conn, trial_id)
            arm_ids = {a.id for a in trial.arms}
            for rule in rules:
                if rule.arm_id not in arm_ids:
                    raise UserError(f"arm id {rule.arm_id} is not an arm of '{trial.name}'")
                if not any(rule.values):
                    raise UserError("a UTM rule needs at least one UTM value")
                values = [v.strip() for v in rule.values]
                where = (
                    (u.trial_id == trial.id)
                    & (u.utm_source == values[0])
                    & (u.utm_medium == values[1])
                    & (u.utm_campaign == values[2])
                    & (u.utm_content == values[3])
                )
                if conn.execute(select(u.id).where(where)).first():
                    conn.execute(update(t.utm_rules).where(where).values(arm_id=rule.arm_id))
                else:
                    conn.execute(
                        insert(t.utm_rules).values(
                            trial_id=trial.id,
                            utm_source=values[0],
                            utm_medium=values[1],
                            utm_campaign=values[2],
                            utm_content=values[3],
                            arm_id=rule.arm_id,
                            created_at=datetime.now(UTC),
                            created_by=self.actor,
                        )
                    )

    def delete_utm_rule(self, trial_id: int, rule: UtmRule) -> None:
        u = t.utm_rules.c
        with self._writer.begin() as conn:
            self._get(conn, trial_id)
            conn.execute(
                delete(t.utm_rules).where(
                    u.trial_id == trial_id,
                    u.utm_source == rule.utm_source,
                    u.utm_medium == rule.utm_medium,
                    u.utm_campaign == rule.utm_campaign,
                    u.utm_content == rule.utm_content,
                )
            )

    # -- undo ----------------------------------------------------------------------------

    def undo_batch(self, trial_id: int, batch_id: int):
        """Take back one import: its rows go, the rows it replaced come back.

        Refused while a later import that replaced this one's rows is still in place
        (undo that one first), so the restored state is always one that existed.
        """
        b = t.import_batches.c
        with self._writer.begin() as conn:
            trial = self._get(conn, trial_id)
            row = conn.execute(
                select(t.import_batches).where(b.id == batch_id, b.trial_id == trial.id)
            ).first()
            if row is None:
                raise UserError(f"no import {batch_id} in trial '{trial.name}'")
            if row.status == "undone":
                raise UserError(f"import {batch_id} was undone already ({row.undone_by})")
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
                    f"import {first} replaced rows of import {batch_id} since; undo "
                    f"import {first} first"
                )
            conn.execute(
                delete(t.daily_results).where(t.daily_results.c.import_batch_id == batch_id)
            )
            conn.execute(delete(t.orders).where(t.orders.c.import_batch_id == batch_id))
            for kept, live in (
                (t.replaced_results, t.daily_results),
                (t.replaced_orders, t.orders),
            ):
                for old in conn.execute(
                    select(kept).where(kept.c.replaced_by_batch_id == batch_id)
                ).all():
                    values = {
                        k: v
                        for k, v in old._mapping.items()
                        if k not in ("id", "replaced_by_batch_id")
                    }
                    conn.execute(insert(live).values(**values))
                conn.execute(delete(kept).where(kept.c.replaced_by_batch_id == batch_id))
            self._remove_empty_arms(conn, (row.details or {}).get("added_arm_ids", []))
            conn.execute(
                update(t.import_batches)
                .where(b.id == batch_id)
                .values(status="undone", undone_at=datetime.now(UTC), undone_by=self.actor)
            )
            return self._batch_by_id(conn, batch_id)

    def _remove_empty_arms(self, conn, arm_ids: Sequence[int]) -> None:
        for arm_id in arm_ids:
            used = conn.scalar(
                select(func.count()).where(t.daily_results.c.arm_id == arm_id)
            ) + conn.scalar(select(func.count()).where(t.replaced_results.c.arm_id == arm_id))
            if not used:
                conn.execute(delete(t.arms).where(t.arms.c.id == arm_id))

    # -- batches -------------------------------------------------------------------------

    def _new_batch(self, conn, trial_id, *, kind, file_name, digest, row_count, details) -> int:
        return conn.execute(
            insert(t.import_batches).values(
                trial_id=trial_id,
                kind=kind,
                file_name=file_name,
                digest=digest,
                row_count=row_count,
                status="committed",
                created_at=datetime.now(UTC),
                created_by=self.actor,
                details=details,
            )
        ).inserted_primary_key[0]

    def _batch_with_digest(self, conn: Connection, trial_id: int, digest: str | None):
        if not digest:
            return None
        b = t.import_batches.c
        row = conn.execute(
            select(t.import_batches)
            .where(b.trial_id == trial_id, b.digest == digest, b.status == "committed")
            .order_by(b.id.desc())
        ).first()
        return self._batch_from_row(row) if row else None

    def _batch_by_id(self, conn: Connection, batch_id: int):
        return self._batch_from_row(
            conn.execute(select(t.import_batches).where(t.import_batches.c.id == batch_id)).one()
        )


# -- helpers ------------------------------------------------------------------------------


def _micros(amount: float) -> int:
    return round(amount * t.MICROS)


def _same_result(old: Row, new: ResultRow) -> bool:
    return (
        old.impressions == new.impressions
        and old.clicks == new.clicks
        and old.conversions == new.conversions
        and old.spend_micros == _micros(new.spend)
        and old.revenue_micros == _micros(new.revenue)
    )


def _daily(row: Row) -> DailyResult:
    return DailyResult(
        arm_id=row.arm_id,
        day=row.day,
        impressions=int(row.impressions),
        clicks=int(row.clicks),
        conversions=int(row.conversions),
        spend=int(row.spend_micros) / t.MICROS,
        revenue=int(row.revenue_micros) / t.MICROS,
        source=ResultSource(row.source),
        import_batch_id=row.import_batch_id,
    )


def _row_values(trial_id, arm_id, batch_id, r: ResultRow, source) -> dict:
    return {
        "trial_id": trial_id,
        "arm_id": arm_id,
        "day": r.day,
        "source": ResultSource(source).value,
        "impressions": r.impressions,
        "clicks": r.clicks,
        "conversions": r.conversions,
        "spend_micros": _micros(r.spend),
        "revenue_micros": _micros(r.revenue),
        "import_batch_id": batch_id,
    }


def _order(row: Row) -> OrderRow:
    return OrderRow(
        order_id=row.order_id,
        ordered_at=row.ordered_at,
        amount=int(row.amount_micros) / t.MICROS,
        status=OrderStatus(row.status),
        utm_source=row.utm_source,
        utm_medium=row.utm_medium,
        utm_campaign=row.utm_campaign,
        utm_content=row.utm_content,
        channel=row.channel,
        creative=row.creative,
        row=row.row_number,
        import_batch_id=row.import_batch_id,
    )


def _same_order(old: OrderRow, new: OrderRow) -> bool:
    return (
        old.ordered_at == new.ordered_at.replace(microsecond=0)
        and _micros(old.amount) == _micros(new.amount)
        and old.status == new.status
        and old.utm == new.utm
        and (old.channel, old.creative) == (new.channel, new.creative)
    )


def _order_values(trial_id: int, batch_id: int, o: OrderRow) -> dict:
    return {
        "trial_id": trial_id,
        "order_id": o.order_id,
        "touch": o.touch,
        "ordered_at": o.ordered_at.replace(microsecond=0, tzinfo=None),
        "amount_micros": _micros(o.amount),
        "status": o.status.value,
        "utm_source": o.utm_source,
        "utm_medium": o.utm_medium,
        "utm_campaign": o.utm_campaign,
        "utm_content": o.utm_content,
        "channel": o.channel,
        "creative": o.creative,
        "row_number": o.row,
        "import_batch_id": batch_id,
    }
