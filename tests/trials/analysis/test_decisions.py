"""Recommendations from planted posteriors: gates, scale, stop, fix stages, reasons, JSON."""

import json
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from inference.funnel.spec import ModelSpec
from inference.rule import winner_threshold
from inference.summary import Diagnostics, Posterior
from tests.trials.cli.test_cli import run
from tests.trials.ingest.test_imports import FILES, create
from trials.analysis.budget import with_split
from trials.analysis.decisions import cpc_jumps, decide, delivery_gaps
from trials.domain import (
    Arm,
    ArmSpec,
    ArmTotals,
    DailyResult,
    DecisionRule,
    PrimaryMetric,
    Trial,
    TrialSpec,
)
from trials.reports.contract import decision_dict

N = 20_000
START = date(2026, 9, 1)


def make_trial(metric=PrimaryMetric.ROAS, arms=2, control=True, rule=None):
    specs = tuple(
        ArmSpec("WeChat", f"Video {chr(65 + i)}", control=control and i == 0) for i in range(arms)
    )
    spec = TrialSpec(
        name="Planted",
        primary_metric=metric,
        break_even_roas=2.0,
        currency="CNY",
        start=START,
        end=START + timedelta(days=27),
        budget=3000.0,
        arms=specs,
        decision_rule=rule or DecisionRule(),
    )
    from datetime import UTC, datetime

    now = datetime(2026, 9, 1, tzinfo=UTC)
    return Trial(1, spec, tuple(Arm(i + 1, s) for i, s in enumerate(specs)), now, "t", now, "t")


def decided_with_split(trial, post, sums, budget):
    """The decision, then the next round's split of ``budget`` (the one route to a split)."""
    return with_split(decide(trial, post, sums, steady_days(trial)), trial, post, sums, budget)


def planted(ctr, cvr, value, cpc, sd=0.02, reliable=True, seed=0):
    """Draws around per-arm truths; ROAS = CTR-free: CVR x value / CPC."""
    rng = np.random.default_rng(seed)
    k = len(ctr)

    def around(x):
        x = np.asarray(x, dtype=float)
        return x * rng.lognormal(0.0, sd, size=(N, k))

    ctr_d, cvr_d, value_d = around(ctr), around(cvr), around(value)
    roas = cvr_d * value_d / np.asarray(cpc)
    draws = {
        "ctr": ctr_d,
        "cvr": cvr_d,
        "revenue_per_conversion": value_d,
        "roas": roas,
        "cpa": np.asarray(cpc) / cvr_d,
        "revenue_per_impression": ctr_d * cvr_d * value_d,
    }
    diagnostics = Diagnostics(reliable=reliable, reasons=() if reliable else ("R-hat 1.05 > 1.01",))
    return Posterior("mcmc", ModelSpec(), tuple("ab"[:k]), "digest", draws, {}, diagnostics)


def totals(trial, conversions=40, days=14, spend=None):
    spend = spend or [1000.0] * len(trial.arms)
    return {
        a.id: ArmTotals(10_000, 500, conversions, s, 3 * s, days)
        for a, s in zip(trial.arms, spend, strict=True)
    }


def steady_days(trial, days=14, cpc=2.0):
    return [
        DailyResult(a.id, START + timedelta(days=d), 1000, 50, 4, 50 * cpc, 300.0)
        for d in range(days)
        for a in trial.arms
    ]


def test_clear_profitable_winner_scales_and_the_loser_is_diagnosed():
    trial = make_trial()
    # B has the same CTR but half the conversion after the click: the landing page.
    post = planted(ctr=[0.02, 0.02], cvr=[0.06, 0.03], value=[100, 100], cpc=[2.0, 2.0])
    d = decide(trial, post, totals(trial), steady_days(trial))
    a, b = d.arms
    assert (a.recommendation, b.recommendation) == ("scale", "fix_landing")
    assert d.leader == 1 and d.rule_met
    assert a.reason.startswith("WeChat · Video A returns 3.00 per 1 spent (94% HDI")
    assert "Scale: the pre-registered rule is met" in a.reason
    assert "above break-even 2" in a.reason
    assert d.verdict == "scale" and d.reason.startswith("Scale WeChat · Video A")
    assert "0% chance it beats WeChat · Video A" in b.reason
    assert b.comparison.lift_mean == pytest.approx(-0.5, abs=0.01)
    assert b.expected_loss == pytest.approx(1500, rel=0.02)  # (3.0 - 1.5) x 1,000
    assert b.loss_unit == "revenue per 1,000 spent"


