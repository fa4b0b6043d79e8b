"""The pre-registered rule (inference.rule): thresholds against closed forms, verdicts on
planted quantities, and one rule for the vectorised and the single-look paths."""

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from inference.rule import (
    SETTLED_ERRORS,
    VERDICTS,
    Batch,
    Quantities,
    Rule,
    boundary_constant,
    judge,
    quantities_from_draws,
    verdict,
    winner_threshold,
)


def test_one_look_needs_the_bonferroni_bar():
    assert winner_threshold(0.95, 2) == pytest.approx(0.975)
    assert winner_threshold(0.95, 3) == pytest.approx(1 - 0.05 / 3)
    assert winner_threshold(0.95, 2, 0.5) == pytest.approx(0.975)  # no schedule, one look
    assert boundary_constant(0.025, 28, 28) == pytest.approx(stats.norm.ppf(0.975))


def test_daily_looks_raise_the_bar_early_and_keep_the_crossing_chance_at_alpha():
    c = boundary_constant(0.025, 7, 28)
    assert c > stats.norm.ppf(0.975)
    z = c * 0.5 ** (0.25 - 0.5)
    assert winner_threshold(0.95, 2, 0.5, 28, 7) == pytest.approx(stats.norm.cdf(z))
    looks = [winner_threshold(0.95, 2, t, 28, 7) for t in (0.1, 0.2, 0.5, 0.9, 1.0, 1.5)]
    assert looks[0] == looks[1]  # the bar stops rising at a fifth of the days
    assert all(a >= b for a, b in itertools.pairwise(looks))
    assert looks[-1] == looks[-2] == pytest.approx(stats.norm.cdf(c))
    np.testing.assert_allclose(winner_threshold(0.95, 2, np.array([0.5, 1.0]), 28, 7), looks[2:5:2])
    # Independent check on fresh paths: daily z-statistics under no difference cross the
    # boundary on some look from day 7 to day 28 with probability alpha = 2.5 %.
    rng = np.random.default_rng(99)
    days = np.arange(1, 29)
    w = np.cumsum(rng.standard_normal((40_000, 28)), axis=1)
    z_days = w / np.sqrt(days)
    t = np.clip(days / 28, 0.2, 1.0)
    crossed = (z_days[:, 6:] >= c * t[6:] ** (0.25 - 0.5)).any(axis=1).mean()
    assert crossed == pytest.approx(0.025, abs=3 * math.sqrt(0.025 * 0.975 / 40_000) + 0.002)


def test_quantities_match_closed_forms_for_two_normal_arms():
    rng = np.random.default_rng(1)
    n = 400_000
    draws = np.column_stack([rng.normal(1.0, 0.1, n), rng.normal(1.1, 0.1, n)])
    q = quantities_from_draws(draws, margin=0.2)
    exact = stats.norm.cdf(0.1 / math.sqrt(0.02))
    assert q.leader == 1 and q.p_best[1] == pytest.approx(exact, abs=3e-3)
    assert q.p_beats_leader[0] == pytest.approx(1 - exact, abs=3e-3)
    # E[max(X, Y)] - E[Y] for the difference D = X - Y ~ N(-0.1, 0.02): E[D+].
    s, m = math.sqrt(0.02), -0.1
    e_plus = m * stats.norm.cdf(m / s) + s * stats.norm.pdf(m / s)
    assert q.relative_loss == pytest.approx(e_plus / 1.1, rel=0.02)
    assert q.p_best_error == pytest.approx(math.sqrt(exact * (1 - exact) / n), rel=0.05)
    lower = quantities_from_draws(draws, higher_is_better=False)
    assert lower.leader == 0


def planted(p_best, beats=None, loss=0.001, equal=0.0):
    p_best = np.asarray(p_best, float)
    leader = int(np.argmax(p_best))
    beats = np.asarray(beats if beats is not None else 1 - p_best, float)
    beats[leader] = 0.5
    return Quantities(p_best, beats, loss, equal, leader, 0.001)


RULE = Rule()


def test_a_zero_conversion_arm_clearly_behind_is_out_of_contention_but_still_counts():
    q = planted([0.99, 0.01, 0.0], beats=[0.5, 0.01, 0.0001])
    v = verdict(q, RULE, days=[14] * 3, conversions=[40, 40, 0], p_profit=[0.95, 0.9, 0.0])
    # Guarded over all three arms: 0.99 >= 1 - 0.05 / 3.
    assert v.winner_threshold == pytest.approx(1 - 0.05 / 3)
    assert v.code == "scale" and v.trailing == (1, 2) and v.gates["min_conversions"]
    # The same zero arm, not yet clearly behind, holds the rule: it still needs conversions.
    q2 = planted([0.99, 0.01, 0.0], beats=[0.5, 0.01, 0.2])
    v2 = verdict(q2, RULE, days=[14] * 3, conversions=[40, 40, 0], p_profit=[0.95, 0.9, 0.5])
    assert v2.code == "keep_testing" and "min_conversions" in v2.blocked_by


