"""The trial registry's storage: every read and write of trials, arms and results.

Pages, the CLI and scripts go through :class:`TrialStore`; nothing else touches the
database. A store is bound to one workspace, one actor (who is doing this) and the
actor's role there, so every write records who did it, no query crosses into another
workspace (a trial of another workspace is "not found", in the same words as a missing
one), and a viewer's write is refused (:class:`PermissionDenied`) before anything changes.
Every write goes through :meth:`TrialRepository.write`, which makes that check.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, delete, func, insert, select, text, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError, OperationalError

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
    merge_segments,
)
from trials.domain.accounts import Action, PermissionDenied, Role
from trials.domain.imports import ImportBatch
from trials.domain.limits import LONG_TEXT, TRIAL_NAME, text_problem, user_name_problems
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
    refuse_file_name,
    refuse_rows_out_of_bounds,
    refuse_totals_over_limits,
    result_values,
    trial_from_rows,
    trial_values,
    utc_now,
)

__all__ = ["DemoDeletion", "TrialNotFound", "TrialRepository", "current_actor"]


# The kind of PostgreSQL advisory lock that guards a workspace's trial names.
NAMES_LOCK = 0x7472  # "tr"
MAX_ID = 2**31 - 1  # ids are 32-bit integers


class TrialNotFound(UserError):
    pass


_ASK_FOR_EDITOR = (
    "A workspace admin can make {user} an editor "
    "(python -m trials workspace grant '{workspace}' '{user}' --role editor)"
)


@dataclass(frozen=True)
class DemoDeletion:
    """What deleting the demo trials did: the trials deleted, and those kept with why."""

    deleted: tuple[str, ...]
    kept: tuple[tuple[str, str], ...]


def _is_row_id(number: int) -> bool:
    """Whether ``number`` can be a trial's id (ids are 32-bit integers, see MAX_ID)."""
    return 0 < number <= MAX_ID


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
    """Trials, their arms and daily results, of one workspace, on behalf of one actor.

    ``role`` is the actor's role in the workspace: a viewer may only read. ``user_id``,
    when the store was opened for an account (``trials.analysis.accounts.open_workspace``),
    makes every write check again, inside its transaction, that the account is still
    enabled and still holds a role that may write (so a revoked or disabled user's open
    session cannot write). ``workspace_name`` is for messages.
    """

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
        self.engine = engine
        self.writer = writer(engine)
        self.workspace_id = workspace_id
        self.actor = " ".join((actor or current_actor()).split())
        for problem in user_name_problems(self.actor):
            source = "" if actor else " (from TRIALS_USER or the system's user name)"
            raise UserError(f"the user name{source} {problem.message}")
        self.role = Role(role)
        self.user_id = user_id
        self.workspace_name = workspace_name

    # -- permissions -----------------------------------------------------------------------

    def require(self, action: Action, refused: str) -> None:
        """PermissionDenied unless the actor's role allows ``action`` (``refused``: what
        they tried, in words, e.g. "import data")."""
        if not self.role.allows(action):
            raise PermissionDenied(
                self.actor,
                self.role,
                refused,
                workspace=self.workspace_name,
                hint=_ASK_FOR_EDITOR.format(
                    user=self.actor, workspace=self.workspace_name or "WORKSPACE"
                ),
            )

    @contextmanager
    def write(self, refused: str) -> Iterator[Connection]:
        """A write transaction, opened only if the actor may write (see :meth:`require`)."""
        self.require(Action.WRITE, refused)
        with self.writing() as conn:
            if self.user_id is not None:
                self._recheck_role(conn, refused)
            yield conn

    def _recheck_role(self, conn: Connection, refused: str) -> None:
        m, u = t.memberships.c, t.users.c
        role = conn.scalar(
            select(m.role)
            .join(t.users, u.id == m.user_id)
            .where(
                m.user_id == self.user_id,
                m.workspace_id == self.workspace_id,
                u.disabled_at.is_(None),
            )
        )
        if role is None:
            raise PermissionDenied(
                self.actor,
                None,
                refused,
                workspace=self.workspace_name,
                hint="Their access was removed or their account disabled since they signed in",
            )
        if not Role(role).allows(Action.WRITE):
            raise PermissionDenied(
                self.actor,
                Role(role),
                refused,
                workspace=self.workspace_name,
                hint=_ASK_FOR_EDITOR.format(
                    user=self.actor, workspace=self.workspace_name or "WORKSPACE"
                ),
            )

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
            rounds_by_trial = self._rounds(conn, [r.id for r in rows])
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
                    trial=trial_from_rows(
                        row,
                        arms_by_trial.get(row.id, []),
                        versions[row.id],
                        rounds_by_trial.get(row.id, []),
                    ),
                    days_with_data=s.days if s else 0,
                    spend=from_micros(s.spend) if s else 0.0,
                    last_data_date=s.last_day if s else None,
                )
            )
        return summaries

    def arm_totals(
        self,
        trial_id: int,
        source: ResultSource = ResultSource.CHANNEL,
        *,
        days: tuple[date, date] | None = None,
    ) -> dict[int, ArmTotals]:
        """Totals per arm id for every arm of the trial (zeros for arms with no data);
        ``days`` (first, last) keeps the rows dated within them (one round's)."""
        r = t.daily_results.c
        window = [] if days is None else [r.day >= days[0], r.day <= days[1]]
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
                .where(r.trial_id == trial.id, r.source == ResultSource(source).value, *window)
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
        # Every arm the trial ran (a trial in rounds: those of earlier rounds too).
        return {arm.id: found.get(arm.id, ArmTotals()) for arm in trial.all_arms}

    def daily_results(
        self,
        trial_id: int,
        source: ResultSource | None = ResultSource.CHANNEL,
        *,
        segments: bool = False,
    ) -> list[DailyResult]:
        """Every stored day of a trial, ordered by day then arm: the arm-level view (an
        arm-day's segments summed), or with ``segments`` one row per stored segment."""
        r = t.daily_results.c
        with self.engine.connect() as conn:
            # Always by the id of the trial found in this workspace (a name that reads as
            # a number must not reach another workspace's trial of that id).
            trial = self.load(conn, trial_id)
            query = select(t.daily_results).where(r.trial_id == trial.id)
            if source is not None:
                query = query.where(r.source == ResultSource(source).value)
            rows = conn.execute(query.order_by(r.day, r.arm_id, r.source, r.segment)).all()
        results = [
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
                segment=row.segment,
            )
            for row in rows
        ]
        return results if segments else merge_segments(results)

    def import_batches(self, trial_id: int) -> list[ImportBatch]:
        b = t.import_batches.c
        with self.engine.connect() as conn:
            trial = self.load(conn, trial_id)
            rows = conn.execute(
                select(t.import_batches).where(b.trial_id == trial.id).order_by(b.id)
            ).all()
        return [batch_from_row(row) for row in rows]

    # -- writing ---------------------------------------------------------------------------

    def create_trial(self, spec: TrialSpec) -> Trial:
        """Register a trial; refuses a name the workspace already uses."""
        now = utc_now()
        with self.write("create trials") as conn:
            self._lock_names(conn)
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
        or None for a new arm. Stored arms left out are removed, unless they have results
        (or rows kept for an undo). ``spec.is_demo`` is ignored: a trial stays what it was
        created as.

        Once the trial has data, a change to its decision rule, primary metric, arms or
        planned budget shares is an amendment: refused (``AmendmentNeeded``, nothing saved)
        without a ``reason``, recorded with it (see :meth:`amendments`). A reason given for
        a trial without data records such a change too. Other fields stay free.
        """
        if len(arm_ids) != len(spec.arms):
            raise ValueError("arm_ids must run beside spec.arms")
        with self.write("amend trials" if reason else "change trials") as conn:
            self._lock_names(conn)
            trial = self.load_for_write(conn, trial_id)
            if spec.name != trial.name:
                self._refuse_duplicate_name(conn, spec.name)
            known = {a.id for a in trial.arms}
            unknown = [i for i in arm_ids if i is not None and i not in known]
            if unknown:
                raise UserError(f"arm ids {unknown} do not belong to trial '{trial.name}'")
            removed = known - {i for i in arm_ids if i is not None}
            self._refuse_removing_arms_with_data(conn, trial, removed)
            _refuse_overlapping_rounds(trial, spec)
            too_long = text_problem((reason or "").strip(), LONG_TEXT)
            if too_long:
                raise TrialValidationError([Problem("reason", too_long)])
            amendment = locked_changes_to_record(conn, trial, spec, arm_ids, reason)
            # Whether a trial is a demo is the demo loader's to say, never an edit's.
            values = trial_values(spec) | {"is_demo": trial.spec.is_demo}
            conn.execute(
                update(t.trials)
                .where(t.trials.c.id == trial.id)
                .values(**values, updated_at=utc_now(), updated_by=self.actor)
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
                    conn.execute(insert(t.arms).values(**values, first_round=trial.current_round))
                else:
                    conn.execute(update(t.arms).where(t.arms.c.id == arm_id).values(**values))
            if amendment is not None:
                record_amendment(conn, trial.id, *amendment, reason or "", actor=self.actor)
            return self.load(conn, trial.id)

    def set_status(self, trial_id: int, status: TrialStatus) -> Trial:
        with self.write("change a trial's status") as conn:
            trial = self.load_for_write(conn, trial_id)
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

    def why_not_deletable(self, trial_id: int) -> str | None:
        """Why the trial cannot be deleted (archive it instead), or None when it can."""
        with self.engine.connect() as conn:
            trial = self.load(conn, trial_id)
            return _why_not_deletable(conn, trial)

    def delete_trial(self, trial_id: int) -> None:
        """Delete a trial that has nothing of record: no results, own orders, decisions or
        amendments (a demo trial may have demo results and orders). Others are archived
        instead: UserError, nothing deleted."""
        with self.write("delete trials") as conn:
            trial = self.load_for_write(conn, trial_id)
            why = _why_not_deletable(conn, trial)
            if why:
                raise UserError(why)
            conn.execute(delete(t.trials).where(t.trials.c.id == trial.id))

    def delete_demo_trials(self) -> DemoDeletion:
        """Delete the workspace's demo trials, except those that have a record of their
        own (a recorded decision or amendment): those are kept, each with why."""
        deleted: list[str] = []
        kept: list[tuple[str, str]] = []
        with self.write("delete trials") as conn:
            ids = conn.scalars(
                self._trials_query()
                .where(t.trials.c.is_demo.is_(True))
                .with_only_columns(t.trials.c.id)
                .order_by(t.trials.c.id)
                .with_for_update()
            ).all()
            for trial_id in ids:
                trial = self.load(conn, trial_id)
                why = _why_not_deletable(conn, trial)
                if why:
                    kept.append((trial.name, why))
                    continue
                conn.execute(delete(t.trials).where(t.trials.c.id == trial.id))
                deleted.append(trial.name)
        return DemoDeletion(deleted=tuple(deleted), kept=tuple(kept))

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
        refuse_rows_out_of_bounds(results)
        refuse_file_name(file_name)
        now = utc_now()
        with self.write("import data") as conn:
            trial = self.load_for_write(conn, trial_id).whole()
            arm_ids = {a.id for a in trial.all_arms}
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
            for r in results:  # a trial in rounds: each row in a round that ran its arm
                outside_its_round = trial.arm_round_problem(r.arm_id, r.day)
                if outside_its_round:
                    raise UserError(f"{outside_its_round}; nothing was written")
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
                values = [result_values(trial.id, batch_id, r) for r in results]
                for source in {r.source for r in results}:
                    added = [v for v in values if v["source"] == ResultSource(source).value]
                    refuse_totals_over_limits(conn, trial.id, source, added, [])
                try:
                    conn.execute(insert(t.daily_results), values)
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

    # -- writing safely beside other writers -------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One write transaction, all or nothing, that queues behind other writers.

        On SQLite the transaction takes the database's write lock as it begins (BEGIN
        IMMEDIATE, see ``trials.storage.engine.writer``); on PostgreSQL each write takes
        its trial's lock first (:meth:`load_for_write`, :meth:`_lock_names`). Should the
        database still refuse a write (a uniqueness or check it enforces, or a lock it
        could not get in time), the user gets a plain UserError, never the database's
        own text, and nothing is written.
        """
        try:
            with self.writer.begin() as conn:
                yield conn
        except IntegrityError as e:
            raise UserError(
                "the database refused the change: it conflicts with what is stored (most "
                "likely a change someone made at the same moment); nothing was written. "
                "Reload and try again"
            ) from e
        except OperationalError as e:
            if not _is_busy(e):
                raise
            raise UserError(
                "the database is busy with other changes and this one waited too long; "
                "nothing was written. Try again in a moment"
            ) from e

    def load_for_write(self, conn: Connection, ref: int | str) -> Trial:
        """A trial read inside a write transaction once that transaction holds the
        trial's lock: on PostgreSQL its row lock (``SELECT … FOR UPDATE``), so writers of
        one trial queue instead of colliding, and what is read is what the write builds
        on. (On SQLite the transaction already holds the database's write lock.)"""
        row = self._find_row(conn, ref)
        if row is not None and conn.dialect.name == "postgresql":
            row = conn.execute(
                self._trials_query().where(t.trials.c.id == row.id).with_for_update()
            ).first()
        if row is None:
            raise self._not_found(ref)
        return self.load(conn, row.id)

    def _lock_names(self, conn: Connection) -> None:
        """On PostgreSQL, the lock on the workspace's trial names (taken before any trial's
        lock), so two writers cannot both find a name free and both take it."""
        if conn.dialect.name == "postgresql":
            conn.execute(
                text("SELECT pg_advisory_xact_lock(CAST(:kind AS integer), CAST(:id AS integer))"),
                {"kind": NAMES_LOCK, "id": self.workspace_id},
            )

    # -- internals -------------------------------------------------------------------------

    def _trials_query(self):
        return select(t.trials).where(t.trials.c.workspace_id == self.workspace_id)

    def load(self, conn: Connection, ref: int | str) -> Trial:
        """A trial by id or name, read on ``conn`` (``TrialNotFound`` if there is none)."""
        row = self._find_row(conn, ref)
        if row is None:
            raise self._not_found(ref)
        return trial_from_rows(
            row,
            self._arms(conn, [row.id]).get(row.id, []),
            rule_versions(conn, [row.id])[row.id],
            self._rounds(conn, [row.id]).get(row.id, []),
        )

    @staticmethod
    def _not_found(ref: int | str) -> TrialNotFound:
        shown = str(ref) if len(str(ref)) <= 80 else str(ref)[:77] + "..."
        return TrialNotFound(
            f"no trial '{shown}' in this workspace; `python -m trials list` shows them all"
        )

    def _find_row(self, conn: Connection, ref: int | str) -> Row | None:
        c = t.trials.c
        if isinstance(ref, int) and not isinstance(ref, bool):
            if not _is_row_id(ref):  # no such id; the database would refuse the number
                return None
            return conn.execute(self._trials_query().where(c.id == ref)).first()
        wanted = str(ref).strip()
        if "\x00" in wanted or len(wanted) > TRIAL_NAME:  # no name is like that
            return None
        row = conn.execute(self._trials_query().where(c.name == wanted)).first()
        number = row_id(wanted) if row is None else None
        if number is not None:
            row = conn.execute(self._trials_query().where(c.id == number)).first()
        if row is None:
            matches = conn.execute(
                self._trials_query().where(func.lower(c.name) == wanted.lower())
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

    def _rounds(self, conn: Connection, trial_ids: list[int]) -> dict[int, list[Row]]:
        out: dict[int, list[Row]] = {}
        if not trial_ids:
            return out
        for row in conn.execute(
            select(t.rounds)
            .where(t.rounds.c.trial_id.in_(trial_ids))
            .order_by(t.rounds.c.trial_id, t.rounds.c.number)
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
        # Rows an import replaced or a manual edit removed are kept for its undo; removing
        # their arm would discard them and leave the undo with nothing to bring back.
        kept = conn.execute(
            select(
                t.replaced_results.c.arm_id,
                func.count(),
                func.min(t.replaced_results.c.replaced_by_batch_id),
            )
            .where(t.replaced_results.c.arm_id.in_(removed))
            .group_by(t.replaced_results.c.arm_id)
        ).all()
        if kept:
            names = ", ".join(
                f"'{trial.arm(arm_id).name}' ({n} rows kept to undo import {batch})"
                for arm_id, n, batch in kept
            )
            raise TrialValidationError(
                [
                    Problem(
                        "arms",
                        f"cannot remove arms that had results: their deleted or replaced "
                        f"rows are kept so the import can be undone: {names}. Keep the arm "
                        "(archive the trial when it is over)",
                    )
                ]
            )


def _refuse_overlapping_rounds(trial: Trial, spec: TrialSpec) -> None:
    """The current round may not start on or before the previous round's end."""
    previous = trial.round(trial.current_round - 1)
    if previous is not None and spec.start <= previous.end:
        raise TrialValidationError(
            [
                Problem(
                    "start",
                    f"{spec.start} is within round {previous.number} ({previous.start} to "
                    f"{previous.end}); round {trial.current_round} starts after "
                    f"{previous.end}",
                )
            ]
        )


def _why_not_deletable(conn: Connection, trial: Trial) -> str | None:
    """Why ``trial`` may not be deleted, or None.

    Decisions and amendments are append-only logs (the database refuses to delete them),
    so a trial with either is never deleted, demo or not. A real trial with results (any
    source) or own orders is not deleted either: archiving keeps its record. A demo
    trial's results and orders are the demo loader's and may go.
    """
    counted = [
        ("recorded decision", t.decisions),
        ("amendment to its plan", t.amendments),
        ("scale plan", t.scale_plans),
    ]
    if not trial.spec.is_demo:
        counted = [("stored result row", t.daily_results), ("own order", t.orders), *counted]
    found = []
    for label, table in counted:
        n = conn.scalar(select(func.count()).where(table.c.trial_id == trial.id))
        if n:
            found.append(f"{n} {label}{'' if n == 1 else 's'}")
    if not found:
        return None
    what = ", ".join(found[:-1]) + (" and " if len(found) > 1 else "") + found[-1]
    return (
        f"'{trial.name}' has {what}; archive it instead of deleting it, so its record is "
        "kept. Nothing was deleted."
    )


def _is_busy(error: OperationalError) -> bool:
    """Whether the database gave up waiting for a lock (SQLite's busy timeout; a lock or
    statement timeout on PostgreSQL) rather than failing for another reason."""
    message = str(error.orig).lower()
    code = getattr(error.orig, "sqlstate", None)
    return (
        "database is locked" in message
        or "database is busy" in message
        or code
        in (
            "55P03",  # lock_not_available
            "57014",  # query_canceled (statement or lock timeout)
            "40P01",  # deadlock_detected
            "40001",  # serialization_failure
        )
    )
