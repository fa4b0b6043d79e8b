"""Starting a trial's next round, behind :class:`trials.storage.store.TrialStore`.

One write transaction does it all or nothing: the current round is frozen (its dates, cut
to end the day before the next round starts, its budget and its rule are copied into
``rounds``; round 1 is written then), the arms whose creative is replaced or that are
dropped stop at the current round, the replacing and added arms start at the next one,
and the trial's own dates, budget and rule become the next round's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from trials.domain import ArmSpec, Problem, Trial, TrialStatus, TrialValidationError, UserError
from trials.domain.rounds import NextRound, default_end, find_arm
from trials.domain.validation import arm_list_problems
from trials.storage import schema as t
from trials.storage.rows import arm_values, to_micros, utc_now

if TYPE_CHECKING:
    from trials.storage.trials import TrialRepository

__all__ = ["RoundRepository"]


class RoundRepository:
    """A trial's rounds: start the next one (rounds are read with the trial)."""

    def __init__(self, trials: TrialRepository):
        self.trials = trials

    def start_round(self, trial_id: int, plan: NextRound) -> Trial:
        """Start the trial's next round as ``plan`` says; refused (nothing written) when
        the trial is archived, its current round has no data yet, the round would start
        before the current round's last day with data, or the arms it leaves are fewer
        than two."""
        with self.trials.write("start a new round") as conn:
            trial = self.trials.load_for_write(conn, trial_id)
            _refuse_status(trial)
            last_day = _last_day_with_data(conn, trial)
            current = trial.current_round
            if last_day is None:
                raise UserError(
                    f"round {current} of '{trial.name}' has no data yet: change the trial "
                    "(its arms, dates or budget) instead of starting another round"
                )
            if plan.start <= last_day:
                raise TrialValidationError(
                    [
                        Problem(
                            "start",
                            f"{plan.start} is not after round {current}'s last day with data "
                            f"({last_day}); the next round starts on a later day, so each "
                            "day's data belong to one round",
                        )
                    ]
                )
            end = plan.end or default_end(trial.spec.start, trial.spec.end, plan.start)
            budget = plan.budget if plan.budget is not None else trial.spec.budget
            rule = plan.rule or trial.spec.decision_rule
            names = [(a.id, a.spec.channel, a.spec.creative) for a in trial.arms]
            replaced_ids = [
                (find_arm(names, arm, "replace_creative"), creative)
                for arm, creative in plan.changes.replace
            ]
            dropped = [find_arm(names, arm, "drop_arm") for arm in plan.changes.drop]
            twice = {i for i, _ in replaced_ids} & set(dropped)
            if twice or len({i for i, _ in replaced_ids}) < len(replaced_ids):
                raise TrialValidationError(
                    [Problem("arms", "an arm is replaced or dropped more than once; name it once")]
                )
            by_id = {a.id: a for a in trial.arms}
            new_specs: list[tuple[int | None, ArmSpec]] = [
                (
                    old_id,
                    ArmSpec(
                        channel=by_id[old_id].spec.channel,
                        creative=creative,
                        budget_share=by_id[old_id].spec.budget_share,
                        control=by_id[old_id].spec.control,
                    ),
                )
                for old_id, creative in replaced_ids
            ] + [(None, arm) for arm in plan.changes.add]
            leaving = {i for i, _ in replaced_ids} | set(dropped)
            kept = [a for a in trial.arms if a.id not in leaving]
            _refuse_arms(trial, kept, [s for _, s in new_specs])

            _freeze_current_round(conn, trial, min(trial.spec.end, plan.start - timedelta(1)))
            if leaving:
                conn.execute(
                    update(t.arms).where(t.arms.c.id.in_(leaving)).values(last_round=current)
                )
            position = 1 + (
                conn.scalar(
                    select(func.max(t.arms.c.position)).where(t.arms.c.trial_id == trial.id)
                )
                or 0
            )
            pairs = []
            for offset, (old_id, spec) in enumerate(new_specs):
                new_id = conn.execute(
                    insert(t.arms).values(
                        **arm_values(trial.id, position + offset, spec), first_round=current + 1
                    )
                ).inserted_primary_key[0]
                if old_id is not None:
                    pairs.append([old_id, new_id])
            now = utc_now()
            conn.execute(
                insert(t.rounds).values(
                    trial_id=trial.id,
                    number=current + 1,
                    start_date=plan.start,
                    end_date=end,
                    budget_micros=to_micros(budget),
                    decision_rule=rule.as_dict(),
                    reason=plan.reason,
                    replaced=pairs,
                    carry_prior=plan.carry_prior,
                    created_at=now,
                    created_by=self.trials.actor,
                )
            )
            status = trial.spec.status
            if status == TrialStatus.DECIDED:
                status = TrialStatus.RUNNING
            conn.execute(
                update(t.trials)
                .where(t.trials.c.id == trial.id)
                .values(
                    start_date=plan.start,
                    end_date=end,
                    budget_micros=to_micros(budget),
                    decision_rule=rule.as_dict(),
                    status=TrialStatus(status).value,
                    updated_at=now,
                    updated_by=self.trials.actor,
                )
            )
            return self.trials.load(conn, trial.id)


