from datetime import date

import pandas as pd

from tests.app_pages.conftest import ask_for_plan, open_app, texts, widget

PAGE = "app_pages/new_trial.py"


def fill(at, name="Douyin hooks", break_even=2.0):
    widget(at.text_input, "Trial name").set_value(name)
    widget(at.text_area, "Hypothesis").set_value("Question hooks hold viewers.")
    if break_even is not None:
        widget(at.number_input, "Break-even ROAS").set_value(break_even)
    widget(at.date_input, "Start").set_value(date(2026, 12, 1))
    widget(at.date_input, "End").set_value(date(2026, 12, 21))
    return at


def submit(at):
    [button] = [b for b in at.button if b.label == "Register trial"]
    button.click().run()
    return at


def test_form_shows_every_field(app_store):
    at = open_app(PAGE)
    assert at.title[0].value == "New trial"
    labels = [w.label for w in at.text_input] + [w.label for w in at.number_input]
    for label in ("Trial name", "Currency", "Break-even ROAS", "Total budget cap"):
        assert label in labels


def test_invalid_input_shows_reasons_beside_fields_and_saves_nothing(app_store):
    at = open_app(PAGE)
    fill(at, name="", break_even=None)
    widget(at.date_input, "End").set_value(date(2026, 11, 1))
    submit(at)
    assert not at.exception
    # The reasons are escaped for Markdown (they can quote what was typed).
    errors = [e.value.replace("\\", "") for e in at.error]
    assert any("Nothing was saved" in e for e in errors)
    assert any("give the trial a name" in e for e in errors)
    assert any("break-even ROAS or a gross margin" in e for e in errors)
    assert any("before the start date" in e for e in errors)
    assert any("at least two arms" in e for e in errors)  # the blank rows hold no arm
    assert app_store.is_empty()


def test_a_valid_trial_is_saved_and_opened(app_store, monkeypatch):
    # The arms editor starts with two blank rows; give them names through its initial frame.
    import ui.trial_form as form

    real = form._arms_frame

    def prefilled(initial, blank_rows=2):
        frame = real(initial, blank_rows)
        if initial is None:
            frame.loc[:, "channel"] = pd.array(["WeChat", "Weibo"], dtype="string")
            frame.loc[:, "creative"] = pd.array(["Video A", "Image B"], dtype="string")
        return frame

    monkeypatch.setattr(form, "_arms_frame", prefilled)
    at = open_app(PAGE)
    fill(at)
    submit(at)
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error]
    [summary] = app_store.list_trials()
    trial = summary.trial
    assert trial.name == "Douyin hooks" and trial.created_by == "tester"
    assert [a.name for a in trial.arms] == ["WeChat · Video A", "Weibo · Image B"]
    assert trial.arms[0].spec.control
    assert (trial.spec.start, trial.spec.end) == (date(2026, 12, 1), date(2026, 12, 21))
    assert "Registered Douyin hooks" in texts(at).replace("\\", "")


def test_duplicate_name_is_shown_beside_the_name(demo, monkeypatch):
    import ui.trial_form as form

    real = form._arms_frame

    def prefilled(initial, blank_rows=2):
        frame = real(initial, blank_rows)
        frame.loc[:, "channel"] = pd.array(["A", "B"], dtype="string")
        frame.loc[:, "creative"] = pd.array(["x", "y"], dtype="string")
        return frame

    monkeypatch.setattr(form, "_arms_frame", prefilled)
    before = len(demo.list_trials())
    at = open_app(PAGE)
    fill(at, name="wechat vs weibo launch")
    submit(at)
    assert any("already exists" in e.value for e in at.error)
    assert len(demo.list_trials()) == before


def test_plan_first_then_register_with_the_plan(app_store):
    at = open_app(PAGE)
    ask_for_plan(
        at,
        {
            "Baseline conversion rate (%)": 5.0,
            "Smallest lift worth finding (%)": 50.0,
            "Arms (control included)": 2,
            "Daily budget (all arms)": 1000.0,
            "Cost per click": 1.0,
        },
    )
    assert not at.exception, [e.value for e in at.exception]
    days = int(next(m.value for m in at.metric if m.label == "Days"))
    assert any("confident decision" in s.value for s in at.success)
    [use] = [b for b in at.button if b.label == "Use this plan below"]
    use.click().run()
    shown = texts(at).replace("\\", "")
    assert "From the plan: 2 arms" in shown
    # The registration form says what the rule does when the trial is checked every day.
    assert "would scale one of 2 identical arms by mistake in" in shown
    assert f"reach a verdict within the {days} planned days" in shown
    budget = widget(at.number_input, "Total budget cap").value
    assert budget == 1000.0 * days
    start, end = widget(at.date_input, "Start").value, widget(at.date_input, "End").value
    assert (end - start).days == days - 1


def test_a_plan_with_bad_inputs_says_why(app_store):
    at = open_app(PAGE)
    ask_for_plan(
        at,
        {
            "Baseline conversion rate (%)": 90.0,
            "Smallest lift worth finding (%)": 50.0,
        },
    )
    assert not at.exception
    assert any("must stay below 1" in e.value for e in at.error)
