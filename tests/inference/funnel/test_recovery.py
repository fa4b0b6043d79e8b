"""Tier 3 (slow, run in CI): recovery and calibration on simulated trials with known truth.

Trials are simulated as real campaigns behave (see ``simulate.py``): overdispersed daily
rates, skewed order values, spend that wobbles. Truth is drawn per trial from a spread of
channels and creatives like the one the priors describe.
"""

import numpy as np
import pytest

from inference import ModelSpec
from inference.funnel.fit import fit_mcmc
from tests.inference.simulate import simulate_trial

pytestmark = pytest.mark.slow

N_CALIBRATION_TRIALS = 200


def covered(posterior, metric, truth) -> list[bool]:
    out = []
    for arm, value in enumerate(truth):
        interval = posterior.interval(metric, arm)
        out.append(interval.low <= value <= interval.high)
    return out


def test_parameters_are_recovered_on_rich_data():
    """With plenty of data, posterior means sit close to the truth and intervals cover it."""
    rng = np.random.default_rng(2026)
    errors = {"ctr": [], "cvr": [], "roas": []}
    hits = {"ctr": [], "cvr": [], "roas": []}
    for _ in range(8):
        data, truth = simulate_trial(
            rng, channels=2, arms_per_channel=2, days=28, daily_spend=150.0
        )
        posterior = fit_mcmc(data, seed=int(rng.integers(1 << 30)))
        assert posterior.diagnostics.reliable, posterior.diagnostics.reasons
        for metric in errors:
            true = getattr(truth, metric)
            mean = posterior.draws[metric].mean(axis=0)
            errors[metric] += list(np.abs(mean - true) / true)
            hits[metric] += covered(posterior, metric, true)
    # 32 arms per metric: typical relative error small, and 94 % intervals cover nearly all.
    assert np.median(errors["ctr"]) < 0.03
    assert np.median(errors["cvr"]) < 0.10
    assert np.median(errors["roas"]) < 0.15
    for metric, h in hits.items():
        assert np.mean(h) >= 0.84, (metric, np.mean(h))


def test_ninety_percent_intervals_cover_the_truth_ninety_percent_of_the_time():
    """Over 200 simulated trials, 90 % intervals of CVR and ROAS cover the truth 86-94 %."""
    spec = ModelSpec(hdi_prob=0.9)
    rng = np.random.default_rng(90)
    hits = {"cvr": [], "roas": []}
    unreliable = 0
    for _ in range(N_CALIBRATION_TRIALS):
        data, truth = simulate_trial(rng, channels=2, arms_per_channel=2, days=21)
        posterior = fit_mcmc(data, spec, seed=int(rng.integers(1 << 30)))
        unreliable += not posterior.diagnostics.reliable
        for metric in hits:
            hits[metric] += covered(posterior, metric, getattr(truth, metric))
    coverage = {metric: float(np.mean(h)) for metric, h in hits.items()}
    print(
        f"coverage of 90% intervals over {N_CALIBRATION_TRIALS} trials: {coverage}; "
        f"unreliable fits: {unreliable}"
    )
    assert unreliable <= N_CALIBRATION_TRIALS * 0.02
    for metric, value in coverage.items():
        assert 0.86 <= value <= 0.94, (metric, value)
