"""A scale plan tracked on planted response curves whose marginal ROAS is known."""

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from inference.curve.data import SpendLadder
from inference.curve.fit import CurveDraws, ResponseCurve, marginal_roas, neutral_curve
from inference.summary import Interval
from trials.analysis.scale_plan import track
from trials.domain.scale_plans import PlanStatus, ScalePlan, ScaleSettings

START = date(2026, 12, 1)
B = 2.0  # break-even ROAS


def _plan(**changes) -> ScalePlan:
    values = dict(
        id=1,
        trial_id=1,
        arm_id=7,
        arm_name="WeChat · Video",
        settings=ScaleSettings(100.0, 0.5, 7, 0.8),
        break_even_roas=B,
        start=START,
        created_at=datetime(2026, 11, 30, tzinfo=UTC),
        created_by="tester",
    )
    return ScalePlan(**(values | changes))


def _curve(s0=100.0, m0=10.0, value=40.0, elasticity=(0.5,), reliable=True) -> ResponseCurve:
    """A curve whose draws hold the elasticities given (every other parameter fixed):
    today's average ROAS is value × m0 / s0 and the marginal ROAS at s0 is e times it."""
    e = np.asarray(elasticity, dtype=float)
    k = e / (1 - e)
    n = len(e)
    now = marginal_roas(s0, value, m0, k, s0)
    return ResponseCurve(
        current_spend=s0,
        marginal_now=Interval(float(now.mean()), float(now.min()), float(now.max())),
        p_now_above_break_even=float((now > B).mean()),
        break_even_spend=Interval(1.0, 1.0, 1.0),
        next_spend=1.5 * s0,
        marginal_next=Interval(1.0, 1.0, 1.0),
        p_next_above_break_even=0.5,
        advice="planted",
        reliable=reliable,
        reasons=() if reliable else ("R-hat 1.100 is above 1.01",),
        draws=CurveDraws(
            s0, np.full(n, m0), k, np.full(n, value), np.full(n, 0.1), np.full(n, 5.0)
        ),
    )


def _days(spends: list[float], start: date = START) -> list[tuple[date, float]]:
    return [(start + timedelta(days=i), s) for i, s in enumerate(spends)]


def _ladder_days(steps: int, days_at_last: int, plan=None) -> list[tuple[date, float]]:
    plan = plan or _plan()
    spends = []
    for k in range(steps):
        spends += [plan.step_spend(k)] * plan.step_days
    spends += [plan.step_spend(steps)] * days_at_last
    return _days(spends)


def test_hold_until_the_step_has_its_days_then_step_up_when_the_stop_condition_is_not_met():
    # Average ROAS 4 at 100 a day; e spread evenly over (0, 1): at 150 a day the marginal
    # ROAS is below 2 in a known share of draws, well under 80 %.
    e = (np.arange(4000) + 0.5) / 4000
    curve = _curve(elasticity=e)
    held = track(_plan(), _ladder_days(1, 4), curve, currency="CNY")
    assert held.current_step == 1 and held.proposal.kind == "hold"
    assert "not enough days at this step yet (4 of 7)" in held.proposal.text
    stepped = track(_plan(), _ladder_days(1, 7), curve, currency="CNY")
    expected = float((curve.draws.marginal(150.0) < B).mean())
    assert stepped.p_below_break_even == pytest.approx(expected)
    assert 0.2 < expected < 0.8  # the planted posterior is really undecided
    assert stepped.proposal.kind == "step_up"
    assert stepped.proposal.next_daily_spend == pytest.approx(225.0)
    assert stepped.proposal.on == START + timedelta(days=14)
    assert "Step up to 225.00 CNY a day on 2026-12-15" in stepped.proposal.text


def test_stop_when_the_marginal_roas_is_below_break_even_with_the_plans_probability():
    # At 150 a day with e = 0.5, k = 1: marginal = 40·10·2·1 / (100·2.5²) = 1.28 < 2.
    sure = track(_plan(), _ladder_days(1, 7), _curve(elasticity=[0.5] * 100))
    assert sure.marginal.median == pytest.approx(1.28)
    assert sure.p_below_break_even == 1.0
    assert sure.proposal.kind == "stop"
    assert "with probability 100% ≥ 80%" in sure.proposal.text
    # 85 % of draws below break-even: stop at p = 0.8, step up at p = 0.9.
    mixed = _curve(elasticity=[0.5] * 85 + [0.95] * 15)
    assert track(_plan(), _ladder_days(1, 7), mixed).proposal.kind == "stop"
    strict = _plan(settings=ScaleSettings(100.0, 0.5, 7, 0.9))
    assert track(strict, _ladder_days(1, 7, strict), mixed).proposal.kind == "step_up"


