"""The store's one entry point: a thin facade over the repositories.

``TrialStore`` is what the application layer holds. Each job has a repository of its own
(``trials.storage.trials``: trials, arms, daily results; ``imports``: import batches, own
orders, UTM rules, undo; ``decisions``: the append-only decision log; ``amendments``:
changes to pre-registered plans; ``scale_plans``: stepping an arm's spend up), all
sharing one engine, one workspace, one actor and the actor's role; the facade only hands
each call to the repository that does it.

Who may do what is checked here, for every caller: reads and writes of a trial id or
name are confined to the store's workspace (another workspace's trial raises
``TrialNotFound`` with the same words as a missing one), and every write is refused
with ``PermissionDenied`` before anything changes when the role is viewer. Pages and the
CLI open a store for a signed-in user with ``trials.analysis.accounts.open_workspace``,
which reads the role from the user's membership; constructing a store directly (tests,
scripts) trusts the ``role`` given (default editor).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Engine

from trials.domain import (
    ArmTotals,
    DailyResult,
    OrderRow,
    ResultRow,
    ResultSource,
    Trial,
    TrialSpec,
    TrialStatus,
    TrialSummary,
)
from trials.domain.accounts import Action, Membership, Role
from trials.domain.amendments import Amendment
from trials.domain.imports import ImportBatch, ImportOutcome, OrdersPlan, ResultsPlan, UtmRule
from trials.domain.rounds import NextRound
from trials.domain.scale_plans import PlanStatus, ScalePlan, ScaleSettings
from trials.domain.verdicts import DecisionEntry, DecisionRecord
from trials.storage import schema as t
from trials.storage.amendments import AmendmentRepository
from trials.storage.decisions import DecisionRepository
from trials.storage.imports import ImportRepository
from trials.storage.orders import OrderRepository
from trials.storage.priors import PriorsRepository
from trials.storage.rounds import RoundRepository
from trials.storage.scale_plans import ScalePlanRepository
from trials.storage.trials import DemoDeletion, TrialNotFound, TrialRepository, current_actor

__all__ = ["DemoDeletion", "TrialNotFound", "TrialStore", "current_actor"]


class TrialStore:
    """Trials of one workspace, read and written on behalf of one actor."""

    def __init__(
        self,
        engine: Engine,
        *,
        workspace_id: int = t.DEFAULT_WORKSPACE_ID,
        actor: str | None = None,
        role: Role = Role.EDITOR,
        user_id: int | None = None,
        workspace_name: str | None = None,
    ):
        self.trials = TrialRepository(
            engine,
            workspace_id=workspace_id,
            actor=actor,
            role=role,
            user_id=user_id,
            workspace_name=workspace_name,
        )
        # The user's membership, when opened by trials.analysis.accounts.open_workspace.
        self.membership: Membership | None = None
        self.imports = ImportRepository(self.trials)
        self.orders_log = OrderRepository(self.trials)
        self.decision_log = DecisionRepository(self.trials)
        self.amendment_log = AmendmentRepository(self.trials)
        self.round_log = RoundRepository(self.trials)
        self.priors_log = PriorsRepository(self.trials)
        self.scale_plan_log = ScalePlanRepository(self.trials)

    @property
    def engine(self) -> Engine:
        return self.trials.engine

    @property
    def actor(self) -> str:
        return self.trials.actor

    @property
    def workspace_id(self) -> int:
        return self.trials.workspace_id

    @property
    def workspace_name(self) -> str | None:
        return self.trials.workspace_name

    @property
    def role(self) -> Role:
        """The actor's role in the workspace (viewers may only read)."""
        return self.trials.role

    @property
    def can_write(self) -> bool:
        """Whether the actor may create, import, amend, decide, change and delete here."""
        return self.trials.role.allows(Action.WRITE)

    def require_write(self, refused: str) -> None:
        """PermissionDenied now, before slow work (a fit, reading a file), for a role that
        could not write its result anyway; ``refused`` says what, e.g. "record decisions".
        Every write checks again by itself."""
        self.trials.require(Action.WRITE, refused)

    def is_empty(self) -> bool:
        return self.trials.is_empty()

    def get_trial(self, ref: int | str) -> Trial:
        return self.trials.get_trial(ref)

    def list_trials(self, statuses: Iterable[TrialStatus] | None = None) -> list[TrialSummary]:
        return self.trials.list_trials(statuses)

    def arm_totals(
        self,
        trial_id: int,
        source: ResultSource = ResultSource.CHANNEL,
        *,
        days: tuple[date, date] | None = None,
    ) -> dict[int, ArmTotals]:
        return self.trials.arm_totals(trial_id, source, days=days)

    def daily_results(
        self,
        trial_id: int,
        source: ResultSource | None = ResultSource.CHANNEL,
        *,
        segments: bool = False,
    ) -> list[DailyResult]:
        """The arm-level view (segments summed); with ``segments``, one row per segment."""
        return self.trials.daily_results(trial_id, source, segments=segments)

    def import_batches(self, trial_id: int) -> list[ImportBatch]:
        return self.trials.import_batches(trial_id)

    def create_trial(self, spec: TrialSpec) -> Trial:
        return self.trials.create_trial(spec)

    def update_trial(
        self,
        trial_id: int,
        spec: TrialSpec,
        arm_ids: Sequence[int | None],
        *,
        reason: str | None = None,
    ) -> Trial:
        return self.trials.update_trial(trial_id, spec, arm_ids, reason=reason)

    def set_status(self, trial_id: int, status: TrialStatus) -> Trial:
        return self.trials.set_status(trial_id, status)

    def archive(self, trial_id: int) -> Trial:
        return self.trials.archive(trial_id)

    def why_not_deletable(self, trial_id: int) -> str | None:
        return self.trials.why_not_deletable(trial_id)

    def delete_trial(self, trial_id: int) -> None:
        return self.trials.delete_trial(trial_id)

    def delete_demo_trials(self) -> DemoDeletion:
        return self.trials.delete_demo_trials()

    def add_results(
        self,
        trial_id: int,
        results: Sequence[DailyResult],
        *,
        kind: str,
        file_name: str | None = None,
        digest: str | None = None,
    ) -> ImportBatch:
        return self.trials.add_results(
            trial_id, results, kind=kind, file_name=file_name, digest=digest
        )

    def plan_results(
        self,
        trial_id: int,
        rows: Sequence[ResultRow],
        *,
        removals: Sequence[tuple[int, date]] = (),
        digest: str | None = None,
        source: ResultSource = ResultSource.CHANNEL,
    ) -> ResultsPlan:
        return self.imports.plan_results(
            trial_id, rows, removals=removals, digest=digest, source=source
        )

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
        return self.imports.commit_results(
            trial_id,
            rows,
            kind=kind,
            file_name=file_name,
            digest=digest,
            replace=replace,
            add_arms=add_arms,
            removals=removals,
            source=source,
        )

    def orders(self, trial_id: int) -> list[OrderRow]:
        return self.orders_log.orders(trial_id)

    def plan_orders(
        self, trial_id: int, orders: Sequence[OrderRow], *, digest: str | None = None
    ) -> OrdersPlan:
        return self.orders_log.plan_orders(trial_id, orders, digest=digest)

    def commit_orders(
        self,
        trial_id: int,
        orders: Sequence[OrderRow],
        *,
        file_name: str | None = None,
        digest: str | None = None,
        replace: bool = False,
    ) -> ImportOutcome:
        return self.orders_log.commit_orders(
            trial_id, orders, file_name=file_name, digest=digest, replace=replace
        )

    def utm_rules(self, trial_id: int) -> list[UtmRule]:
        return self.orders_log.utm_rules(trial_id)

    def save_utm_rules(self, trial_id: int, rules: Sequence[UtmRule]) -> None:
        return self.orders_log.save_utm_rules(trial_id, rules)

    def delete_utm_rule(self, trial_id: int, rule: UtmRule) -> None:
        return self.orders_log.delete_utm_rule(trial_id, rule)

    def undo_batch(self, trial_id: int, batch_id: int):
        return self.imports.undo_batch(trial_id, batch_id)

    def record_decision(
        self, trial_id: int, record: DecisionRecord, snapshot: dict[str, Any]
    ) -> DecisionEntry:
        return self.decision_log.record_decision(trial_id, record, snapshot)

    def decisions(self, trial_id: int) -> list[DecisionEntry]:
        return self.decision_log.decisions(trial_id)

    def amendments(self, trial_id: int) -> list[Amendment]:
        return self.amendment_log.amendments(trial_id)

    def start_round(self, trial_id: int, plan: NextRound) -> Trial:
        """Start the trial's next round (``trials.storage.rounds``)."""
        return self.round_log.start_round(trial_id, plan)

    def trial_priors(self, trial_id: int):
        """The trial's priors setting (``trials.domain.priors.TrialPriors``)."""
        return self.priors_log.current(trial_id)

    def trial_priors_history(self, trial_id: int) -> list:
        return self.priors_log.history(trial_id)

    def set_trial_priors(self, trial_id: int, use_learned: bool, overrides=()):
        """Record whether the trial's analysis uses learned priors, and its overrides."""
        return self.priors_log.record(trial_id, use_learned, overrides)

    def has_data(self, trial_id: int) -> bool:
        return self.amendment_log.has_data(trial_id)

    def scale_plans(self, trial_id: int, arm_id: int | None = None) -> list[ScalePlan]:
        return self.scale_plan_log.scale_plans(trial_id, arm_id)

    def current_scale_plan(self, trial_id: int, arm_id: int) -> ScalePlan | None:
        return self.scale_plan_log.current_scale_plan(trial_id, arm_id)

    def write_scale_plan(
        self,
        trial_id: int,
        arm_id: int,
        settings: ScaleSettings,
        start: date,
        *,
        reason: str = "",
    ) -> ScalePlan:
        return self.scale_plan_log.write_scale_plan(
            trial_id, arm_id, settings, start, reason=reason
        )

    def end_scale_plan(
        self, trial_id: int, plan_id: int, ending: PlanStatus, reason: str
    ) -> ScalePlan:
        return self.scale_plan_log.end_scale_plan(trial_id, plan_id, ending, reason)
