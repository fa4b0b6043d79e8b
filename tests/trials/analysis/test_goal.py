"""Budget by goal bridged to stored trials: which trials, one currency, untested channels."""

import math
from datetime import date

import pytest

from tests.conftest import day_rows, make_spec
from trials.analysis.demo import load_demo
from trials.analysis.goal import goal_trials, untested_channel_prior
from trials.domain import UserError


def test_trials_are_chosen_in_one_currency(store):
    load_demo(store, today=date(2026, 11, 22))
    with pytest.raises(
        UserError, match=r"CNY: 'WeChat vs Weibo launch'.*--currency \(CNY, EUR, USD\)"
    ):
        goal_trials(store)
    trials, currency = goal_trials(store, currency="usd")
    # Archived trials are never chosen by default: the decided one, scaling, is.
    assert currency == "USD" and {t.name for t in trials} == {
        "Search ads headline test",
        "Google Search: long-tail keywords",
    }
    # The planned trial without data is never chosen by default.
    trials, _ = goal_trials(store, currency="CNY")
    assert {t.name for t in trials} == {
        "WeChat vs Weibo launch",
        "Weibo creative fix: WeChat vs Weibo",
    }
    with pytest.raises(UserError, match="not in EUR"):
        goal_trials(store, ["WeChat vs Weibo launch"], currency="EUR")


def test_untested_channel_prior_comes_from_the_learned_priors_in_its_currency(store):
    from trials.analysis.priors import workspace_priors

    assert untested_channel_prior(store, "Douyin", "CNY") is None
    load_demo(store, today=date(2026, 11, 22))
    # Every arm of every trial in CNY with data (archived ones too).
    totals = [
        t
        for s in store.list_trials()
        if s.trial.spec.currency == "CNY"
        for t in store.arm_totals(s.trial.id).values()
    ]
    spend = sum(t.spend for t in totals)
    prior = untested_channel_prior(store, "Douyin", "CNY")
    assert prior.currency == "CNY" and prior.channel == "Douyin"
    learned = workspace_priors(store, currency="CNY").learned
    cvr = learned.for_arm("Douyin", "cvr").beta
    assert (prior.cvr_a, prior.cvr_b) == (cvr.a, cvr.b)
    cpc = learned.for_arm("Douyin", "cpc", "CNY").lognormal
    assert (prior.cpc_log_mean, prior.cpc_log_sd) == (cpc.log_mean, cpc.log_sd)
    assert "learned prior" in prior.source
    assert prior.reference_daily_spend == pytest.approx(spend / sum(t.days for t in totals))
    assert untested_channel_prior(store, "Douyin", "JPY") is None


def test_untested_channel_prior_pools_past_rates_without_finished_trials(store):
    trial = store.create_trial(make_spec(end=date(2099, 1, 1)))  # still running
    store.add_results(trial.id, day_rows(trial, days=3), kind="manual")
    totals = store.arm_totals(trial.id).values()
    clicks = sum(t.clicks for t in totals)
    spend = sum(t.spend for t in totals)
    prior = untested_channel_prior(store, "Douyin", "CNY")
    assert math.exp(prior.cpc_log_mean) == pytest.approx(spend / clicks)
    cvr = sum(min(t.conversions, t.clicks) for t in totals) / clicks
    assert prior.cvr_a / (prior.cvr_a + prior.cvr_b) == pytest.approx(cvr)
    assert "pooled" in prior.source