def test_a_loser_held_back_by_its_click_through_rate_needs_a_new_creative():
    trial = make_trial(metric=PrimaryMetric.CPA)
    # B converts as well after the click but its ad earns few clicks, so each click costs
    # more (its CPC is higher): the creative is the weak stage.
    post = planted(ctr=[0.03, 0.01], cvr=[0.05, 0.05], value=[100, 100], cpc=[1.0, 3.0])
    d = decide(trial, post, totals(trial), steady_days(trial))
    assert [x.recommendation for x in d.arms] == ["scale", "fix_creative"]
    assert "costs 20.00 CNY per conversion" in d.arms[0].reason
    # Choosing B costs E[CPA_B - min CPA] = 60 - 20 more per conversion.
    assert d.arms[1].loss_unit == "CNY per conversion"
    assert d.arms[1].expected_loss == pytest.approx(60 - 20, rel=0.02)


def test_clearly_behind_on_both_stages_is_stopped():
    trial = make_trial(arms=3, control=False)
    post = planted(
        ctr=[0.03, 0.01, 0.02], cvr=[0.06, 0.02, 0.05], value=[100, 100, 100], cpc=[2, 2, 2]
    )
    d = decide(trial, post, totals(trial), steady_days(trial))
    assert [x.recommendation for x in d.arms][:2] == ["scale", "stop"]
    assert all(x.comparison.p_beat_control is None for x in d.arms)


def test_gates_keep_testing_with_the_reason_and_the_days_still_needed():
    from inference.planning.progress import DecisionProgress

    trial = make_trial()
    post = planted(ctr=[0.02, 0.02], cvr=[0.06, 0.03], value=[100, 100], cpc=[2.0, 2.0])
    progress = DecisionProgress(False, (0.3, 0.7, 0.9), 2, 3)
    d = decide(trial, post, totals(trial, conversions=10, days=5), steady_days(trial), progress)
    assert all(x.recommendation == "keep_testing" for x in d.arms)
    reason = d.arms[0].reason
    assert "5 of the 7 days the rule asks for" in reason
    assert "10 of the 25 conversions per arm the rule asks for" in reason
    assert not d.rule_met and d.verdict == "keep_testing"


def test_an_unreliable_fit_never_drives_a_scale():
    trial = make_trial()
    post = planted(
        ctr=[0.02, 0.02], cvr=[0.06, 0.03], value=[100, 100], cpc=[2.0, 2.0], reliable=False
    )
    d = decide(trial, post, totals(trial), steady_days(trial))
    assert all(x.recommendation == "keep_testing" for x in d.arms)
    assert "the model fit is unreliable: R-hat" in d.arms[0].reason


def test_when_every_arm_loses_money_the_trial_is_told_to_stop():
    trial = make_trial()
    post = planted(ctr=[0.02, 0.02], cvr=[0.03, 0.01], value=[100, 100], cpc=[2.0, 2.0])
    d = decide(trial, post, totals(trial), steady_days(trial))
    assert d.verdict == "stop_all" and d.rule_met
    assert [a.recommendation for a in d.arms] == ["stop", "stop"]
    assert d.arms[0].p_roas_above_break_even < 0.01
    assert "0% chance it returns above break-even 2" in d.arms[0].reason
    assert d.reason.startswith("Stop: every arm probably loses money")


