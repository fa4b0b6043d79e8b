from tests.app_pages.conftest import open_app
from trials.domain import TrialStatus


def test_overview_lists_trials_with_progress(demo):
    at = open_app()
    assert at.title[0].value == "Trials"
    [table] = at.dataframe
    frame = table.value
    # Archived trials (the demo's finished ones) are hidden until asked for.
    assert set(frame["Trial"]) == {
        s.trial.name for s in demo.list_trials() if s.trial.spec.status is not TrialStatus.ARCHIVED
    }
    social = frame[frame["Trial"] == "WeChat vs Weibo launch"].iloc[0]
    assert social["Arms"] == 2 and social["Days with data"] == 28
    assert social["Status"] == "running" and bool(social["Demo"])
    assert 0.9 < social["Budget used"] < 1.1
    assert str(social["Last data"]).startswith("2026-11-21")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Running"] == "4" and metrics["Drafts"] == "1"  # and the round-2 trial


def test_archived_trials_are_hidden_until_asked_for(demo):
    trial = demo.get_trial("Search ads headline test")
    demo.archive(trial.id)
    at = open_app()
    assert "Search ads headline test" not in set(at.dataframe[0].value["Trial"])
    at.button_group(key="status_filter").set_value([TrialStatus.ARCHIVED]).run()
    shown = list(at.dataframe[0].value["Trial"])
    assert "Search ads headline test" in shown  # with the demo's archived finished trials
    assert set(shown) == {
        s.trial.name for s in demo.list_trials() if s.trial.spec.status is TrialStatus.ARCHIVED
    }


def test_empty_workspace_points_to_new_trial(app_store):
    at = open_app()
    assert "No trials yet" in at.info[0].value
    assert not at.dataframe
