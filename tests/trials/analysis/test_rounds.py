"""Rounds in the analysis: each round is analysed on its own days and arms, and the
comparison of two rounds gives the posterior of each stage's change."""

from datetime import date, timedelta

import numpy as np
import pytest
from scipy import integrate, stats

from tests.conftest import make_spec
from trials.analysis.result import analyze_trial, load
from trials.analysis.rounds import compare_rounds, lineage
from trials.domain import ArmSpec, DailyResult, ResultRow, UserError
from trials.domain.rounds import NextRound, RoundChanges

ROUND_2 = date(2026, 9, 15)


def _rows(trial, arm_counts, start, days):
    """``days`` days per arm from ``arm_counts``: {arm name: (impressions, clicks,
    conversions, spend, revenue) per day}."""
    by_name = {a.name: a for a in trial.arms}
    return [
        DailyResult(
            arm_id=by_name[name].id,
            day=start + timedelta(days=d),
            impressions=n[0],
            clicks=n[1],
            conversions=n[2],
            spend=n[3],
            revenue=n[4],
        )
        for d in range(days)
        for name, n in arm_counts.items()
    ]


@pytest.fixture
def two_rounds(store):
    """Round 1 (Sep 1-10): WeChat 2 % CVR, Weibo 1 % CVR. Round 2 (from Sep 15): WeChat
    unchanged, Weibo's creative replaced and converting at 3 %."""
    trial = store.create_trial(make_spec())
    store.add_results(
        trial.id,
        _rows(
            trial,
            {
                "WeChat · Video A": (2000, 100, 2, 50.0, 200.0),
                "Weibo · Image B": (4000, 100, 1, 50.0, 100.0),
            },
            trial.spec.start,
            10,
        ),
        kind="manual",
    )
    trial = store.start_round(
        trial.id,
        NextRound(
            start=ROUND_2,
            reason="new Weibo creative",
            changes=RoundChanges(replace=(("Weibo · Image B", "Image C"),)),
        ),
    )
    store.add_results(
        trial.id,
        _rows(
            trial,
            {
                "WeChat · Video A": (2000, 100, 2, 50.0, 200.0),
                "Weibo · Image C": (4000, 100, 3, 50.0, 300.0),
            },
            ROUND_2,
            10,
        ),
        kind="manual",
    )
    return store.get_trial(trial.id)


def test_each_round_is_analysed_on_its_own_days_and_arms(store, two_rounds):
    one, two = load(store, two_rounds.in_round(1)), load(store, two_rounds.in_round(2))
    assert [a.name for a in one.trial.arms] == ["WeChat · Video A", "Weibo · Image B"]
    assert [a.name for a in two.trial.arms] == ["WeChat · Video A", "Weibo · Image C"]
    wechat = two_rounds.arms[0].id
    # The kept arm's totals are per round, not summed over both.
    assert one.totals[wechat].conversions == 20 and two.totals[wechat].conversions == 20
    assert one.totals[wechat].days == 10 and two.totals[wechat].days == 10
    assert {d.day for d in two.daily} == {ROUND_2 + timedelta(days=d) for d in range(10)}
    assert one.digest != two.digest
    # The current round is the default everywhere: the trial as loaded is round 2.
    assert load(store, two_rounds).digest == two.digest


def test_the_analysis_of_a_round_says_which_round(store, two_rounds):
    from inference.funnel.spec import ModelSpec
    from trials.reports.contract import analysis_dict

    analysis = analyze_trial(
        store, two_rounds.in_round(1), method="exact", spec=ModelSpec(), seed=1
    )
    data = analysis_dict(analysis)
    assert (data["round"], data["rounds"]) == (1, 2)
    assert (data["round_start"], data["round_end"]) == ("2026-09-01", "2026-09-14")
    assert [a["creative"] for a in data["arms"]] == ["Video A", "Image B"]


def test_the_lineage_follows_replaced_creatives(two_rounds):
    old = {a.name: a.id for a in two_rounds.all_arms}
    assert lineage(two_rounds, 1, 2) == [
        (old["WeChat · Video A"], old["WeChat · Video A"], "same"),
        (old["Weibo · Image B"], old["Weibo · Image C"], "replaced"),
    ]


