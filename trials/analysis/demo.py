"""A demo workspace: realistic small-budget trials with a few weeks of daily results.

The numbers are simulated the way real campaigns behave: spend wobbles around the plan,
impressions follow spend through a cost per thousand, and daily click and conversion
rates vary more than binomial noise alone (a day effect), so the demo also exercises the
models honestly. The same ``seed`` and ``today`` always give the same workspace.

Beside the four current trials the demo holds the marketer's loop: a trial in its second
round after a Weibo creative with a poor click-through rate was replaced (``compare-rounds``
shows the fix), a winning search arm stepped up +50 % a week under a written scale plan
whose returns flatten, and a dozen finished trials across channels, in CNY and USD, some
with recorded decisions, for the portfolio and the learned priors to read.

The loader fits nothing: a recorded decision's evidence is the exact path's (``method``
"exact", verdict "preview"), so loading takes seconds.
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

__all__ = ["DEMO_SEED", "DemoReport", "demo_trials", "load_demo", "load_order"]

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
    stream: int = 0  # its own random stream: its data do not depend on the other trials
    next_round: DemoRound | None = None
    decision: DemoDecision | None = None
    archived: bool = False  # archived once loaded (and decided, when it has a decision)
    scale: DemoScale | None = None


@dataclass(frozen=True)
class DemoRound:
    """The trial's round 2: its first day, why, the creatives replaced, and what the
    round's arms (in the trial's order after the change) really do."""

    start: date
    reason: str
    replace: tuple[tuple[str, str], ...]
    truths: tuple[ArmTruth, ...]
    days_with_data: int


@dataclass(frozen=True)
class DemoDecision:
    """A decision recorded on the trial's data (arm names "Channel · Creative")."""

    note: str
    scale: tuple[str, ...] = ()
    stop: tuple[str, ...] = ()
    budget_change: str = ""


@dataclass(frozen=True)
class DemoScale:
    """A scale plan for arm ``arm`` written once the test's ``test_days`` are in: from the
    next day, ``base`` a day, +``step`` every 7 days, for ``steps`` steps with data. Its
    returns flatten: the arm reaches fewer new people per unit spent as spend grows
    (impressions ~ spend x (half + base) / (half + spend))."""

    arm: int
    base: float
    test_days: int
    half: float
    step: float = 0.5
    steps: int = 3


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
        *_finished(today),
        _round_two(today),
        _scale_up(today),
    ]


def load_order(trials: list[DemoTrial]) -> list[DemoTrial]:
    """The order trials are created in: oldest first, so the current ones list first
    (newest created first) and the four current trials come last, as before."""
    current = [d for d in trials if d.stream < 4]
    rest = sorted((d for d in trials if d.stream >= 4), key=lambda d: (d.spec.start, d.stream))
    return rest + current


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
        stream=1,
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
        stream=2,
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
        stream=3,
    )


# -- the finished trials: what past trials teach ------------------------------------------


def _past(
    name: str,
    hypothesis: str,
    metric: PrimaryMetric,
    currency: str,
    start: date,
    days: int,
    daily_spend: float,
    arms: tuple[tuple[str, str, ArmTruth], ...],
    stream: int,
    *,
    break_even: float = 2.0,
    decision: DemoDecision | None = None,
) -> DemoTrial:
    """A finished, archived trial: ``days`` days of data from ``start``."""
    return DemoTrial(
        spec=TrialSpec(
            name=name,
            hypothesis=hypothesis,
            primary_metric=metric,
            break_even_roas=break_even,
            currency=currency,
            start=start,
            end=start + timedelta(days=days - 1),
            budget=round(daily_spend * days * len(arms)),
            arms=tuple(
                ArmSpec(channel, creative, control=i == 0)
                for i, (channel, creative, _) in enumerate(arms)
            ),
            status=TrialStatus.RUNNING,
            is_demo=True,
        ),
        truths=tuple(truth for _, _, truth in arms),
        days_with_data=days,
        daily_spend=daily_spend,
        stream=stream,
        decision=decision,
        archived=True,
    )


