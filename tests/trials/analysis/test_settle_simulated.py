"""Tier 3 (slow): a verdict does not depend on the seed (issue 14, point 6).

The measured case: two arms on one channel, 150 clicks a day each for 14 days (2,100
clicks), A with 84 conversions and B with 114, equal spend (1.50 a click) and order
values (100), every gate passing. The model's P(B is best) is 0.9747 (sd of one run's
estimate over 300 seeds 0.0031 ± 0.0001; the error each run reports 0.0032 on average).
The trial's probability threshold is set so that the bar sits where it hurts:

* **0.9685**, two errors below the estimate: one run judged by "P(best) - 2 errors >=
  bar" (the rule before settling) scales B for about half of the seeds. Settled, every
  seed scales B (the first run, then 4 and 16 times the draws, until 3 errors clear).
* **0.975**, on the estimate: too close to call; every seed keeps testing after 16 times
  the draws (48,000), saying so. (Before the error was taken at the bar, 1 of 40 seeds
  scaled on a first run that strayed 3 of its own errors above.)
* **0.90**, far below: settled on the first run; no extra draws, the cost of before.
"""

from datetime import timedelta

import pytest
from scipy import optimize

from inference.funnel.fit import fit_mcmc
from inference.funnel.spec import ModelSpec
from inference.rule import winner_threshold
from tests.conftest import make_spec
from trials.analysis.decisions import decide
from trials.analysis.result import analyze_trial, load
from trials.domain import ArmSpec, DailyResult, DecisionRule, PrimaryMetric

pytestmark = pytest.mark.slow

DAYS = 14
CLICKS = 150
SEEDS = range(20)
BASE = ModelSpec().sampler.draws * ModelSpec().sampler.chains


def measured_trial(store, bar: float):
    """The measured case, with the probability threshold whose final bar is ``bar``."""
    threshold = optimize.brentq(
        lambda p: winner_threshold(p, 2, 1.0, DAYS, 7) - bar, 0.5, 0.9999, xtol=1e-12
    )
    start = make_spec().start
    spec = make_spec(
        primary_metric=PrimaryMetric.CONVERSION_RATE,
        end=start + timedelta(days=DAYS - 1),
        budget=20_000.0,
        arms=(
            ArmSpec("WeChat", "Video A", budget_share=0.5, control=True),
            ArmSpec("WeChat", "Video B", budget_share=0.5),
        ),
        decision_rule=DecisionRule(probability_threshold=threshold),
    )
    trial = store.create_trial(spec)
    rows = []
    for arm, total in zip(trial.arms, (84, 114), strict=True):
        per_day, extra = divmod(total, DAYS)
        for d in range(DAYS):
            conversions = per_day + (d < extra)
            rows.append(
                DailyResult(
                    arm.id,
                    start + timedelta(days=d),
                    CLICKS * 30,
                    CLICKS,
                    conversions,
                    CLICKS * 1.5,
                    conversions * 100.0,
                )
            )
    store.add_results(trial.id, rows, kind="channel")
    trial = store.get_trial(trial.id)
    assert winner_threshold(threshold, 2, 1.0, DAYS, 7) == pytest.approx(bar, abs=1e-9)
    return trial


def reference_p_best() -> float:
    """P(B is best) for the measured case from one long run (2 x 24,000 draws, Monte Carlo
    error about 0.0008): where "on the estimate" and "two errors below" sit for the model
    as it is now, not as it was measured once."""
    from dataclasses import replace

    from inference import FunnelData

    rows = []
    for arm, total in enumerate((84, 114)):
        per_day, extra = divmod(total, DAYS)
        for d in range(DAYS):
            conversions = per_day + (d < extra)
            rows.append(
                dict(
                    arm=arm,
                    day=f"2026-09-{d + 1:02d}",
                    impressions=CLICKS * 30,
                    clicks=CLICKS,
                    conversions=conversions,
                    spend=CLICKS * 1.5,
                    revenue=conversions * 100.0,
                )
            )
    data = FunnelData.from_rows([("WeChat", "Video A"), ("WeChat", "Video B")], rows)
    spec = ModelSpec()
    long = replace(spec, sampler=replace(spec.sampler, draws=24_000))
    cvr = fit_mcmc(data, long, seed=12345).draws["cvr"]
    return float((cvr[:, 1] > cvr[:, 0]).mean())


def verdicts(store, trial):
    out = []
    for seed in SEEDS:
        analysis = analyze_trial(store, trial, method="mcmc", spec=ModelSpec(), seed=seed)
        out.append(analysis.decision)
    return out


def test_two_errors_below_the_estimate_every_seed_scales_once_settled(store):
    trial = measured_trial(store, reference_p_best() - 0.0062)
    data = load(store, trial)
    one_run = []
    for seed in SEEDS:
        posterior = fit_mcmc(data.funnel, ModelSpec(), seed=seed)
        d = decide(trial, posterior, data.totals, list(data.daily))
        p = max(a.comparison.p_best for a in d.arms)
        one_run.append(p - 2 * d.p_best_error >= d.winner_threshold)
    # The measured failure: one run decides differently for different seeds.
    assert 0 < sum(one_run) < len(one_run)
    decisions = verdicts(store, trial)
    print(f"\none run, 2 errors: B scales for {sum(one_run)} of {len(one_run)} seeds")
    print("settled:", [(d.verdict, d.draws_used) for d in decisions])
    assert {d.verdict for d in decisions} == {"scale"}
    assert all(d.settled for d in decisions)
    assert all(d.margin >= 3 * d.p_best_error for d in decisions)


def test_on_the_estimate_every_seed_keeps_testing_too_close_to_call(store):
    bar = reference_p_best()
    trial = measured_trial(store, bar)
    decisions = verdicts(store, trial)
    print("\non the bar:", [(d.verdict, round(d.margin, 5), d.draws_used) for d in decisions])
    assert {d.verdict for d in decisions} == {"keep_testing"}
    unsettled = [d for d in decisions if not d.settled]
    assert len(unsettled) >= len(decisions) // 2
    for d in unsettled:
        # 16 x the draws; more when the sampler retried a run that failed a check with
        # twice its draws (inference.funnel.fit).
        assert d.draws_used >= 16 * BASE
        assert "too close to call" in d.reason and f"is on the bar of {bar:.2%}" in d.reason


def test_far_from_the_bar_there_are_no_extra_draws(store):
    trial = measured_trial(store, 0.90)
    decisions = verdicts(store, trial)
    assert {d.verdict for d in decisions} == {"scale"}
    # One run each: BASE draws, or twice that where the sampler's own retry redrew a run
    # that failed a check (inference.funnel.fit), never the settling's 4 or 16 times.
    assert {d.draws_used for d in decisions} <= {BASE, 2 * BASE}
    assert all(d.settled and d.close_calls == () for d in decisions)
    posterior = analyze_trial(store, trial, method="mcmc", spec=ModelSpec(), seed=99).posterior
    # The draws say it all (time is measured by `make bench`, not asserted in tests).
    assert posterior.n_draws in (BASE, 2 * BASE) and len(posterior.runs) <= 1