def test_a_known_curve_is_stepped_up_to_the_first_step_past_its_break_even_spend_and_stopped():
    # One parameter set (no posterior spread): the plan must step while the marginal ROAS
    # at the step's spend is above break-even and stop at the first step below it.
    s0, m0, value, e = 100.0, 12.0, 50.0, 0.8  # marginal at 100 a day: 0.8 · 6 = 4.8
    curve = _curve(s0, m0, value, [e] * 50)
    k = e / (1 - e)
    crossing = (np.sqrt(value * m0 * (1 + k) * k / (s0 * B)) - k) * s0
    plan = _plan()
    first_past = next(n for n in range(20) if plan.step_spend(n) > crossing)
    kinds = []
    for n in range(first_past + 1):
        kinds.append(track(plan, _ladder_days(n, 3), curve).proposal.kind)
        kinds.append(track(plan, _ladder_days(n, 7), curve).proposal.kind)
    assert kinds == ["hold", "step_up"] * first_past + ["hold", "stop"]
    last = track(plan, _ladder_days(first_past, 7), curve)
    # Where the marginal return falls: the closed form, and the marginal ROAS there is b.
    assert last.break_even_spend.median == pytest.approx(crossing)
    assert marginal_roas(crossing, value, m0, k, s0) == pytest.approx(B)
    assert first_past == 4 and crossing == pytest.approx(374.6, abs=0.1)  # 337.50 < it < 506.25


def test_the_median_crossing_is_where_the_median_marginal_roas_meets_break_even():
    e = np.random.default_rng(1).beta(4, 3, 4000)
    t = track(_plan(), _ladder_days(1, 7), _curve(elasticity=e))
    s = t.break_even_spend.median
    assert np.median(_curve(elasticity=e).draws.marginal(s)) == pytest.approx(B, rel=1e-3)
    assert t.break_even_spend.low < s < t.break_even_spend.high
    spends = [g[0] for g in t.marginal_curve]
    assert spends == sorted(spends) and all(lo <= med <= hi for _, med, lo, hi in t.marginal_curve)


def test_a_step_off_its_plan_by_more_than_20_percent_is_flagged():
    spends = [100.0] * 7 + [115.0] * 7  # step 2 planned at 150
    t = track(_plan(), _days(spends), _curve(elasticity=[0.5] * 10), currency="CNY")
    first, second = t.steps
    assert not first.off_plan and first.off_by == pytest.approx(0.0)
    assert second.off_plan and second.off_by == pytest.approx(115 / 150 - 1)
    assert "115.00 CNY a day against 150.00 CNY planned (-23%)" in t.notes[0]
    assert [d.planned_spend for d in t.days][6:8] == [100.0, 150.0]


@pytest.mark.parametrize(
    ("curve", "words"),
    [
        (None, "no response curve was fitted"),
        (
            neutral_curve(SpendLadder.of([100.0] * 7, [3] * 7, [90.0] * 7), "one level"),
            "no response curve yet: one level",
        ),
        (_curve(elasticity=[0.5] * 10, reliable=False), "unreliable (r-hat 1.100"),
    ],
)
def test_without_a_usable_curve_the_answer_is_neutral_with_the_reason(curve, words):
    t = track(_plan(), _ladder_days(1, 7), curve, currency="CNY")
    assert t.proposal.kind == "neutral" and words in t.proposal.text.lower()
    assert t.marginal is None and t.p_below_break_even is None and t.break_even_spend is None
    assert "next step is 225.00 CNY a day from 2026-12-15" in t.proposal.text
    assert t.curve_reason is not None


def test_no_data_for_the_arm_since_the_start_is_neutral_and_an_ended_plan_says_so():
    before = [(START - timedelta(days=3), 90.0)]
    t = track(_plan(), before, _curve(), currency="CNY")
    assert t.proposal.kind == "neutral" and "No data for WeChat · Video since" in t.proposal.text
    assert t.steps == () and t.days == () and t.current_step is None
    ended = _plan(status=PlanStatus.STOPPED, ended_by="ann", end_reason="stock ran out")
    t = track(ended, _ladder_days(1, 7), _curve())
    assert t.proposal.kind == "ended"
    assert t.proposal.text == "The plan is stopped by ann: stock ran out."