def _finished(today: date) -> list[DemoTrial]:
    """Eleven finished trials over the last seven months, in CNY and USD, across channels
    (not Douyin nor TikTok: those stay the channels to try next); four with a decision."""

    def ago(days: int) -> date:
        return today - timedelta(days=days)

    cny, usd = "CNY", "USD"
    roas, cvr, cpa = PrimaryMetric.ROAS, PrimaryMetric.CONVERSION_RATE, PrimaryMetric.CPA
    return [
        _past(
            "Google Search: price vs reviews",
            "Star ratings in the ad earn more trust, so more clicks turn into orders.",
            cvr,
            usd,
            ago(210),
            28,
            40.0,
            (
                ("Google Search", "Price in headline", ArmTruth(38.0, 0.050, 0.032, 66.0)),
                ("Google Search", "Reviews in headline", ArmTruth(38.0, 0.048, 0.041, 64.0)),
            ),
            4,
            break_even=2.5,
        ),
        _past(
            "Xiaohongshu notes: haul vs tutorial",
            "A step-by-step tutorial note earns more saves and orders than a haul.",
            cpa,
            cny,
            ago(196),
            28,
            60.0,
            (
                ("Xiaohongshu", "Haul note", ArmTruth(45.0, 0.021, 0.024, 175.0)),
                ("Xiaohongshu", "Tutorial note", ArmTruth(45.0, 0.025, 0.036, 185.0)),
            ),
            5,
            decision=DemoDecision(
                note="Tutorial notes brought orders for about 40 % less than haul notes "
                "(about 43 against 72 CNY an order); the haul budget moves to tutorials.",
                scale=("Xiaohongshu · Tutorial note",),
                stop=("Xiaohongshu · Haul note",),
            ),
        ),
        _past(
            "Instagram: feed vs stories",
            "A full-screen story video gets more clicks than a feed image.",
            roas,
            usd,
            ago(182),
            21,
            30.0,
            (
                ("Instagram", "Feed image", ArmTruth(9.0, 0.011, 0.022, 55.0)),
                ("Instagram", "Stories video", ArmTruth(9.0, 0.013, 0.011, 52.0)),
            ),
            6,
            break_even=1.5,
            decision=DemoDecision(
                note="Stories got more clicks but less than half the orders per click: ROAS "
                "about 0.7 against a break-even of 1.5. Stories stopped; the feed image "
                "(ROAS about 1.9) takes their budget.",
                scale=("Instagram · Feed image",),
                stop=("Instagram · Stories video",),
            ),
        ),
        _past(
            "WeChat Moments: carousel vs video",
            "A 15-second video in Moments converts better than a product carousel.",
            roas,
            cny,
            ago(168),
            28,
            50.0,
            (
                ("WeChat", "Product carousel", ArmTruth(60.0, 0.010, 0.040, 240.0)),
                ("WeChat", "Moments video", ArmTruth(60.0, 0.012, 0.058, 255.0)),
            ),
            7,
            decision=DemoDecision(
                note="The video converted about twice as well as the carousel and returned "
                "about 3.9 per yuan against 1.1; the carousel stopped.",
                scale=("WeChat · Moments video",),
                stop=("WeChat · Product carousel",),
                budget_change="WeChat Moments video 50 → 75 CNY a day",
            ),
        ),
        _past(
            "Weibo feed: image vs topic card",
            "A topic card joins a trending conversation and is clicked more than an image.",
            roas,
            cny,
            ago(154),
            21,
            40.0,
            (
                ("Weibo", "Feed image", ArmTruth(15.0, 0.008, 0.017, 200.0)),
                ("Weibo", "Topic card", ArmTruth(15.0, 0.010, 0.016, 195.0)),
            ),
            8,
        ),
        _past(
            "Welcome emails: plain vs designed",
            "A plain-text welcome email reads like a note from a person and is clicked more.",
            cvr,
            usd,
            ago(140),
            21,
            6.0,
            (
                ("Email", "Designed welcome", ArmTruth(2.5, 0.028, 0.050, 48.0)),
                ("Email", "Plain-text welcome", ArmTruth(2.5, 0.034, 0.052, 47.0)),
            ),
            9,
            break_even=1.5,
        ),
        _past(
            "Baidu Search: brand vs generic keywords",
            "Brand keywords cost more per click but convert far better than generic ones.",
            roas,
            cny,
            ago(126),
            28,
            80.0,
            (
                ("Baidu Search", "Brand keywords", ArmTruth(55.0, 0.048, 0.040, 220.0)),
                ("Baidu Search", "Generic keywords", ArmTruth(35.0, 0.030, 0.018, 210.0)),
            ),
            10,
        ),
        _past(
            "YouTube pre-roll: 15 vs 30 seconds",
            "A 15-second spot is watched to the end more often and brings more visits.",
            roas,
            usd,
            ago(112),
            21,
            35.0,
            (
                ("YouTube", "30-second spot", ArmTruth(12.0, 0.005, 0.012, 70.0)),
                ("YouTube", "15-second spot", ArmTruth(12.0, 0.007, 0.011, 68.0)),
            ),
            11,
            break_even=2.5,
            decision=DemoDecision(
                note="Neither spot paid back: ROAS 0.5 at best against a break-even of 2.5. "
                "YouTube stops until we have a landing page made for video viewers.",
                stop=("YouTube · 30-second spot", "YouTube · 15-second spot"),
            ),
        ),
        _past(
            "Bilibili: creator video vs banner",
            "A video made with a creator earns more clicks than a banner.",
            roas,
            cny,
            ago(98),
            21,
            40.0,
            (
                ("Bilibili", "Banner", ArmTruth(25.0, 0.011, 0.015, 190.0)),
                ("Bilibili", "Creator video", ArmTruth(25.0, 0.016, 0.018, 190.0)),
            ),
            12,
        ),
        _past(
            "WeChat vs Xiaohongshu: autumn collection",
            "Xiaohongshu notes bring cheaper clicks than a WeChat official-account article.",
            cpa,
            cny,
            ago(84),
            28,
            60.0,
            (
                ("WeChat", "Official account article", ArmTruth(55.0, 0.013, 0.050, 250.0)),
                ("Xiaohongshu", "Tutorial note", ArmTruth(45.0, 0.024, 0.034, 180.0)),
            ),
            13,
        ),
        _past(
            "Google Search: free returns headline",
            "Free returns in the headline lift conversion after the click.",
            cvr,
            usd,
            ago(70),
            21,
            40.0,
            (
                ("Google Search", "Reviews in headline", ArmTruth(38.0, 0.049, 0.040, 63.0)),
                ("Google Search", "Free returns", ArmTruth(38.0, 0.051, 0.043, 62.0)),
            ),
            14,
            break_even=2.5,
        ),
    ]


