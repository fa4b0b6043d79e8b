"""The app on faults: a plain message on the page for each (read-only, damaged or newer
database; a trial in the URL that is not there), a friendly message with a reference for
anything unexpected (the details in the server's log), never a traceback or a server path
in the browser; Streamlit's own rerun, stop and page switch pass through untouched."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_pages.conftest import open_app, texts
from tests.conftest import ROOT
from tests.faults import checkpoint, mark_newer, read_only_copy, tiny_disk
from trials.domain import UserError
from trials.storage.engine import connect, database_url
from trials.storage.store import TrialStore
from ui.text import md

PAGES = sorted(f"app_pages/{p.name}" for p in (ROOT / "app_pages").glob("*.py"))
TRIAL_PAGES = ["app_pages/trial.py", "app_pages/data.py", "app_pages/results.py"]
TRIAL_PAGES += ["app_pages/recommendations.py"]
REFERENCE = re.compile(
    r"Something went wrong on our side\. Reference ([A-Z2-9]{6}) — tell whoever runs "
    r"Channel Trials\."
)


def shown(at: AppTest) -> str:
    """Everything on the page as a visitor reads it (Markdown escapes taken out)."""
    return texts(at).replace("\\", "")


def no_leak(at: AppTest, *secrets: str) -> None:
    assert not at.exception
    page = texts(at)
    assert "Traceback" not in page and 'File "' not in page
    for secret in secrets:
        assert secret not in page


def test_a_read_only_database_is_read_and_refuses_writes_plainly(demo, tmp_path, monkeypatch):
    planned = demo.get_trial("Xiaohongshu notes (planned)")
    demo.engine.dispose()
    with read_only_copy(Path(os.environ["TRIALS_DB"]), tmp_path / "ro") as path:
        monkeypatch.setenv("TRIALS_DB", str(path))
        at = open_app()
        assert "Search ads headline test" in at.dataframe[0].value["Trial"].tolist()
        for page in ("app_pages/data.py", "app_pages/plan.py", "app_pages/new_trial.py"):
            no_leak(open_app(page, trial=planned.id), str(tmp_path))
        at = open_app("app_pages/trial.py", trial=planned.id)
        assert planned.name in shown(at)
        [archive] = [b for b in at.button if b.label == "Archive"]
        archive.click().run()
        no_leak(at, str(tmp_path))
        assert "The database is read-only, so nothing was saved" in shown(at)
        assert "Reading works as usual" in shown(at)
        copy = TrialStore(connect(database_url()))
        assert copy.get_trial(planned.id).spec.status.value == "draft"
        copy.engine.dispose()


def test_a_full_disk_refuses_a_change_plainly(demo, tmp_path, monkeypatch):
    planned = demo.get_trial("Xiaohongshu notes (planned)")
    demo.engine.dispose()
    source = Path(os.environ["TRIALS_DB"])
    checkpoint(source)
    with tiny_disk(tmp_path / "small", 2048) as folder:
        path = folder / source.name
        path.write_bytes(source.read_bytes())
        monkeypatch.setenv("TRIALS_DB", str(path))
        at = open_app("app_pages/trial.py", trial=planned.id)
        # Fill what is left of the disk once the page has opened the database.
        filler = folder / "filler"
        with filler.open("wb") as f:
            try:
                while True:
                    f.write(b"x" * 65536)
                    f.flush()
            except OSError:
                pass
        [archive] = [b for b in at.button if b.label == "Archive"]
        archive.click().run()
        no_leak(at, str(tmp_path))
        assert "The disk that holds the database is full, so nothing was saved" in shown(at)
        filler.unlink()
        store = TrialStore(connect(database_url()))
        assert store.get_trial(planned.id).spec.status.value == "draft"
        store.engine.dispose()


@pytest.mark.parametrize("page", PAGES)
def test_a_damaged_database_is_named_plainly_on_every_page(tmp_path, monkeypatch, page):
    broken = tmp_path / "trials.sqlite3"
    broken.write_text("date,spend\n2026-09-01,12\n" * 200)
    monkeypatch.setenv("TRIALS_DB", str(broken))
    at = open_app(page)
    no_leak(at, str(tmp_path))
    assert [e.value.replace("\\", "") for e in at.error] == [
        "The database is not a Channel Trials database or is damaged; tell whoever runs "
        "Channel Trials to restore it from a backup."
    ]


def test_a_database_from_a_newer_version_asks_for_an_update(app_store):
    mark_newer(app_store.engine, "9999")
    app_store.engine.dispose()
    for page in ("app_pages/trials.py", "app_pages/trial.py"):
        at = open_app(page)
        no_leak(at)
        assert "written by a newer Channel Trials (revision 9999); update the app" in shown(at)


@pytest.mark.parametrize("ref", ["9" * 50_000, "abc", "99999", "-1", "0x1"])
@pytest.mark.parametrize("page", TRIAL_PAGES)
def test_a_trial_in_the_address_that_is_not_here_is_not_found(demo, page, ref):
    at = open_app(page, trial=ref)
    no_leak(at, "99999")
    assert "Trial not found" in shown(at)
    assert not at.metric and at.selectbox[0].value is None  # no trial shown in its place
    planned = demo.get_trial("Xiaohongshu notes (planned)")
    at.selectbox[0].set_value(planned.id).run()
    assert not at.exception
    assert at.query_params["trial"] == str(planned.id)
    assert "Trial not found" not in shown(at) and planned.name in shown(at)


def test_an_unexpected_error_shows_a_reference_and_logs_the_details(
    app_store, monkeypatch, caplog, tmp_path
):
    secret = f"{tmp_path}/secret_module.py"

    def broken(self, statuses=None):
        raise RuntimeError(f"boom in {secret}")

    monkeypatch.setattr(TrialStore, "list_trials", broken)
    app_store.create_trial(__import__("tests.conftest").conftest.make_spec())
    with caplog.at_level(logging.ERROR, logger="channel_trials"):
        at = open_app()
    no_leak(at, secret, "boom", "RuntimeError")
    [error] = [e.value for e in at.error]
    found = REFERENCE.fullmatch(error.replace("\\", ""))
    assert found, error
    [record] = [r for r in caplog.records if r.name == "channel_trials"]
    assert found.group(1) in record.getMessage() and "Trials" in record.getMessage()
    assert record.exc_info and "boom in" in str(record.exc_info[1])
    # A second failure gets a reference of its own.
    at.run()
    assert REFERENCE.search(at.error[0].value.replace("\\", "")).group(1) != found.group(1)


def test_a_refusal_no_page_caught_shows_its_own_words_as_text(app_store, monkeypatch):
    words = "Not allowed here: see [the rules](http://evil.example/rules)"

    def refused(self, statuses=None):
        raise UserError(words)

    monkeypatch.setattr(TrialStore, "list_trials", refused)
    at = open_app()
    assert [e.value for e in at.error] == [md(words)]
    assert "Reference" not in texts(at)


def test_streamlit_control_flow_passes_through_the_guard():
    from streamlit.runtime.scriptrunner_utils.exceptions import (
        RerunException,
        StopException,
    )

    # What the guard relies on: rerun, stop and switch_page (a RerunException) are not
    # Exceptions, so `except Exception` never sees them.
    assert not issubclass(RerunException, Exception)
    assert not issubclass(StopException, Exception)

    def script():
        import streamlit as st

        from ui.errors import guarded

        st.session_state.runs = st.session_state.get("runs", 0) + 1

        def page():
            if st.session_state.runs == 1:
                st.rerun()
            st.write(f"run {st.session_state.runs}")
            st.stop()
            st.write("after stop")

        guarded(page, "test")

    at = AppTest.from_function(script).run()
    assert not at.exception and not at.error
    assert [m.value for m in at.markdown] == ["run 2"]
