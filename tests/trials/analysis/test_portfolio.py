"""The portfolio: money per currency never mixed, conversion at the rates given exact to
the micro-unit, exact-path intervals against closed forms, trials of one channel combined
draw by draw, and the decision log read per channel."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from scipy import stats

from tests.conftest import make_spec
from trials.analysis.portfolio import clear_cache, portfolio, workspace_expectation
from trials.domain import ArmSpec, DailyResult
from trials.domain.exchange import Rates
from trials.domain.verdicts import DecisionRecord

START = date(2026, 9, 1)


@pytest.fixture(autouse=True)
def _fresh():
    clear_cache()
    yield
    clear_cache()


def _trial(store, name, currency, arms, rows_for, days=10):
    """A trial with ``arms`` (ArmSpec) and rows_for(arm index, day) -> (impr, clicks,
    conversions, spend, revenue)."""
    trial = store.create_trial(
        make_spec(name=name, currency=currency, arms=tuple(arms), start=START)
    )
    rows = []
    for d in range(days):
        for i, arm in enumerate(trial.arms):
            impressions, clicks, conversions, spend, revenue = rows_for(i, d)
            rows.append(
                DailyResult(
                    arm.id,
                    START + timedelta(days=d),
                    impressions,
                    clicks,
                    conversions,
                    spend,
                    revenue,
                )
            )
    store.add_results(trial.id, rows, kind="manual")
    return store.get_trial(trial.id)


def _three_currencies(store):
    steady = lambda i, d: (2000, 60, 6, 12.345678, 40.0)  # noqa: E731
    _trial(
        store, "China", "CNY", [ArmSpec("WeChat", "A", control=True), ArmSpec("Weibo", "B")], steady
    )
    _trial(
        store,
        "America",
        "USD",
        [ArmSpec("Google Search", "A", control=True), ArmSpec("WeChat", "B")],
        steady,
    )
    _trial(
        store, "Europe", "EUR", [ArmSpec("Email", "A", control=True), ArmSpec("Email", "B")], steady
    )


def test_money_in_different_currencies_is_never_added(store):
    _three_currencies(store)
    p = portfolio(store, curves=False)
    assert sorted(b.currency for b in p.books) == ["CNY", "EUR", "USD"]
    by = {b.currency: b for b in p.books}
    assert by["CNY"].trials == ("China",) and by["USD"].trials == ("America",)
    # WeChat runs in a CNY and a USD trial: two rows in two tables, never one sum.
    assert [r.label for r in by["CNY"].rows if r.label == "WeChat"] == ["WeChat"]
    assert [r.label for r in by["USD"].rows if r.label == "WeChat"] == ["WeChat"]
    assert by["CNY"].total.spend_micros == 2 * 10 * 12_345_678
    assert by["USD"].total.spend_micros == 2 * 10 * 12_345_678
    assert all(not b.converted_from for b in p.books)


def test_a_currency_without_a_rate_is_shown_on_its_own_never_converted_or_dropped(store):
    _three_currencies(store)
    p = portfolio(store, rates=Rates.parse("CNY", ["USD=7.1"]), curves=False)
    assert [b.currency for b in p.books] == ["CNY", "EUR"]
    cny, eur = p.books
    assert cny.trials == ("China", "America") and cny.converted_from == (("USD", Decimal("7.1")),)
    assert "1 USD = 7.1 CNY" in cny.note
    assert eur.trials == ("Europe",) and "no rate for EUR" in eur.note
    assert eur.total.spend_micros == 2 * 10 * 12_345_678  # in EUR, as stored
    # Each trial's amounts are converted once, rounded half to even to a micro-unit:
    # USD 246.91356 (20 rows of 12.345678) at 7.1 is exactly 1,753.086276 CNY.
    assert cny.total.spend_micros == 246_913_560 + 1_753_086_276
    [wechat] = [r for r in cny.rows if r.label == "WeChat"]
    assert wechat.spend_micros == 123_456_780 + 876_543_138
    assert wechat.trials == ("China", "America")
    odd = portfolio(store, rates=Rates.parse("CNY", ["USD=7.12345671"]), curves=False)
    # 246,913,560 x 7.12345671 = 1,758,878,055.77 micro-units; 123,456,780 x it = ...027.886.
    assert odd.books[0].total.spend_micros == 246_913_560 + 1_758_878_056
    [wechat] = [r for r in odd.books[0].rows if r.label == "WeChat"]
    assert wechat.spend_micros == 123_456_780 + 879_439_028
    # With every rate given, one table; ROAS is the same whatever the rate (both sides move).
    every = portfolio(store, rates=Rates.parse("CNY", ["USD=7.1", "EUR=7.7"]), curves=False)
    assert [b.currency for b in every.books] == ["CNY"]
    [email] = [r for r in every.books[0].rows if r.label == "Email"]
    assert email.raw_roas == pytest.approx(40.0 / 12.345678)
    assert email.revenue_micros == 20 * 308_000_000


def test_rates_for_currencies_without_trials_are_named_not_used(store):
    _three_currencies(store)
    p = portfolio(store, rates=Rates.parse("CNY", ["GBP=9.0"]), curves=False)
    assert p.unused_rates == ("GBP",) and "GBP" in p.notes[0]
    assert [b.currency for b in p.books] == ["CNY", "EUR", "USD"]


def test_exact_path_intervals_of_one_trial_match_the_closed_forms(store):
    """One arm of one trial: the row's ROAS mean against E[ROAS] from scipy's Beta and
    Gamma means, its HDI against the exact path's grid HDI (no sampling error), both
    within Monte Carlo error of the portfolio's 2,000 draws."""
    from inference.funnel.conjugate import exact_posterior, exact_stages
    from trials.analysis.result import load

    rows = lambda i, d: (5000, 150, 9, 50.0, 9 * 30.0 * (1 + 0.1 * (d % 3 - 1)))  # noqa: E731
    arms = [ArmSpec("Douyin", "Only", control=True), ArmSpec("Weibo", "Other")]
    trial = _trial(store, "One arm", "CNY", arms, rows)
    p = portfolio(store, by="channel", curves=False)
    [row] = [r for r in p.books[0].rows if r.label == "Douyin"]
    data = load(store, trial).funnel
    s = exact_stages(data, exact_posterior(data).spec)
    (ca, cb), (va, vb), (pa, pb) = s["ctr"][0], s["cvr"][0], s["paying"][0]
    k, shape, rate = s["order_value"][0]
    u_shape, u_rate = s["unpaired"][0]
    per_click = (
        stats.beta(va, vb).mean() * s["paired_share"][0]
        + stats.gamma(u_shape, scale=1 / u_rate).mean()
    )
    value = k * stats.invgamma(shape, scale=rate).mean()
    closed = (
        s["impressions_per_spend"][0]
        * stats.beta(ca, cb).mean()
        * per_click
        * stats.beta(pa, pb).mean()
        * value
        * s["revenue_scale"][0]
    )
    exact = exact_posterior(data).interval("roas", 0)
    sd = (exact.high - exact.low) / (2 * 1.88)  # about normal here
    mc = sd / math.sqrt(2000)
    assert row.roas.mean == pytest.approx(closed, abs=4 * mc)
    assert exact.mean == pytest.approx(closed, rel=1e-9)
    # HDI ends of 2,000 draws: within 0.15 sd of the exact ones (their MC error ~0.04 sd).
    assert row.roas.low == pytest.approx(exact.low, abs=0.15 * sd)
    assert row.roas.high == pytest.approx(exact.high, abs=0.15 * sd)
    cpa = exact_posterior(data).interval("cpa", 0)
    assert row.cpa.low == pytest.approx(cpa.low, rel=0.02)
    assert row.cpa.high == pytest.approx(cpa.high, rel=0.02)


