"""Planning: the classical figure, decision metrics against exact integration, the assurance
curve's behaviour (fast), and the curve against a brute-force simulation (slow)."""

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import integrate, stats

from inference.planning.assurance import assurance_curve, design_effect
from inference.planning.looks import decision_metrics
from inference.planning.plan import (
    PlanError,
    PlanInputs,
    PlanRule,
    classical_clicks_per_arm,
    plan_trial,
)
from inference.planning.progress import progress_to_decision
from inference.rule import quantities_from_draws, verdict


def test_classical_sample_size_is_the_textbook_two_proportion_formula():
    # 10% -> 15%: (1.95996 sqrt(2 .125 .875) + 0.84162 sqrt(.09 + .1275))^2 / .05^2 = 685.6
    assert classical_clicks_per_arm(0.10, 0.5) == 686
    for p1, lift in [(0.03, 0.2), (0.2, 0.1), (0.01, 1.0)]:
        p2 = p1 * (1 + lift)
        za, zb = stats.norm.ppf(0.975), stats.norm.ppf(0.8)
        pbar = (p1 + p2) / 2
        n = za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
        assert classical_clicks_per_arm(p1, lift) == math.ceil(n**2 / (p2 - p1) ** 2)


def _exact_p_best(a, b):
    out = []
    for i in range(len(a)):

        def integrand(x, i=i):
            others = np.prod([stats.beta.cdf(x, a[j], b[j]) for j in range(len(a)) if j != i])
            return stats.beta.pdf(x, a[i], b[i]) * others

        out.append(integrate.quad(integrand, 0, 1, limit=200)[0])
    return np.array(out)


def test_probability_to_be_best_matches_exact_integration():
    # bayesian-testing's three-variant case: A 3/10 and B 2/10 with Beta(0.5, 0.5) priors,
    # C 2/11 with Beta(1, 2).
    a = np.array([0.5 + 3, 0.5 + 2, 1 + 2])
    b = np.array([0.5 + 7, 0.5 + 8, 2 + 9])
    p_best, leader, *_ = decision_metrics(a, b)
    np.testing.assert_allclose(p_best, _exact_p_best(a, b), atol=2e-3)
    assert leader == 0
    # Far apart and close together, large counts.
    for a, b in [([31, 45], [970, 956]), ([301, 302, 350], [9701, 9700, 9652])]:
        a, b = np.array(a, float), np.array(b, float)
        np.testing.assert_allclose(decision_metrics(a, b)[0], _exact_p_best(a, b), atol=2e-3)


def test_expected_loss_matches_monte_carlo():
    a, b = np.array([31.0, 45.0, 40.0]), np.array([970.0, 956.0, 961.0])
    _, leader, loss, *_ = decision_metrics(a, b)
    draws = np.random.default_rng(0).beta(a, b, size=(400_000, 3))
    expected = (draws.max(axis=1) - draws[:, leader]).mean() / (a / (a + b))[leader]
    assert loss == pytest.approx(expected, rel=0.02)


def test_design_effect_follows_the_beta_binomial_variance():
    assert design_effect(100, None) == 1.0
    assert design_effect(1, 300) == 1.0
    assert design_effect(301, 299) == pytest.approx(2.0)


def inputs(**overrides):
    values = dict(baseline_cvr=0.05, lift=0.5, arms=2, cpc=1.0, clicks_per_day=1000.0)
    return PlanInputs(**(values | overrides))


def test_assurance_grows_with_days_and_with_the_lift():
    small = assurance_curve(inputs(lift=0.3), seed=1)
    large = assurance_curve(inputs(lift=0.8), seed=1)
    values = [p.assurance for p in small]
    assert values[0] == 0.0  # the rule's 7 minimum days
    assert values[-1] > 0.5
    # Monte Carlo noise aside, more days never hurt much.
    assert all(b >= a - 0.05 for a, b in itertools.pairwise(values))
    assert all(lg.assurance >= sm.assurance - 0.03 for sm, lg in zip(small, large, strict=True))
    assert small[-1].budget == pytest.approx(1000.0 * 60)