def _p_greater(after: tuple[float, float], before: tuple[float, float]) -> float:
    """P(X_after > X_before) for independent Beta variables, by quadrature."""
    low = min(stats.beta.ppf(1e-12, *after), stats.beta.ppf(1e-12, *before))
    high = max(stats.beta.isf(1e-12, *after), stats.beta.isf(1e-12, *before))
    value, _ = integrate.quad(
        lambda x: stats.beta.pdf(x, *after) * stats.beta.cdf(x, *before), low, high, limit=200
    )
    return value


def test_the_change_after_a_fix_matches_the_closed_form_on_conjugate_data(store, two_rounds):
    # The exact path's rates are Beta(1 + successes, 1 + failures) per round; the change's
    # P(improved) is P(after > before) for two independent Betas.
    comparison = compare_rounds(store, two_rounds, method="exact", seed=3)
    assert (comparison.before, comparison.after) == (1, 2)
    weibo = next(a for a in comparison.arms if a.kind == "replaced")
    assert (weibo.before_name, weibo.after_name) == ("Weibo · Image B", "Weibo · Image C")
    n_draws = 4000
    for stage, before, after in (
        ("cvr", (1 + 10, 1 + 990), (1 + 30, 1 + 970)),
        ("ctr", (1 + 1000, 1 + 39_000), (1 + 1000, 1 + 39_000)),
    ):
        exact = _p_greater(after, before)
        mc_sd = np.sqrt(exact * (1 - exact) / n_draws)
        got = weibo.stage(stage).p_improved
        assert abs(got - exact) <= 4 * mc_sd + 1e-9, (stage, got, exact, mc_sd)
    # The change's mean is E[after / before] - 1 for independent Betas, in closed form:
    # E[1/X] = (a + b - 1) / (a - 1) for X ~ Beta(a, b).
    a1, b1 = 11, 991
    a2, b2 = 31, 971
    expected = (a2 / (a2 + b2)) * (a1 + b1 - 1) / (a1 - 1) - 1
    change = weibo.stage("cvr").change
    assert change.mean == pytest.approx(expected, rel=0.08)
    assert change.low < expected < change.high
    # The unchanged arm's CVR did not move: P(improved) about a half.
    wechat = next(a for a in comparison.arms if a.kind == "same")
    assert 0.35 < wechat.stage("cvr").p_improved < 0.65
    assert comparison.added == () and comparison.dropped == ()


def test_a_stage_without_conversions_is_undefined_with_a_reason(store):
    trial = store.create_trial(make_spec())
    counts = {
        "WeChat · Video A": (2000, 100, 0, 50.0, 0.0),
        "Weibo · Image B": (2000, 100, 1, 50.0, 80.0),
    }
    store.add_results(trial.id, _rows(trial, counts, trial.spec.start, 3), kind="manual")
    trial = store.start_round(
        trial.id,
        NextRound(
            start=date(2026, 9, 10),
            reason="add Douyin",
            changes=RoundChanges(add=(ArmSpec("Douyin", "Clip"),)),
        ),
    )
    store.commit_results(
        trial.id,
        [ResultRow("WeChat", "Video A", date(2026, 9, 10), 500, 20, 1, 10.0, 30.0, row=2)],
        kind="daily",
    )
    comparison = compare_rounds(store, store.get_trial(trial.id), method="exact")
    wechat = next(a for a in comparison.arms if a.after_name == "WeChat · Video A")
    value = wechat.stage("revenue_per_conversion")
    assert value.p_improved is None and value.reason
    assert comparison.added == ("Douyin · Clip",)


def test_comparing_needs_two_rounds_in_order(store, two_rounds):
    with pytest.raises(UserError, match="one round so far"):
        trial = store.create_trial(make_spec(name="single"))
        compare_rounds(store, trial, method="exact")
    with pytest.raises(UserError, match="cannot be compared"):
        compare_rounds(store, two_rounds, before=2, after=1, method="exact")
