"""The Recommendations page's Scale plan section: the written plan, planned against
actual spend, the proposal; replacing and ending it by form; viewers read only."""

from datetime import date

from tests.app_pages.conftest import open_app, texts, widget
from trials.domain.scale_plans import PlanStatus, ScaleSettings
from ui.text import md

PAGE = "app_pages/recommendations.py"
TRIAL = "WeChat vs Weibo launch"


def _button(at, label):
    [button] = [b for b in at.button if b.label == label]
    return button


def test_a_written_plan_is_tracked_ended_and_written_again_by_form(demo):
    trial = demo.get_trial(TRIAL)
    arm = trial.arms[0]
    demo.write_scale_plan(trial.id, arm.id, ScaleSettings(28.0), date(2026, 11, 10))
    at = open_app(PAGE, trial=trial.id)
    page = texts(at)
    assert "Scale plan" in page and md(arm.name) in page
    assert "Written by tester" in page and "28.00 CNY a day, 50% more every 7 days" in page
    # The demo arm ran at one level: no curve yet, and the second step is short of days.
    assert md("Hold at 42.00 CNY a day: not enough days at this step yet (5 of 7).") in page
    assert "No response curve yet" in page
    assert "Off the plan by more than 20%: step 1." in page  # ~35.7 a day against 28
    assert "None" not in page
    widget(at.text_input, "Why does the plan end?").set_value("stock ran out")
    _button(at, "End the plan").click().run()
    assert not at.exception
    [plan] = demo.scale_plans(trial.id, arm.id)
    assert plan.status is PlanStatus.STOPPED and plan.ended_by == "tester"
    assert plan.end_reason == "stock ran out"
    assert md("The plan is stopped by tester: stock ran out.") in texts(at)
    # An ended plan makes way for a new one, written down by form.
    widget(at.number_input, "Days at each step").set_value(5)
    _button(at, "Write down the plan").click().run()
    assert not at.exception
    first, new = demo.scale_plans(trial.id, arm.id)
    assert first.status is PlanStatus.STOPPED
    assert new.active and new.step_days == 5 and new.created_by == "tester"
    assert new.base_daily_spend > 30  # the form's default: the arm's recent median


def test_replacing_needs_a_reason_and_a_viewer_sees_the_plan_read_only(demo, add_account):
    trial = demo.get_trial(TRIAL)
    arm = trial.arms[0]
    demo.write_scale_plan(trial.id, arm.id, ScaleSettings(30.0), date(2026, 11, 10))
    at = open_app(PAGE, trial=trial.id)
    widget(at.number_input, "More spend per step (%)").set_value(30.0)
    _button(at, "Replace the plan").click().run()
    assert "cannot be changed" in texts(at)
    assert len(demo.scale_plans(trial.id, arm.id)) == 1
    widget(at.text_input, "Why does a new plan replace the written one?").set_value("too fast")
    _button(at, "Replace the plan").click().run()
    old, new = demo.scale_plans(trial.id, arm.id)
    assert old.status is PlanStatus.REPLACED and new.step == 0.3 and new.reason == "too fast"

    add_account("vera", "viewer")
    at = open_app(PAGE, signed_in_as="vera", trial=trial.id)
    assert "30% more every 7 days" in texts(at)
    labels = {b.label for b in at.button}
    assert not labels & {"Write down the plan", "Replace the plan", "End the plan"}
    assert "cannot write or end scale plans" in " ".join(c.value for c in at.caption)


def test_without_an_arm_to_scale_the_section_says_so(demo):
    at = open_app(PAGE, trial=demo.get_trial("Search ads headline test").id)
    assert "No arm to scale yet" in texts(at)