def test_a_clear_leader_that_may_not_pay_is_not_scaled():
    trial = make_trial()
    # A leads clearly but its ROAS sits on break-even 2: P(ROAS > 2) about one half.
    post = planted(ctr=[0.02, 0.02], cvr=[0.04, 0.02], value=[100, 100], cpc=[2.0, 2.0], sd=0.05)
    d = decide(trial, post, totals(trial), steady_days(trial))
    assert d.verdict == "keep_testing" and not d.rule_met
    assert d.arms[0].recommendation == "keep_testing"
    assert "scaling needs 80%" in d.arms[0].reason


def test_close_arms_keep_testing():
    trial = make_trial()
    post = planted(ctr=[0.02, 0.02], cvr=[0.05, 0.05], value=[100, 100], cpc=[2.0, 2.0], sd=0.2)
    d = decide(trial, post, totals(trial), steady_days(trial))
    assert [x.recommendation for x in d.arms] == ["keep_testing", "keep_testing"]
    assert 0.3 < d.arms[1].comparison.p_beat_control < 0.7


def test_delivery_gap_and_cpc_jump_block_a_scale():
    trial = make_trial()
    post = planted(ctr=[0.02, 0.02], cvr=[0.06, 0.03], value=[100, 100], cpc=[2.0, 2.0])
    uneven = totals(trial, spend=[1500.0, 500.0])
    assert set(delivery_gaps(trial, uneven)) == {1, 2}
    d = decide(trial, post, uneven, steady_days(trial))
    assert d.arms[0].recommendation == "keep_testing"
    assert "spend share 75% against 50% planned" in d.arms[0].reason
    jumped = steady_days(trial)
    jumped[2 * 10] = replace(jumped[2 * 10], spend=300.0)  # arm 1, day 10: CPC 6 vs 2
    assert cpc_jumps(trial, jumped) == {
        1: "cost per click jumped to 6.00 on 2026-09-11 from about 2.00; check for a bid, "
        "audience or tracking change"
    }
    assert decide(trial, post, totals(trial), jumped).arms[0].recommendation == "keep_testing"


def test_arms_without_an_estimate_keep_testing_with_a_neutral_answer():
    trial = make_trial(arms=3)
    post = planted(ctr=[0.02] * 3, cvr=[0.05] * 3, value=[100] * 3, cpc=[2.0] * 3)
    post.draws["roas"][:, 2] = np.nan
    post.undefined["roas"] = {2: "no spend yet"}
    d = with_split(
        decide(trial, post, totals(trial), steady_days(trial)), trial, post, totals(trial), 1000
    )
    assert d.arms[2].comparison is None and "no spend yet" in d.arms[2].reason
    out = decision_dict(trial, d)
    assert out["arms"][3]["p_best"] is None and out["arms"][3]["recommendation"] == "keep_testing"
    assert [a["creative"] for a in out["allocation"]["arms"]] == ["Video A", "Video B"]


def test_decision_dict_fields():
    trial = make_trial()
    post = planted(ctr=[0.02, 0.02], cvr=[0.06, 0.03], value=[100, 100], cpc=[2.0, 2.0])
    out = decision_dict(
        trial,
        with_split(
            decide(trial, post, totals(trial), steady_days(trial)), trial, post, totals(trial), 2000
        ),
    )
    control, other = out["arms"][1], out["arms"][2]
    assert control["p_beat_control"] is None and control["lift_vs_control"] is None
    assert set(other["lift_vs_control"]) == {"mean", "hdi_low", "hdi_high"}
    # A scales but takes at most 2x its pace (1,000 over 14 days: 500 a week); B is to be
    # fixed, so it gets nothing; the rest of the 2,000 is left unspent, and said so.
    split = out["allocation"]
    assert split["offered_budget"] == 2000 and split["total_budget"] == pytest.approx(1000)
    assert split["arms"][0]["budget"] == pytest.approx(1000, abs=1)
    assert split["arms"][0]["cap"] == pytest.approx(1000) and split["arms"][1]["budget"] == 0
    assert split["unspent"] == pytest.approx(1000, abs=1)
    assert any(n.startswith("Spends 1,000.00 of 2,000.00 CNY") for n in split["notes"])
    assert out["decision"]["leader"] == "WeChat · Video A"


