"""Every page runs without an exception, on an empty workspace and on the demo."""

import pytest

from tests.app_pages.conftest import open_app, texts
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


def test_names_that_look_like_code_show_as_text_on_every_page(app_store):
    from datetime import date

    from trials.domain import ArmSpec, DailyResult, PrimaryMetric, TrialSpec
    from ui.text import md

    name = '<script>alert(1)</script> =HYPERLINK("x")'
    arms = (ArmSpec('=HYPERLINK("y")', "<b>bold</b>", control=True), ArmSpec("Weibo", "@x"))
    trial = app_store.create_trial(
        TrialSpec(
            name=name,
            primary_metric=PrimaryMetric.ROAS,
            break_even_roas=2.0,
            currency="CNY",
            start=date(2026, 9, 1),
            end=date(2026, 9, 28),
            budget=1000.0,
            arms=arms,
        )
    )
    app_store.add_results(
        trial.id,
        [
            DailyResult(arm.id, date(2026, 9, d), 1000, 40 + i, 2, 20.0, 60.0)
            for d in range(1, 8)
            for i, arm in enumerate(trial.arms)
        ],
        kind="manual",
    )
    for page in PAGES:
        at = open_app(page, trial=trial.id)
        assert not at.exception, page
        if page.endswith(("/trial.py", "/data.py", "/results.py", "/recommendations.py")):
            assert md(name) in texts(at), page  # escaped Markdown: shows exactly as typed
