"""(slow) A scale plan run on simulated arms with a known Michaelis–Menten curve.

Each simulated arm starts at 100 a day and follows the plan: +50 % every 7 days, its
response curve fitted on all its days after each step (the real sampler,
``inference.curve.fit.fit_saturation``), and the plan's proposal (``track``) obeyed:
step up, or stop. Where the curve cannot be read yet (one spend level) or its fit is
unreliable, the written schedule is followed. The truth's break-even daily spend is
about 275 (the marginal ROAS is 2.28 at 225 a day and 1.71 at 337.50; break-even 2).
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from inference.curve.data import SpendLadder
from inference.curve.fit import fit_saturation
from tests.inference.simulate_curves import DAY_CV, ORDER_SHAPE, CurveTruth
from trials.analysis.scale_plan import track
from trials.domain.scale_plans import ScalePlan, ScaleSettings

BREAK_EVEN = 2.0
BASE = 100.0
# Elasticity 5/6 and an average ROAS of 4 at 100 a day (20 conversions a day there): the
# marginal ROAS is 3.33 at 100, 2.84 at 150, 2.28 at 225, 1.71 at 337.50, 1.19 at 506.25.
TRUTH = CurveTruth(elasticity=5 / 6, average_roas=4.0, level=20.0, s0=BASE)
MAX_STEPS = 7  # up to 1,139 a day; a plan still stepping then has not stopped
N_ARMS = 100
START = date(2026, 12, 1)


def _plan(stop_probability: float = 0.8) -> ScalePlan:
    return ScalePlan(
        id=1,
        trial_id=1,
        arm_id=1,
        arm_name="arm",
        settings=ScaleSettings(BASE, 0.5, 7, stop_probability),
        break_even_roas=BREAK_EVEN,
        start=START,
        created_at=datetime(2026, 11, 30, tzinfo=UTC),
        created_by="sim",
    )


def _days(rng, spend: float, n: int):
    s = spend * rng.uniform(0.97, 1.03, n)
    mu = TRUTH.conversions(s) * rng.lognormal(-0.5 * DAY_CV**2, DAY_CV, n)
    conversions = rng.poisson(mu)
    scale = TRUTH.order_value / ORDER_SHAPE
    revenue = np.array([rng.gamma(ORDER_SHAPE, scale, size=c).sum() for c in conversions])
    return s, conversions, revenue


def run_plan(rng, seed: int, plan: ScalePlan) -> tuple[float | None, int]:
    """The daily spend at which the plan stopped (None: never within MAX_STEPS) and the
    number of unreliable fits on the way."""
    spend, conv, rev = np.empty(0), np.empty(0, dtype=np.int64), np.empty(0)
    unreliable = 0
    for k in range(MAX_STEPS):
        s, c, r = _days(rng, plan.step_spend(k), plan.step_days)
        spend, conv, rev = np.r_[spend, s], np.r_[conv, c], np.r_[rev, r]
        ladder = SpendLadder.of(spend, conv, rev)
        curve = fit_saturation(ladder, BREAK_EVEN, seed=seed)
        unreliable += curve.marginal_now.defined and not curve.reliable
        days = [(START + timedelta(days=i), float(x)) for i, x in enumerate(spend)]
        proposal = track(plan, days, curve).proposal
        assert proposal.kind in ("step_up", "stop", "neutral"), proposal
        if proposal.kind == "stop":
            return plan.step_spend(k), unreliable
    return None, unreliable


@functools.cache
def simulate(n: int = N_ARMS, stop_probability: float = 0.8, seed: int = 17) -> dict:
    rng = np.random.default_rng(seed)
    plan = _plan(stop_probability)
    target = TRUTH.break_even_spend(BREAK_EVEN)
    stops = []
    unreliable = 0
    for i in range(n):
        stopped, bad = run_plan(rng, i, plan)
        stops.append(stopped)
        unreliable += bad
    within = sum(s is not None and abs(math.log(s / target)) <= math.log(1.5) for s in stops)
    false = sum(s is not None and TRUTH.marginal_roas(s) > BREAK_EVEN for s in stops)
    first_past = sum(s is not None and target < s <= 1.5 * target for s in stops)
    never = sum(s is None for s in stops)
    share = {
        "within_one_step": within / n,
        "first_step_past": first_past / n,
        "false_stop": false / n,
        "never": never / n,
    }
    se = {k: math.sqrt(v * (1 - v) / n) for k, v in share.items()}
    by_spend = Counter("never" if s is None else f"{s:,.0f}" for s in stops)
    return {
        "share": share,
        "se": se,
        "unreliable_fits": unreliable,
        "target": target,
        "n": n,
        "stops": dict(
            sorted(
                by_spend.items(),
                key=lambda kv: float(kv[0].replace(",", "")) if kv[0] != "never" else math.inf,
            )
        ),
    }


def _summary(result: dict) -> str:
    parts = [f"{k} {v:.2f} ± {result['se'][k]:.2f}" for k, v in result["share"].items()]
    return (
        f"{result['n']} simulated arms, true break-even spend {result['target']:.0f}: "
        + ", ".join(parts)
        + f"; unreliable fits {result['unreliable_fits']}; stops by daily spend {result['stops']}"
    )


# Measured (seed 17, 100 arms): within one step 0.36 ± 0.05, first step past 0.33 ± 0.05,
# false stop 0.05 ± 0.02, never 0.00, no unreliable fits; stops by daily spend 150: 2,
# 225: 3, 337.50: 33, 506.25: 59, 759.38: 3. See the README (*Stepping spend up*).
MEASURED = "within one step 0.36 ± 0.05 (bar 0.60), false stop 0.05 ± 0.02 (bar 0.20)"


@pytest.mark.slow
def test_a_plan_rarely_stops_too_early():
    """Too early (where the true marginal ROAS is still above break-even) in at most 20 %
    of arms (1 − the stop probability), allowing three Monte Carlo standard errors
    (sqrt(p(1 − p) / 100), at most 0.05)."""
    result = simulate()
    summary = _summary(result)
    print(summary)
    share, se = result["share"], result["se"]
    assert result["target"] == pytest.approx(275, abs=3)
    assert share["false_stop"] <= 0.2 + 3 * se["false_stop"], summary
    assert share["never"] <= 0.05 + 3 * se["never"], summary


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="the response curve identifies the elasticity only loosely (issue 14 point 7: "
    "prior-dominated at 7 days a level), so the plan is sure enough to stop only a step or "
    f"more after the true break-even spend: measured {MEASURED}; 59 % stop one step late",
)
def test_a_plan_stops_within_one_step_of_the_true_break_even_spend():
    """Within one step (×1.5 either way) of the true break-even spend in at least 60 % of
    arms, allowing three Monte Carlo standard errors (at most 0.05)."""
    result = simulate()
    summary = _summary(result)
    print(summary)
    share, se = result["share"], result["se"]
    assert share["within_one_step"] >= 0.6 - 3 * se["within_one_step"], summary


if __name__ == "__main__":  # the figures, for the README
    print(_summary(simulate()))