def test_trials_of_one_channel_combine_draw_by_draw_weighted_by_spend(store):
    """Planted: the same channel at ROAS about 2 (spend 1,000) and 4 (spend 3,000). The
    channel's ROAS is total revenue over total spend on each draw: mean about 3.5, sd
    sqrt(sum (w_t sd_t)^2) with w_t = spend share, not the sum or the mean of the ratios."""
    from inference.funnel.conjugate import exact_posterior
    from trials.analysis.result import load

    low = _trial(
        store,
        "Low",
        "CNY",
        [ArmSpec("Douyin", "L", control=True), ArmSpec("Weibo", "W")],
        lambda i, d: (20000, 400, 20, 100.0, 20 * 10.0 * (1.1 if d % 2 else 0.9)),
    )
    high = _trial(
        store,
        "High",
        "CNY",
        [ArmSpec("douyin ", "H", control=True), ArmSpec("Weibo", "W")],
        lambda i, d: (60000, 1200, 60, 300.0, 60 * 20.0 * (1.1 if d % 2 else 0.9)),
    )
    p = portfolio(store, curves=False)
    [row] = [r for r in p.books[0].rows if r.key == "douyin"]
    assert row.trials == ("Low", "High")  # "Douyin" and "douyin ": one channel
    means, sds = [], []
    for t in (low, high):
        draws = exact_posterior(load(store, t).funnel, n_draws=200_000).draws["roas"][:, 0]
        means.append(draws.mean())
        sds.append(draws.std())
    w = np.array([1000, 3000]) / 4000
    expected_mean = w @ means
    expected_sd = math.sqrt(((w * sds) ** 2).sum())
    mc = expected_sd / math.sqrt(2000)
    assert row.roas.mean == pytest.approx(expected_mean, abs=4 * mc)
    width = row.roas.high - row.roas.low
    # A 94 % HDI of a near-normal is 3.76 sd wide; the width's own MC error is ~3 %.
    assert width == pytest.approx(3.76 * expected_sd, rel=0.12)
    assert width < 3.76 * sds[1]  # narrower than the bigger trial alone (more data)
    assert row.spend_micros == 10 * 400_000_000
    assert row.raw_roas == pytest.approx((10 * 200.0 + 10 * 1200.0) / 4000.0)


