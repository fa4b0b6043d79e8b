"""The diminishing-returns curve: ladders, closed forms, planted mechanisms, an independent
grid posterior, and (slow) recovery of known curves' marginal ROAS and advice on simulated
budget ladders. The kernel against the PyMC model: ``test_kernel.py``."""

import math

import numpy as np
import pytest

from inference.curve.data import SpendLadder, ladder_reason, model_values, spend_levels
from inference.curve.fit import break_even_spend, fit_saturation, marginal_roas
from inference.curve.spec import SaturationPriors
from tests.inference.simulate_curves import ODD_PRIORS, CurveTruth, grid_posterior, simulate_ladder

BREAK_EVEN = 2.0
# A curve with today's marginal ROAS near break-even, and rich data.
NEAR = CurveTruth(elasticity=0.5, average_roas=4.0, level=20.0)


def test_spend_levels_follow_budget_steps_in_date_order():
    spend = [100, 102, 98, 100, 150, 149, 152, 0, 151, 200, 205]
    assert spend_levels(np.array(spend, float)) == [(100.0, 4), (150.5, 4)]
    assert spend_levels(np.array([100, 150, 100, 150], float)) == []


def test_ladders_that_cannot_show_a_curve_get_a_reason():
    flat = SpendLadder.of([100.0] * 10, [3] * 10, [300.0] * 10)
    assert "one daily spend level" in ladder_reason(flat)
    close = SpendLadder.of([100.0] * 5 + [115.0] * 5, [3] * 10, [300.0] * 10)
    # 100 and 115 are one level (within 15 %): still one level.
    assert "one daily spend level" in ladder_reason(close)
    near = SpendLadder.of([100.0] * 5 + [120.0] * 5, [3] * 10, [300.0] * 10)
    assert "too close together" in ladder_reason(near)
    unpaid = SpendLadder.of([100.0] * 5 + [150.0] * 5, [3] * 10, [0.0] * 10)
    assert "no revenue" in ladder_reason(unpaid)
    broken = SpendLadder.of([100.0] * 5 + [150.0] * 5, [3] * 10, [300.0] * 9 + [math.nan])
    assert "missing or negative" in ladder_reason(broken)
    ragged = SpendLadder.of([100.0] * 5 + [150.0] * 5, [3] * 9, [300.0] * 10)
    assert "different numbers of days" in ladder_reason(ragged)
    curve = fit_saturation(flat, 2.0)
    assert not curve.marginal_now.defined and curve.advice.startswith("No curve yet")
    out = curve.as_dict()
    assert out["marginal_roas"]["mean"] is None and out["marginal_roas_median"] is None
    assert out["elasticity"]["reason"] == out["marginal_roas"]["reason"]
    ladder, _, _ = simulate_ladder(np.random.default_rng(0), NEAR)
    for bad in (0.0, -1.0, math.nan):
        curve = fit_saturation(ladder, bad)
        assert curve.advice.startswith("No curve yet") and "break-even" in curve.advice


def test_marginal_roas_is_the_derivative_of_revenue():
    value, m0, k, s0 = 80.0, 10.0, 1.5, 300.0

    def revenue(s):
        x = s / s0
        return value * m0 * x * (1 + k) / (k + x)

    for s in (50.0, 300.0, 900.0):
        numeric = (revenue(s + 1e-3) - revenue(s - 1e-3)) / 2e-3
        assert marginal_roas(s, value, m0, k, s0) == pytest.approx(numeric, rel=1e-6)
    # At today's spend: the elasticity e = k / (1 + k) times today's average ROAS.
    e = k / (1 + k)
    assert marginal_roas(s0, value, m0, k, s0) == pytest.approx(e * value * m0 / s0)


def test_break_even_spend_is_where_the_marginal_roas_meets_break_even():
    value, m0, k, s0, b = 80.0, 10.0, 1.5, 300.0, 2.0
    s_star = break_even_spend(value, m0, k, s0, b)
    assert marginal_roas(s_star, value, m0, k, s0) == pytest.approx(b)
    # A curve never above break-even: spend nothing.
    assert break_even_spend(1.0, 0.1, 1.5, 300.0, 50.0) == 0.0