def test_plan_answers_days_clicks_and_budget_for_the_assurance():
    plan = plan_trial(inputs(), seed=2)
    assert plan.days is not None and plan.within_limits and not plan.advice
    point = next(p for p in plan.curve if p.days == plan.days)
    assert point.assurance >= 0.8
    before = [p for p in plan.curve if p.days == plan.days - 1]
    assert before and before[0].assurance < 0.8  # the first day that reaches it
    assert plan.clicks_per_arm_for_assurance == pytest.approx(500 * plan.days)
    assert plan.budget == pytest.approx(1000 * plan.days)
    assert plan.classical_clicks_per_arm == classical_clicks_per_arm(0.05, 0.5)
    assert plan_trial(inputs(), seed=2) == plan  # same seed, same plan


def test_a_plan_over_its_cap_says_what_would_make_it_answerable():
    plan = plan_trial(
        inputs(arms=4, lift=0.15, budget_cap=5000.0, baseline_ctr=0.02, max_days=30), seed=3
    )
    assert not plan.within_limits
    changes = [a.change for a in plan.advice]
    assert any("2 arms" in c for c in changes)
    assert any("lift of" in c for c in changes)
    assert any("CTR" in c for c in changes)
    assert any("days" in c for c in changes)


def test_bad_inputs_are_named():
    with pytest.raises(PlanError, match="baseline conversion rate"):
        inputs(baseline_cvr=3.0)
    with pytest.raises(PlanError, match="either clicks per day or a daily budget"):
        inputs(daily_budget=100.0)
    with pytest.raises(PlanError, match="arms must be"):
        inputs(arms=1)
    with pytest.raises(PlanError, match="needs a baseline CTR"):
        inputs(metric="ctr")


def test_progress_of_a_running_trial():
    rule = PlanRule()
    met = progress_to_decision(
        np.array([5000, 5000]), np.array([100, 250]), np.array([300, 300]), 14, rule
    )
    assert met.reached
    close = progress_to_decision(
        np.array([2000, 2000]), np.array([60, 78]), np.array([300, 300]), 7, rule, seed=1
    )
    assert not close.reached and close.days_median is not None and close.days_median <= 20
    assert close.days_80 is None or close.days_80 >= close.days_median
    probabilities = close.probability_by_day
    assert all(b >= a for a, b in itertools.pairwise(probabilities))
    idle = progress_to_decision(np.array([100, 100]), np.array([3, 4]), np.array([0, 20]), 3, rule)
    assert idle.reason and "no traffic" in idle.reason
    same = progress_to_decision(
        np.array([3000, 3000]), np.array([90, 90]), np.array([100, 100]), 7, rule, horizon=20
    )
    assert same.days_median is None  # identical arms: no confident winner soon


@pytest.mark.slow
def test_assurance_curve_agrees_with_brute_force_simulation():
    """Independent simulation: full trials, Monte Carlo posteriors, the rule (the same
    ``inference.rule.verdict`` analyze uses) read off draws instead of quadrature."""
    plan_inputs = inputs(lift=0.4, arms=3, simulations=1500, baseline_strength=2000.0)
    days = [7, 14, 21, 30, 45]
    fast = {p.days: p.assurance for p in assurance_curve(plan_inputs, seed=11, days=days)}
    rng = np.random.default_rng(12)
    sims, arms = 1500, 3
    base = plan_inputs.baseline_cvr
    per_day = plan_inputs.trials_per_arm_per_day
    n_eff = round(per_day / design_effect(per_day, plan_inputs.concentration))
    hits = {d: 0 for d in days}
    for _ in range(sims):
        p0 = rng.beta(base * 2000, (1 - base) * 2000)
        lift = math.expm1(rng.normal(math.log1p(0.4), 0.5 * math.log1p(0.4)))
        rates = np.array([p0, p0, min(p0 * (1 + lift), 0.999)])
        daily = rng.binomial(n_eff, rates, size=(max(days), arms)).cumsum(axis=0)
        for d in days:
            k, n = daily[d - 1], n_eff * d
            draws = rng.beta(1 + k, 1 + n - k, size=(4000, arms))
            conversions = k * per_day / n_eff
            q = quantities_from_draws(draws, margin=plan_inputs.rule.equivalence_margin)
            rule = replace(plan_inputs.rule, planned_days=d)  # day d: the planned end
            v = verdict(q, rule, days=[d] * arms, conversions=conversions)
            hits[d] += v.met
    for d in days:
        brute = hits[d] / sims
        # Two independent estimates over 1,500 trials each: sd of the difference <= 0.018.
        assert fast[d] == pytest.approx(brute, abs=0.06), (d, fast[d], brute)
