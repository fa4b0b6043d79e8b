"""Every page runs without an exception, on an empty workspace and on the demo."""

import pytest

from tests.app_pages.conftest import open_app
from tests.conftest import ROOT

PAGES = sorted(f"app_pages/{p.name}" for p in (ROOT / "app_pages").glob("*.py"))


def test_every_page_file_is_routed():
    app = (ROOT / "app.py").read_text()
    assert PAGES and all(f'"{page}"' in app for page in PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_on_an_empty_workspace(app_store, page):
    at = open_app(page)
    assert not at.exception


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_on_the_demo_workspace(demo, page):
    for summary in demo.list_trials():
        at = open_app(page, trial=summary.trial.id)
        assert not at.exception, (page, summary.trial.name)
