"""Signing in, and opening a workspace for a user: the one place pages and the CLI check
who may do what.

For the sign-in page (Streamlit) and the CLI:

* ``has_accounts(engine) -> bool``: False until the first account exists (then every page
  and command except creating the first administrator and ``demo`` is refused,
  :class:`NoAccounts`, with :data:`NO_ACCOUNTS_HINT`).
* ``authenticate(engine, name, password) -> User | None``: a local sign-in. None for an
  unknown name, a wrong password, an account without a password or a disabled one, all
  alike and at the same cost (an unknown name is checked against a dummy hash), so the
  answer does not tell which names exist. A correct password stored with older hashing
  settings is re-hashed on the way.
* ``user_for_identity(engine, email, email_verified) -> User | None``: the account an
  OpenID Connect sign-in (``st.login``; ``st.user.email``, ``st.user.email_verified``)
  belongs to: the enabled account whose email is that verified address. Accounts are
  never created by signing in: a site administrator adds them first, with ``--email``
  (``python -m trials user add NAME --email ADDRESS``); an unverified or unknown address
  gets None.
* ``workspaces_of(engine, user_name) -> list[Membership]``: the user's workspaces with
  their role (for a workspace picker); ``default_workspace(memberships)`` is the one to
  open first (Default if they are a member, else their only one, else None: let them pick).
* ``open_workspace(engine, user_name, workspace=None) -> TrialStore``: the store of one
  workspace (name or id; None: the default as above) bound to the user as the author of
  every write and to their role there. Raises :class:`AccountError` for an unknown or
  disabled account or a workspace they are not a member of (the same words whether or not
  it exists), :class:`NoAccounts` when there are none. Call it on every page run (not once
  per session): a role revoked or an account disabled then takes effect on the next run,
  and a write by a store opened earlier is refused anyway (the store checks the account
  again inside every write's transaction).

The store refuses a viewer's writes (``PermissionDenied``, before anything changes) and
confines every trial id and name to its workspace; ``store.role`` and ``store.can_write``
say what to show. Managing accounts (``add_user``, ``set_password``, ``disable_user``,
``add_workspace``, ``grant``, ``revoke``, ...) takes the acting user's name and checks
that they may: site administrators add accounts and workspaces; workspace admins (and site
administrators) grant and revoke roles; a user may change their own password.

The command line does not ask for passwords: ``--as USER`` (or ``TRIALS_USER``) names
who is acting, and whoever can open the database can act as anyone. Passwords guard the
web app; the database's own access (file permissions, PostgreSQL credentials) guards it.

``ensure_demo_admin`` is a convenience for one person trying the app on their own
computer (``make app``): with no accounts yet it creates the administrator ``demo`` with
a random password kept in ``first-sign-in.txt`` (mode 0600) in the data directory.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from trials.domain.accounts import (
    MAX_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    AccountError,
    AccountEvent,
    Action,
    Membership,
    PermissionDenied,
    Role,
    User,
    Workspace,
    check_new_password,
    name_key,
)
from trials.storage.accounts import AccountRepository, FirstAccountTaken
from trials.storage.schema import DEFAULT_WORKSPACE_ID
from trials.storage.store import TrialStore
from trials.storage.trials import current_actor

__all__ = [
    "DEMO_USER",
    "FIRST_SIGN_IN_FILE",
    "NO_ACCOUNTS_HINT",
    "DemoSignIn",
    "NoAccounts",
    "account_log",
    "acting_user",
    "add_user",
    "add_workspace",
    "authenticate",
    "default_actor",
    "default_workspace",
    "disable_user",
    "enable_user",
    "ensure_demo_admin",
    "grant",
    "has_accounts",
    "hash_password",
    "list_users",
    "list_workspaces",
    "members",
    "open_workspace",
    "revoke",
    "set_password",
    "user_for_identity",
    "workspaces_of",
]

NO_ACCOUNTS_HINT = (
    "there are no accounts yet. Create the first administrator with "
    "`python -m trials user add NAME --admin --password-stdin` (the password is read from "
    "standard input), or, to try the app alone on this computer, run `python -m trials demo`"
)
DEMO_USER = "demo"
FIRST_SIGN_IN_FILE = "first-sign-in.txt"

# Argon2id with the library's defaults (RFC 9106's second recommendation).
_HASHER = PasswordHasher()


class NoAccounts(AccountError):
    """Nothing can be done before the first account exists."""

    def __init__(self) -> None:
        super().__init__(NO_ACCOUNTS_HINT)


# -- passwords -----------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """The Argon2id hash of an acceptable new password (AccountError, without repeating
    the password, for one that is too short, too long or empty)."""
    return _HASHER.hash(check_new_password(password))


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(24))


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(engine: Engine, name: str, password: str) -> User | None:
    """The account, if ``password`` is its password and it is enabled; None otherwise.

    Every failure looks and costs the same (one Argon2 verification, against a dummy hash
    when there is no account or no password to check), so names cannot be probed.
    """
    repo = AccountRepository(engine)
    usable_input = (
        isinstance(name, str)
        and 0 < len(name.strip()) <= MAX_NAME_LENGTH
        and isinstance(password, str)
        and 0 < len(password) <= MAX_PASSWORD_LENGTH
    )
    found = repo.credentials(name) if usable_input else None
    user, stored = found if found else (None, None)
    usable = user is not None and not user.disabled and stored is not None
    matches = _verify(stored if usable else _dummy_hash(), password if usable_input else "x")
    if not (usable and matches):
        return None
    assert user is not None and stored is not None
    if _HASHER.check_needs_rehash(stored):
        # Renewing the hash is a courtesy: a database that cannot be written to now (read
        # only, busy) must not stop a correct sign-in; the next one tries again.
        with contextlib.suppress(SQLAlchemyError):
            AccountRepository(engine, actor=user.name).set_password_hash(
                user.id, _HASHER.hash(password), rehash=True
            )
    return user


def user_for_identity(engine: Engine, email: str | None, email_verified: object) -> User | None:
    """The enabled account with this email, if the identity provider verified it."""
    verified = email_verified is True or (
        isinstance(email_verified, str) and email_verified.strip().lower() == "true"
    )
    if not verified or not isinstance(email, str) or not email.strip():
        return None
    user = AccountRepository(engine).user_by_email(email)
    return user if user is not None and not user.disabled else None


# -- who is acting, and where --------------------------------------------------------------


def default_actor() -> tuple[str, str]:
    """Who acts when a command does not say (``--as``): ``TRIALS_USER``, else the
    operating-system user; with where the name came from, for messages."""
    name = os.environ.get("TRIALS_USER", "").strip()
    if name:
        return name, "from TRIALS_USER"
    return current_actor(), "the operating-system user"


def has_accounts(engine: Engine) -> bool:
    return AccountRepository(engine).has_users()


def acting_user(engine: Engine, name: str | None, *, named_by: str = "") -> User:
    """The enabled account ``name`` (AccountError otherwise; NoAccounts when there is
    none at all). ``named_by`` says where the name came from, for the message."""
    repo = AccountRepository(engine)
    user = repo.user(name) if name else None
    if user is None:
        if not repo.has_users():
            raise NoAccounts()
        source = f" ({named_by})" if named_by else ""
        shown = (name or "")[:80]
        raise AccountError(
            f"no account named '{shown}'{source}; act as an existing account with --as USER "
            "or TRIALS_USER=USER (a site administrator lists them: python -m trials user list)"
        )
    if user.disabled:
        raise AccountError(
            f"the account '{user.name}' is disabled; a site administrator can "
            f"enable it (python -m trials user enable '{user.name}')"
        )
    return user


def workspaces_of(engine: Engine, user_name: str) -> list[Membership]:
    """The workspaces an enabled account is a member of, with its role in each."""
    user = acting_user(engine, user_name)
    return AccountRepository(engine, actor=user.name).memberships_of(user.id)


def default_workspace(memberships: Sequence[Membership]) -> Membership | None:
    """The workspace to open when none is named: Default if a member, else the only one."""
    for m in memberships:
        if m.workspace.id == DEFAULT_WORKSPACE_ID:
            return m
    return memberships[0] if len(memberships) == 1 else None


def _listed(memberships: Sequence[Membership]) -> str:
    return ", ".join(f"'{m.workspace.name}' ({m.role.value})" for m in memberships)


def _membership(engine: Engine, user: User, workspace: int | str | None) -> Membership:
    memberships = AccountRepository(engine, actor=user.name).memberships_of(user.id)
    if not memberships:
        raise AccountError(
            f"{user.name} is not a member of any workspace yet; a workspace admin adds them "
            f"with `python -m trials workspace grant WORKSPACE '{user.name}' --role editor`"
        )
    if workspace is None or (isinstance(workspace, str) and not workspace.strip()):
        chosen = default_workspace(memberships)
        if chosen is None:
            raise AccountError(
                f"{user.name} is a member of several workspaces; name one with --workspace "
                f"NAME: {_listed(memberships)}"
            )
        return chosen
    for m in memberships:
        if m.workspace.id == workspace:
            return m
        if isinstance(workspace, str) and _same_name(m.workspace.name, workspace):
            return m
    # The same words whether or not such a workspace exists.
    shown = str(workspace)[:80]
    raise AccountError(
        f"{user.name} is not a member of a workspace named '{shown}'; theirs: "
        f"{_listed(memberships)}"
    )


def _same_name(a: str, b: str) -> bool:
    return name_key(a) == name_key(b)


def open_workspace(
    engine: Engine, user_name: str, workspace: int | str | None = None
) -> TrialStore:
    """The trial store of a workspace the user is a member of, acting as that user with
    their role there (see the module's docstring)."""
    user = acting_user(engine, user_name)
    m = _membership(engine, user, workspace)
    store = TrialStore(
        engine,
        workspace_id=m.workspace.id,
        actor=user.name,
        role=m.role,
        user_id=user.id,
        workspace_name=m.workspace.name,
    )
    store.membership = m
    return store


# -- managing accounts ---------------------------------------------------------------------


def _site_admin(engine: Engine, actor: str, refused: str) -> User:
    user = acting_user(engine, actor)
    if not user.is_admin:
        raise PermissionDenied(
            user.name,
            None,
            refused,
            standing="is not a site administrator",
            hint="Ask a site administrator",
        )
    return user


def _bootstrap_actor() -> str:
    """Who made the first account: the operating-system user (or TRIALS_USER), cleaned."""
    text = "".join(
        c for c in current_actor() if unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp")
    )
    return (text.strip() or "unknown")[:MAX_NAME_LENGTH]


def add_user(
    engine: Engine,
    actor: str | None,
    name: str,
    *,
    password: str | None = None,
    email: str | None = None,
    is_admin: bool = False,
) -> User:
    """Add an account. With no account yet, ``actor`` may be None and the account must be
    a site administrator (the first one); after that only a site administrator may add
    accounts. ``password`` None: the account signs in only through the identity provider
    (by ``email``) or is named with ``--as``."""
    password_hash = hash_password(password) if password is not None else None
    repo = AccountRepository(engine, actor=_bootstrap_actor())
    if not repo.has_users():
        if not is_admin:
            raise AccountError(
                "the first account must be a site administrator: add --admin "
                "(it can then add the others); nothing was added"
            )
        try:
            return repo.add_user(
                name,
                email=email,
                password_hash=password_hash,
                is_admin=True,
                first=True,
                workspace_role=(DEFAULT_WORKSPACE_ID, Role.ADMIN),
            )
        except FirstAccountTaken:
            if actor is None:
                raise
    if actor is None:
        raise AccountError(
            "accounts exist already: say which site administrator adds this one (--as ADMIN)"
        )
    admin = _site_admin(engine, actor, "add accounts")
    return AccountRepository(engine, actor=admin.name).add_user(
        name, email=email, password_hash=password_hash, is_admin=is_admin
    )


def _target(engine: Engine, name: str) -> User:
    user = AccountRepository(engine).user(name) if name else None
    if user is None:
        raise AccountError(f"no account named '{str(name)[:80]}'; nothing was changed")
    return user


def set_password(engine: Engine, actor: str, name: str, password: str) -> User:
    """Set an account's password: their own, or anyone's for a site administrator."""
    me = acting_user(engine, actor)
    target = _target(engine, name)
    if target.id != me.id and not me.is_admin:
        raise PermissionDenied(
            me.name,
            None,
            f"set {target.name}'s password",
            standing="is not a site administrator",
            hint="Each user sets their own password; a site administrator may set anyone's",
        )
    password_hash = hash_password(password)
    AccountRepository(engine, actor=me.name).set_password_hash(target.id, password_hash)
    return _target(engine, target.name)


def disable_user(engine: Engine, actor: str, name: str) -> User:
    """Disable an account (site administrators): it can no longer sign in or act; its
    name stays on everything it wrote."""
    admin = _site_admin(engine, actor, "disable accounts")
    target = _target(engine, name)
    return AccountRepository(engine, actor=admin.name).set_disabled(target.id, True)


def enable_user(engine: Engine, actor: str, name: str) -> User:
    admin = _site_admin(engine, actor, "enable accounts")
    target = _target(engine, name)
    return AccountRepository(engine, actor=admin.name).set_disabled(target.id, False)


def list_users(engine: Engine, actor: str) -> list[tuple[User, list[Membership]]]:
    """Every account with its workspaces (site administrators only)."""
    admin = _site_admin(engine, actor, "list accounts")
    repo = AccountRepository(engine, actor=admin.name)
    return [(user, repo.memberships_of(user.id)) for user in repo.users()]


def add_workspace(engine: Engine, actor: str, name: str) -> Workspace:
    """Add a workspace (site administrators); its creator becomes its admin."""
    admin = _site_admin(engine, actor, "add workspaces")
    return AccountRepository(engine, actor=admin.name).add_workspace(name, admin_user_id=admin.id)


def list_workspaces(engine: Engine, actor: str) -> list[tuple[Workspace, Role | None]]:
    """The workspaces the actor may see with their role there: a site administrator sees
    every workspace (role None where they hold none); others see theirs."""
    user = acting_user(engine, actor)
    repo = AccountRepository(engine, actor=user.name)
    roles = {m.workspace.id: m.role for m in repo.memberships_of(user.id)}
    if user.is_admin:
        return [(w, roles.get(w.id)) for w in repo.workspaces()]
    return [(m.workspace, m.role) for m in repo.memberships_of(user.id)]


def _workspace_for(engine: Engine, user: User, workspace: str | int, *, manage: bool):
    """The workspace (by name or id) the user may see (``manage``: manage members of):
    site administrators any, others those they hold a role in (an admin role to manage).
    Refusals use the same words whether or not the workspace exists."""
    repo = AccountRepository(engine, actor=user.name)
    found = repo.workspace(workspace)
    membership = repo.membership(user.id, found.id) if found else None
    if found is not None and user.is_admin:
        return found
    if found is None or membership is None:
        raise AccountError(
            f"{user.name} is not a member of a workspace named '{str(workspace)[:80]}'"
            + ("" if user.is_admin else "; `python -m trials workspace list` shows theirs")
        )
    if manage and not membership.role.allows(Action.MANAGE_MEMBERS):
        raise PermissionDenied(
            user.name,
            membership.role,
            "add or remove members",
            workspace=found.name,
            hint="Ask an admin of the workspace",
        )
    return found


def members(engine: Engine, actor: str, workspace: str | int) -> list[Membership]:
    """A workspace's members and roles (for its members and site administrators)."""
    user = acting_user(engine, actor)
    found = _workspace_for(engine, user, workspace, manage=False)
    return AccountRepository(engine, actor=user.name).members(found.id)


def grant(
    engine: Engine, actor: str, workspace: str | int, user_name: str, role: Role | str
) -> Membership:
    """Give ``user_name`` ``role`` in the workspace, or change their role (workspace
    admins and site administrators). A workspace keeps at least one enabled admin."""
    me = acting_user(engine, actor)
    role = Role.parse(role) if isinstance(role, str) else Role(role)
    found = _workspace_for(engine, me, workspace, manage=True)
    target = _target(engine, user_name)
    if target.disabled:
        raise AccountError(
            f"the account '{target.name}' is disabled; enable it first (python -m trials "
            f"user enable '{target.name}'); nothing was changed"
        )
    return AccountRepository(engine, actor=me.name).grant(found.id, target.id, role)


def revoke(engine: Engine, actor: str, workspace: str | int, user_name: str) -> Membership:
    """Remove ``user_name`` from the workspace (workspace admins, site administrators).
    The last enabled admin cannot be removed."""
    me = acting_user(engine, actor)
    found = _workspace_for(engine, me, workspace, manage=True)
    target = _target(engine, user_name)
    return AccountRepository(engine, actor=me.name).revoke(found.id, target.id)


def account_log(engine: Engine, actor: str, limit: int | None = None) -> list[AccountEvent]:
    """Who added, changed, granted and revoked what, newest first (site administrators)."""
    admin = _site_admin(engine, actor, "read the account log")
    return AccountRepository(engine, actor=admin.name).events(limit)


# -- the local demo administrator ----------------------------------------------------------


@dataclass(frozen=True)
class DemoSignIn:
    """How to sign in as the local demo administrator (see :func:`ensure_demo_admin`)."""

    name: str
    password: str
    path: Path | None  # where the password is kept (None: it could not be saved)
    created: bool  # made just now

    @property
    def hint(self) -> str:
        return (
            f"Sign in as {self.name} with password {self.password}; change it with "
            f"python -m trials user passwd {self.name} --password-stdin"
        )


def ensure_demo_admin(engine: Engine, folder: Path, database: str) -> DemoSignIn | None:
    """With no account yet, make the site administrator ``demo`` (admin of the Default
    workspace) with a random password, kept in ``folder/first-sign-in.txt`` (mode 0600)
    beside the note of which ``database`` it is for. Later, while that file still names
    this database and its password still signs ``demo`` in, the same sign-in is returned
    (a stale file is removed). None otherwise.

    A convenience for one person on their own computer: anyone who can read the file, or
    the output, can sign in as an administrator. Change the password (or add real
    accounts and disable ``demo``) before the app is reachable by others.
    """
    path = Path(folder) / FIRST_SIGN_IN_FILE
    repo = AccountRepository(engine, actor=_bootstrap_actor())
    if not repo.has_users():
        password = secrets.token_urlsafe(18)
        try:
            repo.add_user(
                DEMO_USER,
                password_hash=_HASHER.hash(password),
                is_admin=True,
                first=True,
                workspace_role=(DEFAULT_WORKSPACE_ID, Role.ADMIN),
            )
        except FirstAccountTaken:
            return _saved_sign_in(engine, path, database)
        try:
            _write_private(path, _sign_in_text(database, password))
        except OSError:
            return DemoSignIn(DEMO_USER, password, None, created=True)
        return DemoSignIn(DEMO_USER, password, path, created=True)
    return _saved_sign_in(engine, path, database)


def only_the_demo_administrator(engine: Engine) -> bool:
    """Whether the one account is the demo administrator as it was made, its password
    never set since: a first start on this computer (another start at the same moment may
    have made it and not yet saved its sign-in). Once its password is changed, commands
    act as whoever they name, like on any site."""
    repo = AccountRepository(engine)
    users = repo.users()
    if len(users) != 1 or users[0].name != DEMO_USER or users[0].disabled:
        return False
    return not any(e.action == "password set" and e.user == DEMO_USER for e in repo.events())


def _sign_in_text(database: str, password: str) -> str:
    return (
        "Channel Trials: the local demo administrator, for trying the app on this computer.\n"
        "Change the password (python -m trials user passwd demo --password-stdin) before\n"
        "anyone else can reach the app; this file is then of no further use.\n"
        f"database: {database}\n"
        f"user: {DEMO_USER}\n"
        f"password: {password}\n"
    )


def _saved_sign_in(engine: Engine, path: Path, database: str) -> DemoSignIn | None:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            fields[key] = value
    if fields.get("database") != database:
        return None  # written for another database: not ours to judge
    name, password = fields.get("user", ""), fields.get("password", "")
    if name and password and authenticate(engine, name, password) is not None:
        return DemoSignIn(name, password, path, created=False)
    # The password was changed (or the account disabled): the file is stale.
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
    return None


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
