"""Results over time: P(best) and ROAS per arm on the data up to each day (the exact path,
seeded), settling on planted data where one arm is clearly better."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import numpy as np
import pytest

from tests.conftest import make_spec
from trials.analysis.history import history
from trials.domain import DailyResult, PrimaryMetric

START = date(2026, 9, 1)


def _planted(store, days=20, seed=4):
    """Two arms on ROAS; the second converts 50 % more often (truly better), binomial days."""
    trial = store.create_trial(make_spec(primary_metric=PrimaryMetric.ROAS, start=START))
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(days):
        for arm, cvr in zip(trial.arms, (0.03, 0.045), strict=True):
            clicks = int(rng.binomial(10_000, 0.02))
            conversions = int(rng.binomial(clicks, cvr))
            rows.append(
                DailyResult(
                    arm.id,
                    START + timedelta(days=d),
                    4000,
                    clicks,
                    conversions,
                    40.0,
                    round(float(rng.gamma(4.0, 50.0 / 4.0, size=conversions).sum()), 2),
                )
            )
    store.add_results(trial.id, rows, kind="manual")
    return store.get_trial(trial.id)


def test_p_best_settles_on_the_truly_better_arm(store):
    trial = _planted(store)
    h = history(store, trial)
    better = trial.arms[1].name
    series = [p.p_best for p in h.points if p.arm == better]
    assert len(series) == 20 == len(h.days)
    # Settling: unsure on the first day (about 6 conversions against 9), then rising with
    # no big step back, and clearly ahead on every one of the last ten days.
    assert series[0] < 0.9
    assert series[-1] >= 0.99 and min(series[-10:]) >= 0.95
    assert max(a - b for a, b in itertools.pairwise(series)) < 0.1
    assert h.leader == better and h.leader_since <= START + timedelta(days=9)
    # P(best) sums to one each day; the Monte Carlo error is stated.
    for day in h.days:
        assert sum(p.p_best for p in h.points if p.day == day) == pytest.approx(1.0)
    assert 0 < h.p_best_mc_error <= 0.5 / np.sqrt(h.n_draws) + 1e-12
    # Cumulative: spend and conversions only grow; ROAS intervals hold their means.
    for arm in trial.arms:
        mine = [p for p in h.points if p.arm_id == arm.id]
        assert [p.spend for p in mine] == pytest.approx([40.0 * (d + 1) for d in range(20)])
        assert all(a.conversions <= b.conversions for a, b in itertools.pairwise(mine))
        assert all(p.roas_low <= p.roas_mean <= p.roas_high for p in mine)


def test_same_seed_same_series(store):
    trial = _planted(store, days=5)
    a, b = history(store, trial, seed=1), history(store, trial, seed=1)
    assert a.points == b.points
    c = history(store, trial, seed=2)
    assert [p.p_best for p in a.points] != [p.p_best for p in c.points]


def test_a_trial_without_data_has_an_empty_series(store):
    trial = store.create_trial(make_spec())
    h = history(store, trial)
    assert h.points == () and h.leader is None and h.leader_since is None


def test_a_day_without_clicks_gives_no_chance_rather_than_a_number(store):
    trial = store.create_trial(make_spec(primary_metric=PrimaryMetric.CONVERSION_RATE, start=START))
    a, b = trial.arms
    store.add_results(
        trial.id,
        [
            DailyResult(a.id, START, 1000, 0, 0, 0.0, 0.0),
            DailyResult(b.id, START, 1000, 0, 0, 0.0, 0.0),
            DailyResult(a.id, START + timedelta(days=1), 1000, 30, 3, 10.0, 30.0),
            DailyResult(b.id, START + timedelta(days=1), 1000, 30, 1, 10.0, 10.0),
        ],
        kind="manual",
    )
    h = history(store, trial)
    first = [p for p in h.points if p.day == START]
    assert all(p.p_best is None and p.roas_mean is None and p.roas_reason for p in first)
    second = [p.p_best for p in h.points if p.day == START + timedelta(days=1)]
    assert second[0] > second[1] and sum(second) == pytest.approx(1.0)
