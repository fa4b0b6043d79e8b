"""Who is using the app: signing in (the team's identity provider, or a local account),
the workspace they are in, and signing out.

``signed_in_store()`` runs first on every page run (``app.py``). Until someone is signed
in it draws the sign-in page and returns None, and ``app.py`` stops the run there, so no
page shows a trial, a number or a form before sign-in (the page asked for stays in the
address, and opens once signed in). Once signed in it opens the chosen workspace for that
user through ``trials.analysis.accounts.open_workspace`` (every run: a role revoked or an account
disabled takes effect on the next click) and keeps that store for the page.

Identity provider: ``st.login`` when ``[auth]`` is configured in ``.streamlit/secrets.toml``;
the provider's verified email must belong to an account (``python -m trials user add NAME
--email ADDRESS``); Streamlit keeps that sign-in in its own signed cookie. Local accounts:
name and password, checked with Argon2 by ``authenticate``; repeated failures for one name
are slowed down (``_Throttle``). A local sign-in is remembered by this server for the
browser (``_Sessions``: a random token in a cookie, only its SHA-256 kept here; 12 hours
idle or 7 days at most; forgotten on sign-out and when the server restarts), so reloading
a page or opening a link in a new tab does not ask again.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field

import streamlit as st
from sqlalchemy import Engine

from trials.analysis.accounts import (
    authenticate,
    default_workspace,
    has_accounts,
    open_workspace,
    user_for_identity,
    workspaces_of,
)
from trials.domain import UserError
from trials.domain.accounts import Membership, name_key
from trials.storage.store import TrialStore
from ui.session import STORE_KEY
from ui.text import md

__all__ = ["SIGNED_IN_KEY", "STORE_KEY", "WORKSPACE_KEY", "signed_in_store"]

SIGNED_IN_KEY = "_signed_in_as"  # the account name a local sign-in was made with
WORKSPACE_KEY = "_workspace_id"

FIRST_ADMIN = "python -m trials user add NAME --admin --password-stdin"


class _NotSignedIn(Exception):
    """The sign-in page (or why access ends) is drawn; nothing else may be."""


def signed_in_store(engine: Engine) -> TrialStore | None:
    """The signed-in user's store for the chosen workspace; None when the sign-in page
    (or a reason there is no access) was drawn instead: the caller stops the run then."""
    st.session_state.pop(STORE_KEY, None)
    try:
        return _open(engine)
    except _NotSignedIn:
        return None


def _open(engine: Engine) -> TrialStore:
    name = _signed_in_name(engine)
    if name is None:
        _sign_in_page(engine)
        raise _NotSignedIn
    try:
        memberships = workspaces_of(engine, name)
    except UserError as e:  # the account was disabled or removed since signing in
        _signed_out_page(f"You are signed out: {e}")
    if not memberships:
        _signed_out_page(
            f"{name} is not a member of any workspace yet. Ask a workspace admin to add you "
            f"(python -m trials workspace grant WORKSPACE '{name}' --role editor).",
            sign_out=True,
        )
    membership = _pick_workspace(memberships)
    try:
        trials = open_workspace(engine, name, membership.workspace.id)
    except UserError as e:
        _signed_out_page(str(e), sign_out=True)
    _sidebar(trials, membership)
    st.session_state[STORE_KEY] = trials
    return trials


# -- who is signed in --------------------------------------------------------------------


def _provider_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: no identity provider
        return False


def _signed_in_name(engine: Engine) -> str | None:
    local = st.session_state.get(SIGNED_IN_KEY)
    if local:
        return local
    remembered = _SESSIONS.user_for(_cookie())
    if remembered:
        st.session_state[SIGNED_IN_KEY] = remembered
        st.session_state[_TOKEN_KEY] = _cookie()
        return remembered
    if _provider_configured() and st.user.is_logged_in:
        email = st.user.get("email")
        user = user_for_identity(engine, email, st.user.get("email_verified"))
        if user is None:
            shown = md(str(email or "no address")[:120])
            st.title("Channel Trials")
            st.warning(
                f"You signed in as {shown}, but no Channel Trials account has that verified "
                "address. Ask an administrator to add you "
                "(python -m trials user add NAME --email ADDRESS), then sign in again.",
                icon=":material/person_off:",
            )
            if st.button("Sign out"):
                st.logout()
            raise _NotSignedIn
        return user.name
    return None


def _sign_in_page(engine: Engine) -> None:
    with st.columns([1, 2, 1])[1]:  # a narrow column in the middle of the wide layout
        _sign_in_form(engine)


def _sign_in_form(engine: Engine) -> None:
    st.title("Channel Trials")
    if not has_accounts(engine):
        st.info(
            "There are no accounts yet. Whoever runs Channel Trials creates the first "
            f"administrator on the server: `{FIRST_ADMIN}`. On your own computer, "
            "`make app` creates a demo administrator and prints how to sign in.",
            icon=":material/person_add:",
        )
        return
    st.caption("Sign in to see your team's trials.")
    if _provider_configured():
        label = str(st.secrets["auth"].get("button_label", "Sign in with your company account"))
        if st.button(md(label), type="primary", icon=":material/login:"):
            st.login()
        st.caption("Or with a Channel Trials password:")
    with st.form("sign_in", border=True):
        name = st.text_input("Name", max_chars=120, autocomplete="username")
        password = st.text_input(
            "Password", type="password", max_chars=1024, autocomplete="current-password"
        )
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    wait = _THROTTLE.wait(name)
    if wait:
        st.error(
            f"Too many attempts for this name. Try again in {_duration(wait)}.",
            icon=":material/timer:",
        )
        return
    user = authenticate(engine, name, password)
    if user is None:
        _THROTTLE.failed(name)
        st.error(
            "That name and password do not match an account that may sign in. Check both; "
            "an administrator can set a new password (python -m trials user passwd NAME "
            "--password-stdin).",
            icon=":material/lock:",
        )
        return
    _THROTTLE.succeeded(name)
    st.session_state[SIGNED_IN_KEY] = user.name
    token = _SESSIONS.start(user.name)
    st.session_state[_TOKEN_KEY] = st.session_state[_NEW_TOKEN_KEY] = token
    st.rerun()


def _signed_out_page(message: str, *, sign_out: bool = False) -> None:
    st.session_state.pop(SIGNED_IN_KEY, None)
    _forget_sign_in()
    st.title("Channel Trials")
    st.warning(md(message), icon=":material/person_off:")
    if sign_out and _provider_configured() and st.user.is_logged_in and st.button("Sign out"):
        st.logout()
    raise _NotSignedIn


# -- the workspace and the sidebar -------------------------------------------------------


def _pick_workspace(memberships: list[Membership]) -> Membership:
    by_id = {m.workspace.id: m for m in memberships}
    chosen = st.session_state.get(WORKSPACE_KEY)
    if chosen not in by_id:
        first = default_workspace(memberships) or memberships[0]
        chosen = first.workspace.id
    if len(memberships) > 1:
        ids = list(by_id)
        chosen = st.sidebar.selectbox(
            "Workspace",
            ids,
            index=ids.index(chosen),
            format_func=lambda i: by_id[i].workspace.name,
            key="_workspace_picker",
        )
    st.session_state[WORKSPACE_KEY] = chosen
    return by_id[chosen]


def _sidebar(trials: TrialStore, membership: Membership) -> None:
    with st.sidebar:
        st.caption(
            f"Signed in as **{md(trials.actor)}** · {membership.role.value} in "
            f"{md(membership.workspace.name)}"
        )
        token = st.session_state.pop(_NEW_TOKEN_KEY, None)
        if token:  # remember this browser's local sign-in (see _Sessions)
            st.html(_set_cookie_script(token), unsafe_allow_javascript=True, width="content")
        if st.button("Sign out", icon=":material/logout:", key="_sign_out"):
            via_provider = not st.session_state.pop(SIGNED_IN_KEY, None)
            _forget_sign_in()
            for key in (WORKSPACE_KEY, STORE_KEY):
                st.session_state.pop(key, None)
            if via_provider and _provider_configured():
                st.logout()  # the browser goes to the provider's sign-out, then back
                st.stop()
            st.rerun()


# -- slowing down password guessing ------------------------------------------------------


@dataclass
class _Throttle:
    """Failed local sign-ins per account name, shared by every session of this server.

    Five failures in a row are free; each further failure doubles the wait before the next
    try for that name (30 s, 1 min, 2 min, ... at most 15 min). A success clears it.
    """

    free: int = 5
    first_wait_s: float = 30.0
    longest_wait_s: float = 900.0
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, name: str) -> float:
        with self._lock:
            count, last = self._failures.get(name_key(name or ""), (0, 0.0))
        if count < self.free:
            return 0.0
        delay = min(self.first_wait_s * 2 ** (count - self.free), self.longest_wait_s)
        return max(0.0, last + delay - time.monotonic())

    def failed(self, name: str) -> None:
        key = name_key(name or "")
        with self._lock:
            count, _ = self._failures.get(key, (0, 0.0))
            self._failures[key] = (count + 1, time.monotonic())
            if len(self._failures) > 10_000:  # bounded: forget the oldest
                oldest = min(self._failures, key=lambda k: self._failures[k][1])
                del self._failures[oldest]

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name_key(name or ""), None)


_THROTTLE = _Throttle()


def _duration(seconds: float) -> str:
    seconds = max(1, round(seconds))
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{round(seconds / 60)} minutes"


# -- remembering a local sign-in -------------------------------------------------------

COOKIE = "channel_trials_session"
_TOKEN_KEY = "_session_token"  # this session's token (issued here, or from the cookie)
_NEW_TOKEN_KEY = "_new_session_token"  # issued on this run: the browser must store it


def _forget_sign_in() -> None:
    """The server forgets this browser's local sign-in (the cookie is then worthless)."""
    _SESSIONS.end(st.session_state.pop(_TOKEN_KEY, None) or "")
    _SESSIONS.end(_cookie())


