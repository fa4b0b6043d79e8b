"""The Recommendations page: a recommendation and reason per arm, the budget split with its
inputs, and response curves (or why there are none)."""

from datetime import UTC, datetime

from streamlit.testing.v1 import AppTest

from tests.app_pages.conftest import open_app, texts, widget
from trials.domain.verdicts import DecisionEntry
from ui.text import md

PAGE = "app_pages/recommendations.py"


def test_recommendations_split_and_curves(demo):
    trial = demo.get_trial("Search ads headline test")
    at = open_app(PAGE, trial=trial.id)
    page = texts(at)
    for arm in trial.arms:
        assert md(arm.name) in page  # shown as text, escaped for Markdown
    assert "Keep testing" in page and "converts" in page
    [split] = [d.value for d in at.dataframe if "Proposed" in d.value.columns]
    offered = widget(at.number_input, "Next round's budget (USD)").value
    # Never more than offered; less when the arms' pace so far cannot carry it, and then
    # the page says how much it spends and why.
    assert split["Proposed"].sum() <= offered + 0.01
    if split["Proposed"].sum() < offered - 1:
        assert f"Spends {split['Proposed'].sum():,.2f} of {offered:,.2f}" in texts(at)
    widget(at.number_input, "At least per arm (USD)").set_value(200.0)
    [button] = [b for b in at.button if b.label == "Split the budget"]
    button.click().run()
    [split] = [d.value for d in at.dataframe if "Proposed" in d.value.columns]
    assert (split["Proposed"] >= 200 - 0.01).all()
    assert "one daily spend level" in texts(at) or "too close together" in texts(at)


def test_impossible_bounds_are_explained(demo):
    trial = demo.get_trial("Email subject lines, November")
    at = open_app(PAGE, trial=trial.id)
    cur = trial.spec.currency
    widget(at.number_input, f"Next round's budget ({cur})").set_value(100.0)
    widget(at.number_input, f"At least per arm ({cur})").set_value(80.0)
    [button] = [b for b in at.button if b.label == "Split the budget"]
    button.click().run()
    assert "cannot hold" in texts(at)


def test_recording_a_decision_freezes_the_evidence_and_shows_in_the_log(demo):
    trial = demo.get_trial("Search ads headline test")
    at = open_app(PAGE, trial=trial.id)
    # Pre-filled from the recommendations: every arm keeps testing today.
    assert widget(at.multiselect, "Keep testing").value == [a.name for a in trial.arms]
    widget(at.text_area, "Note").set_value("<script>alert(1)</script> =HYPERLINK(x)")
    widget(at.checkbox, "Mark the trial as decided").check()
    [button] = [b for b in at.button if b.label == "Record the decision"]
    button.click().run()
    assert not at.exception
    [entry] = demo.decisions(trial.id)
    assert entry.note == "<script>alert(1)</script> =HYPERLINK(x)"
    assert entry.snapshot["method"] == "mcmc" and entry.snapshot["data_digest"]
    assert demo.get_trial(trial.id).spec.status.value == "decided"
    assert f"Recorded decision #{entry.id}" in texts(at)  # after the demo's own decisions
    assert md("<script>alert(1)</script> =HYPERLINK(x)") in texts(at)


def test_the_log_shows_an_author_s_name_as_typed_not_as_markup():
    log = [
        DecisionEntry(
            id=1,
            trial_id=1,
            created_at=datetime(2026, 11, 29, 9, 0, tzinfo=UTC),
            created_by="**bob** [x](http://example.com/x.png)",
            summary={"scale": [], "stop": [], "fix": [], "keep_testing": [], "budget_change": ""},
            note="",
            snapshot={},
        )
    ]
    at = AppTest.from_function(_render_log, args=(log,)).run(timeout=120)
    assert not at.exception
    [expander] = at.expander
    assert md("**bob** [x](http://example.com/x.png)") in expander.label


def _render_log(log):
    from ui.recommendations import show_log

    show_log(log)
