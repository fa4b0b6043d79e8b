"""What a visitor sees when a page fails: a plain message, never a traceback or a path.

A ``UserError`` that reaches here (a database that is read-only, damaged or out of reach,
or any refusal a page did not catch) shows its own plain message. Anything unexpected shows
"Something went wrong on our side" with a short reference; the exception, its traceback and
the page go to the server's log under that reference, so whoever runs the app can find them.

Streamlit's own control flow (``st.rerun``, ``st.stop``, ``st.switch_page``) raises
exceptions derived from ``BaseException``, not ``Exception``: they pass through untouched.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

import streamlit as st
from streamlit.errors import FragmentHandledException

from trials.domain import UserError
from ui.text import md

__all__ = ["friendly_message", "guarded", "logger", "new_reference"]

# No 0/O or 1/I/L: a reference is read out over the phone or typed from a screenshot.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def logger() -> logging.Logger:
    """The app's log: the server's standard error, with the time, unless configured."""
    log = logging.getLogger("channel_trials")
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    return log


def new_reference() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(6))


def friendly_message(reference: str) -> str:
    return (
        f"Something went wrong on our side. Reference {reference} — tell whoever runs "
        "Channel Trials."
    )


def guarded(run: Callable[[], object], where: str) -> None:
    """Run ``run`` (the page); show what it could not handle plainly. ``where`` names the
    page in the log."""
    try:
        run()
    except FragmentHandledException:
        raise  # Streamlit's signal that a fragment's error is shown already
    except UserError as e:
        detail = getattr(e, "detail", None)
        if detail:  # e.g. which database is read-only: for the log, not the browser
            logger().warning("%s (page %s)", detail, where)
        st.error(md(str(e)), icon=":material/error:")
    except Exception:
        reference = new_reference()
        logger().exception("unexpected error, reference %s (page %s)", reference, where)
        st.error(md(friendly_message(reference)), icon=":material/error:")