def test_analyze_json_gains_decision_fields_and_allocation(capsys, tmp_path):
    name = create(capsys, tmp_path)
    run(capsys, "import", name, str(FILES / "google_ads_report.csv"))
    code, out, err = run(
        capsys,
        "analyze",
        name,
        "--json",
        "--budget",
        "1000",
        "--min-per-arm",
        "100",
    )
    assert code == 0, err
    result = json.loads(out)
    for arm in result["arms"]:
        for key in (
            "p_best",
            "p_beat_control",
            "lift_vs_control",
            "expected_loss",
            "p_roas_above_break_even",
            "recommendation",
            "reason",
        ):
            assert key in arm
        assert arm["recommendation"] == "keep_testing"  # two days of data
    assert result["arms"][0]["p_beat_control"] is None
    assert result["results_source"] == "channel"
    allocation = result["allocation"]
    assert sum(a["budget"] for a in allocation["arms"]) == pytest.approx(1000)
    assert all(a["budget"] >= 100 for a in allocation["arms"])
    code, _, err = run(capsys, "analyze", name, "--budget", "100", "--min-per-arm", "80")
    assert code == 1 and "cannot hold" in err


def test_raw_and_modelled_figures_side_by_side(capsys, tmp_path):
    name = create(capsys, tmp_path)
    run(capsys, "import", name, str(FILES / "google_ads_report.csv"))
    result = json.loads(run(capsys, "analyze", name, "--method", "exact", "--json")[1])
    wechat = result["arms"][0]
    assert wechat["raw_estimate"] == pytest.approx(1240.0 / 232.40)  # revenue / spend
    assert result["raw_vs_model"].startswith(("WeChat", "Weibo", "Raw and modelled"))
    assert "raw" in result["raw_vs_model"] or "agree" in result["raw_vs_model"]


@pytest.mark.slow
def test_analyze_reports_a_response_curve_for_arms_with_budget_steps(capsys, tmp_path):
    rng = np.random.default_rng(5)
    lines = ["date,channel,creative,impressions,clicks,conversions,spend,revenue"]
    for d in range(28):
        day = (START + timedelta(days=d)).isoformat()
        for creative, base in (("Video A", 100.0), ("Image B", 100.0)):
            spend = base * (1.0 if d < 14 else 1.6 if creative == "Video A" else 1.0)
            clicks = int(rng.poisson(spend / 0.8))
            conversions = int(rng.binomial(clicks, 0.05))
            revenue = float(rng.gamma(2.5, 40.0, size=conversions).sum())
            channel = "WeChat" if creative == "Video A" else "Weibo"
            lines.append(
                f"{day},{channel},{creative},{clicks * 30},{clicks},{conversions},"
                f"{spend:.2f},{revenue:.2f}"
            )
    name = create(capsys, tmp_path)
    path = tmp_path / "ladder.csv"
    path.write_text("\n".join(lines) + "\n")
    assert run(capsys, "import", name, str(path))[0] == 0
    code, out, err = run(capsys, "analyze", name, "--json")
    assert code == 0, err
    stepped, flat = (a["response_curve"] for a in json.loads(out)["arms"])
    assert stepped["marginal_roas"]["mean"] is not None
    assert stepped["current_daily_spend"] == pytest.approx(160, rel=0.05)
    assert stepped["advice"].startswith(("Raise", "Hold", "Lower"))
    assert flat["marginal_roas"]["mean"] is None and "one daily spend level" in flat["advice"]


def test_a_zero_conversion_arm_is_stopped_with_its_numbers_and_still_counts_in_p_best():
    trial = make_trial(arms=3, control=False)
    # C has plenty of clicks but (about) no conversions: its CVR interval sits far below.
    post = planted(
        ctr=[0.02, 0.02, 0.02], cvr=[0.06, 0.03, 0.0005], value=[100, 100, 100], cpc=[2, 2, 2]
    )
    sums = totals(trial)
    c = trial.arms[2].id
    sums[c] = ArmTotals(10_000, 780, 0, 1000.0, 0.0, 14)
    d = decide(trial, post, sums, steady_days(trial))
    assert d.verdict == "scale" and d.rule_met
    # Guarded over k = 3 arms, the zero arm included, at a look half-way through the plan.
    assert d.winner_threshold == pytest.approx(winner_threshold(0.95, 3, 14 / 28, 28, 7))
    zero = d.arms[2]
    assert zero.comparison is not None and zero.recommendation in ("stop", "fix_landing")
    assert "0 conversions; not needed, the arm is clearly behind" in [g.message for g in zero.gates]


