"""Per-process resources (the database engine) and per-session conveniences."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from trials.storage.engine import connect, database_url
from trials.storage.store import TrialStore

__all__ = ["engine", "flash", "show_flash", "store"]

STORE_KEY = "_workspace_store"  # set on every run by ui.sign_in.signed_in_store


@st.cache_resource(show_spinner="Opening the database…")
def _engine(url: str) -> Engine:
    # One engine (a thread-safe connection pool) per database for the whole server;
    # migrations run once here, when the first session opens it.
    return connect(url)


def engine() -> Engine:
    """The database engine every session of this server shares."""
    return _engine(database_url())


def store() -> TrialStore:
    """This run's store: the signed-in user's workspace, acting as them with their role.

    ``app.py`` opens it (``ui.sign_in.signed_in_store``) before any page runs; a page is
    never reached without it.
    """
    trials = st.session_state.get(STORE_KEY)
    if trials is None:
        raise RuntimeError("no one is signed in: app.py opens the store before any page")
    return trials


def flash(message: str) -> None:
    """A message to show once on the next page run (e.g. after switching page)."""
    st.session_state["_flash"] = message


def show_flash() -> None:
    message = st.session_state.pop("_flash", None)
    if message:
        st.success(message)
