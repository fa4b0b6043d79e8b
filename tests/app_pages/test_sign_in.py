"""Sign-in, workspaces and roles as the app shows them (AppTest; the real browser flows,
identity provider included, are in tests/browser/test_sign_in.py).

The test database starts with one account, ``tester`` (site administrator, admin of the
Default workspace; tests/conftest.py).
"""

from __future__ import annotations

import pytest

from tests.app_pages.conftest import open_app
from tests.conftest import make_spec
from trials.analysis.accounts import add_user, add_workspace, grant, open_workspace, set_password
from trials.analysis.demo import load_demo
from trials.storage.engine import connect, database_url
from ui import sign_in

PASSWORD = "correct horse battery staple"


@pytest.fixture
def engine():
    engine = connect(database_url())
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _no_throttle_left_over():
    sign_in._THROTTLE._failures.clear()
    yield
    sign_in._THROTTLE._failures.clear()


def _everything_on_screen(at) -> str:
    parts = []
    for kind in ("title", "markdown", "caption", "info", "warning", "error", "success", "metric"):
        for element in getattr(at, kind):
            parts.append(str(getattr(element, "value", "")))
            parts.append(str(getattr(element, "label", "")))
    for table in at.dataframe:
        parts.append(table.value.to_string())
    return "\n".join(parts)


def _sign_in(at, name: str, password: str):
    [name_box] = [w for w in at.text_input if w.label == "Name"]
    [password_box] = [w for w in at.text_input if w.label == "Password"]
    name_box.input(name)
    password_box.input(password)
    [submit] = [b for b in at.button if b.label == "Sign in"]
    return submit.click().run()


def test_nothing_of_the_workspace_shows_before_sign_in(app_store):
    load_demo(app_store)
    names = [s.trial.name for s in app_store.list_trials()]
    for query in ({}, {"trial": 1}):
        at = open_app(signed_in_as=None, **query)
        shown = _everything_on_screen(at)
        assert "Sign in to see your team's trials" in shown
        assert not any(name in shown for name in names)
        assert not at.dataframe and not at.metric
        # The only form is the sign-in form: no trial form, no uploader, no buttons else.
        assert {b.label for b in at.button} == {"Sign in"}


def test_a_local_account_signs_in_with_its_password_and_not_otherwise(engine, app_store):
    set_password(engine, "tester", "tester", PASSWORD)
    app_store.create_trial(make_spec(name="Spring launch"))
    at = open_app(signed_in_as=None)
    at = _sign_in(at, "tester", "not the password")
    assert "do not match" in at.error[0].value
    assert "Spring launch" not in _everything_on_screen(at)
    at = _sign_in(at, "nobody", PASSWORD)  # an unknown name gets the same words
    assert "do not match" in at.error[0].value
    at = _sign_in(at, "TESTER", PASSWORD)  # names ignore case
    assert not at.exception
    assert at.title[0].value == "Trials"
    assert "Spring launch" in set(at.dataframe[0].value["Trial"])
    assert any("Signed in as **tester**" in c.value for c in at.sidebar.caption)


def test_repeated_failures_for_one_name_are_slowed_down(engine):
    set_password(engine, "tester", "tester", PASSWORD)
    at = open_app(signed_in_as=None)
    for _ in range(5):
        at = _sign_in(at, "tester", "wrong password here")
        assert "do not match" in at.error[0].value
    # Even the right password waits now, and says for how long.
    at = _sign_in(at, "tester", PASSWORD)
    assert "Too many attempts" in at.error[0].value
    assert at.title[0].value == "Channel Trials"


def test_with_no_accounts_the_app_says_how_to_create_the_first(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIALS_DB", str(tmp_path / "empty.sqlite3"))
    at = open_app(signed_in_as=None)
    assert "no accounts yet" in at.info[0].value.lower()
    assert "user add NAME --admin --password-stdin" in at.info[0].value
    assert not at.text_input  # no sign-in form to guess at


def test_a_disabled_account_is_signed_out_on_its_next_click(engine):
    add_user(engine, "tester", "sam", password=PASSWORD)
    grant(engine, "tester", "Default", "sam", "editor")
    at = open_app(signed_in_as="sam")
    assert at.title[0].value == "Trials"
    from trials.analysis.accounts import disable_user

    disable_user(engine, "tester", "sam")
    at.run()
    assert "signed out" in at.warning[0].value
    assert at.title[0].value == "Channel Trials"


def _two_workspaces(engine, app_store):
    """Default (tester's, with 'Default plan') and Brand (with 'Brand secret'), where
    vera is a viewer of Brand only and eddie an editor of Brand only."""
    ours = app_store.create_trial(make_spec(name="Default plan"))
    add_workspace(engine, "tester", "Brand")
    brand = open_workspace(engine, "tester", "Brand")
    theirs = brand.create_trial(make_spec(name="Brand secret"))
    for name, role in (("vera", "viewer"), ("eddie", "editor")):
        add_user(engine, "tester", name, password=PASSWORD)
        grant(engine, "tester", "Brand", name, role)
    return ours, theirs


def test_a_user_sees_only_their_workspace_even_by_id_in_the_address(engine, app_store):
    ours, _ = _two_workspaces(engine, app_store)
    at = open_app(signed_in_as="eddie")
    assert set(at.dataframe[0].value["Trial"]) == {"Brand secret"}
    for page in ("app_pages/trial.py", "app_pages/data.py"):
        at = open_app(page, signed_in_as="eddie", trial=ours.id)
        shown = _everything_on_screen(at)
        assert "Default plan" not in shown
        assert not at.exception


def test_the_workspace_picker_switches_between_a_users_workspaces(engine, app_store):
    _two_workspaces(engine, app_store)
    at = open_app()  # tester: admin of Default, and of Brand (created it)
    assert set(at.dataframe[0].value["Trial"]) == {"Default plan"}
    picker = at.sidebar.selectbox(key="_workspace_picker")
    picker.select_index(1 if picker.index == 0 else 0).run()
    assert set(at.dataframe[0].value["Trial"]) == {"Brand secret"}


def test_a_viewer_reads_but_is_offered_no_control_that_changes_anything(engine, app_store):
    _, theirs = _two_workspaces(engine, app_store)
    at = open_app("app_pages/data.py", signed_in_as="vera", trial=theirs.id)
    assert not at.exception
    notes = " ".join(c.value for c in at.caption)
    assert "You are a viewer in Brand, so you cannot import data" in notes
    assert not [b for b in at.button if b.label in ("Save changes", "Undo", "Save order settings")]
    at = open_app("app_pages/trial.py", signed_in_as="vera", trial=theirs.id)
    labels = {b.label for b in at.button}
    assert "Delete trial" not in labels and "Save changes" not in labels
    assert "Brand secret" in _everything_on_screen(at)
    at = open_app("app_pages/new_trial.py", signed_in_as="vera")
    assert "Register trial" not in {b.label for b in at.button}
    assert "cannot register trials" in " ".join(c.value for c in at.caption)
