"""A demo workspace: realistic small-budget trials with a few weeks of daily results.

The numbers are simulated the way real campaigns behave: spend wobbles around the plan,
impressions follow spend through a cost per thousand, and daily click and conversion
rates vary more than binomial noise alone (a day effect), so the demo also exercises the
models honestly. The same ``seed`` and ``today`` always give the same workspace.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import numpy as np

from trials.domain import (
    ArmSpec,
    DailyResult,
    OrderRow,
    PrimaryMetric,
    ResultSource,
    TrialSpec,
    TrialStatus,
    TrialValidationError,
)
from trials.storage.store import TrialStore

__all__ = ["DEMO_SEED", "DemoReport", "demo_trials", "load_demo"]

DEMO_SEED = 20261122


@dataclass(frozen=True)
class ArmTruth:
    """What an arm really does, which the demo data is drawn from."""

    cpm: float  # cost per 1,000 impressions
    ctr: float  # clicks per impression
    cvr: float  # conversions per click
    order_value: float  # mean revenue per conversion


@dataclass(frozen=True)
class DemoTrial:
    spec: TrialSpec
    truths: tuple[ArmTruth, ...]  # beside spec.arms
    days_with_data: int
    daily_spend: float  # per arm, before day-to-day wobble
    with_orders: bool = False  # also load the shop's own orders behind the conversions


@dataclass(frozen=True)
class DemoReport:
    created: tuple[str, ...]
    skipped: tuple[str, ...]  # already in the workspace


def demo_trials(today: date) -> list[DemoTrial]:
    """The demo trials, dated so they look current on ``today``."""
    return [
        _social_launch(today),
        _search_headlines(today),
        _email_subjects(today),
        _planned_notes(today),
    ]


def _social_launch(today: date) -> DemoTrial:
    """A WeChat video against a Weibo image on ROAS, over the last four weeks, with orders."""
    return DemoTrial(
        spec=TrialSpec(
            name="WeChat vs Weibo launch",
            hypothesis=(
                "A short video on WeChat Moments reaches fewer people than a Weibo feed "
                "image but converts them better, so it returns more per yuan spent."
            ),
            primary_metric=PrimaryMetric.ROAS,
            break_even_roas=2.0,
            gross_margin=0.5,
            currency="CNY",
            start=today - timedelta(days=28),
            end=today - timedelta(days=1),
            budget=2000,
            arms=(
                ArmSpec("WeChat", "Moments video", budget_share=0.5, control=True),
                ArmSpec("Weibo", "Feed image", budget_share=0.5),
            ),
            status=TrialStatus.RUNNING,
            is_demo=True,
        ),
        truths=(
            ArmTruth(cpm=60.0, ctr=0.012, cvr=0.060, order_value=260.0),
            ArmTruth(cpm=15.0, ctr=0.009, cvr=0.016, order_value=210.0),
        ),
        days_with_data=28,
        daily_spend=1000 / 28,
        with_orders=True,
    )


def _search_headlines(today: date) -> DemoTrial:
    """Three search-ad headlines on conversion rate, three weeks into four."""
    start = today - timedelta(days=21)
    return DemoTrial(
        spec=TrialSpec(
            name="Search ads headline test",
            hypothesis="A concrete discount in the headline lifts conversion after the click.",
            primary_metric=PrimaryMetric.CONVERSION_RATE,
            break_even_roas=2.5,
            currency="USD",
            start=start,
            end=start + timedelta(days=27),
            budget=3000,
            arms=(
                ArmSpec("Google Search", "Free shipping", control=True),
                ArmSpec("Google Search", "20% off your first order"),
                ArmSpec("Google Search", "New season arrivals"),
            ),
            status=TrialStatus.RUNNING,
            is_demo=True,
        ),
        truths=(
            ArmTruth(cpm=38.0, ctr=0.052, cvr=0.034, order_value=68.0),
            ArmTruth(cpm=38.0, ctr=0.055, cvr=0.043, order_value=61.0),
            ArmTruth(cpm=38.0, ctr=0.047, cvr=0.030, order_value=72.0),
        ),
        days_with_data=21,
        daily_spend=35.0,
    )


def _email_subjects(today: date) -> DemoTrial:
    """Two email subject lines on conversion rate, over the last two weeks."""
    return DemoTrial(
        spec=TrialSpec(
            name="Email subject lines, November",
            hypothesis="An urgent subject line turns more opens into clicks and orders.",
            primary_metric=PrimaryMetric.CONVERSION_RATE,
            break_even_roas=1.5,
            currency="EUR",
            start=today - timedelta(days=14),
            end=today - timedelta(days=1),
            budget=150,
            arms=(
                ArmSpec("Email", "Question: Ready for winter?", control=True),
                ArmSpec("Email", "Urgency: 48 hours only"),
            ),
            status=TrialStatus.RUNNING,
            is_demo=True,
        ),
        # For email, "impressions" are delivered emails and the cost is the sending fee.
        truths=(
            ArmTruth(cpm=2.5, ctr=0.031, cvr=0.048, order_value=54.0),
            ArmTruth(cpm=2.5, ctr=0.036, cvr=0.052, order_value=49.0),
        ),
        days_with_data=14,
        daily_spend=5.0,
    )


def _planned_notes(today: date) -> DemoTrial:
    """A trial still being planned: it starts tomorrow and has no data."""
    return DemoTrial(
        spec=TrialSpec(
            name="Xiaohongshu notes (planned)",
            hypothesis="A step-by-step tutorial note earns more saves and orders than a haul.",
            primary_metric=PrimaryMetric.CPA,
            break_even_roas=2.0,
            currency="CNY",
            start=today + timedelta(days=1),
            end=today + timedelta(days=21),
            budget=2000,
            arms=(
                ArmSpec("Xiaohongshu", "Haul note", control=True),
                ArmSpec("Xiaohongshu", "Tutorial note"),
            ),
            status=TrialStatus.DRAFT,
            is_demo=True,
        ),
        truths=(),
        days_with_data=0,
        daily_spend=0.0,
    )


def simulate_days(
    demo: DemoTrial, arm_ids: list[int], rng: np.random.Generator
) -> list[DailyResult]:
    """Daily results for the first ``demo.days_with_data`` days of the trial."""
    results = []
    for offset in range(demo.days_with_data):
        day = demo.spec.start + timedelta(days=offset)
        for arm_id, truth in zip(arm_ids, demo.truths, strict=True):
            spend = round(demo.daily_spend * rng.uniform(0.85, 1.15), 2)
            impressions = int(rng.poisson(spend / truth.cpm * 1000))
            # Real daily rates drift: a log-normal day effect on each funnel stage.
            ctr = min(0.9, truth.ctr * rng.lognormal(0.0, 0.15))
            cvr = min(0.9, truth.cvr * rng.lognormal(0.0, 0.20))
            clicks = int(rng.binomial(impressions, ctr))
            conversions = int(rng.binomial(clicks, cvr))
            # Order values are skewed: a gamma with shape 2.5 around the arm's mean.
            revenue = float(rng.gamma(2.5, truth.order_value / 2.5, size=conversions).sum())
            results.append(
                DailyResult(
                    arm_id=arm_id,
                    day=day,
                    impressions=impressions,
                    clicks=clicks,
                    conversions=conversions,
                    spend=spend,
                    revenue=round(revenue, 2),
                    source=ResultSource.CHANNEL,
                )
            )
    return results


def simulate_orders(
    results: list[DailyResult], arms: dict[int, tuple[str, str]], rng: np.random.Generator
) -> list[OrderRow]:
    """The shop's own orders behind a trial's channel-reported conversions.

    Channels over-claim: about one reported conversion in four is an order the other arm
    also claims (a second touch, when the other arm had an order that day), one in ten
    never reached the shop, and one order in ten is later cancelled, one in ten refunded.
    """
    orders: list[OrderRow] = []
    by_day: dict[date, list[OrderRow]] = {}
    created = 0
    for r in results:
        source, content = (_slug(part) for part in arms[r.arm_id])
        value = r.revenue / r.conversions if r.conversions else 0.0
        for _ in range(r.conversions):
            u = rng.random()
            at = datetime.combine(r.day, datetime.min.time()) + timedelta(
                minutes=int(rng.integers(8 * 60, 23 * 60))
            )
            others = _claimable(by_day, r.day, source)
            if u < 0.25 and others:
                second = _second_claim(others, orders, source, content, rng)
                if second is not None:
                    orders.append(second)
                continue
            if u < 0.30:
                continue
            # Every tenth order is later cancelled and every tenth refunded: a steady share,
            # so even a small demo shows both.
            created += 1
            status = {4: "cancelled", 8: "refunded"}.get(created % 10, "paid")
            order = OrderRow(
                order_id=f"D{10000 + created}",
                ordered_at=at,
                amount=round(value * float(rng.lognormal(0.0, 0.1)), 2),
                status=status,
                utm_source=source,
                utm_medium="social",
                utm_campaign="launch",
                utm_content=content,
            )
            orders.append(order)
            by_day.setdefault(r.day, []).append(order)
    return orders


def _claimable(by_day: dict[date, list[OrderRow]], day: date, source: str) -> list[OrderRow]:
    """Paid orders another arm brought in over the five days up to ``day``."""
    return [
        o
        for back in range(5)
        for o in by_day.get(day - timedelta(days=back), [])
        if o.utm_source != source and o.status == "paid"
    ]


def _second_claim(
    others: list[OrderRow],
    orders: list[OrderRow],
    source: str,
    content: str,
    rng: np.random.Generator,
) -> OrderRow | None:
    """A second claim, by ``source``, on one of ``others`` (None if it claims it already)."""
    first = others[int(rng.integers(len(others)))]
    if any(o.order_id == first.order_id and o.utm_source == source for o in orders):
        return None
    shift = timedelta(minutes=int(rng.integers(-120, 120)))
    return replace(
        first, utm_source=source, utm_content=content, ordered_at=first.ordered_at + shift
    )


def _slug(text: str) -> str:
    return "-".join(text.casefold().split())


def load_demo(store: TrialStore, *, today: date | None = None, seed: int = DEMO_SEED) -> DemoReport:
    """Add the demo trials the workspace does not have yet (by name); never duplicates."""
    today = today or date.today()
    existing = {s.trial.name.casefold() for s in store.list_trials()}
    created, skipped = [], []
    for index, demo in enumerate(demo_trials(today)):
        if demo.spec.name.casefold() in existing:
            skipped.append(demo.spec.name)
            continue
        try:
            trial = store.create_trial(demo.spec)
        except TrialValidationError as e:
            if not e.for_field("name"):
                raise
            skipped.append(demo.spec.name)  # another process loaded it just now
            continue
        # One stream per trial, so a trial's data does not depend on which others exist.
        rng = np.random.default_rng([seed, index])
        results = simulate_days(demo, [a.id for a in trial.arms], rng)
        if results:
            store.add_results(trial.id, results, kind="demo", file_name="demo data")
        if demo.with_orders and results:
            arms = {a.id: (a.spec.channel, a.spec.creative) for a in trial.arms}
            orders = simulate_orders(results, arms, rng)
            store.commit_orders(trial.id, orders, file_name="demo shop orders")
        created.append(trial.name)
    return DemoReport(created=tuple(created), skipped=tuple(skipped))