def _refuse_status(trial: Trial) -> None:
    if trial.spec.status == TrialStatus.ARCHIVED:
        raise UserError(
            f"'{trial.name}' is archived; set it running again before starting another round"
        )


def _last_day_with_data(conn: Connection, trial: Trial):
    """The current round's last day with a result row (any source) or an own order."""
    r, o = t.daily_results.c, t.orders.c
    days = [
        conn.scalar(
            select(func.max(r.day)).where(r.trial_id == trial.id, r.day >= trial.spec.start)
        ),
    ]
    # Own orders dated after the round's end are not the round's (they are not counted).
    ordered = conn.scalar(
        select(func.max(o.ordered_at)).where(
            o.trial_id == trial.id, o.ordered_at < _midnight(trial.spec.end + timedelta(1))
        )
    )
    if ordered is not None and ordered.date() >= trial.spec.start:
        days.append(ordered.date())
    found = [d for d in days if d is not None]
    return max(found) if found else None


def _midnight(day) -> datetime:
    return datetime(day.year, day.month, day.day)


def _refuse_arms(trial: Trial, kept: Sequence, new: Sequence[ArmSpec]) -> None:
    """The next round's arms must make a trial (two or more, distinct names, shares that
    add up), and a new arm may not take the name of an arm that ran before."""
    arms = [a.spec for a in kept] + list(new)
    problems = arm_list_problems(arms)
    earlier = {a.name.casefold(): a for a in trial.all_arms}
    for spec in new:
        if spec.name.casefold() in earlier:
            problems.append(
                Problem(
                    "arms",
                    f"'{spec.name}' already ran in this trial; a creative that comes back "
                    "needs a name of its own (e.g. add ' v2'), so each arm's data stay its own",
                )
            )
        problems.extend(spec.problems("arms"))
    if problems:
        raise TrialValidationError(problems)


def _freeze_current_round(conn: Connection, trial: Trial, end) -> None:
    """Write the current round's final dates, budget and rule into ``rounds`` (round 1's
    row is written now, the first time the trial starts another round)."""
    values = {
        "start_date": trial.spec.start,
        "end_date": max(end, trial.spec.start),
        "budget_micros": to_micros(trial.spec.budget),
        "decision_rule": trial.spec.decision_rule.as_dict(),
    }
    if trial.rounds:
        conn.execute(
            update(t.rounds)
            .where(t.rounds.c.trial_id == trial.id, t.rounds.c.number == trial.current_round)
            .values(**values)
        )
        return
    conn.execute(
        insert(t.rounds).values(
            trial_id=trial.id,
            number=1,
            reason="",
            replaced=[],
            carry_prior=False,
            created_at=trial.created_at,
            created_by=trial.created_by,
            **values,
        )
    )
