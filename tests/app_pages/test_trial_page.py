from tests.app_pages.conftest import open_app, texts, widget
from tests.conftest import day_rows, make_spec
from trials.domain import TrialStatus
from ui.trial_form import REASON_LABEL

PAGE = "app_pages/trial.py"


def test_shows_the_trial_named_in_the_address(demo):
    trial = demo.get_trial("Search ads headline test")
    at = open_app(PAGE, trial=trial.id)
    assert at.title[0].value.replace("\\", "") == "Search ads headline test"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Days with data"] == "21"
    last = next(x for x in demo.list_trials() if x.trial.id == trial.id).last_data_date
    assert metrics["Last data"] == f"{last.day} {last:%b %Y}"  # e.g. "28 Nov 2026", whole
    arms = at.dataframe[0].value
    assert list(arms["Creative"]) == [a.spec.creative for a in trial.arms]
    totals = demo.arm_totals(trial.id)
    assert list(arms["Clicks"]) == [totals[a.id].clicks for a in trial.arms]
    assert (
        arms["CVR"].iloc[0]
        == totals[trial.arms[0].id].conversions / totals[trial.arms[0].id].clicks
    )


def test_unknown_id_is_not_found_and_no_id_opens_the_newest_trial(demo):
    at = open_app(PAGE, trial=99999)
    assert at.title[0].value == "Trial" and not at.exception
    assert "Trial not found" in at.warning[0].value  # not some other trial in its place
    at = open_app(PAGE)
    newest = demo.list_trials()[0].trial
    assert at.title[0].value.replace("\\", "") == newest.name and not at.exception


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


def test_a_trial_whose_only_data_are_own_orders_offers_archive_not_delete(app_store):
    from datetime import datetime

    from trials.domain import OrderRow

    trial = app_store.create_trial(make_spec(name="Orders only"))
    order = OrderRow("A-1", datetime(2026, 9, 2, 10), 88.0, "paid", utm_source="wechat")
    app_store.commit_orders(trial.id, [order])
    at = open_app(PAGE, trial=trial.id)
    assert not [b for b in at.button if b.label == "Delete trial"]
    assert "can be archived but not deleted" in texts(at) and "1 own order" in texts(at)


def test_the_trial_page_shows_the_same_verdict_and_source_as_the_analysis(demo):
    from inference.funnel.spec import ModelSpec
    from trials.analysis.result import analyze_trial
    from trials.domain.verdicts import VERDICT_LABELS

    trial = demo.get_trial("Search ads headline test")
    at = open_app(PAGE, trial=trial.id)
    analysis = analyze_trial(demo, trial, method="mcmc", spec=ModelSpec(), seed=0)
    page = texts(at).replace("\\", "")
    assert VERDICT_LABELS[analysis.verdict] in page
    assert analysis.decision.reason.split(":")[0] in page
    assert analysis.data.summary.sentence.split(":")[0] in page
    draft = next(s.trial for s in demo.list_trials() if s.trial.spec.status is TrialStatus.DRAFT)
    assert "Judged by the pre-registered rule" not in texts(open_app(PAGE, trial=draft.id))


def _save(at):
    [save] = [b for b in at.button if b.label == "Save changes"]
    save.click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_amendments_are_listed_with_user_text_escaped(demo):
    from trials.domain import DecisionRule
    from trials.storage.store import TrialStore

    trial = demo.get_trial("WeChat vs Weibo launch")
    at = open_app(PAGE, trial=trial.id)
    assert "Amendments to the pre-registered rule" not in texts(at)
    nasty = "Reach fell **a lot** <b>x</b> :red[alarm]"
    alice = TrialStore(demo.engine, actor="alice")
    spec = trial.spec.with_changes(
        decision_rule=DecisionRule(min_days=3, probability_threshold=0.8)
    )
    alice.update_trial(trial.id, spec, [a.id for a in trial.arms], reason=nasty)
    at = open_app(PAGE, trial=trial.id)
    assert [h.value for h in at.subheader] == ["Amendments to the pre-registered rule"]
    [line] = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert "**" not in line.replace("\\*", "") and "<b>" not in line.replace("\\<", "")
    shown = line.replace("\\", "")
    assert "UTC, alice: minimum days 7 → 3, probability 95% → 80% — reason: " in shown
    assert shown.endswith(nasty)
    assert "version 2" in texts(at)


def test_changing_the_rule_of_a_trial_with_data_needs_a_reason(demo):
    trial = demo.get_trial("WeChat vs Weibo launch")
    at = open_app(PAGE, trial=trial.id)
    widget(at.number_input, "Minimum days per arm").set_value(3)
    _save(at)
    [refusal] = [e.value for e in at.error]
    assert "needs a reason" in refusal.replace("\\", "")
    assert "minimum days 7 → 3" in refusal.replace("\\", "")
    assert demo.get_trial(trial.id).spec.decision_rule.min_days == 7
    assert demo.amendments(trial.id) == []
    widget(at.text_area, REASON_LABEL).set_value("Reach is a third of the plan")
    _save(at)
    assert not at.error
    amended = demo.get_trial(trial.id)
    assert amended.spec.decision_rule.min_days == 3 and amended.rule_version == 2
    [amendment] = demo.amendments(trial.id)
    assert (amendment.created_by, amendment.reason) == ("tester", "Reach is a third of the plan")
    assert "amendment is recorded" in texts(at)
    assert "Amendments to the pre-registered rule" in texts(at)


def test_free_fields_of_a_trial_with_data_need_no_reason(demo):
    trial = demo.get_trial("WeChat vs Weibo launch")
    at = open_app(PAGE, trial=trial.id)
    widget(at.text_input, "Trial name").set_value("WeChat vs Weibo, renamed")
    _save(at)
    assert not at.error
    assert demo.get_trial(trial.id).name == "WeChat vs Weibo, renamed"
    assert demo.amendments(trial.id) == []


def test_a_trial_without_data_asks_no_reason_and_records_nothing(demo):
    trial = demo.get_trial("Xiaohongshu notes (planned)")
    at = open_app(PAGE, trial=trial.id)
    assert not [w for w in at.text_area if w.label == REASON_LABEL]
    widget(at.number_input, "Minimum days per arm").set_value(3)
    _save(at)
    assert not at.error
    assert demo.get_trial(trial.id).spec.decision_rule.min_days == 3
    assert demo.amendments(trial.id) == []
