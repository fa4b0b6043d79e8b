"""The shop's own orders and the UTM rules that send them to arms: planned, all or nothing,
undoable like results (the undo is ``ImportRepository.undo_batch``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update

from trials.domain import OrderRow, UserError
from trials.domain.imports import ImportOutcome, OrderChange, OrdersPlan, OverlapError, UtmRule
from trials.storage import schema as t
from trials.storage.batches import batch_by_id, batch_with_digest, new_batch
from trials.storage.rows import (
    order_from_row,
    order_values,
    refuse_file_name,
    refuse_orders_out_of_bounds,
    same_order,
)
from trials.storage.trials import TrialRepository

__all__ = ["OrderRepository"]


class OrderRepository:
    """Own orders (imported in batches) and a trial's UTM rules."""

    def __init__(self, trials: TrialRepository):
        self.trials = trials

    def orders(self, trial_id: int) -> list[OrderRow]:
        """Every stored order touch of the trial, oldest first."""
        o = t.orders.c
        with self.trials.engine.connect() as conn:
            trial = self.trials.load(conn, trial_id)
            rows = conn.execute(
                select(t.orders).where(o.trial_id == trial.id).order_by(o.ordered_at, o.id)
            ).all()
        return [order_from_row(row) for row in rows]

    def plan_orders(
        self, trial_id: int, orders: Sequence[OrderRow], *, digest: str | None = None
    ) -> OrdersPlan:
        with self.trials.engine.connect() as conn:
            trial = self.trials.load(conn, trial_id)
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
        refuse_orders_out_of_bounds(orders)
        refuse_file_name(file_name)
        with self.trials.write("import orders") as conn:
            trial = self.trials.load_for_write(conn, trial_id)
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
            batch_id = new_batch(
                conn,
                trial.id,
                actor=self.trials.actor,
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
                    & (o.touch == change.order.touch_key)
                )
                old = conn.execute(select(t.orders).where(where)).one()
                values = {k: v for k, v in old._mapping.items() if k != "id"}
                conn.execute(
                    insert(t.replaced_orders).values(**values, replaced_by_batch_id=batch_id)
                )
                conn.execute(delete(t.orders).where(where))
            fresh = [c.order for c in plan.changes if c.kind in ("new", "changed")]
            conn.execute(insert(t.orders), [order_values(trial.id, batch_id, o) for o in fresh])
            return ImportOutcome(batch=batch_by_id(conn, batch_id), counts=counts)

    def _plan_orders(self, conn, trial, orders, digest) -> OrdersPlan:
        o = t.orders.c
        stored = {
            (row.order_id, row.touch): order_from_row(row)
            for row in conn.execute(select(t.orders).where(o.trial_id == trial.id))
        }
        seen: dict[tuple[str, str], OrderRow] = {}
        changes = []
        for order in orders:
            key = (order.order_id, order.touch_key)
            if key in seen:
                raise UserError(
                    f"order {order.order_id} appears twice with the same source (rows "
                    f"{seen[key].row} and {order.row}); nothing was written"
                )
            seen[key] = order
            old = stored.get(key)
            if old is None:
                changes.append(OrderChange("new", order))
            elif same_order(old, order):
                changes.append(OrderChange("unchanged", order, old))
            else:
                changes.append(OrderChange("changed", order, old))
        return OrdersPlan(
            changes=tuple(changes), same_file=batch_with_digest(conn, trial.id, digest)
        )

    # -- UTM rules -----------------------------------------------------------------------

    def utm_rules(self, trial_id: int) -> list[UtmRule]:
        u = t.utm_rules.c
        with self.trials.engine.connect() as conn:
            trial = self.trials.load(conn, trial_id)
            rows = conn.execute(
                select(t.utm_rules).where(u.trial_id == trial.id).order_by(u.id)
            ).all()
        return [
            UtmRule(r.utm_source, r.utm_medium, r.utm_campaign, r.utm_content, r.arm_id)
            for r in rows
        ]

    def save_utm_rules(self, trial_id: int, rules: Sequence[UtmRule]) -> None:
        """Add or change rules (same UTM values → the arm is updated)."""
        u = t.utm_rules.c
        with self.trials.write("change UTM rules") as conn:
            trial = self.trials.load_for_write(conn, trial_id)
            arm_ids = {a.id for a in trial.all_arms}
            for rule in rules:
                if rule.arm_id not in arm_ids:
                    raise UserError(f"arm id {rule.arm_id} is not an arm of '{trial.name}'")
                for problem in rule.problems():
                    raise UserError(f"UTM rule: {problem}; nothing was saved")
                values = [" ".join(v.split()) for v in rule.values]
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
                            created_by=self.trials.actor,
                        )
                    )

    def delete_utm_rule(self, trial_id: int, rule: UtmRule) -> None:
        u = t.utm_rules.c
        with self.trials.write("change UTM rules") as conn:
            trial = self.trials.load_for_write(conn, trial_id)
            conn.execute(
                delete(t.utm_rules).where(
                    u.trial_id == trial.id,
                    u.utm_source == rule.utm_source,
                    u.utm_medium == rule.utm_medium,
                    u.utm_campaign == rule.utm_campaign,
                    u.utm_content == rule.utm_content,
                )
            )

    # -- undo ----------------------------------------------------------------------------
