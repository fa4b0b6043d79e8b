from datetime import date

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from trials.analysis.demo import load_demo
from trials.storage.engine import connect, database_url
from trials.storage.store import TrialStore
from ui.sign_in import SIGNED_IN_KEY

APP = str(ROOT / "app.py")
DEMO_DAY = date(2026, 11, 22)


@pytest.fixture(autouse=True)
def _fresh_caches():
    # AppTest runs share Streamlit's caches within one process.
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def app_store() -> TrialStore:
    """The store the app itself will open (same database as the AppTest)."""
    return TrialStore(connect(database_url()), actor="tester")


@pytest.fixture
def demo(app_store) -> TrialStore:
    load_demo(app_store, today=DEMO_DAY)
    return app_store


def open_app(page: str | None = None, *, signed_in_as: str | None = "tester", **query) -> AppTest:
    """The app run once, signed in as ``signed_in_as`` (a local account; None: nobody) —
    the session holds the name exactly as a successful password sign-in leaves it."""
    # The Results and Recommendations pages fit the model: the first fit in a process
    # compiles it (up to a minute on a loaded 2-core machine).
    at = AppTest.from_file(APP, default_timeout=300)
    if signed_in_as is not None:
        at.session_state[SIGNED_IN_KEY] = signed_in_as
    for key, value in query.items():
        at.query_params[key] = str(value)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def widget(widgets, label: str):
    """The one widget of a kind with this label."""
    [found] = [w for w in widgets if w.label == label]
    return found


def ask_for_plan(at: AppTest, inputs: dict[str, float], volume: str | None = None) -> AppTest:
    """Fill the planner's number inputs (by label), optionally the volume kind, press Plan."""
    for label, value in inputs.items():
        widget(at.number_input, label).set_value(value)
    if volume:
        widget(at.radio, "Volume given as").set_value(volume)
    [plan] = [b for b in at.button if b.label == "Plan"]
    plan.click().run()
    return at


def texts(at: AppTest) -> str:
    """Everything the page wrote, as one string, for 'appears on the page' checks."""
    parts = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "text",
        "info",
        "success",
        "error",
        "warning",
    ):
        parts += [str(getattr(e, "value", "")) for e in getattr(at, kind)]
    return "\n".join(parts)