# -- the loop: fix the content, test again; scale the winner -------------------------------


def _round_two(today: date) -> DemoTrial:
    """Round 1: the Weibo feed image reached many people but few clicked (CTR about a third
    of WeChat's). Round 2 replaced it with a feed video, two weeks in."""
    start = today - timedelta(days=35)
    second = today - timedelta(days=14)
    wechat = ArmTruth(cpm=60.0, ctr=0.012, cvr=0.060, order_value=260.0)
    return DemoTrial(
        spec=TrialSpec(
            name="Weibo creative fix: WeChat vs Weibo",
            hypothesis=(
                "Weibo reaches people cheaply but its feed image is not clicked; a short "
                "feed video fixes the click-through rate and pays back like WeChat."
            ),
            primary_metric=PrimaryMetric.ROAS,
            break_even_roas=2.0,
            gross_margin=0.5,
            currency="CNY",
            start=start,
            end=second - timedelta(days=1),
            budget=4200,
            arms=(
                ArmSpec("WeChat", "Moments video", budget_share=0.5, control=True),
                ArmSpec("Weibo", "Feed image", budget_share=0.5),
            ),
            status=TrialStatus.RUNNING,
            is_demo=True,
        ),
        truths=(wechat, ArmTruth(cpm=15.0, ctr=0.0035, cvr=0.035, order_value=210.0)),
        days_with_data=21,
        daily_spend=100.0,
        stream=15,
        next_round=DemoRound(
            start=second,
            reason=(
                "Weibo's feed image was seen but rarely clicked (CTR about a third of "
                "WeChat's): a 15-second feed video replaces it; WeChat stays as it was."
            ),
            replace=(("Weibo · Feed image", "Feed video"),),
            truths=(wechat, ArmTruth(cpm=15.0, ctr=0.0100, cvr=0.035, order_value=210.0)),
            days_with_data=14,
        ),
    )


