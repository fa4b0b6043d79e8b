"""The trial registry's storage: every read and write of trials, arms and results.

Pages, the CLI and scripts go through :class:`TrialStore`; nothing else touches the
database. A store is bound to one workspace and one actor (who is doing this), so every
write records who did it and no query crosses into another workspace.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable, Sequence

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from trials.domain import (
    ArmTotals,
    DailyResult,
    Problem,
    ResultSource,
    Trial,
    TrialSpec,
    TrialStatus,
    TrialSummary,
    TrialValidationError,
    UserError,
)
from trials.domain.imports import ImportBatch
from trials.storage import schema as t
from trials.storage.amendments import (
    locked_changes_to_record,
    record_amendment,
    rule_versions,
)
from trials.storage.engine import writer
from trials.storage.rows import (
    arm_values,
    batch_from_row,
    from_micros,
    result_values,
    trial_from_rows,
    trial_values,
    utc_now,
)

__all__ = ["TrialNotFound", "TrialRepository", "current_actor"]


class TrialNotFound(UserError):
    pass


def _is_row_id(number: int) -> bool:
    """Whether ``number`` fits a database row id (a signed 64-bit integer)."""
    return 0 < number < 2**63


def row_id(text: str) -> int | None:
    """The row id ``text`` spells in ASCII digits, or None when it spells none that can
    exist (not digits, zero, or too long: 50,000 digits are not parsed at all)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0")
    if len(digits) > 19:
        return None
    number = int(digits or "0")
    return number if _is_row_id(number) else None