def test_scale_is_never_issued_while_the_rule_is_unmet():
    rng = np.random.default_rng(3)
    for n in range(60):
        k = int(rng.integers(2, 4))
        trial = make_trial(arms=k, control=False)
        post = planted(
            ctr=[0.02] * k,
            cvr=list(rng.uniform(0.02, 0.06, k)),
            value=[100] * k,
            cpc=[2.0] * k,
            sd=float(rng.uniform(0.02, 0.3)),
            seed=n,
        )
        conv = [int(x) for x in rng.integers(0, 60, k)]
        days = int(rng.integers(3, 20))
        sums = {
            a.id: ArmTotals(10_000, 500, c, 1000.0, 3000.0, days)
            for a, c in zip(trial.arms, conv, strict=True)
        }
        d = decide(trial, post, sums, steady_days(trial, days=days))
        scaled = [a for a in d.arms if a.recommendation == "scale"]
        if scaled:
            assert d.verdict == "scale" and d.rule_met and len(scaled) == 1
            assert all(g.passed for g in d.gates)
            assert scaled[0].comparison.p_best >= d.winner_threshold
        assert d.rule_met == (d.verdict != "keep_testing")


def test_the_cost_per_click_check_stays_quiet_on_click_noise():
    # 10 clicks a day at a steady cost per click, spend wobbling +-15 %: Poisson noise alone.
    trial = make_trial(arms=2)
    rng = np.random.default_rng(9)
    fired = 0
    runs = 1500
    for _ in range(runs):
        rows = []
        for d in range(28):
            for a in trial.arms:
                spend = 15.0 * rng.uniform(0.85, 1.15)
                clicks = int(rng.poisson(spend / 1.5))
                rows.append(
                    DailyResult(a.id, START + timedelta(days=d), clicks * 40, clicks, 0, spend, 0.0)
                )
        fired += len(cpc_jumps(trial, rows))
    rate = fired / (2 * runs)
    print(f"\nCPC check on steady arms at 10 clicks a day: fired for {rate:.2%} of arms")
    assert rate <= 0.05


def test_delivery_is_compared_over_the_days_every_arm_ran():
    trial = make_trial(arms=3, control=False)
    a, b, c = (arm.id for arm in trial.arms)
    rows = [
        DailyResult(arm, START + timedelta(days=d), 1000, 50, 4, 100.0, 300.0)
        for d in range(14)
        for arm in (a, b)
    ] + [DailyResult(c, START + timedelta(days=d), 1000, 50, 4, 100.0, 300.0) for d in range(7, 14)]
    sums = {
        arm: ArmTotals(0, 0, 0, sum(r.spend for r in rows if r.arm_id == arm), 0.0, 0)
        for arm in (a, b, c)
    }
    assert delivery_gaps(trial, sums) != {}  # over all days the late arm looks under-delivered
    assert delivery_gaps(trial, sums, rows) == {}  # over the days all three ran: as planned


def test_the_split_never_extrapolates_beyond_twice_the_pace_and_keeps_learning_floors():
    trial = make_trial(arms=3, control=False)
    post = planted(ctr=[0.02] * 3, cvr=[0.06, 0.05, 0.03], value=[100] * 3, cpc=[2.0] * 3, sd=0.15)
    sums = totals(trial, spend=[70.0, 1000.0, 1000.0])  # A spent 70 in 14 days: 35 a week
    d = decided_with_split(trial, post, sums, 5000)
    a = d.allocation.budgets[0]
    assert a <= 70.0 + 0.01  # 2x its pace, however good its ROAS looks
    assert d.allocation.unspent > 0 and sum(d.allocation.budgets) <= 5000 + 0.01
    recs = [x.recommendation for x in d.arms]
    for budget, floor, rec in zip(d.allocation.budgets, d.allocation.floors, recs, strict=True):
        if rec == "keep_testing":
            assert floor > 0 and budget >= floor - 0.01


