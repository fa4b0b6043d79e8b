"""Who may do what: accounts, workspaces, and the roles members hold in them.

A **workspace** holds trials (and their data, orders, rules and decisions). A **user** is
a member of some workspaces, each with one **role**:

========  ====================================================================
viewer    read trials, results, decisions; export and download reports
editor    what a viewer may, and create, import, amend, decide, change, undo,
          archive and delete trials in the workspace
admin     what an editor may, and add or remove members and change their roles
========  ====================================================================

A **site administrator** (``User.is_admin``) adds accounts and workspaces and may manage
the members of any workspace; being one does not by itself open a workspace's trials
(a site administrator grants themselves a role, which the account log records).

Names of users and workspaces follow one rule (:func:`clean_name`): 1 to 120 characters
once trimmed, no control or invisible formatting characters, unique ignoring case
(:func:`name_key`). A user's name is what every write records as its author, so names are
never reused: accounts are disabled, not deleted.

Everything here is plain Python; the store (``trials.storage.accounts``) keeps them and
the application layer (``trials.analysis.accounts``) checks passwords and opens a
workspace's trial store for a user.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from trials.domain.errors import UserError

__all__ = [
    "MAX_NAME_LENGTH",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "ROLE_DESCRIPTIONS",
    "AccountError",
    "AccountEvent",
    "Action",
    "Membership",
    "PermissionDenied",
    "Role",
    "User",
    "Workspace",
    "check_new_password",
    "clean_email",
    "clean_name",
    "name_key",
]

MAX_NAME_LENGTH = 120
# A name's case-insensitive key may grow when folded (ß → ss); the store keeps up to this.
MAX_NAME_KEY_LENGTH = 240
MAX_EMAIL_LENGTH = 254
MIN_PASSWORD_LENGTH = 12
# Long enough for any passphrase; bounded so a huge input cannot tie up the hasher.
MAX_PASSWORD_LENGTH = 1024

# Unicode categories refused in names: control (Cc), invisible formatting such as
# zero-width and right-to-left overrides (Cf), line/paragraph separators, surrogates,
# private use and unassigned code points.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


class AccountError(UserError):
    """A mistake with an account, a workspace or a membership (a name taken, unknown...)."""


class Action(StrEnum):
    """What a member may do in a workspace."""

    READ = "read"  # see trials, results and decisions; export and download reports
    WRITE = "write"  # create, import, amend, decide, change, undo, archive, delete
    MANAGE_MEMBERS = "manage members"  # grant and revoke roles in the workspace


class Role(StrEnum):
    """A member's role in one workspace: viewer < editor < admin."""

    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def at_least(self, other: Role | str) -> bool:
        return self.rank >= Role(other).rank

    def allows(self, action: Action | str) -> bool:
        return Action(action) in _ALLOWED[self]

    @property
    def actions(self) -> tuple[Action, ...]:
        return tuple(a for a in Action if a in _ALLOWED[self])

    @classmethod
    def parse(cls, text: str) -> Role:
        """A role from its name (any case); AccountError naming the choices otherwise."""
        try:
            return cls(str(text).strip().lower())
        except ValueError:
            choices = ", ".join(r.value for r in cls)
            raise AccountError(f"'{text}' is not a role; choose one of {choices}") from None


_RANKS = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2}
_ALLOWED = {
    Role.VIEWER: frozenset({Action.READ}),
    Role.EDITOR: frozenset({Action.READ, Action.WRITE}),
    Role.ADMIN: frozenset({Action.READ, Action.WRITE, Action.MANAGE_MEMBERS}),
}
ROLE_DESCRIPTIONS = {
    Role.VIEWER: "reads trials, results and decisions; exports and downloads reports",
    Role.EDITOR: "also creates trials, imports data, amends plans, records decisions, "
    "undoes imports, archives and deletes",
    Role.ADMIN: "also adds and removes the workspace's members and changes their roles",
}