def test_same_seed_same_portfolio_and_the_cache_answers_a_revisit(store):
    _three_currencies(store)
    a = portfolio(store, by="week", curves=False)
    b = portfolio(store, by="week", curves=False)
    clear_cache()
    c = portfolio(store, by="week", curves=False)
    assert [r.roas for bk in a.books for r in bk.rows] == [
        r.roas for bk in c.books for r in bk.rows
    ]
    assert [r.key for r in a.books[0].rows] == ["2026-08-31", "2026-09-07"]
    assert a.books[0].rows[0].label.startswith("2026-W36")
    assert b.books == a.books or [r.roas for bk in b.books for r in bk.rows] == [
        r.roas for bk in a.books for r in bk.rows
    ]


def test_since_leaves_out_earlier_days_and_names_trials_left_without_data(store):
    _three_currencies(store)
    p = portfolio(store, since=START + timedelta(days=8), curves=False)
    assert all(b.total.spend_micros == 2 * 2 * 12_345_678 for b in p.books)
    later = portfolio(store, since=START + timedelta(days=30), curves=False)
    assert not later.books and set(later.without_data) == {"China", "America", "Europe"}


def test_the_decision_log_per_channel_with_dates_who_and_why(store):
    _three_currencies(store)
    china = store.get_trial("China")
    wechat, weibo = (a.name for a in china.arms)
    snapshot = {
        "method": "mcmc",
        "decision": {"verdict": "scale"},
        "data_digest": "x",
        "arms": [
            {
                "channel": "WeChat",
                "creative": "A",
                "recommendation": "scale",
                "reason": "returns 3.2",
            },
            {
                "channel": "Weibo",
                "creative": "B",
                "recommendation": "stop",
                "reason": "loses money",
            },
        ],
    }
    first = store.record_decision(china.id, DecisionRecord(stop=(wechat,), note="typo"), snapshot)
    store.record_decision(
        china.id, DecisionRecord(scale=(wechat,), stop=(weibo,), corrects=first.id), snapshot
    )
    p = portfolio(store, curves=False)
    records = {c.channel: c for c in p.channels}
    assert records["WeChat"].status == "scaled"  # the corrected stop no longer counts
    assert records["Weibo"].status == "stopped"
    assert records["Email"].status == "tested" and records["Google Search"].common == "Search"
    [stop_weibo] = [a for a in records["Weibo"].actions]
    assert stop_weibo.reason == "loses money" and stop_weibo.reason_source == "evidence"
    assert stop_weibo.who == "tester" and stop_weibo.day == first.created_at.date()
    corrected = [a for a in records["WeChat"].actions if a.action == "stop"]
    assert corrected[0].corrected_by and corrected[0].reason == "typo"
    # The verdict's arms to scale or keep testing, from the latest uncorrected decision.
    assert [(n.arm, n.recommendation) for n in p.next_arms] == [(wechat, "scale")]
    assert p.next_arms[0].source.startswith("decision #2 recorded")
    assert "on the data of that day" in p.next_arms[0].source
    assert set(p.no_verdict) == {"America", "Europe"}


