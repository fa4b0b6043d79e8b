"""Scale plans, behind :class:`trials.storage.store.TrialStore`.

A plan is written once (``trials.domain.scale_plans``): its settings and stop condition
never change. Writing a different plan for an arm with an active plan replaces that plan,
which needs a reason (recorded on the new plan and as the old plan's end); ending a plan
records who, when and why. The database refuses every other change and every delete
(triggers, migration 0008), so a trial with a plan is archived, never deleted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import exists, insert, select, update

from trials.domain import UserError
from trials.domain.scale_plans import PlanStatus, ScalePlan, ScaleSettings, reason_problem
from trials.storage import schema as t
from trials.storage.rows import from_micros, to_micros

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from trials.domain import Trial
    from trials.storage.trials import TrialRepository

__all__ = ["ScalePlanRepository"]

WRITE = "write scale plans"
END = "end scale plans"


class ScalePlanRepository:
    """Scale plans of one workspace's trials: written once, ended once."""

    def __init__(self, trials: TrialRepository):
        self.trials = trials

    def scale_plans(self, trial_id: int | str, arm_id: int | None = None) -> list[ScalePlan]:
        """The trial's plans (one arm's with ``arm_id``), oldest first."""
        with self.trials.engine.connect() as conn:
            trial = self.trials.load(conn, trial_id)
            return _plans(conn, trial, arm_id)

    def current_scale_plan(self, trial_id: int | str, arm_id: int) -> ScalePlan | None:
        """The arm's latest plan (active, or how the last one ended); None if none."""
        plans = self.scale_plans(trial_id, arm_id)
        return plans[-1] if plans else None

    def write_scale_plan(
        self,
        trial_id: int | str,
        arm_id: int,
        settings: ScaleSettings,
        start: date,
        *,
        reason: str = "",
    ) -> ScalePlan:
        """Write a plan down. An arm with an active plan keeps it unless ``reason`` says
        why a new one replaces it (UserError otherwise; nothing is written)."""
        settings.check()
        reason = reason.strip()
        problem = reason_problem(reason, "replacing a plan") if reason else None
        if problem:
            raise UserError(f"the reason {problem}; nothing was written")
        with self.trials.write(WRITE) as conn:
            trial = self.trials.load_for_write(conn, trial_id)
            arm = _arm(trial, arm_id)
            has_days = exists().where(
                t.daily_results.c.trial_id == trial.id, t.daily_results.c.arm_id == arm.id
            )
            if not conn.scalar(select(has_days)):
                raise UserError(
                    f"'{arm.name}' has no results yet: a scale plan steps up an arm that has "
                    "run. Import its results first; nothing was written"
                )
            current = next((p for p in reversed(_plans(conn, trial, arm.id)) if p.active), None)
            if current is not None:
                if current.same_settings(settings, start):
                    raise UserError(
                        f"'{arm.name}' already has this plan (written by {current.created_by} "
                        f"on {current.created_at:%Y-%m-%d}); nothing was written"
                    )
                if not reason:
                    raise UserError(
                        f"'{arm.name}' has an active scale plan (written by "
                        f"{current.created_by} on {current.created_at:%Y-%m-%d}); its stop "
                        "condition was written down first and cannot be changed. A new plan "
                        "replaces it only with a reason (--reason TEXT); nothing was written"
                    )
            now = datetime.now(UTC)
            if current is not None:
                _end(conn, current.id, PlanStatus.REPLACED, reason, self.trials.actor, now)
            plan_id = conn.execute(
                insert(t.scale_plans).values(
                    trial_id=trial.id,
                    arm_id=arm.id,
                    base_daily_spend_micros=to_micros(settings.base_daily_spend),
                    step=float(settings.step),
                    step_days=int(settings.step_days),
                    stop_probability=float(settings.stop_probability),
                    break_even_roas=float(trial.spec.break_even_roas),
                    start_date=start,
                    created_at=now,
                    created_by=self.trials.actor,
                    replaces_id=current.id if current is not None else None,
                    reason=reason if current is not None else "",
                    status=PlanStatus.ACTIVE.value,
                    end_reason="",
                )
            ).inserted_primary_key[0]
            return next(p for p in _plans(conn, trial, arm.id) if p.id == plan_id)

    def end_scale_plan(
        self, trial_id: int | str, plan_id: int, ending: PlanStatus, reason: str
    ) -> ScalePlan:
        """End an active plan: ``stopped`` (by hand) or ``finished`` (its stop condition
        was met), with who, when and why."""
        status = PlanStatus(ending)
        if status not in (PlanStatus.STOPPED, PlanStatus.FINISHED):
            raise UserError(f"a plan ends as stopped or finished, not {status.value}")
        reason = reason.strip()
        problem = reason_problem(reason, "ending a plan")
        if problem:
            raise UserError(f"{problem} (--reason TEXT); nothing was changed")
        with self.trials.write(END) as conn:
            trial = self.trials.load_for_write(conn, trial_id)
            plan = next((p for p in _plans(conn, trial, None) if p.id == plan_id), None)
            if plan is None:
                raise UserError(f"scale plan {plan_id} is not one of '{trial.name}'s plans")
            if not plan.active:
                raise UserError(
                    f"the scale plan for '{plan.arm_name}' already ended ({plan.status.value} "
                    f"by {plan.ended_by}); nothing was changed"
                )
            _end(conn, plan.id, status, reason, self.trials.actor, datetime.now(UTC))
            return next(p for p in _plans(conn, trial, None) if p.id == plan_id)


def _arm(trial: Trial, arm_id: int):
    arm = next((a for a in trial.arms if a.id == arm_id), None)
    if arm is None:
        raise UserError(f"arm {arm_id} is not one of '{trial.name}'s arms; nothing was written")
    return arm


def _end(conn: Connection, plan_id: int, status, reason: str, actor: str, now) -> None:
    conn.execute(
        update(t.scale_plans)
        .where(t.scale_plans.c.id == plan_id, t.scale_plans.c.status == PlanStatus.ACTIVE.value)
        .values(status=PlanStatus(status).value, ended_at=now, ended_by=actor, end_reason=reason)
    )


def _plans(conn: Connection, trial: Trial, arm_id: int | None) -> list[ScalePlan]:
    c = t.scale_plans.c
    query = select(t.scale_plans).where(c.trial_id == trial.id)
    if arm_id is not None:
        query = query.where(c.arm_id == arm_id)
    names = {a.id: a.name for a in trial.arms}
    return [_plan(row, names.get(row.arm_id, "")) for row in conn.execute(query.order_by(c.id))]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _plan(row, arm_name: str) -> ScalePlan:
    return ScalePlan(
        id=row.id,
        trial_id=row.trial_id,
        arm_id=row.arm_id,
        arm_name=arm_name,
        settings=ScaleSettings(
            base_daily_spend=from_micros(row.base_daily_spend_micros),
            step=float(row.step),
            step_days=int(row.step_days),
            stop_probability=float(row.stop_probability),
        ),
        break_even_roas=float(row.break_even_roas),
        start=row.start_date,
        created_at=_utc(row.created_at),
        created_by=row.created_by,
        status=PlanStatus(row.status),
        replaces=row.replaces_id,
        reason=row.reason or "",
        ended_at=_utc(row.ended_at),
        ended_by=row.ended_by,
        end_reason=row.end_reason or "",
    )
