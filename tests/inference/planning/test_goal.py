"""Budget by goal (``inference.planning.goal``): closed forms, the split, what cannot be
reached, and currencies that never mix."""

import numpy as np
import pytest
from scipy import special, stats

from inference.curve.fit import daily_conversions, marginal_roas
from inference.planning.goal import (
    ArmResponse,
    ChannelPrior,
    Goal,
    plan_goal,
    prior_response,
    resampled,
)

J = 2000


def linear_arm(rate: float, *, cv: float = 0.0, name="a", currency="USD", value=30.0, s0=100.0):
    """Known conversions per unit spent (every draw alike), linear at any spend."""
    return ArmResponse(
        name,
        name,
        currency,
        s0,
        np.full(J, rate * s0),
        np.full(J, value),
        np.full(J, cv),
        np.full(J, 2.0),
        elasticity=np.zeros(J),
    )


def curve_arm(m0: float, k: float, *, name="c", s0=100.0, value=30.0, cv=0.0):
    return ArmResponse(
        name,
        name,
        "USD",
        s0,
        np.full(J, m0),
        np.full(J, value),
        np.full(J, cv),
        np.full(J, 2.0),
        k=np.full(J, k),
        kind="curve",
    )


@pytest.mark.parametrize("q", [0.5, 0.8])
def test_linear_arm_with_known_rate_needs_the_poisson_quantile(q):
    # N ~ Poisson(D r s): P(N >= n) = P(n, D r s) (the regularised lower gamma), so the least
    # daily spend with P >= q is gammaincinv(n, q) / (D r). The plan's P is a Latin-hypercube
    # average over J draws, exact to 1 / J: its spend lies between the spends for q -+ 2 / J.
    n, days, rate = 500, 30, 0.05
    plan = plan_goal([linear_arm(rate)], Goal("conversions", n, days), probabilities=(q,))
    [level] = plan.levels
    low = special.gammaincinv(n, q - 2 / J) / (days * rate)
    high = special.gammaincinv(n, q + 2 / J) / (days * rate)
    assert low <= level.daily_spend <= high
    assert level.total_spend == pytest.approx(level.daily_spend * days)
    assert level.achieved >= q
    assert level.reachable and not level.at_any_spend


def test_day_to_day_variation_needs_the_negative_binomial_quantile():
    # D days of NegBin(mu, 1 / cv^2) add to NegBin(D mu, D / cv^2).
    n, days, rate, cv, q = 300, 20, 0.04, 0.3, 0.8
    plan = plan_goal([linear_arm(rate, cv=cv)], Goal("conversions", n, days), probabilities=(q,))
    shape = days / cv**2

    def p_reach(daily):
        mean = days * rate * daily
        return stats.nbinom.sf(n - 1, shape, shape / (shape + mean))

    daily = plan.levels[0].daily_spend
    assert p_reach(daily) >= q - 2 / J
    assert p_reach(daily * 0.995) <= q + 2 / J
    # Noisier days need more money than Poisson ones for the same 80 %.
    poisson = plan_goal([linear_arm(rate)], Goal("conversions", n, days), probabilities=(q,))
    assert daily > poisson.levels[0].daily_spend


def test_the_money_goes_to_the_higher_marginal_return():
    cheap, dear = linear_arm(0.05, name="cheap"), linear_arm(0.02, name="dear")
    plan = plan_goal([dear, cheap], Goal("conversions", 200, 10))
    for level in plan.levels:
        assert level.arm_daily_spend[0] == pytest.approx(0.0, abs=1e-6)
        assert level.arm_daily_spend[1] == pytest.approx(level.daily_spend)