def test_scale_needs_every_part_of_the_rule():
    base = dict(days=[14, 14], conversions=[40, 40], p_profit=[0.95, 0.5])
    assert verdict(planted([0.99, 0.01]), RULE, **base).code == "scale"
    cases = {
        "probability": (planted([0.96, 0.04]), base),
        "expected_loss": (planted([0.99, 0.01], loss=0.05), base),
        "profit": (planted([0.99, 0.01]), {**base, "p_profit": [0.7, 0.5]}),
        "min_days": (planted([0.99, 0.01], beats=[0.5, 0.2]), {**base, "days": [14, 5]}),
        "min_conversions": (
            planted([0.99, 0.01], beats=[0.5, 0.2]),
            {**base, "conversions": [40, 10]},
        ),
    }
    for blocker, (q, kwargs) in cases.items():
        v = verdict(q, RULE, **kwargs)
        assert v.code != "scale" and blocker in v.blocked_by, blocker
    unreliable = verdict(planted([0.99, 0.01]), RULE, reliable=False, **base)
    assert unreliable.code == "keep_testing" and not unreliable.trailing
    planned = replace(RULE, planned_days=28)
    early = verdict(planted([0.985, 0.015]), planned, information=0.3, **base)
    assert early.code == "keep_testing" and "probability" in early.blocked_by


def test_equal_is_a_region_of_practical_equivalence_not_a_near_miss():
    base = dict(days=[14, 14], conversions=[40, 40])
    near_miss = verdict(planted([0.9, 0.1], loss=0.0001, equal=0.5), RULE, **base)
    assert near_miss.code == "keep_testing"
    equal = verdict(planted([0.6, 0.4], equal=0.97), RULE, **base)
    assert equal.code == "equal" and equal.met


def test_every_arm_losing_money_stops_the_trial():
    v = verdict(planted([0.6, 0.4]), RULE, days=[10, 10], conversions=[3, 2], p_profit=[0.1, 0.05])
    assert v.code == "stop_all" and v.losing == (0, 1)
    too_soon = verdict(
        planted([0.6, 0.4]), RULE, days=[3, 3], conversions=[3, 2], p_profit=[0.1, 0.05]
    )
    assert too_soon.code == "keep_testing"


def test_the_batch_path_is_the_single_look_path():
    rng = np.random.default_rng(7)
    for _ in range(300):
        k = int(rng.integers(2, 5))
        p = rng.dirichlet(np.ones(k) * 0.3)
        beats = rng.uniform(0, 0.5, k)
        q = Quantities(
            p,
            beats,
            float(rng.uniform(0, 0.03)),
            float(rng.uniform(0.8, 1)),
            int(np.argmax(p)),
            0.001,
        )
        q.p_beats_leader[q.leader] = 0.5
        days = rng.integers(3, 20, k)
        conv = rng.integers(0, 60, k)
        profit = rng.uniform(0, 1, k)
        info = float(rng.uniform(0.1, 1.2))
        v = verdict(q, RULE, days=days, conversions=conv, p_profit=profit, information=info)
        out = judge(
            Batch(
                p_best=p[None],
                p_beats_leader=q.p_beats_leader[None],
                relative_loss=np.array([q.relative_loss]),
                p_equal=np.array([q.p_equal]),
                days=days[None].astype(float),
                conversions=conv[None].astype(float),
                reliable=np.array([True]),
                p_profit=profit[None],
                information=np.array([info]),
                comparable=np.ones((1, k), bool),
            ),
            RULE,
        )
        assert VERDICTS[int(out["code"][0])] == v.code
        if v.code == "scale":
            assert all(v.gates.values()) and p[v.leader] >= v.winner_threshold


def test_a_winner_must_clear_the_bar_by_settled_errors_monte_carlo_errors():
    base = dict(days=[28, 28], conversions=[40, 40], p_profit=[0.95, 0.9])
    w = winner_threshold(0.95, 2)
    shaky = Quantities(
        np.array([w + 0.002, 1 - w - 0.002]), np.array([0.5, 0.01]), 0.001, 0.0, 0, 0.002
    )
    clear = (SETTLED_ERRORS + 0.5) * 0.002
    settled = Quantities(
        np.array([w + clear, 1 - w - clear]), np.array([0.5, 0.01]), 0.001, 0.0, 0, 0.002
    )
    assert verdict(shaky, RULE, **base).code == "keep_testing"
    assert "probability" in verdict(shaky, RULE, **base).blocked_by
    assert verdict(settled, RULE, **base).code == "scale"
