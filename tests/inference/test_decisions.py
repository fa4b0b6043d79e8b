"""Decision maths on planted posteriors against closed forms, and the budget split."""

import numpy as np
import pytest
from scipy import stats

from inference.decisions import allocate, compare_arms, expected_loss, p_beat, p_best
from inference.planning.looks import decision_metrics

N = 400_000


def normal_draws(means, sds, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(means, sds, size=(N, len(means)))


def test_two_normal_arms_match_closed_forms():
    mu, sd = np.array([1.0, 1.2]), np.array([0.3, 0.4])
    draws = normal_draws(mu, sd)
    s = np.hypot(*sd)
    delta = mu[1] - mu[0]
    # P(B > A) = Phi(delta / s); E[max(A, B) - A] = delta Phi(delta/s) + s phi(delta/s).
    assert p_best(draws)[1] == pytest.approx(stats.norm.cdf(delta / s), abs=0.003)
    assert p_beat(draws, control=0)[1] == pytest.approx(stats.norm.cdf(delta / s), abs=0.003)
    loss_a = delta * stats.norm.cdf(delta / s) + s * stats.norm.pdf(delta / s)
    assert expected_loss(draws)[0] == pytest.approx(loss_a, abs=0.003)
    assert expected_loss(draws)[1] == pytest.approx(loss_a - delta, abs=0.003)


def test_lower_is_better_flips_every_comparison():
    draws = normal_draws(np.array([20.0, 25.0]), np.array([2.0, 2.0]))
    s = np.hypot(2.0, 2.0)
    assert p_best(draws, higher_is_better=False)[0] == pytest.approx(
        stats.norm.cdf(5 / s), abs=0.003
    )
    assert (expected_loss(draws, higher_is_better=False) >= 0).all()


def test_bayesian_testings_three_variant_case_within_001_of_exact_integration():
    # A 3/10 and B 2/10 with Beta(0.5, 0.5) priors, C 2/11 with Beta(1, 2).
    a = np.array([0.5 + 3, 0.5 + 2, 1 + 2])
    b = np.array([0.5 + 7, 0.5 + 8, 2 + 9])
    exact, *_ = decision_metrics(a, b)
    draws = np.random.default_rng(1).beta(a, b, size=(N, 3))
    assert np.abs(p_best(draws) - exact).max() < 0.01


def test_lift_interval_and_control_fields():
    rng = np.random.default_rng(2)
    control = rng.lognormal(0.0, 0.05, N)
    arm = control * 1.2  # exactly 20 % above the control in every draw
    [c, t] = compare_arms(np.column_stack([control, arm]), control=0)
    assert c.p_beat_control is None and c.lift_mean is None
    assert t.lift_mean == pytest.approx(0.2) and t.lift_low == pytest.approx(0.2)
    assert t.p_beat_control == 1.0 and t.p_best == 1.0 and t.expected_loss == 0.0
    assert c.relative_loss == pytest.approx(c.expected_loss / arm.mean())


def test_without_a_control_no_control_fields():
    comps = compare_arms(normal_draws(np.array([1.0, 1.1]), np.array([0.1, 0.1])))
    assert all(c.p_beat_control is None and c.lift_mean is None for c in comps)
    assert sum(c.p_best for c in comps) == pytest.approx(1.0)


# -- allocation ------------------------------------------------------------------------------


def test_risk_neutral_split_goes_to_the_best_mean_within_bounds():
    roas = normal_draws(np.array([2.0, 3.0, 2.5]), np.array([0.2, 0.2, 0.2]))[:4000]
    split = allocate(roas, 1000, break_even=2.0, risk=0.0)
    assert split.budgets == pytest.approx((0, 1000, 0), abs=0.01)
    bounded = allocate(roas, 1000, break_even=2.0, risk=0.0, low=100, high=600)
    assert bounded.budgets == pytest.approx((100, 600, 300), abs=0.01)
    assert sum(bounded.budgets) == pytest.approx(1000)


def test_risk_aversion_moves_money_to_the_surer_arm():
    rng = np.random.default_rng(3)
    risky = rng.normal(3.0, 1.5, 4000)
    sure = rng.normal(2.8, 0.05, 4000)
    roas = np.column_stack([risky, sure])
    neutral = allocate(roas, 1000, break_even=2.0, risk=0.0)
    averse = allocate(roas, 1000, break_even=2.0, risk=5.0)
    assert neutral.budgets[0] == pytest.approx(1000)
    assert averse.budgets[1] > 900
    assert averse.p_loss < neutral.p_loss


def test_expected_revenue_p_loss_and_todays_split_are_computed_on_the_draws():
    roas = np.array([[1.0, 3.0], [3.0, 1.0], [2.0, 2.0], [4.0, 0.5]])
    split = allocate(roas, 100, break_even=2.0, risk=0.0, low=50, high=50, current=[1, 3])
    assert split.budgets == (50.0, 50.0)
    revenue = roas @ np.array([50.0, 50.0])  # 200, 200, 200, 225
    assert split.total_expected_revenue == pytest.approx(revenue.mean())
    assert split.expected_profit == pytest.approx((revenue / 2 - 100).mean())
    assert split.p_loss == pytest.approx(0.0)
    assert split.current_budgets == (25.0, 75.0)
    now = roas @ np.array([25.0, 75.0])  # 250, 150, 200, 137.5 -> losses on 2 of 4
    assert split.current_p_loss == pytest.approx(0.5)
    assert split.current_expected_revenue == pytest.approx(now.mean())


def test_impossible_bounds_are_refused():
    roas = np.ones((10, 2)) * 2
    with pytest.raises(ValueError, match="cannot hold"):
        allocate(roas, 1000, break_even=2.0, low=600)
    with pytest.raises(ValueError, match="cannot hold"):
        allocate(roas, 1000, break_even=2.0, high=400)
    with pytest.raises(ValueError, match="finite"):
        allocate(np.full((10, 2), np.nan), 1000, break_even=2.0)
