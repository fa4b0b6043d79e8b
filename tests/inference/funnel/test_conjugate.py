"""Tier 1: the exact path against closed forms (scipy)."""

import numpy as np
import pytest
from scipy import stats

from inference import FunnelData, ModelSpec, exact_posterior
from inference.funnel.conjugate import (
    beta_hdi,
    beta_posterior,
    exact_rate_intervals,
    order_value_posterior,
    order_value_shape,
)
from inference.summary import hdi
from tests.inference.simulate import day_rows

ARMS = [("Search", "A"), ("Search", "B"), ("Social", "C")]


DATA = FunnelData.from_rows(
    ARMS,
    day_rows(
        [
            [(1000, 40, 2, 30.0, 160.0), (1200, 50, 3, 35.0, 210.0)],
            [(900, 45, 4, 28.0, 300.0), (1100, 52, 5, 33.0, 410.0)],
            [(5000, 30, 1, 50.0, 95.0), (4000, 20, 0, 40.0, 0.0)],
        ]
    ),
)


def test_rate_posteriors_are_scipys_betas():
    spec = ModelSpec()
    exact = exact_rate_intervals(DATA, spec)
    totals = DATA.totals()
    for arm in range(3):
        for metric, hits, tries in (
            ("ctr", totals.clicks[arm], totals.impressions[arm]),
            ("cvr", totals.conversions[arm], totals.clicks[arm]),
        ):
            dist = stats.beta(1 + hits, 1 + tries - hits)
            interval = exact[metric][arm]
            assert interval.mean == pytest.approx(dist.mean(), rel=1e-12)
            assert dist.cdf(interval.high) - dist.cdf(interval.low) == pytest.approx(0.94, abs=1e-8)
            assert dist.pdf(interval.low) == pytest.approx(dist.pdf(interval.high), rel=1e-6)


@pytest.mark.parametrize(("a", "b"), [(3, 40), (50, 2000), (1, 5), (5, 1), (200, 180)])
def test_beta_hdi_is_the_narrowest_interval(a, b):
    low, high = beta_hdi(a, b, 0.9)
    dist = stats.beta(a, b)
    assert dist.cdf(high) - dist.cdf(low) == pytest.approx(0.9, abs=1e-6)
    # Any other interval with the same mass is at least as wide.
    for q in np.linspace(0.001, 0.099, 25):
        assert dist.ppf(q + 0.9) - dist.ppf(q) >= high - low - 1e-9


def test_draws_match_the_closed_form_moments():
    posterior = exact_posterior(DATA, seed=3, n_draws=200_000)
    totals = DATA.totals()
    alpha, beta = beta_posterior(totals.clicks, totals.impressions)
    sd = np.sqrt(stats.beta(alpha, beta).var())
    # Monte-Carlo error of a mean of 200,000 draws is sd / sqrt(200,000); allow 5 of them.
    error = np.abs(posterior.draws["ctr"].mean(axis=0) - alpha / (alpha + beta))
    assert (error < 5 * sd / np.sqrt(200_000)).all()


def test_order_value_posterior_is_conjugate_gamma():
    spec = ModelSpec()
    shape, rate, orders = order_value_posterior(DATA, spec)
    k = order_value_shape(spec)
    # Only rows with both orders and revenue count: arm 2's second day has neither.
    assert list(orders) == [5, 9, 1]
    pooled = (160 + 210 + 300 + 410 + 95) / 15
    assert shape[0] == pytest.approx(1 + k * 5)
    assert rate[0] == pytest.approx(k / pooled + 370)
    posterior = exact_posterior(DATA, spec, seed=1, n_draws=200_000)
    # Mean of k / beta with beta ~ Gamma(shape, rate) is k * rate / (shape - 1), times the
    # paying share's Beta(1 + paying, 0.02 + unpaid) mean (every conversion here pays).
    paying = (1 + orders) / (1.02 + orders)
    expected = k * rate / (shape - 1) * paying
    assert posterior.draws["revenue_per_conversion"].mean(axis=0) == pytest.approx(
        expected, rel=0.01
    )


def test_roas_and_cpa_follow_from_the_stages():
    posterior = exact_posterior(DATA, seed=2)
    totals = DATA.totals()
    ipm = totals.impressions / totals.spend
    d = posterior.draws
    # Every day is paired and has revenue where it has conversions (arm C's second day
    # has neither), so conversions per click are the CVR's, plus the unpaired prior's
    # Gamma(0.001, 1 + clicks): nothing in the median draw, a sliver on average.
    per_click = d["roas"] / (ipm * d["ctr"] * d["revenue_per_conversion"])
    np.testing.assert_allclose(np.median(per_click / d["cvr"], axis=0), 1.0, atol=1e-9)
    np.testing.assert_allclose(per_click.mean(axis=0), d["cvr"].mean(axis=0), rtol=2e-3)
    np.testing.assert_allclose(d["cpa"], 1 / (ipm * d["ctr"] * per_click))


def test_exact_takes_a_hundred_arms():
    many = FunnelData.from_rows(
        [(f"c{a % 5}", f"arm {a}") for a in range(100)],
        [
            dict(
                arm=a,
                day=f"2026-09-{d + 1:02d}",
                impressions=1000,
                clicks=30,
                conversions=2,
                spend=20.0,
                revenue=90.0,
            )
            for a in range(100)
            for d in range(30)
        ],
    )
    posterior = exact_posterior(many, seed=0)
    assert posterior.draws["roas"].shape == (4000, 100)
    # How fast is measured by `make bench`, not asserted here.


def test_degenerate_arms_get_named_reasons_not_numbers():
    data = FunnelData.from_rows(
        [("X", "no data"), ("X", "no clicks"), ("X", "no spend")],
        day_rows([[], [(500, 0, 0, 10.0, 0.0)], [(500, 10, 1, 0.0, 50.0)]]),
    )
    p = exact_posterior(data, seed=0)
    assert p.interval("ctr", 0).reason == "no impressions yet"
    assert p.interval("cvr", 1).reason == "no clicks yet"
    assert p.interval("roas", 1).reason == "no clicks yet"
    assert p.interval("roas", 2).reason == "no spend yet"
    assert p.interval("cpa", 2).as_dict() == {
        "mean": None,
        "hdi_low": None,
        "hdi_high": None,
        "reason": "no spend yet",
    }
    assert p.interval("ctr", 2).defined


def test_view_through_days_are_left_out_of_cvr_and_counted_for_roas():
    data = FunnelData.from_rows(
        [("X", "a"), ("X", "b")],
        day_rows([[(100, 2, 5, 1.0, 50.0), (100, 4, 1, 1.0, 10.0)], [(100, 5, 1, 1.0, 10.0)]]),
    )
    p = exact_posterior(data, seed=0, n_draws=100_000)
    # Arm a's CVR is its paired day's alone (1 of 4 clicks), never a day of 100 %.
    assert p.interval("cvr", 0).mean == pytest.approx(2 / 6, rel=1e-2)
    assert "5 conversions came on days whose clicks cannot explain them" in " ".join(p.notes)
    # ROAS still counts all 6 conversions: revenue / spend = 60 / 2 with plenty of data.
    assert p.draws["roas"][:, 0].mean() > 15


def test_hdi_from_draws_matches_exact_hdi():
    draws = stats.beta(30, 500).rvs(400_000, random_state=np.random.default_rng(0))
    low, high = hdi(draws, 0.94)
    exact = beta_hdi(30, 500, 0.94)
    assert (low, high) == pytest.approx(exact, abs=3e-4)
