"""Monte Carlo errors against closed forms, and the settled check on planted quantities."""

import math

import numpy as np
import pytest

from inference.montecarlo import (
    effective_draws,
    error_at,
    mean_error,
    probability,
    probability_error,
)
from inference.rule import SETTLED_ERRORS, Quantities, Rule, quantities_from_draws, winner_threshold
from inference.settling import MAX_CLOSE, settle, settle_seed

RULE = Rule()
K = SETTLED_ERRORS


def ar1(phi: float, chains: int, draws: int, seed: int) -> np.ndarray:
    """Stationary Gaussian AR(1) chains (unit variance), shaped (chains, draws)."""
    rng = np.random.default_rng(seed)
    x = np.empty((chains, draws))
    x[:, 0] = rng.standard_normal(chains)
    noise = rng.standard_normal((chains, draws)) * math.sqrt(1 - phi**2)
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x


def test_independent_draws_have_the_binomial_error():
    rng = np.random.default_rng(1)
    n, p = 40_000, 0.975
    hits = (rng.random(n) < p).astype(float)
    estimate, error = probability(hits[:, None])
    assert estimate[0] == hits.mean()
    closed = math.sqrt(p * (1 - p) / n)
    assert error[0] == pytest.approx(closed, rel=0.05)
    # The same draws read as 4 chains: their ESS is about the number of draws.
    _, chained = probability(hits[:, None], runs=((4, n // 4),))
    assert chained[0] == pytest.approx(closed, rel=0.1)
    assert effective_draws(hits, ((4, n // 4),)) == pytest.approx(n, rel=0.1)


def test_an_ar1_chain_inflates_the_variance_of_its_mean_by_1_plus_phi_over_1_minus_phi():
    phi, chains, draws = 0.8, 4, 25_000
    x = ar1(phi, chains, draws, seed=2)
    n = chains * draws
    closed = math.sqrt((1 + phi) / (1 - phi) / n)  # 3 x the independent error
    assert float(mean_error(x.reshape(-1), runs=((chains, draws),))) == pytest.approx(
        closed, rel=0.1
    )
    # Its indicator x > 0 has autocorrelation (2 / pi) arcsin(phi^t) (the orthant
    # probability of a bivariate normal), so P(x > 0) = 1/2 has variance inflation
    # 1 + 2 sum_t (2 / pi) arcsin(phi^t).
    inflation = 1 + 2 * sum(2 / math.pi * math.asin(phi**t) for t in range(1, 400))
    _, error = probability((x.reshape(-1) > 0)[:, None], runs=((chains, draws),))
    assert error[0] == pytest.approx(math.sqrt(0.25 * inflation / n), rel=0.1)
    # The sampler's naive error (independent draws) would be far too small.
    assert error[0] > 2 * math.sqrt(0.25 / n)


def test_the_reported_error_is_the_spread_of_the_estimate_over_reruns():
    phi, chains, draws = 0.6, 2, 4000
    estimates, errors = [], []
    for seed in range(200):
        x = ar1(phi, chains, draws, seed=100 + seed).reshape(-1)
        p, e = probability((x > 1.5)[:, None], runs=((chains, draws),))
        estimates.append(p[0])
        errors.append(e[0])
    # 200 reruns: the sd of the estimates is known to about 5 %.
    assert np.mean(errors) == pytest.approx(np.std(estimates, ddof=1), rel=0.15)


def test_pooled_runs_add_their_effective_draws_and_anticorrelation_is_not_credited():
    rng = np.random.default_rng(3)
    x = rng.random(8000)
    # Two independent runs of independent draws: as many effective draws as draws.
    assert effective_draws(x, ((2, 1000), (2, 3000))) == pytest.approx(8000, rel=0.1)
    # A run of AR(1) chains (phi 0.8, ESS about n / 9) beside one of independent draws:
    # 1 / sum_r (n_r / N)^2 / ESS_r.
    slow = ar1(0.8, 2, 20_000, seed=4).reshape(-1)
    fast = rng.standard_normal(40_000)
    pooled = effective_draws(np.concatenate([slow, fast]), ((2, 20_000), (2, 20_000)))
    expected = 1 / (0.25 / (40_000 / 9) + 0.25 / 40_000)
    assert pooled == pytest.approx(expected, rel=0.15)
    negative = ar1(-0.5, 2, 10_000, seed=5).reshape(-1)
    assert effective_draws(negative, ((2, 10_000),)) == pytest.approx(20_000)
    with pytest.raises(ValueError):
        effective_draws(x, ((2, 1000),))


def test_a_probability_is_compared_with_its_bar_using_the_error_at_the_bar():
    m = 3000
    for p, bar in ((0.99, 0.975), (0.5, 0.975), (1.0, 0.95)):
        at_bar = error_at(bar, p, probability_error(p, m))
        assert at_bar == pytest.approx(max(probability_error(bar, m), probability_error(p, m)))
    assert error_at(0.975, 0.99, 0.0) == 0.0


def test_a_probability_of_one_still_has_an_error():
    assert probability_error(1.0, 4000) == pytest.approx(math.sqrt((1 + 1 / 4000) / 4000**2))
    assert probability_error(1.0, 4000) > 0


def test_quantities_read_the_error_of_the_leaders_own_indicator():
    """Chains whose metric draws are independent but whose 'arm B is best' indicator is
    sticky: the error follows the indicator, not the number of draws."""
    rng = np.random.default_rng(6)
    chains, draws = 2, 20_000
    z = ar1(0.9, chains, draws, seed=7).reshape(-1)
    b_best = z > -1.96  # P(best) about 0.975, autocorrelated
    a = rng.normal(1.0, 0.01, chains * draws)
    b = np.where(b_best, a + 0.1, a - 0.1)
    q = quantities_from_draws(np.column_stack([a, b]), runs=((chains, draws),))
    naive = math.sqrt(0.975 * 0.025 / (chains * draws))
    assert q.leader == 1 and q.p_best[1] == pytest.approx(0.975, abs=0.01)
    assert q.p_best_error > 2 * naive
    _, direct = probability(b_best[:, None].astype(float), runs=((chains, draws),))
    assert q.p_best_error == pytest.approx(direct[0], rel=1e-6)


W = winner_threshold(0.95, 2)
LOOK = dict(days=[28, 28], conversions=[60, 60], p_profit=[0.99, 0.99], p_profit_error=[0.001] * 2)


def planted(p_best: float, error: float, **changes) -> Quantities:
    values = dict(
        p_best=np.array([p_best, 1 - p_best]),
        p_beats_leader=np.array([0.5, 1 - p_best]),
        relative_loss=0.001,
        p_equal=0.0,
        leader=0,
        p_best_error=error,
        p_beats_error=np.array([0.0, error]),
        relative_loss_error=0.0001,
        p_equal_error=0.0,
    )
    return Quantities(**(values | changes))


def test_far_from_the_bar_the_verdict_is_settled_at_once():
    s = settle(planted(W + 0.01, 0.002), RULE, **LOOK)
    assert s.settled and s.close == ()
    assert s.margin == pytest.approx(0.01) and s.margin_error == 0.002
    assert settle(planted(W - 0.01, 0.002), RULE, **LOOK).settled


def test_within_k_errors_of_the_bar_the_verdict_is_not_settled():
    error = 0.002
    for p in (W + (K - 0.1) * error, W, W - (K - 0.1) * error):
        s = settle(planted(p, error), RULE, **LOOK)
        assert not s.settled
        assert {c.quantity for c in s.close} == {"p_best", "p_beats_leader"}
        (best,) = [c for c in s.close if c.quantity == "p_best"]
        assert best.bar == pytest.approx(W) and best.errors_away < K
    # Just beyond k errors on either side (errors at the bar, which are larger above it
    # than the planted one at the estimate): settled.
    above = W + (K + 0.1) * error_at(W, W + K * error, error)
    assert not settle(planted(W + (K + 0.1) * error, error), RULE, **LOOK).settled
    assert settle(planted(above, error), RULE, **LOOK).settled
    assert settle(planted(W - (K + 0.1) * error, error), RULE, **LOOK).settled


def test_a_close_probability_that_cannot_change_the_verdict_does_not_unsettle_it():
    # P(best) on the bar, but the trial is short of days: it keeps testing either way.
    short = LOOK | {"days": [3, 3]}
    assert settle(planted(W, 0.002), RULE, **short).settled
    # The expected loss is far too large for a scale anyway: P(best) on the bar cannot
    # change the verdict, only whether the other arm is clearly behind (to be stopped).
    s = settle(planted(W, 0.002, relative_loss=0.2), RULE, **LOOK)
    assert not s.settled and [(c.quantity, c.arm) for c in s.close] == [("p_beats_leader", 1)]
    assert s.trailing == ()  # not stopped while it is unsettled


def test_the_profit_gate_and_losing_arms_near_their_bars_unsettle_the_verdict():
    q = planted(W + 0.01, 0.001)
    near = settle(q, RULE, **(LOOK | {"p_profit": [0.801, 0.99], "p_profit_error": [0.002] * 2}))
    assert not near.settled
    assert [(c.quantity, c.arm) for c in near.close] == [("p_profit", 0)]
    # The trailing arm on the money-losing bar: whether to stop it is not settled.
    losing = settle(q, RULE, **(LOOK | {"p_profit": [0.99, 0.199], "p_profit_error": [0.002] * 2}))
    assert not losing.settled and [(c.quantity, c.arm) for c in losing.close] == [("p_profit", 1)]
    far = settle(q, RULE, **(LOOK | {"p_profit": [0.9, 0.05], "p_profit_error": [0.002] * 2}))
    assert far.settled and far.losing == (1,)


def test_the_expected_loss_near_its_threshold_unsettles_a_scale():
    q = planted(W + 0.01, 0.001, relative_loss=0.0099, relative_loss_error=0.0002)
    s = settle(q, RULE, **LOOK)
    assert not s.settled and [c.quantity for c in s.close] == ["relative_loss"]


def test_too_many_close_comparisons_count_as_unsettled():
    k = MAX_CLOSE + 3
    p_best = np.full(k, 0.0)
    p_best[0] = 0.9
    q = Quantities(
        p_best,
        np.full(k, 0.3),
        0.5,
        0.0,
        0,
        0.001,
        p_beats_error=np.zeros(k),
    )
    look = dict(
        days=[28] * k,
        conversions=[60] * k,
        p_profit=[0.8] * k,
        p_profit_error=[0.01] * k,
    )
    s = settle(q, RULE, **look)
    assert not s.settled and len(s.close) == k


def test_settling_seeds_are_fixed_by_the_first_seed_and_the_run():
    assert settle_seed(0, 1) == settle_seed(0, 1)
    seeds = {settle_seed(s, r) for s in range(50) for r in (1, 2)}
    assert len(seeds) == 100 and all(0 <= s < 2**32 for s in seeds)