def current_actor() -> str:
    """Who is acting: ``TRIALS_USER`` if set, else the operating-system user."""
    name = os.environ.get("TRIALS_USER", "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in some containers
        return "unknown"


class TrialRepository:
    """Trials, their arms and daily results, of one workspace, on behalf of one actor."""

    def __init__(
        self,
        engine: Engine,
        *,
        workspace_id: int = t.DEFAULT_WORKSPACE_ID,
        actor: str | None = None,
    ):
        self.engine = engine
        self.writer = writer(engine)
        self.workspace_id = workspace_id
        self.actor = actor or current_actor()

    # -- reading ---------------------------------------------------------------------------

    def is_empty(self) -> bool:
        with self.engine.connect() as conn:
            first = self._trials_query().with_only_columns(t.trials.c.id).limit(1)
            return conn.scalar(first) is None

    def get_trial(self, ref: int | str) -> Trial:
        """A trial by id or by name (exact, else unique case-insensitive match)."""
        with self.engine.connect() as conn:
            return self.load(conn, ref)

    def list_trials(self, statuses: Iterable[TrialStatus] | None = None) -> list[TrialSummary]:
        """Every trial of the workspace with its data so far, newest first."""
        query = self._trials_query().order_by(t.trials.c.created_at.desc(), t.trials.c.id.desc())
        if statuses is not None:
            query = query.where(t.trials.c.status.in_([TrialStatus(s).value for s in statuses]))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            arms_by_trial = self._arms(conn, [r.id for r in rows])
            versions = rule_versions(conn, [r.id for r in rows])
            stats = {
                r.trial_id: r
                for r in conn.execute(
                    select(
                        t.daily_results.c.trial_id,
                        func.count(func.distinct(t.daily_results.c.day)).label("days"),
                        func.sum(t.daily_results.c.spend_micros).label("spend"),
                        func.max(t.daily_results.c.day).label("last_day"),
                    )
                    .where(
                        t.daily_results.c.trial_id.in_([r.id for r in rows]),
                        t.daily_results.c.source == ResultSource.CHANNEL.value,
                    )
                    .group_by(t.daily_results.c.trial_id)
                )
            }
        summaries = []
        for row in rows:
            s = stats.get(row.id)
            summaries.append(
                TrialSummary(
                    trial=trial_from_rows(row, arms_by_trial.get(row.id, []), versions[row.id]),
                    days_with_data=s.days if s else 0,
                    spend=from_micros(s.spend) if s else 0.0,
                    last_data_date=s.last_day if s else None,
                )
            )
        return summaries

    def arm_totals(
        self, trial_id: int, source: ResultSource = ResultSource.CHANNEL
    ) -> dict[int, ArmTotals]:
        """Totals per arm id for every arm of the trial (zeros for arms with no data)."""
        r = t.daily_results.c
        with self.engine.connect() as conn:
            trial = self.load(conn, trial_id)
            rows = conn.execute(
                select(
                    r.arm_id,
                    func.sum(r.impressions).label("impressions"),
                    func.sum(r.clicks).label("clicks"),
                    func.sum(r.conversions).label("conversions"),
                    func.sum(r.spend_micros).label("spend"),
                    func.sum(r.revenue_micros).label("revenue"),
                    func.count(func.distinct(r.day)).label("days"),
                )
                .where(r.trial_id == trial.id, r.source == ResultSource(source).value)
                .group_by(r.arm_id)
            ).all()
        found = {
            row.arm_id: ArmTotals(
                impressions=int(row.impressions),
                clicks=int(row.clicks),
                conversions=int(row.conversions),
                spend=from_micros(row.spend),
                revenue=from_micros(row.revenue),
                days=int(row.days),
            )
            for row in rows
        }
        return {arm.id: found.get(arm.id, ArmTotals()) for arm in trial.arms}

    def daily_results(
        self, trial_id: int, source: ResultSource | None = ResultSource.CHANNEL
    ) -> list[DailyResult]:
        """Every stored day of a trial, ordered by day then arm."""
        r = t.daily_results.c
        query = select(t.daily_results).where(r.trial_id == trial_id)
        if source is not None:
            query = query.where(r.source == ResultSource(source).value)
        with self.engine.connect() as conn:
            self.load(conn, trial_id)
            rows = conn.execute(query.order_by(r.day, r.arm_id, r.source)).all()
        return [
            DailyResult(
                arm_id=row.arm_id,
                day=row.day,
                impressions=int(row.impressions),
                clicks=int(row.clicks),
                conversions=int(row.conversions),
                spend=from_micros(row.spend_micros),
                revenue=from_micros(row.revenue_micros),
                source=ResultSource(row.source),
                import_batch_id=row.import_batch_id,
            )
            for row in rows
        ]

    def import_batches(self, trial_id: int) -> list[ImportBatch]:
        b = t.import_batches.c
        with self.engine.connect() as conn:
            self.load(conn, trial_id)
            rows = conn.execute(
                select(t.import_batches).where(b.trial_id == trial_id).order_by(b.id)
            ).all()
        return [batch_from_row(row) for row in rows]

    # -- writing ---------------------------------------------------------------------------

    def create_trial(self, spec: TrialSpec) -> Trial:
        """Register a trial; refuses a name the workspace already uses."""
        now = utc_now()
        with self.writer.begin() as conn:
            self._refuse_duplicate_name(conn, spec.name)
            trial_id = conn.execute(
                insert(t.trials).values(
                    workspace_id=self.workspace_id,
                    **trial_values(spec),
                    created_at=now,
                    created_by=self.actor,
                    updated_at=now,
                    updated_by=self.actor,
                )
            ).inserted_primary_key[0]
            conn.execute(
                insert(t.arms),
                [arm_values(trial_id, i, arm) for i, arm in enumerate(spec.arms)],
            )
            return self.load(conn, trial_id)

    def update_trial(
        self,
        trial_id: int,
        spec: TrialSpec,
        arm_ids: Sequence[int | None],
        *,
        reason: str | None = None,
    ) -> Trial:
        """Replace a trial's settings and arms.

        ``arm_ids`` runs beside ``spec.arms``: the id of the stored arm each entry edits,
        or None for a new arm. Stored arms left out are removed, unless they have results.

        Once the trial has data, a change to its decision rule, primary metric, arms or
        planned budget shares is an amendment: refused (``AmendmentNeeded``, nothing saved)
        without a ``reason``, recorded with it (see :meth:`amendments`). A reason given for
        a trial without data records such a change too. Other fields stay free.
        """
        if len(arm_ids) != len(spec.arms):
            raise ValueError("arm_ids must run beside spec.arms")
        with self.writer.begin() as conn:
            trial = self.load(conn, trial_id)
            if spec.name != trial.name:
                self._refuse_duplicate_name(conn, spec.name)
            known = {a.id for a in trial.arms}
            unknown = [i for i in arm_ids if i is not None and i not in known]
            if unknown:
                raise UserError(f"arm ids {unknown} do not belong to trial '{trial.name}'")
            removed = known - {i for i in arm_ids if i is not None}
            self._refuse_removing_arms_with_data(conn, trial, removed)
            amendment = locked_changes_to_record(conn, trial, spec, arm_ids, reason)
            conn.execute(
                update(t.trials)
                .where(t.trials.c.id == trial.id)
                .values(**trial_values(spec), updated_at=utc_now(), updated_by=self.actor)
            )
            if removed:
                conn.execute(delete(t.arms).where(t.arms.c.id.in_(removed)))
            # Park kept arms on placeholder names first so swapping two names cannot
            # trip the (trial, channel, creative) uniqueness half-way.
            for arm_id in known - removed:
                conn.execute(
                    update(t.arms)
                    .where(t.arms.c.id == arm_id)
                    .values(channel=f"~parked~{arm_id}", creative="~parked~")
                )
            for position, (arm_id, arm) in enumerate(zip(arm_ids, spec.arms, strict=True)):
                values = arm_values(trial.id, position, arm)
                if arm_id is None:
                    conn.execute(insert(t.arms).values(**values))
                else:
                    conn.execute(update(t.arms).where(t.arms.c.id == arm_id).values(**values))
            if amendment is not None:
                record_amendment(conn, trial.id, *amendment, reason or "", actor=self.actor)
            return self.load(conn, trial.id)

    def set_status(self, trial_id: int, status: TrialStatus) -> Trial:
        with self.writer.begin() as conn:
            trial = self.load(conn, trial_id)
            conn.execute(
                update(t.trials)
                .where(t.trials.c.id == trial.id)
                .values(
                    status=TrialStatus(status).value, updated_at=utc_now(), updated_by=self.actor
                )
            )
            return self.load(conn, trial.id)

    def archive(self, trial_id: int) -> Trial:
        return self.set_status(trial_id, TrialStatus.ARCHIVED)

    def delete_trial(self, trial_id: int) -> None:
        """Delete a demo trial, or any trial with no results yet; others are archived instead."""
        with self.writer.begin() as conn:
            trial = self.load(conn, trial_id)
            days = conn.scalar(select(func.count()).where(t.daily_results.c.trial_id == trial.id))
            decisions = conn.scalar(select(func.count()).where(t.decisions.c.trial_id == trial.id))
            if not trial.spec.is_demo and (days or decisions):
                raise UserError(
                    f"'{trial.name}' has {days} stored result rows and {decisions} decisions; "
                    "archive it instead of deleting it, so its record is kept"
                )
            conn.execute(delete(t.trials).where(t.trials.c.id == trial.id))

    def delete_demo_trials(self) -> int:
        with self.writer.begin() as conn:
            return conn.execute(
                delete(t.trials).where(
                    t.trials.c.workspace_id == self.workspace_id, t.trials.c.is_demo.is_(True)
                )
            ).rowcount

    def add_results(
        self,
        trial_id: int,
        results: Sequence[DailyResult],
        *,
        kind: str,
        file_name: str | None = None,
        digest: str | None = None,
    ) -> ImportBatch:
        """Store new daily results as one batch, all or nothing.

        A day already stored for the same arm and source is refused, never added twice.
        """
        now = utc_now()
        with self.writer.begin() as conn:
            trial = self.load(conn, trial_id)
            arm_ids = {a.id for a in trial.arms}
            strangers = sorted({r.arm_id for r in results} - arm_ids)
            if strangers:
                raise UserError(f"arm ids {strangers} do not belong to trial '{trial.name}'")
            outside = sorted(
                {r.day for r in results if not trial.spec.start <= r.day <= trial.spec.end}
            )
            if outside:
                raise UserError(
                    f"{len(outside)} days fall outside the trial's dates "
                    f"{trial.spec.start} to {trial.spec.end} (first: {outside[0]})"
                )
            batch_id = conn.execute(
                insert(t.import_batches).values(
                    trial_id=trial.id,
                    kind=kind,
                    file_name=file_name,
                    digest=digest,
                    row_count=len(results),
                    status="committed",
                    created_at=now,
                    created_by=self.actor,
                )
            ).inserted_primary_key[0]
            if results:
                try:
                    conn.execute(
                        insert(t.daily_results),
                        [result_values(trial.id, batch_id, r) for r in results],
                    )
                except IntegrityError as e:
                    raise UserError(
                        "some days are already stored for the same arm and source; "
                        "nothing was written"
                    ) from e
            return batch_from_row(
                conn.execute(
                    select(t.import_batches).where(t.import_batches.c.id == batch_id)
                ).one()
            )

    # -- internals -------------------------------------------------------------------------

    def _trials_query(self):
        return select(t.trials).where(t.trials.c.workspace_id == self.workspace_id)

    def load(self, conn: Connection, ref: int | str) -> Trial:
        """A trial by id or name, read on ``conn`` (``TrialNotFound`` if there is none)."""
        row = self._find_row(conn, ref)
        if row is None:
            shown = str(ref) if len(str(ref)) <= 80 else str(ref)[:77] + "..."
            raise TrialNotFound(
                f"no trial '{shown}' in this workspace; `python -m trials list` shows them all"
            )
        return trial_from_rows(
            row,
            self._arms(conn, [row.id]).get(row.id, []),
            rule_versions(conn, [row.id])[row.id],
        )

    def _find_row(self, conn: Connection, ref: int | str) -> Row | None:
        c = t.trials.c
        if isinstance(ref, int) and not isinstance(ref, bool):
            if not _is_row_id(ref):  # no such id can exist (and the driver would overflow)
                return None
            return conn.execute(self._trials_query().where(c.id == ref)).first()
        text = str(ref).strip()
        row = conn.execute(self._trials_query().where(c.name == text)).first()
        number = row_id(text) if row is None else None
        if number is not None:
            row = conn.execute(self._trials_query().where(c.id == number)).first()
        if row is None:
            matches = conn.execute(
                self._trials_query().where(func.lower(c.name) == text.lower())
            ).all()
            row = matches[0] if len(matches) == 1 else None
        return row

    def _arms(self, conn: Connection, trial_ids: list[int]) -> dict[int, list[Row]]:
        out: dict[int, list[Row]] = {}
        if not trial_ids:
            return out
        for row in conn.execute(
            select(t.arms)
            .where(t.arms.c.trial_id.in_(trial_ids))
            .order_by(t.arms.c.trial_id, t.arms.c.position, t.arms.c.id)
        ):
            out.setdefault(row.trial_id, []).append(row)
        return out

    def _refuse_duplicate_name(self, conn: Connection, name: str) -> None:
        clash = conn.scalar(
            self._trials_query()
            .where(func.lower(t.trials.c.name) == name.lower())
            .with_only_columns(t.trials.c.name)
        )
        if clash is not None:
            raise TrialValidationError(
                [Problem("name", f"a trial named '{clash}' already exists; choose another name")]
            )

    def _refuse_removing_arms_with_data(
        self, conn: Connection, trial: Trial, removed: set[int]
    ) -> None:
        if not removed:
            return
        with_data = conn.execute(
            select(t.daily_results.c.arm_id, func.count())
            .where(t.daily_results.c.arm_id.in_(removed))
            .group_by(t.daily_results.c.arm_id)
        ).all()
        if with_data:
            names = ", ".join(f"'{trial.arm(arm_id).name}' ({n} days)" for arm_id, n in with_data)
            raise TrialValidationError(
                [Problem("arms", f"cannot remove arms that have results: {names}")]
            )