def test_new_channels_to_try_are_the_common_list_minus_what_was_tried(store):
    _three_currencies(store)
    p = portfolio(store, curves=False)
    names = [n.channel.name for n in p.new_channels]
    assert "Douyin" in names and "TikTok" in names
    assert not {"Search", "WeChat", "Weibo", "Email"} & set(names)
    # What the workspace expects of each comes from the learned priors, across channels:
    # with too few finished trials to learn one, nothing (never a made-up figure).
    from trials.analysis.priors import workspace_priors

    learned = workspace_priors(store).learned
    expected = workspace_expectation(learned, p.new_channels[0].channel)
    assert all(n.expectation == expected for n in p.new_channels)
    if learned.get(None, "cvr") is None:
        assert expected is None


def test_a_new_channel_is_expected_to_do_what_the_workspace_wide_prior_says(store):
    from inference.priors.fit import BetaPrior, LogNormalPrior
    from inference.priors.learn import LearnedPriors, StagePrior
    from trials.domain.channels import COMMON_CHANNELS

    cvr = BetaPrior(3.0, 97.0, 4, 8, 4000, 500.0, 100.0, 0.01, None)
    cpc = LogNormalPrior(0.0, 0.3, 4, 4000.0, 500.0, 0.3, None, None)
    learned = LearnedPriors(
        rows=(
            StagePrior(None, "cvr", None, beta=cvr),
            StagePrior(None, "cpc", "CNY", lognormal=cpc),
        ),
        trials=("a", "b", "c", "d"),
        channels=("WeChat",),
    )
    expectation = workspace_expectation(learned, COMMON_CHANNELS[0])
    assert expectation.cvr == pytest.approx(0.03) and expectation.cvr_ess == pytest.approx(100)
    assert expectation.ctr is None
    assert expectation.money == (("CNY", pytest.approx(1.0), None),)
    assert str(expectation) == (
        "CVR about 3.00% (worth about 100 clicks); cost per click about 1.00 CNY — across "
        "channels, from 4 finished trials"
    )
    empty = LearnedPriors(rows=(), trials=(), channels=())
    assert workspace_expectation(empty, COMMON_CHANNELS[0]) is None


def test_an_empty_workspace_has_an_empty_portfolio(store):
    p = portfolio(store, curves=False)
    assert not p.books and not p.channels and not p.next_arms
    assert len(p.new_channels) > 10


def test_a_bad_grouping_is_refused():
    from trials.domain import UserError

    with pytest.raises(UserError, match="choose one of"):
        portfolio(None, by="year")


def test_a_full_model_analysis_in_hand_is_read_not_recomputed(store):
    """The app passes the full-model analyses it already has: their verdict and curves are
    read as they are (one made on older data is ignored)."""
    from types import SimpleNamespace

    from trials.analysis.result import load

    _three_currencies(store)
    europe = store.get_trial("Europe")
    a, b = europe.arms
    curve = object()
    analysis = SimpleNamespace(
        posterior=SimpleNamespace(method="mcmc"),
        data=SimpleNamespace(digest=load(store, europe).digest),
        decision=SimpleNamespace(
            arms=(
                SimpleNamespace(name=a.name, recommendation="stop"),
                SimpleNamespace(name=b.name, recommendation="scale"),
            )
        ),
        verdict="scale",
        curves={a.id: None, b.id: curve},
    )
    p = portfolio(store, analyses={europe.id: analysis})
    [chosen] = p.next_arms
    assert (chosen.arm, chosen.recommendation, chosen.verdict) == (b.name, "scale", "scale")
    assert chosen.curve is curve and chosen.source.startswith("the full model")
    stale = SimpleNamespace(**(vars(analysis) | {"data": SimpleNamespace(digest="older")}))
    assert not portfolio(store, analyses={europe.id: stale}).next_arms


def test_curves_added_afterwards_are_those_of_one_call(store):
    from trials.analysis.portfolio import with_curves

    _three_currencies(store)
    china = store.get_trial("China")
    snapshot = {
        "method": "mcmc",
        "decision": {"verdict": "keep_testing"},
        "data_digest": "x",
        "arms": [
            {
                "channel": a.spec.channel,
                "creative": a.spec.creative,
                "recommendation": "keep_testing",
            }
            for a in china.arms
        ],
    }
    store.record_decision(china.id, DecisionRecord(note="wait"), snapshot)
    bare = portfolio(store, curves=False)
    assert [n.curve for n in bare.next_arms] == [None, None]
    later = with_curves(store, bare)
    whole = portfolio(store)
    assert [n.curve.as_dict() for n in later.next_arms] == [
        n.curve.as_dict() for n in whole.next_arms
    ]
    # One spend level every day: no curve, and the reason says why.
    assert all(n.curve.marginal_now.reason for n in whole.next_arms)
