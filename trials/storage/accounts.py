"""Accounts, workspaces and memberships as stored, and the account log.

:class:`AccountRepository` reads and writes them on behalf of one actor (the name every
write records). It checks what the data must always satisfy (names unique ignoring case,
one role per user and workspace, a workspace never left without an admin, the site never
left without an enabled administrator, the first account made only while there is none)
but not who may ask: that is the application layer's (``trials.analysis.accounts``),
which is the only caller. Passwords arrive here already hashed.

Every change is written with an entry in ``account_events`` in the same transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, and_, delete, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from trials.domain.accounts import (
    AccountError,
    AccountEvent,
    Membership,
    Role,
    User,
    Workspace,
    clean_email,
    clean_name,
    name_key,
)
from trials.storage import schema as t
from trials.storage.engine import writer

__all__ = ["AccountRepository", "FirstAccountTaken"]


class FirstAccountTaken(AccountError):
    """An account was to be the first one, but accounts exist (e.g. made meanwhile)."""


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _user(row: Row) -> User:
    return User(
        id=row.id,
        name=row.name,
        email=row.email,
        is_admin=bool(row.is_admin),
        has_password=row.password_hash is not None,
        disabled=row.disabled_at is not None,
        created_at=_aware(row.created_at),
        created_by=row.created_by,
    )


class AccountRepository:
    """Users, workspaces and who holds which role where, written on behalf of ``actor``."""

    def __init__(self, engine: Engine, *, actor: str | None = None):
        self.engine = engine
        self._writer = writer(engine)
        self.actor = actor

    @property
    def writer(self) -> Engine:
        """The write-transaction engine; only for a repository that knows its actor."""
        if not self.actor:
            raise ValueError("an AccountRepository that writes needs an actor")
        return self._writer

    # -- users -----------------------------------------------------------------------------

    def has_users(self) -> bool:
        with self.engine.connect() as conn:
            return conn.scalar(select(t.users.c.id).limit(1)) is not None

    def users(self) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.users).order_by(t.users.c.name_key)).all()
        return [_user(r) for r in rows]

    def user(self, name: str) -> User | None:
        """The account of this name, ignoring case (None if there is none)."""
        row = self._user_row(name)
        return _user(row) if row else None

    def user_by_id(self, user_id: int) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.users).where(t.users.c.id == user_id)).first()
        return _user(row) if row else None

    def user_by_email(self, email: str) -> User | None:
        try:
            cleaned = clean_email(email)
        except AccountError:
            return None
        if cleaned is None:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(t.users).where(t.users.c.email == cleaned)).first()
        return _user(row) if row else None

    def credentials(self, name: str) -> tuple[User, str | None] | None:
        """The account of this name and its password hash (None: no such account)."""
        row = self._user_row(name)
        return (_user(row), row.password_hash) if row else None

    def _user_row(self, name: str) -> Row | None:
        if not isinstance(name, str) or not name.strip():
            return None
        with self.engine.connect() as conn:
            return conn.execute(select(t.users).where(t.users.c.name_key == name_key(name))).first()

    def add_user(
        self,
        name: str,
        *,
        email: str | None = None,
        password_hash: str | None = None,
        is_admin: bool = False,
        first: bool = False,
        workspace_role: tuple[int, Role] | None = None,
    ) -> User:
        """Add an account. ``first``: only while there is no account at all (else
        FirstAccountTaken), atomically. ``workspace_role``: also make it a member."""
        name = clean_name(name, "user name")
        email = clean_email(email)
        now = datetime.now(UTC)
        try:
            with self.writer.begin() as conn:
                if first:
                    _lock_users(conn)
                    if conn.scalar(select(t.users.c.id).limit(1)) is not None:
                        raise FirstAccountTaken(
                            "accounts exist already; a site administrator adds more with "
                            "`python -m trials user add NAME --as ADMIN …`"
                        )
                self._refuse_taken(conn, name, email)
                user_id = conn.execute(
                    insert(t.users).values(
                        name=name,
                        name_key=name_key(name),
                        email=email,
                        password_hash=password_hash,
                        is_admin=bool(is_admin),
                        created_at=now,
                        created_by=self.actor,
                        updated_at=now,
                        updated_by=self.actor,
                    )
                ).inserted_primary_key[0]
                self._log(
                    conn,
                    "user added",
                    user=name,
                    details={
                        "email": email,
                        "site_admin": bool(is_admin),
                        "password": password_hash is not None,
                    },
                )
                if workspace_role is not None:
                    workspace_id, role = workspace_role
                    self._grant(conn, self._workspace_row(conn, workspace_id), user_id, role)
                return _user(conn.execute(select(t.users).where(t.users.c.id == user_id)).one())
        except IntegrityError as e:  # a name or email taken between the check and the insert
            raise AccountError(
                f"an account named '{name}' or with that email exists already; nothing was added"
            ) from e

    def _refuse_taken(self, conn: Connection, name: str, email: str | None) -> None:
        u = t.users.c
        clash = conn.scalar(select(u.name).where(u.name_key == name_key(name)))
        if clash is not None:
            raise AccountError(
                f"an account named '{clash}' exists already (names ignore case); "
                "choose another name"
            )
        if email is not None:
            owner = conn.scalar(select(u.name).where(u.email == email))
            if owner is not None:
                raise AccountError(f"the email address {email} belongs to '{owner}' already")

    def set_password_hash(self, user_id: int, password_hash: str, *, rehash: bool = False) -> None:
        """Store a new password hash. ``rehash``: the same password hashed with today's
        settings after a sign-in (not a change by anyone: not logged, author unchanged)."""
        with self.writer.begin() as conn:
            row = conn.execute(select(t.users).where(t.users.c.id == user_id)).one()
            if rehash:
                conn.execute(
                    update(t.users)
                    .where(t.users.c.id == user_id)
                    .values(password_hash=password_hash)
                )
                return
            conn.execute(
                update(t.users)
                .where(t.users.c.id == user_id)
                .values(
                    password_hash=password_hash,
                    updated_at=datetime.now(UTC),
                    updated_by=self.actor,
                )
            )
            self._log(conn, "password set", user=row.name, details={})

    def set_disabled(self, user_id: int, disabled: bool) -> User:
        """Disable (or enable again) an account. The last enabled site administrator
        cannot be disabled."""
        u = t.users.c
        with self.writer.begin() as conn:
            row = conn.execute(select(t.users).where(u.id == user_id).with_for_update()).one()
            if disabled and row.is_admin and row.disabled_at is None:
                others = conn.execute(
                    select(u.id)
                    .where(u.is_admin.is_(True), u.disabled_at.is_(None), u.id != user_id)
                    .with_for_update()
                ).all()
                if not others:
                    raise AccountError(
                        f"'{row.name}' is the only enabled site administrator; make another "
                        "one first (user add NAME --admin), so the site keeps one"
                    )
            now = datetime.now(UTC)
            conn.execute(
                update(t.users)
                .where(u.id == user_id)
                .values(
                    disabled_at=now if disabled else None,
                    disabled_by=self.actor if disabled else None,
                    updated_at=now,
                    updated_by=self.actor,
                )
            )
            self._log(conn, "user disabled" if disabled else "user enabled", user=row.name)
            return _user(conn.execute(select(t.users).where(u.id == user_id)).one())

    # -- workspaces ------------------------------------------------------------------------

    def workspaces(self) -> list[Workspace]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.workspaces).order_by(t.workspaces.c.id)).all()
        return [Workspace(r.id, r.name) for r in rows]

    def workspace(self, ref: int | str) -> Workspace | None:
        """A workspace by id, or by name ignoring case."""
        w = t.workspaces.c
        with self.engine.connect() as conn:
            if isinstance(ref, int) and not isinstance(ref, bool):
                row = conn.execute(select(t.workspaces).where(w.id == ref)).first()
            elif isinstance(ref, str) and ref.strip():
                row = conn.execute(select(t.workspaces).where(w.name_key == name_key(ref))).first()
            else:
                row = None
        return Workspace(row.id, row.name) if row else None

    def add_workspace(self, name: str, *, admin_user_id: int | None = None) -> Workspace:
        """Add a workspace; ``admin_user_id`` becomes its first admin."""
        name = clean_name(name, "workspace name")
        w = t.workspaces.c
        try:
            with self.writer.begin() as conn:
                clash = conn.scalar(select(w.name).where(w.name_key == name_key(name)))
                if clash is not None:
                    raise AccountError(
                        f"a workspace named '{clash}' exists already (names ignore case); "
                        "choose another name"
                    )
                workspace_id = conn.execute(
                    insert(t.workspaces).values(
                        name=name,
                        name_key=name_key(name),
                        created_at=datetime.now(UTC),
                        created_by=self.actor,
                    )
                ).inserted_primary_key[0]
                self._log(conn, "workspace added", workspace=name)
                row = self._workspace_row(conn, workspace_id)
                if admin_user_id is not None:
                    self._grant(conn, row, admin_user_id, Role.ADMIN)
                return Workspace(row.id, row.name)
        except IntegrityError as e:
            raise AccountError(
                f"a workspace named '{name}' exists already; nothing was added"
            ) from e

    # -- memberships -----------------------------------------------------------------------

    def membership(self, user_id: int, workspace_id: int) -> Membership | None:
        found = self._memberships(
            and_(t.memberships.c.user_id == user_id, t.memberships.c.workspace_id == workspace_id)
        )
        return found[0] if found else None

    def memberships_of(self, user_id: int) -> list[Membership]:
        """The user's workspaces with their role, by workspace id."""
        return self._memberships(t.memberships.c.user_id == user_id)

    def members(self, workspace_id: int) -> list[Membership]:
        """A workspace's members with their roles, by name."""
        found = self._memberships(t.memberships.c.workspace_id == workspace_id)
        return sorted(found, key=lambda m: name_key(m.user.name))

    def _memberships(self, where) -> list[Membership]:
        m = t.memberships.c
        query = (
            select(
                t.users,
                m.role,
                t.workspaces.c.id.label("ws_id"),
                t.workspaces.c.name.label("ws_name"),
            )
            .select_from(
                t.memberships.join(t.users, t.users.c.id == m.user_id).join(
                    t.workspaces, t.workspaces.c.id == m.workspace_id
                )
            )
            .where(where)
            .order_by(m.workspace_id, m.user_id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            Membership(
                user=_user(row), workspace=Workspace(row.ws_id, row.ws_name), role=Role(row.role)
            )
            for row in rows
        ]

    def grant(self, workspace_id: int, user_id: int, role: Role) -> Membership:
        """Give the user ``role`` in the workspace (a member's role is changed)."""
        with self.writer.begin() as conn:
            self._grant(conn, self._workspace_row(conn, workspace_id), user_id, Role(role))
        found = self.membership(user_id, workspace_id)
        assert found is not None
        return found

    def revoke(self, workspace_id: int, user_id: int) -> Membership:
        """Remove the user from the workspace; returns the membership removed."""
        m = t.memberships.c
        with self.writer.begin() as conn:
            workspace = self._workspace_row(conn, workspace_id)
            user = conn.execute(select(t.users).where(t.users.c.id == user_id)).one()
            row = conn.execute(
                select(t.memberships)
                .where(m.workspace_id == workspace_id, m.user_id == user_id)
                .with_for_update()
            ).first()
            if row is None:
                raise AccountError(
                    f"{user.name} is not a member of workspace '{workspace.name}'; "
                    "nothing to remove"
                )
            if row.role == Role.ADMIN.value:
                self._refuse_last_admin(conn, workspace, user, "removed")
            conn.execute(delete(t.memberships).where(m.id == row.id))
            self._log(
                conn,
                "role revoked",
                user=user.name,
                workspace=workspace.name,
                details={"role": row.role},
            )
            return Membership(_user(user), Workspace(workspace.id, workspace.name), Role(row.role))

    def _grant(self, conn: Connection, workspace: Row, user_id: int, role: Role) -> None:
        m = t.memberships.c
        user = conn.execute(select(t.users).where(t.users.c.id == user_id)).one()
        row = conn.execute(
            select(t.memberships)
            .where(m.workspace_id == workspace.id, m.user_id == user_id)
            .with_for_update()
        ).first()
        now = datetime.now(UTC)
        if row is None:
            conn.execute(
                insert(t.memberships).values(
                    workspace_id=workspace.id,
                    user_id=user_id,
                    role=role.value,
                    created_at=now,
                    created_by=self.actor,
                    updated_at=now,
                    updated_by=self.actor,
                )
            )
            before = None
        elif row.role == role.value:
            return
        else:
            if row.role == Role.ADMIN.value:
                self._refuse_last_admin(conn, workspace, user, f"made {role.value}")
            conn.execute(
                update(t.memberships)
                .where(m.id == row.id)
                .values(role=role.value, updated_at=now, updated_by=self.actor)
            )
            before = row.role
        self._log(
            conn,
            "role granted",
            user=user.name,
            workspace=workspace.name,
            details={"role": role.value, "before": before},
        )

    def _refuse_last_admin(self, conn: Connection, workspace: Row, user: Row, what: str) -> None:
        m, u = t.memberships.c, t.users.c
        others = conn.execute(
            select(m.id)
            .join(t.users, u.id == m.user_id)
            .where(
                m.workspace_id == workspace.id,
                m.role == Role.ADMIN.value,
                m.user_id != user.id,
                u.disabled_at.is_(None),
            )
            .with_for_update()
        ).all()
        if not others:
            raise AccountError(
                f"{user.name} is the only admin of workspace '{workspace.name}' and cannot be "
                f"{what}; make another member admin first"
            )

    def _workspace_row(self, conn: Connection, workspace_id: int) -> Row:
        return conn.execute(select(t.workspaces).where(t.workspaces.c.id == workspace_id)).one()

    # -- the account log -------------------------------------------------------------------

    def events(self, limit: int | None = None) -> list[AccountEvent]:
        """The account log, newest first."""
        e = t.account_events.c
        query = select(t.account_events).order_by(e.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            AccountEvent(
                id=r.id,
                created_at=_aware(r.created_at),
                created_by=r.created_by,
                action=r.action,
                user=r.user_name,
                workspace=r.workspace_name,
                details=dict(r.details or {}),
            )
            for r in rows
        ]

    def _log(
        self,
        conn: Connection,
        action: str,
        *,
        user: str | None = None,
        workspace: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        conn.execute(
            insert(t.account_events).values(
                created_at=datetime.now(UTC),
                created_by=self.actor,
                action=action,
                user_name=user,
                workspace_name=workspace,
                details=details or {},
            )
        )


def _lock_users(conn: Connection) -> None:
    """Serialise "is there an account yet?" with other writers of accounts. SQLite's write
    transactions are serialised already (BEGIN IMMEDIATE); PostgreSQL locks the table."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