def _scale_up(today: date) -> DemoTrial:
    """Long-tail keywords beat generic ones in a three-week test; since then they have
    been stepped up +50 % a week under a written scale plan, and their returns flatten."""
    start = today - timedelta(days=42)
    return DemoTrial(
        spec=TrialSpec(
            name="Google Search: long-tail keywords",
            hypothesis="Long-tail keywords cost less per order than generic ones.",
            primary_metric=PrimaryMetric.ROAS,
            break_even_roas=2.0,
            currency="USD",
            start=start,
            end=today - timedelta(days=1),
            budget=20000,
            arms=(
                ArmSpec("Google Search", "Generic keywords", control=True),
                ArmSpec("Google Search", "Long-tail keywords"),
            ),
            status=TrialStatus.RUNNING,
            is_demo=True,
        ),
        truths=(
            ArmTruth(cpm=38.0, ctr=0.045, cvr=0.030, order_value=46.0),
            ArmTruth(cpm=30.0, ctr=0.060, cvr=0.050, order_value=45.0),
        ),
        days_with_data=21,
        daily_spend=200.0,
        stream=16,
        decision=DemoDecision(
            note="Long-tail keywords returned about four times their cost, generic ones "
            "about one and a half: generic stopped; long-tail steps up +50 % a week while the "
            "last step still pays back.",
            scale=("Google Search · Long-tail keywords",),
            stop=("Google Search · Generic keywords",),
            budget_change="Long-tail keywords 200 USD a day, then +50 % a week under a scale plan",
        ),
        scale=DemoScale(arm=1, base=200.0, test_days=21, half=400.0),
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
            results.append(_day(arm_id, day, spend, truth, rng))
    return results


def _day(
    arm_id: int,
    day: date,
    spend: float,
    truth: ArmTruth,
    rng: np.random.Generator,
    reach: float = 1.0,
) -> DailyResult:
    """One arm's day at ``spend``; ``reach`` scales the impressions it buys (below 1 once
    the arm's audience runs thin)."""
    impressions = int(rng.poisson(spend / truth.cpm * 1000 * reach))
    # Real daily rates drift: a log-normal day effect on each funnel stage.
    ctr = min(0.9, truth.ctr * rng.lognormal(0.0, 0.15))
    cvr = min(0.9, truth.cvr * rng.lognormal(0.0, 0.20))
    clicks = int(rng.binomial(impressions, ctr))
    conversions = int(rng.binomial(clicks, cvr))
    # Order values are skewed: a gamma with shape 2.5 around the arm's mean.
    revenue = float(rng.gamma(2.5, truth.order_value / 2.5, size=conversions).sum())
    return DailyResult(
        arm_id=arm_id,
        day=day,
        impressions=impressions,
        clicks=clicks,
        conversions=conversions,
        spend=spend,
        revenue=round(revenue, 2),
        source=ResultSource.CHANNEL,
    )


def simulate_round(
    round_: DemoRound, daily_spend: float, arm_ids: list[int], rng: np.random.Generator
) -> list[DailyResult]:
    """Daily results for the first ``round_.days_with_data`` days of round 2."""
    results = []
    for offset in range(round_.days_with_data):
        day = round_.start + timedelta(days=offset)
        for arm_id, truth in zip(arm_ids, round_.truths, strict=True):
            spend = round(daily_spend * rng.uniform(0.85, 1.15), 2)
            results.append(_day(arm_id, day, spend, truth, rng))
    return results


def simulate_scale(
    demo: DemoTrial, arm_id: int, start: date, rng: np.random.Generator
) -> list[DailyResult]:
    """The scaled arm's days under its plan: ``steps`` weeks, +``step`` a week. Spend holds
    within 5 % of each step's daily budget; returns flatten as spend grows."""
    scale = demo.scale
    truth = demo.truths[scale.arm]
    results = []
    for offset in range(7 * scale.steps):
        planned = scale.base * (1 + scale.step) ** (offset // 7)
        spend = round(planned * rng.uniform(0.95, 1.05), 2)
        reach = (scale.half + scale.base) / (scale.half + spend)
        results.append(_day(arm_id, start + timedelta(days=offset), spend, truth, rng, reach))
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
    for demo in load_order(demo_trials(today)):
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
        rng = np.random.default_rng([seed, demo.stream])
        results = simulate_days(demo, [a.id for a in trial.arms], rng)
        if results:
            store.add_results(trial.id, results, kind="demo", file_name="demo data")
        if demo.with_orders and results:
            arms = {a.id: (a.spec.channel, a.spec.creative) for a in trial.arms}
            orders = simulate_orders(results, arms, rng)
            store.commit_orders(trial.id, orders, file_name="demo shop orders")
        _after_the_test(store, trial, demo, rng, seed)
        created.append(trial.name)
    return DemoReport(created=tuple(created), skipped=tuple(skipped))


def _after_the_test(
    store: TrialStore, trial, demo: DemoTrial, rng: np.random.Generator, seed: int
) -> None:
    """What the marketer did next: a decision, a scale plan and its weeks, round 2, or
    archiving the trial."""
    from trials.domain.rounds import NextRound, RoundChanges

    if demo.decision is not None:
        _record(store, trial, demo.decision, seed)
    if demo.scale is not None:
        from trials.domain.scale_plans import ScaleSettings

        arm = trial.arms[demo.scale.arm]
        start = demo.spec.start + timedelta(days=demo.scale.test_days)
        store.write_scale_plan(
            trial.id,
            arm.id,
            ScaleSettings(base_daily_spend=demo.scale.base, step=demo.scale.step),
            start,
            reason="the test's winner, stepped up with the stop condition written first",
        )
        weeks = simulate_scale(demo, arm.id, start, rng)
        store.add_results(trial.id, weeks, kind="demo", file_name="demo data, scale plan")
    if demo.next_round is not None:
        r = demo.next_round
        plan = NextRound(start=r.start, reason=r.reason, changes=RoundChanges(replace=r.replace))
        trial = store.start_round(trial.id, plan)
        results = simulate_round(r, demo.daily_spend, [a.id for a in trial.arms], rng)
        store.add_results(trial.id, results, kind="demo", file_name="demo data, round 2")
    if demo.archived:
        store.archive(trial.id)


def _record(store: TrialStore, trial, decision: DemoDecision, seed: int) -> None:
    """Record ``decision`` with the exact path's figures as its evidence (a full-model fit
    would take minutes for the whole demo): the snapshot says ``method`` "exact" and its
    verdict is "preview", never a full-model verdict."""
    from inference.funnel.spec import ModelSpec
    from trials.analysis.result import analyze_trial
    from trials.domain.verdicts import DecisionRecord
    from trials.reports.contract import analysis_dict, evidence_snapshot

    analysis = analyze_trial(store, trial, method="exact", spec=ModelSpec(), seed=seed)
    # evidence_snapshot refuses a preview for a user's decision; the demo says what it is.
    snapshot = evidence_snapshot(analysis_dict(analysis) | {"preview": False})
    record = DecisionRecord(
        scale=decision.scale,
        stop=decision.stop,
        budget_change=decision.budget_change,
        note=decision.note,
        mark_decided=True,
    )
    store.record_decision(trial.id, record, snapshot)