def test_the_truths_curve_matches_its_stated_elasticity_and_roas():
    t = CurveTruth(elasticity=0.4, average_roas=3.0, level=15.0)
    assert t.conversions(t.s0) == pytest.approx(t.level)
    assert t.marginal_roas(t.s0) == pytest.approx(0.4 * 3.0)
    assert t.marginal_roas(t.break_even_spend(1.0)) == pytest.approx(1.0)


def test_priors_centre_on_the_arms_own_level_and_order_value():
    rng = np.random.default_rng(4)
    ladder, _, _ = simulate_ladder(rng, NEAR)
    values = model_values(ladder)
    today = ladder.spend > 0.85 * ladder.current_spend
    assert math.exp(values["log_level"]) == pytest.approx(ladder.conversions[today].mean())
    value = ladder.revenue.sum() / ladder.conversions.sum()
    assert math.exp(values["log_value"]) == pytest.approx(value)
    # The spend axis is the arm's own: today's spend is 1.
    assert np.median(values["x"][today]) == pytest.approx(1.0)
    # Ten times the money and the conversions: the same scaled data.
    big = SpendLadder.of(10 * ladder.spend, 10 * ladder.conversions, 10 * ladder.revenue)
    big_values = model_values(big)
    np.testing.assert_allclose(big_values["x"], values["x"])
    assert big_values["log_level"] == pytest.approx(values["log_level"] + math.log(10))


def test_fitting_a_curve_compiles_nothing():
    from numba.core import event

    class Compiles(event.Listener):
        count = 0

        def on_start(self, e):
            self.count += 1

        def on_end(self, e):
            pass

    rng = np.random.default_rng(11)
    fit_saturation(simulate_ladder(rng, NEAR)[0], 2.0, seed=1)  # loads the kernel
    compiles = Compiles()
    with event.install_listener("numba:compile", compiles):
        # Ladders of other lengths: no compile per number of days.
        for days in (5, 9, 14):
            ladder = simulate_ladder(rng, NEAR, days_per_level=days)[0]
            curve = fit_saturation(ladder, 2.0, seed=days)
            assert curve.reliable, curve.reasons
    assert compiles.count == 0  # how fast: `make bench`, not asserted here


def test_the_same_seed_gives_the_same_curve():
    ladder = simulate_ladder(np.random.default_rng(5), NEAR)[0]
    first, second = (fit_saturation(ladder, 2.0, seed=3) for _ in range(2))
    assert first.as_dict() == second.as_dict()


def _planted(spend_to_conversions, order_value=50.0, days=14):
    """A ladder whose daily conversions are exactly the curve's (no noise)."""
    spend = np.repeat([100.0, 150.0, 225.0], days)
    conversions = np.round(spend_to_conversions(spend)).astype(int)
    return SpendLadder.of(spend, conversions, order_value * conversions)


def test_a_proportional_arm_reads_as_elastic_and_is_told_to_raise():
    # 0.2 conversions per unit of spend at 50 each: ROAS 10 at every level.
    curve = fit_saturation(_planted(lambda s: 0.2 * s), 2.0, seed=1)
    assert curve.reliable, curve.reasons
    assert curve.elasticity.mean > 0.8
    assert curve.marginal_now_median == pytest.approx(10.0, rel=0.15)
    assert curve.advice.startswith("Raise daily spend from 225 to 338")


def test_a_saturated_arm_reads_as_inelastic_and_is_told_to_lower():
    # The same 30 conversions a day whatever the spend: the last unit buys nothing.
    curve = fit_saturation(_planted(lambda s: 30.0 + 0 * s), 2.0, seed=1)
    assert curve.reliable, curve.reasons
    assert curve.elasticity.high < 0.2
    assert curve.marginal_now.high < 2.0
    assert curve.advice.startswith("Lower daily spend from 225")
    assert curve.break_even_spend_median < 225