class PermissionDenied(UserError):
    """A user tried something their role (or account) does not allow; nothing was changed.

    ``user``, ``role`` (None when they hold none) and ``refused`` (what they tried, in
    words: "import data") are kept for the UI to show beside the control. ``standing``
    replaces the "is a viewer in workspace …" part (e.g. "is not a site administrator").
    """

    def __init__(
        self,
        user: str,
        role: Role | None,
        refused: str,
        *,
        workspace: str | None = None,
        hint: str | None = None,
        standing: str | None = None,
    ):
        self.user = user
        self.role = role
        self.refused = refused
        self.workspace = workspace
        where = f" in workspace '{workspace}'" if workspace else ""
        if standing is not None:  # e.g. "is not a site administrator"
            who = f"{user} {standing}"
        elif role is None:
            who = f"{user} has no role{where}"
        else:
            who = f"{user} is {_article(role)} {role.value}{where}"
        message = f"{who} and cannot {refused}; nothing was changed"
        if hint:
            message += f". {hint}"
        super().__init__(message)


def _article(role: Role) -> str:
    return "an" if role.value[0] in "aeiou" else "a"


@dataclass(frozen=True)
class User:
    """An account. ``is_admin``: a site administrator. ``has_password``: may sign in with a
    password (else only through the identity provider, by ``email``, or be named with
    ``--as`` on the command line). ``disabled`` accounts can neither sign in nor act."""

    id: int
    name: str
    email: str | None = None
    is_admin: bool = False
    has_password: bool = False
    disabled: bool = False
    created_at: datetime | None = None
    created_by: str | None = None


@dataclass(frozen=True)
class Workspace:
    id: int
    name: str


@dataclass(frozen=True)
class Membership:
    """A user's role in one workspace (what they may do there: :meth:`can`)."""

    user: User
    workspace: Workspace
    role: Role

    def can(self, action: Action | str) -> bool:
        return not self.user.disabled and self.role.allows(action)


@dataclass(frozen=True)
class AccountEvent:
    """One entry of the account log: who added, changed, granted or revoked what."""

    id: int
    created_at: datetime
    created_by: str
    action: str  # user added, password set, user disabled, ..., role granted, role revoked
    user: str | None
    workspace: str | None
    details: dict


def clean_name(text: object, what: str = "name") -> str:
    """``text`` trimmed, if it is a good user or workspace name; AccountError otherwise.

    ``what`` names the field in the message ("user name", "workspace name").
    """
    if not isinstance(text, str):
        raise AccountError(f"the {what} must be text")
    name = unicodedata.normalize("NFC", text.strip())
    if not name:
        raise AccountError(f"the {what} is empty; give 1 to {MAX_NAME_LENGTH} characters")
    if len(name) > MAX_NAME_LENGTH:
        raise AccountError(
            f"the {what} is {len(name)} characters long; the most is {MAX_NAME_LENGTH}"
        )
    for position, char in enumerate(name, start=1):
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise AccountError(
                f"the {what} has an invisible or control character (U+{ord(char):04X}, "
                f"character {position}); use letters, digits, spaces and punctuation"
            )
    if len(name_key(name)) > MAX_NAME_KEY_LENGTH:
        raise AccountError(f"the {what} is too long once folded to lower case; shorten it")
    return name


def name_key(name: str) -> str:
    """What two names must differ in to be different: case, width and trimming ignored."""
    return unicodedata.normalize("NFKC", name.strip()).casefold()


def clean_email(text: object) -> str | None:
    """An email address trimmed and lower-cased; None for a blank; AccountError otherwise."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise AccountError("the email address must be text")
    email = text.strip()
    if not email:
        return None
    local, at, domain = email.rpartition("@")
    shown = email[:80]
    if (
        not at
        or not local
        or "." not in domain
        or domain.startswith(".")
        or domain.endswith(".")
        or any(c.isspace() or unicodedata.category(c) in _REFUSED_CATEGORIES for c in email)
    ):
        raise AccountError(f"'{shown}' is not an email address; write it like name@example.com")
    if len(email) > MAX_EMAIL_LENGTH:
        raise AccountError(
            f"the email address is {len(email)} characters long; the most is {MAX_EMAIL_LENGTH}"
        )
    return email.lower()


def check_new_password(password: object) -> str:
    """The password, if it is acceptable for an account; AccountError otherwise.

    The message never repeats the password.
    """
    if not isinstance(password, str) or not password:
        raise AccountError("the password is empty; nothing was changed")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"the password is {len(password)} characters long; use at least "
            f"{MIN_PASSWORD_LENGTH} (a few unrelated words make a good one); nothing was changed"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(
            f"the password is {len(password)} characters long; the most is "
            f"{MAX_PASSWORD_LENGTH}; nothing was changed"
        )
    if password.strip() == "":
        raise AccountError("the password is only spaces; nothing was changed")
    return password
