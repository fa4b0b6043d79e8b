"""Budget by goal against known truth (slow): plan from the full model's posterior of a
simulated trial, then run the true campaign at the planned spend and count how often the
goal is reached. An honest plan for "80 %" reaches it in about 80 % of trials.

Each trial: one channel, two arms, 21 days at about 60 a day each (the generator of
``tests.inference.simulate``: day effects on CTR and CVR, spend wobbling +-15 %). The goal
is 20 days' conversions at 60 % of what the better arm truly brings at today's spend, so
the plan stays where returns are measured (no extrapolation beyond today's pace, where
the plan's assumed fall in returns would make it spend more than a linear truth needs).
The truth is then simulated by the same generator at the planned daily spend per arm.
Monte Carlo error of a share p over R trials: sqrt(p (1 - p) / R); the test allows
3 of them around the nominal 80 % and 50 %.
"""

import numpy as np
import pytest

from inference.funnel.fit import fit_mcmc
from inference.planning.goal import Goal, pace_response, plan_goal, resampled
from tests.inference.simulate import CTR_DAY_SD, CVR_DAY_SD, simulate_trial

pytestmark = pytest.mark.slow

TRIALS = 80
DAILY, CPM, DAYS_AHEAD = 60.0, 20.0, 20


def true_conversions(rng, truth, daily_spend: np.ndarray, days: int) -> int:
    """The true campaign: the simulator's days at ``daily_spend`` per arm."""
    base_ctr = truth.ctr / np.exp(CTR_DAY_SD**2 / 2)
    base_cvr = truth.cvr / np.exp(CVR_DAY_SD**2 / 2)
    total = 0
    for _ in range(days):
        for a, s in enumerate(daily_spend):
            if s <= 0:
                continue
            spend = s * rng.uniform(0.85, 1.15)
            impressions = rng.poisson(spend / CPM * 1000)
            clicks = rng.binomial(
                impressions, min(0.95, base_ctr[a] * rng.lognormal(0, CTR_DAY_SD))
            )
            total += rng.binomial(clicks, min(0.95, base_cvr[a] * rng.lognormal(0, CVR_DAY_SD)))
    return int(total)


def test_the_80_percent_plan_reaches_the_goal_in_about_80_percent_of_trials():
    rng = np.random.default_rng(20261201)
    reached = {0.5: [], 0.8: []}
    for t in range(TRIALS):
        data, truth = simulate_trial(
            rng,
            channels=1,
            arms_per_channel=2,
            days=21,
            daily_spend=DAILY,
            cpm=CPM,
            base_ctr=0.02,
            base_cvr=0.05,
        )
        posterior = fit_mcmc(data, seed=t)
        cpa = posterior.draws["cpa"]
        value = posterior.draws["revenue_per_conversion"]
        responses = resampled(
            [
                pace_response(
                    f"arm {a}",
                    "channel 0",
                    "USD",
                    DAILY,
                    1 / cpa[:, a],
                    value[:, a],
                    seed=t * 7 + a,
                )
                for a in range(2)
            ],
            1000,
            seed=t,
        )
        per_unit = (1000 / CPM) * truth.ctr * truth.cvr  # true conversions per unit spent
        target = round(0.6 * DAYS_AHEAD * DAILY * per_unit.max())
        plan = plan_goal(responses, Goal("conversions", target, DAYS_AHEAD), seed=t)
        for level in plan.levels:
            assert level.reachable
            spend = np.asarray(level.arm_daily_spend)
            got = true_conversions(rng, truth, spend, DAYS_AHEAD)
            reached[level.probability].append(got >= target)
    for q, hits in reached.items():
        share = float(np.mean(hits))
        se = np.sqrt(q * (1 - q) / TRIALS)
        print(f"plan for {q:.0%}: goal reached in {share:.1%} of {TRIALS} trials (MC se {se:.1%})")
        assert abs(share - q) <= 3 * se, (q, share, se)