def test_the_sampler_agrees_with_an_independent_grid_posterior():
    """nutpie on the hand-written kernel against a grid posterior built with scipy's
    densities (``simulate_curves.grid_posterior``), under odd priors. Medians agree within
    0.15 posterior sd: the Monte Carlo error of a median from 8,000 draws (ESS well above
    2,000) is about 1.25 sd / sqrt(ESS) < 0.03 sd, the grid's cell error smaller still."""
    rng = np.random.default_rng(8)
    ladder, _, _ = simulate_ladder(rng, NEAR)
    for priors in (SaturationPriors(), ODD_PRIORS):
        curve = fit_saturation(ladder, BREAK_EVEN, seed=2, priors=priors, draws=4000)
        assert curve.reliable, curve.reasons
        e, m = grid_posterior(ladder, priors, rng)
        assert abs(curve.marginal_now_median - np.median(m)) < 0.15 * m.std()
        assert abs(curve.elasticity.mean - e.mean()) < 0.15 * e.std()
        assert abs(curve.marginal_now.mean - m.mean()) < 0.15 * m.std()
        assert abs(curve.p_now_above_break_even - (m > BREAK_EVEN).mean()) < 0.04


# Slow: recovery on simulated ladders. Truths at 40 conversions a day at today's spend
# (225 a day, ladder 100 / 150 / 225), day-to-day CV 0.1, break-even ROAS 2.
N_LADDERS = 120
TRUTHS = {
    "below": CurveTruth(elasticity=0.45, average_roas=2.5, level=40.0),  # marginal 1.1
    "near": CurveTruth(elasticity=0.5, average_roas=4.0, level=40.0),  # marginal 2.0
    "above": CurveTruth(elasticity=0.75, average_roas=7.0, level=40.0),  # marginal 5.3
}


def _true_advice(now: float, nxt: float) -> str | None:
    """What the advice should be when the truth is clearly (25 %) on one side: raise when
    one step up still clearly pays, lower when today's last unit clearly does not."""
    if nxt >= 1.25 * BREAK_EVEN:
        return "Raise"
    if now <= BREAK_EVEN / 1.25:
        return "Lower"
    if now >= 1.25 * BREAK_EVEN and nxt <= BREAK_EVEN / 1.25:
        return "Hold"
    return None


@pytest.mark.slow
@pytest.mark.parametrize("days", [7, 14])
@pytest.mark.parametrize("name", list(TRUTHS))
def test_known_curves_marginal_roas_and_advice_are_recovered(name, days):
    """Over 120 simulated ladders of three levels x ``days`` days per truth:

    * the median over ladders of (posterior median marginal ROAS at today's spend / truth)
      lies in 0.9–1.1 (its Monte Carlo error, 1.25 sd / sqrt(120) with the ratio's sd
      about 0.2–0.35, is 0.02–0.04);
    * the 94 % interval covers the truth in 88–98 % of ladders (Monte Carlo error
      sqrt(0.94 x 0.06 / 120) = 0.022);
    * where the truth is clearly on one side of break-even (``_true_advice``), the advice
      says so in at least 70 % of ladders (Monte Carlo error about 0.04 near 80 %); an
      unreliable fit counts as a miss;
    * fewer than 5 % of fits are flagged unreliable.
    """
    truth = TRUTHS[name]
    rng = np.random.default_rng([days, list(TRUTHS).index(name)])
    ratios, covered, followed, unreliable = [], 0, 0, 0
    expected = None
    for seed in range(N_LADDERS):
        ladder, now, nxt = simulate_ladder(rng, truth, days_per_level=days)
        curve = fit_saturation(ladder, BREAK_EVEN, seed=seed)
        unreliable += not curve.reliable
        ratios.append(curve.marginal_now_median / now)
        covered += curve.marginal_now.low <= now <= curve.marginal_now.high
        expected = _true_advice(now, nxt)
        followed += expected is not None and curve.advice.startswith(expected)
    median_ratio, coverage = float(np.median(ratios)), covered / N_LADDERS
    summary = f"{name} {days}d: ratio {median_ratio:.3f} coverage {coverage:.3f}"
    summary += f" advice {followed / N_LADDERS:.3f} ({expected}) unreliable {unreliable}"
    print(summary)
    assert 0.9 <= median_ratio <= 1.1, summary
    assert 0.88 <= coverage <= 0.98, summary
    assert unreliable < 0.05 * N_LADDERS, summary
    if name == "near":
        assert expected is None  # no advice is owed
    else:
        assert expected == {"below": "Lower", "above": "Raise"}[name]
        assert followed >= 0.7 * N_LADDERS, summary
