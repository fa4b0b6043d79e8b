"""Tier 3 (slow, run in CI): the default decision rule on simulated trials.

Two arms run to the trial's planned end (28 days) at a small budget: about 35 a day per
arm at a cost per click of 0.60 (about 60 clicks a day), 4 % of clicks converting, order
values skewed around 90, day-to-day variation in the conversion rate. Each trial is
judged as the app judges it: the MCMC posterior (partial pooling, overdispersion), health
gates, the default rule (7 days, 25 conversions per arm, a winner at P(best) 95 % guarded
over arms), profitable at break-even 2. About 0.4 s a fit once compiled.
"""

from datetime import date, timedelta

import numpy as np
import pytest

from inference.funnel.data import FunnelData
from inference.funnel.fit import fit_mcmc
from inference.funnel.spec import ModelSpec
from tests.trials.analysis.test_decisions import make_trial
from trials.analysis.decisions import decide
from trials.domain import ArmTotals, DailyResult

pytestmark = pytest.mark.slow

TRIALS = 300
DAYS = 28
START = date(2026, 9, 1)


def simulate(trial, cvrs, rng):
    rows, daily = [], []
    for d in range(DAYS):
        for i, (arm, cvr) in enumerate(zip(trial.arms, cvrs, strict=True)):
            spend = 35.0 * rng.uniform(0.85, 1.15)
            clicks = int(rng.poisson(spend / 0.6))
            impressions = clicks * 40
            day_cvr = min(0.9, cvr * rng.lognormal(0.0, 0.2))
            conversions = int(rng.binomial(clicks, day_cvr))
            revenue = float(rng.gamma(2.5, 90 / 2.5, size=conversions).sum())
            day = START + timedelta(days=d)
            rows.append(
                {
                    "arm": i,
                    "day": day.isoformat(),
                    "impressions": impressions,
                    "clicks": clicks,
                    "conversions": conversions,
                    "spend": spend,
                    "revenue": revenue,
                }
            )
            daily.append(DailyResult(arm.id, day, impressions, clicks, conversions, spend, revenue))
    data = FunnelData.from_rows([(a.spec.channel, a.name) for a in trial.arms], rows)
    totals = {}
    for i, arm in enumerate(trial.arms):
        mine = [r for r in rows if r["arm"] == i]
        totals[arm.id] = ArmTotals(
            sum(r["impressions"] for r in mine),
            sum(r["clicks"] for r in mine),
            sum(r["conversions"] for r in mine),
            sum(r["spend"] for r in mine),
            sum(r["revenue"] for r in mine),
            DAYS,
        )
    return data, totals, daily


def scale_shares(cvrs, seed):
    trial = make_trial()
    rng = np.random.default_rng(seed)
    scaled = np.zeros(2)
    for n in range(TRIALS):
        data, totals, daily = simulate(trial, cvrs, rng)
        posterior = fit_mcmc(data, ModelSpec(), seed=n)
        decision = decide(trial, posterior, totals, daily)
        scaled += [a.recommendation == "scale" for a in decision.arms]
    return scaled / TRIALS


def test_identical_arms_are_rarely_scaled():
    shares = scale_shares([0.04, 0.04], seed=11)
    print(f"\nA/A: an arm scaled in {shares.sum():.1%} of {TRIALS} trials")
    assert shares.sum() <= 0.05


def test_a_true_20_percent_roas_lift_is_scaled_more_often_than_chance():
    shares = scale_shares([0.04, 0.048], seed=12)
    print(
        f"\n20% ROAS lift: the better arm scaled in {shares[1]:.1%} of {TRIALS} trials, "
        f"the worse in {shares[0]:.1%}"
    )
    assert shares[1] > shares[0]
