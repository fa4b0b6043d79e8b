from tests.app_pages.conftest import ask_for_plan, open_app, texts, widget

PAGE = "app_pages/plan.py"


def test_plan_page_plans_and_hands_over_to_registration(app_store):
    at = open_app(PAGE)
    assert at.title[0].value == "Plan a trial"
    ask_for_plan(
        at,
        {
            "Baseline conversion rate (%)": 2.0,
            "Smallest lift worth finding (%)": 10.0,
            "Arms (control included)": 4,
            "Daily budget (all arms)": 200.0,
        },
    )
    assert not at.exception, [e.value for e in at.exception]
    page = texts(at)
    assert any("only after more than 60 days" in w.value for w in at.warning)
    assert "To make it answerable" in page and "Test 2 arms instead of 4" in page
    assert not [b for b in at.button if b.label == "Register a trial with this plan"]


def test_plan_page_starts_from_past_trials(demo):
    at = open_app(PAGE)
    [past] = [t for t in at.toggle if t.label == "Start from past trials"]
    assert past.value
    cvr = widget(at.number_input, "Baseline conversion rate (%)").value
    assert 0 < cvr < 50
    ask_for_plan(
        at,
        {
            "Smallest lift worth finding (%)": 80.0,
            "Arms (control included)": 2,
            "Daily budget (all arms)": 3000.0,
        },
    )
    assert not at.exception, [e.value for e in at.exception]
    [register] = [b for b in at.button if b.label == "Register a trial with this plan"]
    register.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "New trial"
    assert "From the plan: 2 arms" in texts(at).replace("\\", "")


def test_volume_can_be_given_as_daily_clicks(app_store):
    at = open_app(PAGE)
    ask_for_plan(
        at,
        {
            "Baseline conversion rate (%)": 5.0,
            "Smallest lift worth finding (%)": 50.0,
            "Arms (control included)": 2,
            "Cost per click": 2.0,
            "Daily budget (all arms)": 1000.0,
        },
        volume="clicks",
    )
    assert not at.exception, [e.value for e in at.exception]
    [success] = at.success
    # 1,000 clicks a day at 2 per click: 2,000 a day, 500 clicks per arm.
    assert "at 2,000.00 a day (500 clicks per arm a day)" in success.value


def _goal_form(at, trial_names, currency):
    ids = {s.trial.name: s.trial.id for s in _store_summaries()}
    widget(at.selectbox, "Currency").select(currency)
    [trials] = [m for m in at.multiselect if m.label.startswith("Trials to plan from")]
    trials.set_value([ids[n] for n in trial_names])
    widget(at.number_input, "Goal: conversions, or revenue in the currency").set_value(60.0)
    [button] = [b for b in at.button if b.label == "Plan the budget"]
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]


def _store_summaries():
    from trials.storage.engine import connect, database_url
    from trials.storage.store import TrialStore

    return TrialStore(connect(database_url()), actor="tester").list_trials()


def test_plan_by_goal_tab_plans_the_budget_in_one_currency(demo):
    at = open_app(PAGE)
    assert [t.label for t in at.tabs] == ["Plan a trial", "Plan by goal"]
    # A trial in another currency than the one chosen is refused, nothing is fitted.
    _goal_form(at, ["Search ads headline test"], "CNY")
    assert any("not in CNY" in e.value for e in at.error)
    _goal_form(at, ["WeChat vs Weibo launch"], "CNY")
    page = texts(at).replace("\\", "")
    assert "60 conversions by" in page
    assert "with 50% probability: about" in page and "with 80% probability: about" in page
    assert "CNY a day" in page
    frames = [f.value for f in at.dataframe]
    goal_tables = [f for f in frames if "Spend a day" in f.columns]
    assert len(goal_tables) == 2
    assert set(goal_tables[0]["Based on"]) == {"one spend level so far"}
    assert all(cell.endswith("CNY") for cell in goal_tables[0]["In total"])
    assert "Rates stay as measured" in page