def _cookie() -> str:
    try:
        return str(st.context.cookies.get(COOKIE) or "")
    except Exception:  # no browser request behind this run (e.g. AppTest)
        return ""


def _set_cookie_script(token: str) -> str:
    """The element that has the browser keep ``token`` (static/remember-sign-in.js, served
    from the app's own address, so a content policy allowing only 'self' scripts lets it
    run; nothing is written inline)."""
    # token_urlsafe: letters, digits, "-" and "_" only, so it cannot leave the attribute.
    assert token.replace("-", "").replace("_", "").isalnum()
    return (
        f'<script src="app/static/remember-sign-in.js" data-token="{token}" '
        f'data-max-age="{_Sessions.longest_s}"></script>'
    )


@dataclass
class _Sessions:
    """Local sign-ins this server remembers: SHA-256 of a random token → (account name,
    started, last seen). A token is good for 12 hours without use and 7 days at most;
    ``end`` forgets it. Kept in memory: a restart signs everyone out."""

    idle_s: float = 12 * 3600
    longest_s: int = 7 * 24 * 3600
    most: int = 10_000
    _known: dict[str, tuple[str, float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()

    def start(self, name: str) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self._lock:
            if len(self._known) >= self.most:
                oldest = min(self._known, key=lambda k: self._known[k][2])
                del self._known[oldest]
            self._known[self._key(token)] = (name, now, now)
        return token

    def user_for(self, token: str) -> str | None:
        if not token or len(token) > 200:
            return None
        key, now = self._key(token), time.time()
        with self._lock:
            found = self._known.get(key)
            if found is None:
                return None
            name, started, seen = found
            if now - seen > self.idle_s or now - started > self.longest_s:
                del self._known[key]
                return None
            self._known[key] = (name, started, now)
            return name

    def end(self, token: str) -> None:
        if token:
            with self._lock:
                self._known.pop(self._key(token), None)


_SESSIONS = _Sessions()
