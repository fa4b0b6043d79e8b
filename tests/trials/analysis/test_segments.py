"""Results per segment and per week (``trials.analysis.segments``): the arm-level analysis is
the same for a file split into segments as for the same data unsplit; each unit's posterior
is the closed form of units pooled within their arm; small units shrink toward their arm;
weeks are ISO weeks starting on Monday; a slow simulation checks coverage."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest
from scipy import integrate, special, stats

from tests.conftest import make_spec
from trials.analysis.result import full_analysis, load
from trials.analysis.segments import grouped_results, week_label
from trials.domain import ResultRow

SEGMENTS = {"Mobile": (900, 0.05), "Desktop": (300, 0.03), "Tablet": (40, 0.10)}


def split_rows(arms, days=4) -> list[ResultRow]:
    """Rows per arm, day and segment, deterministic: clicks and conversions per segment."""
    rows = []
    for a, (channel, creative) in enumerate(arms):
        for d in range(days):
            for s, (segment, (clicks, rate)) in enumerate(SEGMENTS.items()):
                conversions = round(clicks * rate * (1 + 0.1 * a)) + (d + s) % 2
                rows.append(
                    ResultRow(
                        channel,
                        creative,
                        date(2026, 9, 1) + timedelta(days=d),
                        impressions=clicks * 25,
                        clicks=clicks,
                        conversions=conversions,
                        spend=round(clicks * 0.8 + d, 2),
                        revenue=round(conversions * 41.5, 2),
                        segment=segment,
                    )
                )
    return rows


def unsplit(rows: list[ResultRow]) -> list[ResultRow]:
    summed: dict = {}
    for r in rows:
        key = (r.channel, r.creative, r.day)
        old = summed.get(key)
        summed[key] = (
            ResultRow(r.channel, r.creative, r.day, *(0, 0, 0, 0.0, 0.0)) if old is None else old
        )
        o = summed[key]
        summed[key] = ResultRow(
            r.channel,
            r.creative,
            r.day,
            o.impressions + r.impressions,
            o.clicks + r.clicks,
            o.conversions + r.conversions,
            round(o.spend + r.spend, 6),
            round(o.revenue + r.revenue, 6),
        )
    return list(summed.values())


def arms_of(trial):
    return [(a.spec.channel, a.spec.creative) for a in trial.arms]


@pytest.fixture
def trials(store):
    split = store.create_trial(make_spec(name="Split"))
    whole = store.create_trial(make_spec(name="Whole"))
    rows = split_rows(arms_of(split))
    store.commit_results(split.id, rows, kind="daily")
    store.commit_results(whole.id, unsplit(rows), kind="daily")
    return split, whole


def _without_names(analysis: dict) -> dict:
    return {k: v for k, v in analysis.items() if k not in ("trial", "seconds")}


def test_a_file_split_into_segments_analyses_exactly_as_the_same_data_unsplit(store, trials):
    split, whole = trials
    assert len(store.daily_results(split.id, segments=True)) == 3 * len(
        store.daily_results(whole.id, segments=True)
    )

    def arm_level(trial):
        position = {a.id: i for i, a in enumerate(trial.arms)}
        return [
            replace(r, arm_id=position[r.arm_id], import_batch_id=None)
            for r in store.daily_results(trial.id)
        ]

    assert arm_level(split) == arm_level(whole)
    a, b = load(store, split), load(store, whole)
    assert a.funnel.digest() == b.funnel.digest()  # the models read identical data
    assert list(a.totals.values()) == list(b.totals.values())
    exact = [
        _without_names(full_analysis(store, t, method="exact", spec=None, seed=3))
        for t in (split, whole)
    ]
    assert exact[0] == exact[1]


def test_each_unit_is_the_closed_form_of_units_pooled_within_their_arm(store, trials):
    from inference.funnel.grouped import pooled_beta_prior

    split, _ = trials
    result = grouped_results(store, split, by="segment", seed=1)
    assert result.currency == "CNY" and result.method == "exact"
    rows = store.daily_results(split.id, segments=True)
    for arm in split.arms:
        mine = [r for r in rows if r.arm_id == arm.id]
        # The normal hierarchy's centre of the arm's segments on the log-odds scale, the
        # spread known (0.3): precision-weighted raw log-odds, its variance added.
        hits = np.array([sum(r.conversions for r in mine if r.segment == s) for s in SEGMENTS])
        tries = np.array([sum(r.clicks for r in mine if r.segment == s) for s in SEGMENTS])
        p = (hits + 0.5) / (tries + 1)
        w = 1 / (0.3**2 + 1 / ((tries + 1) * p * (1 - p)))
        centre = special.expit((w * special.logit(p)).sum() / w.sum())
        width = math.sqrt(0.3**2 + 1 / w.sum())
        a0, b0 = pooled_beta_prior(centre, width)
        # The prior's log-odds sd is that width: the spread of arms within a channel and
        # the centre's own uncertainty.
        logit_var = special.polygamma(1, a0) + special.polygamma(1, b0)
        assert math.sqrt(logit_var) == pytest.approx(width, rel=1e-9)
        numeric = (
            integrate.quad(
                lambda x, a=a0, b=b0: special.logit(x) ** 2 * stats.beta.pdf(x, a, b),
                0,
                1,
                limit=200,
            )[0]
            - (special.digamma(a0) - special.digamma(b0)) ** 2
        )
        assert numeric == pytest.approx(logit_var, rel=1e-5)
        assert a0 / (a0 + b0) == pytest.approx(centre)
        for segment in SEGMENTS:
            conv = sum(r.conversions for r in mine if r.segment == segment)
            clicks = sum(r.clicks for r in mine if r.segment == segment)
            post = stats.beta(a0 + conv, b0 + clicks - conv)
            unit = next(u for u in result.units if u.arm_id == arm.id and u.group == segment)
            cvr = unit.metrics["cvr"]
            assert cvr.mean == pytest.approx(post.mean(), rel=1e-12)
            # An HDI: 94 % of the mass, equal density at both ends.
            assert post.cdf(cvr.high) - post.cdf(cvr.low) == pytest.approx(0.94, abs=1e-9)
            assert post.pdf(cvr.low) == pytest.approx(post.pdf(cvr.high), rel=1e-6)
            assert unit.clicks == clicks and unit.conversions == conv


def test_small_segments_shrink_toward_their_arm_more_than_large_ones(store, trials):
    split, _ = trials
    result = grouped_results(store, split, by="segment")
    for arm in split.arms:
        units = {u.group: u for u in result.units if u.arm_id == arm.id}
        arm_rate = sum(u.conversions for u in units.values()) / sum(
            u.clicks for u in units.values()
        )

        def pull(u, arm_rate=arm_rate):
            raw = u.conversions / u.clicks
            return abs(u.metrics["cvr"].mean - raw) / abs(arm_rate - raw)

        # Each estimate lies between the raw rate and the arm's; Tablet (40 clicks a
        # day) is pulled much further than Mobile (900).
        assert all(0 < pull(u) < 1 for u in units.values())
        assert pull(units["Tablet"]) > 0.3 > 0.1 > pull(units["Mobile"])
        assert pull(units["Tablet"]) > 5 * pull(units["Mobile"])


def test_roas_and_cpa_follow_the_units_money(store, trials):
    split, _ = trials
    result = grouped_results(store, split, by="segment", seed=2)
    for u in result.units:
        roas, cpa = u.metrics["roas"], u.metrics["cpa"]
        assert roas.low < roas.mean < roas.high and cpa.low < cpa.mean < cpa.high
        if u.group == "Mobile":  # plenty of data: the unit's own money decides
            assert roas.mean == pytest.approx(u.revenue / u.spend, rel=0.05)
            assert cpa.mean == pytest.approx(u.spend / u.conversions, rel=0.05)
    again = grouped_results(store, split, by="segment", seed=2)
    assert [u.metrics for u in again.units] == [u.metrics for u in result.units]


def test_weeks_are_iso_weeks_starting_on_monday(store):
    trial = store.create_trial(make_spec(name="Weeks"))
    days = [date(2026, 9, 5), date(2026, 9, 6), date(2026, 9, 7), date(2026, 9, 13)]
    rows = [ResultRow("WeChat", "Video A", d, 1000, 50, 3, 40.0, 150.0) for d in days]
    store.commit_results(trial.id, rows, kind="daily")
    result = grouped_results(store, trial, by="week")
    assert [(u.group, u.week_start, u.days, u.spend) for u in result.units] == [
        ("2026-W36", date(2026, 8, 31), 2, 80.0),
        ("2026-W37", date(2026, 9, 7), 2, 80.0),
    ]
    assert week_label(date(2026, 9, 6)) == "2026-W36" and week_label(date(2026, 9, 7)) == "2026-W37"


def test_a_trial_without_data_or_segments_gets_a_neutral_answer(store):
    trial = store.create_trial(make_spec(name="Empty"))
    result = grouped_results(store, trial)
    assert result.units == () and any("no data yet" in n for n in result.notes)
    store.commit_results(
        trial.id, [ResultRow("WeChat", "Video A", date(2026, 9, 1), 100, 0, 0, 0.0, 0.0)], kind="x"
    )
    result = grouped_results(store, trial)
    (unit,) = result.units
    assert unit.label == "no segment" and not result.has_segments
    assert unit.metrics["cvr"].reason == "no clicks yet"
    assert unit.metrics["roas"].reason == "no spend yet"
    assert any("have no segments" in n for n in result.notes)


@pytest.mark.slow
def test_the_full_model_fits_the_same_units_pooled_within_their_arm(store, trials):
    from inference.funnel.spec import ModelSpec

    split, _ = trials
    spec = ModelSpec.from_dict({"sampler": {"draws": 300, "tune": 300, "retry": False}})
    result = grouped_results(store, split, by="segment", method="mcmc", spec=spec, seed=5)
    exact = grouped_results(store, split, by="segment")
    assert result.method == "mcmc" and result.diagnostics is not None
    assert [(u.arm, u.group) for u in result.units] == [(u.arm, u.group) for u in exact.units]
    for u, e in zip(result.units, exact.units, strict=True):
        if u.group == "Mobile":
            assert u.metrics["cvr"].mean == pytest.approx(e.metrics["cvr"].mean, rel=0.1)


@pytest.mark.slow
def test_simulated_segments_shrink_and_their_90_percent_intervals_cover_the_truth():
    """Segments drawn as the model assumes (log-odds around the arm's, sd 0.3): the 90 %
    intervals of CVR cover the true segment rates at about 90 %, and the smallest
    segments' estimates sit nearer their arm than their raw rates do."""
    from inference.funnel.data import FunnelData
    from inference.funnel.grouped import pooled_posterior
    from inference.funnel.spec import ModelSpec

    rng = np.random.default_rng(2026)
    spec = ModelSpec(hdi_prob=0.9)
    sizes = np.array([4000, 1500, 600, 200, 60, 20])  # clicks per segment
    covered, total = 0, 0
    pooled_error: list[float] = []
    raw_error: list[float] = []
    toward: list[bool] = []
    trials = 600
    for _ in range(trials):
        arm_logit = special.logit(rng.uniform(0.02, 0.08))
        truth = special.expit(arm_logit + rng.normal(0.0, 0.3, size=len(sizes)))
        conversions = rng.binomial(sizes, truth)
        rows = [
            {
                "arm": i,
                "day": "2026-09-01",
                "impressions": int(n * 30),
                "clicks": int(n),
                "conversions": int(c),
                "spend": float(n),
                "revenue": float(c * 40.0),
            }
            for i, (n, c) in enumerate(zip(sizes, conversions, strict=True))
        ]
        data = FunnelData.from_rows([("arm", f"s{i}") for i in range(len(sizes))], rows)
        posterior = pooled_posterior(data, spec, seed=0, n_draws=200)
        arm_rate = conversions.sum() / sizes.sum()
        for i in range(len(sizes)):
            interval = posterior.interval("cvr", i)
            covered += interval.low <= truth[i] <= interval.high
            total += 1
            if sizes[i] <= 60:
                raw = conversions[i] / sizes[i]
                pooled_error.append((interval.mean - truth[i]) ** 2)
                raw_error.append((raw - truth[i]) ** 2)
                toward.append((interval.mean - raw) * (arm_rate - raw) >= 0)
    coverage = covered / total
    mc_error = math.sqrt(0.9 * 0.1 / total)  # 3,600 intervals: 0.005
    assert abs(coverage - 0.9) < 3 * mc_error, (coverage, mc_error)
    # The small segments (60 and 20 clicks) move toward their arm, and are the better for
    # it: their squared error is at most half the raw rates' (measured: 0.15 of it; 95 % of
    # them moved toward the arm; coverage 89.7 % of 3,600 intervals, MC error 0.5 %).
    assert np.mean(toward) > 0.9
    assert np.mean(pooled_error) < 0.5 * np.mean(raw_error)
