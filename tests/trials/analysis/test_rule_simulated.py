"""Tier 3 (slow, run in CI): the planner promises what ``analyze`` does.

A plan's assurance is the chance that the trial's rule reaches a verdict. Here the plan's
own design (its design prior on the baseline and the lift, its daily clicks, days whose
conversion rate wanders with the planner's concentration) is simulated day by day and
each simulated trial is judged as the app judges it: the MCMC posterior (partial pooling,
overdispersion) and ``trials.analysis.decisions.decide``, at two horizons, each the trial's planned
end. The share reaching a verdict must agree with the planner's assurance within 0.05.
"""

import math
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from inference.funnel.data import FunnelData
from inference.funnel.fit import fit_mcmc
from inference.funnel.spec import ModelSpec
from inference.planning.assurance import assurance_curve
from inference.planning.plan import PlanInputs
from tests.trials.analysis.test_decisions import START, make_trial
from trials.analysis.decisions import decide
from trials.domain import ArmTotals, DailyResult, PrimaryMetric

pytestmark = pytest.mark.slow

SIMS = 240
HORIZONS = (28, 60)


def simulate_design(inputs: PlanInputs, days: int, rng):
    """One trial of the plan's design: true rates from its design prior, daily counts."""
    base, strength = inputs.metric_baseline, inputs.baseline_strength
    p0 = rng.beta(base * strength, (1 - base) * strength)
    log_lift = math.log1p(inputs.lift)
    lift = math.expm1(rng.normal(log_lift, 0.5 * log_lift))
    rates = np.full(inputs.arms, p0)
    rates[-1] = min(p0 * (1 + lift), 0.999)
    clicks = round(inputs.trials_per_arm_per_day)
    kappa = inputs.concentration
    daily = []
    for _ in range(days):
        day_rates = rng.beta(rates * kappa, (1 - rates) * kappa)
        daily.append(rng.binomial(clicks, day_rates))
    return rates, clicks, np.array(daily)


def judged(trial, clicks, conversions, cpc, days):
    rows, daily = [], []
    for d in range(days):
        day = START + timedelta(days=d)
        for i, arm in enumerate(trial.arms):
            conv = int(conversions[d, i])
            spend = clicks * cpc
            rows.append(
                {
                    "arm": i,
                    "day": day.isoformat(),
                    "impressions": clicks * 30,
                    "clicks": clicks,
                    "conversions": conv,
                    "spend": spend,
                    "revenue": 0.0,
                }
            )
            daily.append(DailyResult(arm.id, day, clicks * 30, clicks, conv, spend, 0.0))
    data = FunnelData.from_rows([(a.spec.channel, a.name) for a in trial.arms], rows)
    totals = {
        arm.id: ArmTotals(
            clicks * 30 * days,
            clicks * days,
            int(conversions[:days, i].sum()),
            clicks * cpc * days,
            0.0,
            days,
        )
        for i, arm in enumerate(trial.arms)
    }
    return data, totals, daily


def test_the_planners_assurance_is_what_analyze_delivers():
    inputs = PlanInputs(
        baseline_cvr=0.03, lift=0.2, arms=2, cpc=1.5, daily_budget=200.0, simulations=2000
    )
    promised = {p.days: p for p in assurance_curve(inputs, seed=3, days=list(HORIZONS))}
    rng = np.random.default_rng(4)
    base = make_trial(metric=PrimaryMetric.CONVERSION_RATE, arms=2, control=False)
    met = {h: 0 for h in HORIZONS}
    for n in range(SIMS):
        _, clicks, conversions = simulate_design(inputs, max(HORIZONS), rng)
        for h in HORIZONS:
            trial = replace(base, spec=replace(base.spec, end=START + timedelta(days=h - 1)))
            data, totals, daily = judged(trial, clicks, conversions, inputs.cpc, h)
            posterior = fit_mcmc(data, ModelSpec(), seed=n)
            met[h] += decide(trial, posterior, totals, daily).rule_met
    for h in HORIZONS:
        share = met[h] / SIMS
        error = math.sqrt(share * (1 - share) / SIMS)
        print(
            f"\nday {h}: planner assurance {promised[h].assurance:.3f} "
            f"(winner {promised[h].p_winner:.3f}, equal {promised[h].p_equal:.3f}); "
            f"through analyze {share:.3f} ± {error:.3f} over {SIMS} simulated trials"
        )
        assert abs(share - promised[h].assurance) <= 0.05
