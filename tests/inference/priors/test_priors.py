"""Priors learned from past trials: closed forms, the strength cap, and (slow) recovery of
a known hierarchy and a back-test on simulated history."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from inference.priors.backtest import backtest
from inference.priors.fit import (
    FEW_TRIALS_EVENTS,
    ORDER_LOG_SD,
    Counts,
    Means,
    beta_binomial_logpmf,
    beta_logit_normal,
    fit_beta_prior,
    fit_lognormal_prior,
)
from inference.priors.learn import DayCounts, PastArm, PastTrial, learn


def test_beta_binomial_marginal_likelihood_matches_scipy():
    rng = np.random.default_rng(0)
    n = rng.integers(1, 5000, 200)
    k = rng.binomial(n, 0.05)
    for a, b in [(0.5, 0.5), (3.0, 97.0), (120.0, 3880.0), (1e4, 2e5)]:
        ours = beta_binomial_logpmf(k, n, a, b)
        np.testing.assert_allclose(ours, stats.betabinom.logpmf(k, n, a, b), rtol=1e-9)


def test_the_fit_maximises_the_beta_binomial_marginal_likelihood():
    rng = np.random.default_rng(1)
    p = rng.beta(6, 194, 40)
    n = rng.integers(500, 3000, 40)
    k = rng.binomial(n, p)
    prior = fit_beta_prior([Counts(f"t{i}", int(n[i]), int(k[i])) for i in range(40)])
    mu, phi = prior.mean, prior.fitted_concentration

    def loglik(m, f):
        return stats.betabinom.logpmf(k, n, m * f, (1 - m) * f).sum()

    best = loglik(mu, phi)
    for dm, df in [(1.02, 1), (0.98, 1), (1, 1.1), (1, 0.9)]:
        assert loglik(mu * dm, phi * df) <= best + 1e-6


def test_beta_logit_normal_matches_the_moments_of_logit_rate():
    draws = stats.beta.rvs(30, 970, size=400_000, random_state=2)
    centre, sd = beta_logit_normal(30, 970)
    logits = np.log(draws / (1 - draws))
    assert centre == pytest.approx(logits.mean(), abs=4 * logits.std() / math.sqrt(len(draws)))
    assert sd == pytest.approx(logits.std(), rel=0.01)


@pytest.mark.parametrize("seed", range(25))
def test_a_learned_prior_is_never_stronger_than_its_data(seed):
    rng = np.random.default_rng(seed)
    trials = int(rng.integers(1, 8))
    arms = []
    for t in range(trials):
        for _ in range(int(rng.integers(1, 4))):
            n = int(rng.integers(1, 400))
            # identical arms: the fitted concentration runs to its bound
            arms.append(Counts(f"t{t}", n, int(rng.binomial(n, 0.04))))
    prior = fit_beta_prior(arms)
    per_trial = {}
    for c in arms:
        per_trial[c.trial] = per_trial.get(c.trial, 0) + c.n
    assert prior.ess <= np.median(list(per_trial.values())) + 1e-9
    assert prior.ess <= sum(c.n for c in arms) + 1e-9
    if trials < 3:
        assert prior.ess <= FEW_TRIALS_EVENTS / min(prior.mean, 1 - prior.mean) + 1e-9
        assert prior.capped is not None


def test_one_past_trial_gives_a_weak_prior_and_says_so():
    prior = fit_beta_prior([Counts("only", 100_000, 3_000)])
    assert prior.ess == pytest.approx(FEW_TRIALS_EVENTS / prior.mean)
    assert "only 1 past trial" in prior.capped
    low, high = prior.interval()
    assert low < 0.01 and high > 0.06  # wide: two conversions worth


def test_no_data_gives_no_prior():
    assert fit_beta_prior([]) is None
    assert fit_beta_prior([Counts("t", 0, 0)]) is None
    assert fit_lognormal_prior([]) is None


def test_an_order_value_prior_is_worth_at_most_one_trials_conversions():
    means = [Means(f"t{i}", 50.0 * (1 + 0.001 * i), 40) for i in range(10)]
    prior = fit_lognormal_prior(means)
    assert prior.ess <= 40 + 1e-9
    assert prior.log_sd == pytest.approx(ORDER_LOG_SD / math.sqrt(40))


def test_money_is_learned_per_currency_only():
    def trial(name, currency, cpc):
        days = tuple(DayCounts(d, 1000, 20, 1, 20 * cpc, 100.0) for d in range(10))
        return PastTrial(name, currency, (PastArm("Search", days),))

    learned = learn([trial(f"c{i}", "CNY", 8.0) for i in range(3)] + [trial("u", "USD", 1.0)])
    assert learned.get("Search", "cpc", "CNY").mean == pytest.approx(8.0)
    assert learned.get("Search", "cpc", "USD").mean == pytest.approx(1.0)
    assert learned.get(None, "cpc", "USD").mean == pytest.approx(1.0)
    assert {r.currency for r in learned.rows if r.stage == "cpc"} == {"CNY", "USD"}


# -- slow: known hierarchies ----------------------------------------------------------------


def _simulate(rng, n_trials, mu, phi, days=21, clicks_per_day=150, arms=2, channel="Search"):
    trials = []
    for t in range(n_trials):
        arm_list = []
        for _ in range(arms):
            p = rng.beta(mu * phi, (1 - mu) * phi)
            ctr = rng.beta(0.02 * 800, 0.98 * 800)
            rows = []
            for d in range(days):
                impressions = int(clicks_per_day / 0.02)
                c = int(rng.binomial(impressions, ctr))
                k = int(rng.binomial(c, p))
                rows.append(DayCounts(d, impressions, c, k, 1.5 * c, 60.0 * k))
            arm_list.append(PastArm(channel, tuple(rows)))
        trials.append(PastTrial(f"t{t}", "USD", tuple(arm_list)))
    return trials


@pytest.mark.slow
def test_recovery_of_a_known_hierarchy_from_30_past_trials():
    # Truth: CVR ~ Beta(mean 3 %, a + b = 300), i.e. between-trial sd 0.98 percentage points.
    # 60 repetitions of 30 past trials × 2 arms × 21 days × 150 clicks.
    mu, phi = 0.03, 300.0
    true_sd = math.sqrt(mu * (1 - mu) / (phi + 1))
    rng = np.random.default_rng(17)
    means, sds = [], []
    for _ in range(60):
        prior = learn(_simulate(rng, 30, mu, phi)).get("Search", "cvr")
        means.append(prior.mean)
        sds.append(prior.beta.spread)
    means, sds = np.array(means), np.array(sds)
    mc_mean, mc_sd = means.std(ddof=1) / math.sqrt(60), sds.std(ddof=1) / math.sqrt(60)
    # Average over repetitions within 3 Monte Carlo errors of the truth (plus 3 % for the
    # small downward bias of a maximum-likelihood spread from 60 arms).
    assert abs(means.mean() - mu) < 3 * mc_mean, (means.mean(), mc_mean)
    assert abs(sds.mean() - true_sd) < 3 * mc_sd + 0.03 * true_sd, (sds.mean(), true_sd, mc_sd)
    # and each single fit is usable: the mean within 20 % of the truth in 95 % of them
    assert np.mean(np.abs(means / mu - 1) < 0.2) >= 0.95


@pytest.mark.slow
def test_backtest_on_simulated_history_the_prior_improves_day_7():
    # 20 past trials whose arms differ (a + b = 150): early estimates gain from the prior.
    rng = np.random.default_rng(7)
    result = backtest(_simulate(rng, 20, 0.03, 150.0, days=21, clicks_per_day=40), days=7)
    cvr = result.stage("cvr")
    assert result.trials == 20 and cvr.arms == 40
    assert cvr.error_with < cvr.error_without
    assert result.days_saved_median is not None and result.days_saved_mean > 0
