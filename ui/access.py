"""What the signed-in user may do here, said where a control would have been."""

from __future__ import annotations

import streamlit as st

from trials.storage.store import TrialStore
from ui.text import md

__all__ = ["may_change"]


def may_change(trials: TrialStore, what: str) -> bool:
    """True when the user may write in this workspace; else a note in place of the
    control (``what``: "import data", "record decisions", ...). The store refuses a
    viewer's writes anyway; this only keeps the page honest about it."""
    if trials.can_write:
        return True
    where = f" in {md(trials.workspace_name)}" if trials.workspace_name else ""
    st.caption(
        f":material/visibility: You are a {trials.role.value}{where}, so you cannot "
        f"{what} here. Ask a workspace admin for the editor role to make changes."
    )
    return False
