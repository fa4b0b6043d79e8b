"""Tier 3 (slow, run in CI): checking a trial every day does not manufacture winners.

Identical, profitable arms (about 100 clicks a day each, 5 % of clicks converting with
the daily rate wandering by a log-normal factor of sd 0.2, order values skewed around 90,
ROAS near 7.5 against break-even 2) are looked at every day from the rule's minimum days
to the planned end, each look judged as the app judges it (the MCMC posterior, partial
pooling and overdispersion, then ``trials.analysis.decisions.decide`` on the data so far), and the
trial counts as a false scale if any look says ``scale``. With the default rule (95 %),
that must happen in at most 5 % of trials, for 2 arms over 28 days and 5 arms over 14.
"""

import math
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from inference.funnel.data import FunnelData
from inference.funnel.fit import fit_mcmc
from inference.funnel.spec import ModelSpec
from tests.trials.analysis.test_decisions import START, make_trial
from trials.analysis.decisions import decide
from trials.domain import ArmTotals, DailyResult

pytestmark = pytest.mark.slow


def simulate(trial, days, rng):
    rows = []
    for d in range(days):
        for i, _ in enumerate(trial.arms):
            spend = 60.0 * rng.uniform(0.85, 1.15)
            clicks = int(rng.poisson(spend / 0.6))
            conversions = int(rng.binomial(clicks, min(0.9, 0.05 * rng.lognormal(0.0, 0.2))))
            revenue = float(rng.gamma(2.5, 90 / 2.5, size=conversions).sum())
            rows.append((d, i, clicks * 40, clicks, conversions, spend, revenue))
    return rows


def look(trial, rows, d, seed):
    """The verdict on the first ``d`` days (None when no arm has the conversions yet)."""
    upto = [r for r in rows if r[0] < d]
    sums = {
        arm.id: ArmTotals(
            *(int(sum(r[k] for r in upto if r[1] == i)) for k in (2, 3, 4)),
            *(float(sum(r[k] for r in upto if r[1] == i)) for k in (5, 6)),
            d,
        )
        for i, arm in enumerate(trial.arms)
    }
    if max(t.conversions for t in sums.values()) < trial.spec.decision_rule.min_conversions_per_arm:
        return None  # no verdict can be reached: the leader needs its conversions
    keys = ("impressions", "clicks", "conversions", "spend", "revenue")
    data = FunnelData.from_rows(
        [(a.spec.channel, a.name) for a in trial.arms],
        [
            {"arm": r[1], "day": (START + timedelta(days=r[0])).isoformat()}
            | dict(zip(keys, r[2:], strict=True))
            for r in upto
        ],
    )
    daily = [DailyResult(trial.arms[r[1]].id, START + timedelta(days=r[0]), *r[2:]) for r in upto]
    return decide(trial, fit_mcmc(data, ModelSpec(), seed=seed), sums, daily).verdict


@pytest.mark.parametrize(("arms", "days", "trials"), [(2, 28, 100), (5, 14, 80)])
def test_identical_arms_checked_every_day_are_scaled_in_at_most_5_percent(arms, days, trials):
    base = make_trial(arms=arms, control=False)
    trial = replace(base, spec=replace(base.spec, end=START + timedelta(days=days - 1)))
    rng = np.random.default_rng(arms * 1000 + days)
    first = []
    for n in range(trials):
        rows = simulate(trial, days, rng)
        for d in range(trial.spec.decision_rule.min_days, days + 1):
            if look(trial, rows, d, seed=n * 100 + d) == "scale":
                first.append(d)
                break
    rate = len(first) / trials
    error = math.sqrt(max(rate * (1 - rate), 1 / trials) / trials)
    print(
        f"\nA/A, {arms} arms, {days} days, looked at daily: scaled in {rate:.1%} ± {error:.1%} "
        f"of {trials} trials (first scale on days {sorted(first)})"
    )
    assert rate <= 0.05
