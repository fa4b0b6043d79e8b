"""Planning against stored trials, and ``python -m trials plan``."""

import json
from datetime import date, timedelta

import pytest

from tests.conftest import day_rows, make_spec
from tests.trials.cli.test_cli import run
from trials.analysis.demo import load_demo
from trials.analysis.planning import progress_sentence, trial_progress, workspace_baseline
from trials.analysis.result import load
from trials.cli import main
from trials.domain import DailyResult, DecisionRule


def test_workspace_baseline_learns_from_the_finished_trials_with_data(store):
    assert workspace_baseline(store) is None
    trial = store.create_trial(make_spec())
    store.create_trial(make_spec(name="No data yet"))
    store.add_results(trial.id, day_rows(trial, days=4), kind="manual", file_name=None, digest=None)
    baseline = workspace_baseline(store)
    assert baseline.trials == ("Spring social test",)
    # Per day and arm: ~1000 impressions, 20 or 21 clicks, 2 conversions, 10.10 spent.
    clicks = 4 * (20 + 21)
    assert baseline.clicks == clicks
    # The learned prior's mean (one trial: close to its pooled rate), kept weak: worth
    # about two conversions, not all its clicks.
    assert baseline.cvr == pytest.approx(16 / clicks, rel=0.02)
    assert baseline.cpc == pytest.approx(8 * 10.10 / clicks)
    assert baseline.currency == "CNY"
    assert baseline.revenue_per_conversion == pytest.approx(33.33 / 2)
    assert baseline.strength == pytest.approx(2 / baseline.cvr)


def test_progress_of_stored_trials(store):
    load_demo(store, today=date(2026, 10, 20))
    for summary in store.list_trials():
        trial = summary.trial
        data = load(store, trial)
        daily = list(data.daily)
        progress = trial_progress(trial, data.totals, daily, seed=1)
        sentence = progress_sentence(progress, trial, data.totals, daily)
        if not summary.days_with_data:
            assert progress.reason == "no results yet" and "No estimate" in sentence
        else:
            assert progress.reached or progress.probability_by_day
            assert sentence.endswith(".")


def test_progress_uses_the_last_week_of_volume(store):
    trial = store.create_trial(make_spec(decision_rule=DecisionRule(min_conversions_per_arm=0)))
    start = trial.spec.start
    rows = [
        DailyResult(arm.id, start + timedelta(days=d), 5000, 200, 6 + i, 100.0, 300.0)
        for d in range(3)
        for i, arm in enumerate(trial.arms)
    ]
    store.add_results(trial.id, rows, kind="manual", file_name=None, digest=None)
    data = load(store, trial)
    progress = trial_progress(trial, data.totals, list(data.daily), seed=0)
    assert not progress.reached and not progress.reason
    sentence = progress_sentence(progress, trial, data.totals, list(data.daily))
    assert "days more" in sentence or "unlikely" in sentence


def run_plan(capsys, args: str):
    """``python -m trials plan ARGS`` (arguments without spaces, split on blanks)."""
    return run(capsys, "plan", *args.split())


def test_plan_json_has_every_promised_field(capsys):
    code, out, err = run_plan(
        capsys, "--baseline-cvr 5% --lift 0.5 --arms 2 --clicks-per-day 1000 --cpc 1.2 --json"
    )
    assert code == 0, err
    plan = json.loads(out)
    for name in (
        "clicks_per_arm_for_assurance",
        "days",
        "budget",
        "classical_clicks_per_arm",
        "assurance_curve",
        "advice",
        "design_effect",
        "within_limits",
        "inputs",
    ):
        assert name in plan
    assert plan["inputs"]["baseline_cvr"] == 0.05 and plan["inputs"]["daily_budget"] == 1200
    assert plan["budget"] == pytest.approx(1200 * plan["days"])
    assert plan["clicks_per_arm_for_assurance"] == pytest.approx(500 * plan["days"])
    point = plan["assurance_curve"][0]
    assert set(point) == {
        "days",
        "clicks_per_arm",
        "budget",
        "assurance",
        "wrong_arm",
        "p_winner",
        "p_equal",
    }
    for p in plan["assurance_curve"]:  # a verdict is a winner or equal arms, never both
        assert p["assurance"] == pytest.approx(p["p_winner"] + p["p_equal"])
    again = run_plan(
        capsys, "--baseline-cvr 0.05 --lift 50% --arms 2 --clicks-per-day 1000 --cpc 1.2 --json"
    )[1]
    assert json.loads(again) == plan


def test_plan_human_output_advice_and_errors(capsys):
    code, out, _ = run_plan(
        capsys,
        "--baseline-cvr 2% --lift 10% --arms 4 --daily-budget 300 --cpc 2 "
        "--budget-cap 3000 --max-days 30",
    )
    assert code == 0
    assert "not reached within 30 days" in out and "To make it answerable" in out
    assert "Classical fixed horizon" in out
    code, _, err = run_plan(
        capsys, "--baseline-cvr 2 --lift 0.1 --arms 2 --daily-budget 300 --cpc 2"
    )
    assert code == 1 and "baseline conversion rate must be between 0 and 1" in err
    code, _, err = run_plan(capsys, "--lift 0.1 --arms 2 --cpc 2")
    assert code == 1 and "--baseline-cvr" in err and "--daily-budget" in err
    with pytest.raises(SystemExit):
        main(["plan", "--lift", "ten", "--arms", "2"])


def test_plan_from_workspace_takes_the_baseline_from_past_trials(capsys):
    code, _, err = run_plan(capsys, "--from-workspace --lift 0.3 --arms 2 --daily-budget 500")
    assert code == 1 and "no finished trial in the workspace yet" in err
    run(capsys, "demo", "--today", "2026-10-20")
    # Finished trials in several currencies: the cost per click is read in one.
    code, _, err = run_plan(capsys, "--from-workspace --lift 0.3 --arms 2 --daily-budget 500")
    assert code == 1 and "name one with --currency" in err
    code, out, err = run_plan(
        capsys, "--from-workspace --currency CNY --lift 0.3 --arms 2 --daily-budget 500 --json"
    )
    assert code == 0, err
    inputs = json.loads(out)["inputs"]
    assert 0 < inputs["baseline_cvr"] < 1 and inputs["cpc"] > 0 and inputs["baseline_ctr"]


def test_progress_says_when_the_remaining_budget_cannot_reach_the_rule():
    from inference.planning.progress import DecisionProgress
    from tests.trials.analysis.test_decisions import make_trial, steady_days, totals

    trial = make_trial()  # budget cap 3,000 CNY
    spent = totals(trial, spend=[1450.0, 1450.0])  # 100 a day each over the last week
    daily = steady_days(trial)
    slow = DecisionProgress(False, tuple([0.001] * 10 + [0.3] * 50), 12, 20)
    text = progress_sentence(slow, trial, spent, daily)
    assert text.startswith("The remaining budget cannot reach the decision rule: 100.00 CNY")
    assert "less than a day at today's spend of 200.00 CNY a day" in text
    assert "under 1% probability" in text
    over = progress_sentence(slow, trial, totals(trial, spend=[1600.0, 1600.0]), daily)
    assert over.startswith("The budget cap is spent (3,200.00 of 3,000.00 CNY)")
    fine = progress_sentence(
        DecisionProgress(False, tuple([0.6] * 60), 1, 1),
        trial,
        totals(trial, spend=[100, 100]),
        daily,
    )
    assert (
        "The rule needs about 1 day more" in fine and "The budget cap leaves 2,800.00 CNY" in fine
    )