def test_when_every_arm_likely_loses_money_the_split_spends_nothing():
    trial = make_trial()
    post = planted(ctr=[0.02, 0.02], cvr=[0.03, 0.025], value=[100, 100], cpc=[2.0, 2.0])
    d = with_split(
        decide(trial, post, totals(trial), steady_days(trial)), trial, post, totals(trial), 5000
    )
    assert d.verdict == "stop_all"
    assert d.allocation.budgets == (0.0, 0.0) and d.allocation.unspent == 5000
    assert d.allocation.p_loss == 0.0  # nothing spent, nothing lost


def test_extrapolated_revenue_carries_diminishing_returns():
    from inference.decisions import allocate

    roas = np.random.default_rng(1).normal(3.0, 0.1, size=(4000, 1))
    flat = allocate(roas, 1000, break_even=2.0, high=[1000], spend_less=True)
    damped = allocate(roas, 1000, break_even=2.0, high=[1000], spend_less=True, pace=[250])
    assert flat.total_expected_revenue == pytest.approx(3000, rel=0.01)
    # Four times today's pace, with returns falling as m^-e, e uniform on [0, 0.5]:
    # E[4^-e] = (1 - 4^-0.5) / (0.5 ln 4) = 0.7213.
    assert damped.total_expected_revenue == pytest.approx(3000 * 0.7213, rel=0.01)


def test_an_arm_whose_curve_says_hold_is_not_given_more_than_todays_level():
    from inference.curve.fit import ResponseCurve
    from inference.summary import Interval
    from trials.analysis.budget import budget_split

    trial = make_trial()
    post = planted(ctr=[0.02, 0.02], cvr=[0.06, 0.03], value=[100, 100], cpc=[2.0, 2.0])
    sums = totals(trial, spend=[1400.0, 1400.0])  # 100 a day each
    hold = ResponseCurve(
        current_spend=100.0,
        marginal_now=Interval(2.4, 2.1, 2.7),
        p_now_above_break_even=0.9,
        break_even_spend=Interval(160.0, 120.0, 220.0),
        next_spend=150.0,
        marginal_next=Interval(1.9, 1.5, 2.3),
        p_next_above_break_even=0.35,
        advice="Hold daily spend at 100",
    )
    recs = {a.id: "keep_testing" for a in trial.arms}
    split, _ = budget_split(
        trial, post, sums, 5000, recommendations=recs, curves={trial.arms[0].id: hold}
    )
    # Without the curve A could take 2x its pace (1,400 a week); its curve says hold: 700.
    assert split.budgets[0] == pytest.approx(700, abs=0.01)
    assert split.caps[0] == pytest.approx(700) and split.caps[1] == pytest.approx(1400)


def test_an_arm_added_later_does_not_reset_the_others_gates():
    trial = make_trial(arms=3, control=False)
    post = planted(ctr=[0.02] * 3, cvr=[0.05, 0.05, 0.05], value=[100] * 3, cpc=[2.0] * 3)
    sums = totals(trial)
    c = trial.arms[2].id
    sums[c] = ArmTotals(2000, 100, 5, 200.0, 600.0, 2)  # added two days ago
    d = decide(trial, post, sums, steady_days(trial))
    days_gate = next(g for g in d.gates if g.name == "min_days")
    assert not days_gate.passed
    assert days_gate.message.startswith("WeChat · Video C has 2 of the 7 days the rule asks for")
    assert "(the other arms have them)" in days_gate.message
    old = [next(g for g in a.gates if g.name == "min_days") for a in d.arms[:2]]
    assert all(g.passed and g.message == "14 days of data" for g in old)
