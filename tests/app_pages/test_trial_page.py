from tests.app_pages.conftest import open_app, texts
from tests.conftest import day_rows, make_spec
from trials.domain import TrialStatus

PAGE = "app_pages/trial.py"


def test_shows_the_trial_named_in_the_address(demo):
    trial = demo.get_trial("Search ads headline test")
    at = open_app(PAGE, trial=trial.id)
    assert at.title[0].value.replace("\\", "") == "Search ads headline test"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Days with data"] == "21"
    arms = at.dataframe[0].value
    assert list(arms["Creative"]) == [a.spec.creative for a in trial.arms]
    totals = demo.arm_totals(trial.id)
    assert list(arms["Clicks"]) == [totals[a.id].clicks for a in trial.arms]
    assert (
        arms["CVR"].iloc[0]
        == totals[trial.arms[0].id].conversions / totals[trial.arms[0].id].clicks
    )


def test_unknown_or_missing_id_falls_back_to_a_trial(demo):
    at = open_app(PAGE, trial=99999)
    assert at.title and not at.exception
    at = open_app(PAGE)
    assert at.title and not at.exception


def test_daily_data_and_its_provenance(demo):
    trial = demo.get_trial("Email subject lines, November")
    at = open_app(PAGE, trial=trial.id)
    frames = [d.value for d in at.dataframe]
    daily = next(f for f in frames if "Day" in f.columns)
    assert len(daily) == 14 * 2
    batches = next(f for f in frames if "Import" in f.columns)
    assert list(batches["Kind"]) == ["demo"] and list(batches["By"]) == ["tester"]


def test_edit_saves_and_survives_a_reload(demo):
    trial = demo.get_trial("Xiaohongshu notes (planned)")
    at = open_app(PAGE, trial=trial.id)
    [name] = [w for w in at.text_input if w.label == "Trial name"]
    name.set_value("Xiaohongshu notes, round 2")
    [save] = [b for b in at.button if b.label == "Save changes"]
    save.click().run()
    assert not at.exception and not at.error
    assert demo.get_trial(trial.id).name == "Xiaohongshu notes, round 2"
    again = open_app(PAGE, trial=trial.id)
    assert again.title[0].value.replace("\\", "") == "Xiaohongshu notes, round 2"


def test_edit_with_a_bad_value_explains_and_keeps_the_trial(demo):
    trial = demo.get_trial("WeChat vs Weibo launch")
    at = open_app(PAGE, trial=trial.id)
    [currency] = [w for w in at.text_input if w.label == "Currency"]
    currency.set_value("元")
    [save] = [b for b in at.button if b.label == "Save changes"]
    save.click().run()
    assert any("currency code" in e.value for e in at.error)
    assert demo.get_trial(trial.id).spec.currency == "CNY"


def test_archive_and_restore(demo):
    trial = demo.get_trial("WeChat vs Weibo launch")
    at = open_app(PAGE, trial=trial.id)
    at.button(key="status_archived").click().run()
    assert demo.get_trial(trial.id).spec.status is TrialStatus.ARCHIVED
    assert "is now archived" in texts(at)
    at.button(key="status_running").click().run()
    assert demo.get_trial(trial.id).spec.status is TrialStatus.RUNNING


def test_demo_trial_can_be_deleted_after_confirming(demo, app_store):
    trial = demo.get_trial("WeChat vs Weibo launch")
    at = open_app(PAGE, trial=trial.id)
    [delete] = [b for b in at.button if b.label == "Delete trial"]
    assert delete.disabled  # until the box is ticked
    at.checkbox(key="confirm_delete").check().run()
    [delete] = [b for b in at.button if b.label == "Delete trial"]
    delete.click().run()
    assert not at.exception
    assert "WeChat vs Weibo launch" not in {s.trial.name for s in app_store.list_trials()}


def test_real_trial_with_results_offers_archive_not_delete(app_store):
    trial = app_store.create_trial(make_spec(name="Real one"))
    app_store.add_results(trial.id, day_rows(trial), kind="manual")
    at = open_app(PAGE, trial=trial.id)
    assert not [b for b in at.button if b.label == "Delete trial"]
    assert "can be archived but not deleted" in texts(at)


def test_progress_toward_a_decision_matches_the_planner(demo):
    from trials.planning import progress_sentence, trial_progress

    trial = demo.get_trial("Search ads headline test")
    at = open_app(PAGE, trial=trial.id)
    expected = progress_sentence(trial_progress(demo, trial), trial)
    page = texts(at).replace("\\", "")
    assert f"**Progress toward a decision:** {expected}" in page
    draft = next(s.trial for s in demo.list_trials() if s.trial.spec.status is TrialStatus.DRAFT)
    assert "Progress toward a decision" not in texts(open_app(PAGE, trial=draft.id))
