"""Per-process resources (the database engine) and per-session conveniences."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from trials.storage.engine import connect, database_url
from trials.storage.store import TrialStore

__all__ = ["flash", "show_flash", "store"]


@st.cache_resource(show_spinner="Opening the database…")
def _engine(url: str) -> Engine:
    # One engine (a thread-safe connection pool) per database for the whole server;
    # migrations run once here, when the first session opens it.
    return connect(url)


def store() -> TrialStore:
    """The trial store for this session's workspace and user."""
    return TrialStore(_engine(database_url()))


def flash(message: str) -> None:
    """A message to show once on the next page run (e.g. after switching page)."""
    st.session_state["_flash"] = message


def show_flash() -> None:
    message = st.session_state.pop("_flash", None)
    if message:
        st.success(message)