def test_curves_split_where_the_marginal_returns_meet():
    # Two saturating arms: the first money goes to the steeper start; at the split the
    # next unit returns the same on both (up to the spend grid's resolution).
    steep, flat = curve_arm(10.0, 0.5, name="steep"), curve_arm(6.0, 4.0, name="flat")
    small = plan_goal([flat, steep], Goal("conversions", 30, 10), probabilities=(0.5,))
    spend = small.levels[0].arm_daily_spend
    assert spend[1] > spend[0]
    big = plan_goal([flat, steep], Goal("conversions", 300, 10), probabilities=(0.5,))
    level = big.levels[0]
    assert min(level.arm_daily_spend) > 0
    assert level.marginal[0] == pytest.approx(level.marginal[1], rel=0.08)
    # The marginal return is the curve's derivative: value x dmu/ds is the marginal ROAS.
    s = 150.0
    h = 1e-4
    derivative = (
        daily_conversions(s + h, 10.0, 0.5, 100.0) - daily_conversions(s, 10.0, 0.5, 100.0)
    ) / h
    assert 30.0 * derivative == pytest.approx(marginal_roas(s, 30.0, 10.0, 0.5, 100.0), rel=1e-4)


def test_revenue_goal_weighs_arms_by_order_value():
    low_value = linear_arm(0.05, name="many", value=10.0)
    high_value = linear_arm(0.03, name="rich", value=50.0)
    plan = plan_goal([low_value, high_value], Goal("revenue", 20_000, 10), probabilities=(0.5,))
    level = plan.levels[0]
    assert level.arm_daily_spend[0] == pytest.approx(0.0, abs=1e-6)
    # Revenue per unit spent 1.5: about 20,000 / 1.5 over 10 days.
    assert level.daily_spend == pytest.approx(20_000 / 1.5 / 10, rel=0.05)


def test_a_goal_above_the_curves_ceiling_cannot_be_reached_at_any_spend():
    # m0 (1 + k) = 10 x 1.25 = 12.5 conversions a day at most: 10 days give about 125.
    plan = plan_goal([curve_arm(10.0, 0.25)], Goal("conversions", 200, 10))
    for level in plan.levels:
        assert not level.reachable and level.at_any_spend
        assert level.daily_spend is None and level.total_spend is None
    assert plan.limit_probability < 0.01
    # Just below the ceiling it can be reached, at a price.
    reachable = plan_goal([curve_arm(10.0, 0.25)], Goal("conversions", 100, 10))
    assert all(level.reachable for level in reachable.levels)


def test_currencies_are_never_mixed():
    with pytest.raises(ValueError, match=r"different currencies.*CNY, USD"):
        plan_goal(
            [linear_arm(0.05, currency="USD"), linear_arm(0.05, name="b", currency="CNY")],
            Goal("conversions", 100, 10),
        )


def test_more_probability_costs_more_and_the_goal_is_validated():
    arm = linear_arm(0.05, cv=0.2)
    plan = plan_goal([arm], Goal("conversions", 100, 14))
    half, most = plan.levels
    assert most.total_spend > half.total_spend
    with pytest.raises(ValueError):
        Goal("conversions", 0, 10)
    with pytest.raises(ValueError):
        Goal("conversions", 10, 0)
    with pytest.raises(ValueError):
        Goal("customers", 10, 10)


def test_an_untested_channel_is_drawn_from_its_prior():
    prior = ChannelPrior("Douyin", "CNY", np.log(2.0), 0.01, 300.0, 9700.0, np.log(50), 0.01, 200.0)
    response = prior_response(prior, J, seed=3)
    assert response.kind == "prior" and response.currency == "CNY"
    # Conversions per unit spent: CVR / CPC = 0.03 / 2.
    assert np.mean(response.level / response.s0) == pytest.approx(0.015, rel=0.03)
    with pytest.raises(ValueError):
        ChannelPrior("X", "CNY", 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 100.0)


def test_resampling_keeps_one_posterior_paired():
    a = linear_arm(0.05)
    b = ArmResponse(
        "b",
        "b",
        "USD",
        100.0,
        np.arange(J, dtype=float),
        a.value,
        a.day_cv,
        a.value_shape,
        elasticity=np.arange(J, dtype=float),
    )
    c = ArmResponse(
        "c",
        "c",
        "USD",
        100.0,
        np.arange(J, dtype=float) * 2,
        a.value,
        a.day_cv,
        a.value_shape,
        elasticity=np.zeros(J),
    )
    rb, rc = resampled([b, c], 500, seed=1)
    assert np.array_equal(rc.level, rb.level * 2)
    assert np.array_equal(rb.elasticity, rb.level)
