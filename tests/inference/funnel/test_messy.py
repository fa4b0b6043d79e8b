"""The messy-trial generator produces what it says (fast: no fits)."""

import numpy as np
import pytest

from tests.inference.messy import ArmTruth, Features, messy_trial

TWO = [ArmTruth("WeChat"), ArmTruth("WeChat", cvr=0.04)]


def per_arm(trial, key, arm):
    return np.array([r[key] for r in trial.rows if r["arm"] == arm])


def test_clean_trial_has_one_row_per_arm_and_day_and_no_oddities():
    trial = messy_trial(1, TWO, days=10)
    assert len(trial.rows) == 20
    assert (trial.data.conversions <= trial.data.clicks).all()
    assert trial.data.view_through_excess == 0
    assert trial.data.has_revenue.sum() == (trial.data.conversions > 0).sum()


def test_view_through_days_report_more_conversions_than_clicks_on_that_arm_only():
    trial = messy_trial(2, TWO, features=Features(view_through={1: 3}))
    (days,) = trial.view_through_days.values()
    assert len(days) == 3
    clicks, conversions = per_arm(trial, "clicks", 1), per_arm(trial, "conversions", 1)
    assert set(np.flatnonzero(conversions > clicks)) == set(days)
    a = messy_trial(2, TWO)
    # Arm 0 is identical with or without arm 1's view-through days, and arm 1's other days too.
    for key in ("clicks", "conversions", "revenue", "spend"):
        assert (per_arm(trial, key, 0) == per_arm(a, key, 0)).all()
        keep = [d for d in range(28) if d not in days]
        assert (per_arm(trial, key, 1)[keep] == per_arm(a, key, 1)[keep]).all()
    # The truth counts the view-through conversions' revenue.
    assert trial.truth.roas[1] > a.truth.roas[1] * 1.5
    assert trial.truth.cvr[1] == a.truth.cvr[1]


def test_conversions_without_revenue_share_and_whole_days():
    arms = [ArmTruth("Weibo", paying_share=0.5, daily_spend=400.0)]
    trial = messy_trial(3, arms, features=Features(days_without_revenue={0: 4}))
    conversions, revenue = per_arm(trial, "conversions", 0), per_arm(trial, "revenue", 0)
    (days,) = trial.no_revenue_days.values()
    assert (revenue[list(days)] == 0).all() and conversions[list(days)].sum() > 0
    assert trial.truth.paying_share[0] == pytest.approx(0.5 * 24 / 28, rel=0.02)
    # Revenue per conversion on days with revenue is about half an order's value.
    paid = revenue > 0
    assert revenue[paid].sum() / conversions[paid].sum() == pytest.approx(40, rel=0.15)


def test_a_pause_has_no_clicks_or_spend_but_late_conversions():
    arms = [ArmTruth("Search", daily_spend=300.0)]
    trial = messy_trial(4, arms, features=Features(pause=(10, 11, 12), late_share=0.3))
    by_day = {r["day"]: r for r in trial.rows}
    paused = [r for d, r in by_day.items() if d in ("2026-09-11", "2026-09-12", "2026-09-13")]
    assert paused and all(r["clicks"] == 0 and r["spend"] == 0 for r in paused)
    assert sum(r["conversions"] for r in paused) > 0
    # The export runs until late conversions are in: days after the last click day.
    assert max(by_day) > "2026-09-28"
    assert trial.truth.spend[0] == pytest.approx(300.0 * 25)


def test_lagged_own_orders_are_dated_k_days_after_the_click():
    arms = [ArmTruth("Search", daily_spend=300.0)]
    clean, lagged = messy_trial(5, arms), messy_trial(5, arms, features=Features(lag_days=3))
    conv_clean, conv_lagged = per_arm(clean, "conversions", 0), per_arm(lagged, "conversions", 0)
    assert (conv_lagged[:3] == 0).all()
    assert (conv_lagged[3:] == conv_clean).all()
    assert (per_arm(lagged, "clicks", 0)[28:] == 0).all()
    assert lagged.truth.roas[0] == pytest.approx(clean.truth.roas[0])


def test_single_price_revenue_is_conversions_times_price():
    trial = messy_trial(6, TWO, features=Features(single_price=49.0))
    assert (trial.data.revenue == trial.data.conversions * 49.0).all()
    assert (trial.truth.order_value == 49.0).all()


def test_one_day_and_zero_conversion_arms():
    arms = [ArmTruth("A"), ArmTruth("B", cvr=0.0)]
    trial = messy_trial(7, arms, days=1)
    assert len(trial.data.days) == 1 and len(trial.rows) == 2
    assert per_arm(trial, "conversions", 1).sum() == 0
    assert trial.truth.roas[1] == 0


@pytest.mark.parametrize(
    "features",
    [
        Features(),
        Features(view_through={0: 2}, days_without_revenue={1: 3}),
        Features(pause=(8, 9, 10), late_share=0.25, lag_days=2),
    ],
)
def test_true_roas_is_expected_revenue_over_spend(features):
    """Summed over 300 trials, revenue / spend agrees with the truth's expected revenue /
    expected spend to within 3 % (the Monte Carlo error of the ratio is about 1 %)."""
    arms = [ArmTruth("A", paying_share=0.7), ArmTruth("B", cvr=0.05, order_value=60.0)]
    observed, expected = np.zeros((2, 2)), np.zeros((2, 2))
    for seed in range(300):
        trial = messy_trial(seed, arms, days=14, features=features)
        t = trial.data.totals()
        observed += [t.revenue, t.spend]
        expected += [trial.truth.revenue, trial.truth.spend]
    assert observed[0] / observed[1] == pytest.approx(expected[0] / expected[1], rel=0.03)
