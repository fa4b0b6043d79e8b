"""Own orders credited to arms, and set beside the channels' reports.

Own orders are the source of truth for conversions and revenue. Channels over-count:
two channels claim one order, and their reports keep orders that were later cancelled or
refunded. Here:

* an order is counted only when its status is paid (the most final status among its rows
  wins: refunded over cancelled over paid);
* each order touch is sent to an arm by its arm columns, else the trial's saved UTM rules
  (most specific first), else by its ``utm_source`` naming the arm's channel and its
  ``utm_content`` naming the creative;
* an order claimed by several arms is counted once, by the trial's rule: ``last_touch``
  (the arm of the latest touch; a tie splits between the tied arms) or ``split`` (equal
  shares), and it is listed;
* per day, fractional credits are rounded to whole conversions by largest remainder, so
  each day's conversions equal its distinct orders; revenue is split exactly.

Attribution is computed on read, so changing the rule or a UTM rule re-credits.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from trials.domain import (
    ArmTotals,
    AttributionRule,
    DailyResult,
    OrderRow,
    OrderStatus,
    ResultsChoice,
    ResultSource,
    Trial,
    arm_key,
)
from trials.domain.imports import UtmRule

__all__ = [
    "ArmEffect",
    "ArmReconciliation",
    "Attribution",
    "OrdersEffect",
    "Reconciliation",
    "SharedOrder",
    "SourceSummary",
    "attribute",
    "orders_effect",
    "reconcile",
    "resolve_arm",
    "source_of",
    "summarize_source",
    "sums",
]

_FINALITY = {OrderStatus.PAID: 0, OrderStatus.CANCELLED: 1, OrderStatus.REFUNDED: 2}


# -- attribution ---------------------------------------------------------------------------


def _slug(text: str) -> str:
    """'Video A', 'video-a' and 'video_a' are one name."""
    return re.sub(r"[\W_]+", "", text.casefold())


def resolve_arm(order: OrderRow, trial: Trial, rules: Sequence[UtmRule]) -> int | None:
    """The arm an order touch belongs to, or None."""
    if order.channel and order.creative:
        key = arm_key(order.channel, order.creative)
        for arm in trial.arms:
            if arm_key(arm.spec.channel, arm.spec.creative) == key:
                return arm.id
    matching = [r for r in rules if r.matches(order.utm)]
    if matching:
        return max(matching, key=lambda r: r.specificity).arm_id
    source, content = _slug(order.utm_source), _slug(order.utm_content)
    if source and content:
        for arm in trial.arms:
            if _slug(arm.spec.channel) == source and _slug(arm.spec.creative) == content:
                return arm.id
    return None


@dataclass(frozen=True)
class SharedOrder:
    """An order more than one arm claimed, and how it was credited."""

    order_id: str
    arms: tuple[int, ...]
    credited: tuple[tuple[int, float], ...]  # (arm id, share)


@dataclass(frozen=True)
class Attribution:
    """Own orders credited to arms, with everything left out and why."""

    results: tuple[DailyResult, ...]  # source ORDERS, one per arm and day with orders
    counted: int  # paid orders credited to arms within the trial's dates
    shared: tuple[SharedOrder, ...]
    excluded: dict[str, tuple[int, float]]  # status → (orders, amount)
    unattributed: tuple[tuple[tuple[str, str, str, str], int, float], ...]  # utm, n, amount
    outside_dates: tuple[int, float]

    def totals(self, arm_ids: Sequence[int]) -> dict[int, ArmTotals]:
        out = {}
        for arm_id in arm_ids:
            rows = [r for r in self.results if r.arm_id == arm_id]
            out[arm_id] = ArmTotals(
                conversions=sum(r.conversions for r in rows),
                revenue=round(sum(r.revenue for r in rows), 6),
                days=len(rows),
            )
        return out


def attribute(
    trial: Trial,
    orders: Sequence[OrderRow],
    rules: Sequence[UtmRule],
    rule: AttributionRule | None = None,
) -> Attribution:
    """Credit each paid order once to the arms that claim it (see the module notes)."""
    rule = AttributionRule(rule or trial.spec.attribution_rule)
    by_order: dict[str, list[OrderRow]] = defaultdict(list)
    for o in orders:
        by_order[o.order_id].append(o)
    credits: dict[tuple[int, date], float] = defaultdict(float)
    revenue: dict[tuple[int, date], float] = defaultdict(float)
    excluded: dict[str, list[float]] = {}
    unattributed: dict[tuple[str, str, str, str], list[float]] = defaultdict(list)
    outside: list[float] = []
    shared: list[SharedOrder] = []
    counted = 0
    for order_id, touches in by_order.items():
        latest = max(touches, key=lambda o: (o.ordered_at, o.row))
        status = max((o.status for o in touches), key=_FINALITY.__getitem__)
        if status != OrderStatus.PAID:
            excluded.setdefault(status.value, []).append(latest.amount)
            continue
        day = latest.ordered_at.date()
        if not trial.spec.start <= day <= trial.spec.end:
            outside.append(latest.amount)
            continue
        arms_of = [(o, resolve_arm(o, trial, rules)) for o in touches]
        claimed = [(o, a) for o, a in arms_of if a is not None]
        if not claimed:
            unattributed[latest.utm].append(latest.amount)
            continue
        arm_ids = tuple(dict.fromkeys(a for _, a in claimed))
        if rule == AttributionRule.SPLIT or len(arm_ids) == 1:
            winners = arm_ids
        else:
            last_time = max(o.ordered_at for o, _ in claimed)
            winners = tuple(dict.fromkeys(a for o, a in claimed if o.ordered_at == last_time))
        share = 1 / len(winners)
        for arm_id in winners:
            credits[arm_id, day] += share
            revenue[arm_id, day] += latest.amount * share
        counted += 1
        if len(arm_ids) > 1:
            shared.append(SharedOrder(order_id, arm_ids, tuple((a, share) for a in winners)))
    return Attribution(
        results=_whole_conversions(credits, revenue),
        counted=counted,
        shared=tuple(shared),
        excluded={k: (len(v), round(sum(v), 6)) for k, v in sorted(excluded.items())},
        unattributed=tuple(
            (utm, len(v), round(sum(v), 6)) for utm, v in sorted(unattributed.items())
        ),
        outside_dates=(len(outside), round(sum(outside), 6)),
    )


def _whole_conversions(credits, revenue) -> tuple[DailyResult, ...]:
    """Round each day's fractional credits to whole orders by largest remainder."""
    by_day: dict[date, dict[int, float]] = defaultdict(dict)
    for (arm_id, day), value in credits.items():
        by_day[day][arm_id] = value
    out = []
    for day in sorted(by_day):
        shares = by_day[day]
        total = round(sum(shares.values()))
        floors = {a: math.floor(v + 1e-9) for a, v in shares.items()}
        left = total - sum(floors.values())
        order = sorted(shares, key=lambda a: (-(shares[a] - floors[a]), a))
        for a in order[:left]:
            floors[a] += 1
        for arm_id in sorted(shares):
            out.append(
                DailyResult(
                    arm_id=arm_id,
                    day=day,
                    impressions=0,
                    clicks=0,
                    conversions=floors[arm_id],
                    spend=0.0,
                    revenue=round(revenue[arm_id, day], 6),
                    source=ResultSource.ORDERS,
                )
            )
    return tuple(out)


def _orders_switch(credited: Attribution | None) -> bool:
    """Whether credited orders give at least one conversion on a day within the trial's
    dates (``attribute`` credits no order outside them)."""
    return credited is not None and any(r.conversions > 0 for r in credited.results)


def source_of(trial: Trial, credited: Attribution | None) -> ResultSource:
    """The one rule: whose conversions and revenue the models read, given the trial's
    choice and its own orders as credited (None: no orders imported)."""
    choice = trial.spec.results_source
    if choice == ResultsChoice.ORDERS or (
        choice == ResultsChoice.AUTO and _orders_switch(credited)
    ):
        return ResultSource.ORDERS
    return ResultSource.CHANNEL


# -- the source in plain words ------------------------------------------------------------


def _money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}".strip()


def _conversions(count: int) -> str:
    return f"{count:,} conversion{'' if count == 1 else 's'}"


def sums(totals: dict[int, ArmTotals]) -> tuple[int, float]:
    values = totals.values()
    return sum(t.conversions for t in values), round(sum(t.revenue for t in values), 6)


def _used(
    trial: Trial,
    channel: dict[int, ArmTotals],
    own: dict[int, ArmTotals] | None,
    source: ResultSource,
) -> dict[int, ArmTotals]:
    """Each arm's totals as the models read them: impressions, clicks and spend from the
    channels; conversions and revenue from ``source`` (zeros without orders)."""
    out = {}
    for arm in trial.arms:
        totals = channel.get(arm.id, ArmTotals())
        if source == ResultSource.ORDERS:
            credited = (own or {}).get(arm.id, ArmTotals())
            totals = replace(totals, conversions=credited.conversions, revenue=credited.revenue)
        out[arm.id] = totals
    return out


def _source_sentence(
    trial: Trial,
    source: ResultSource,
    channel: dict[int, ArmTotals],
    own: dict[int, ArmTotals] | None,
    outside: int,
) -> str:
    spec = trial.spec
    currency = spec.currency
    channel_conversions, channel_revenue = sums(channel)
    reported = (
        f"the channels reported {_conversions(channel_conversions)} and "
        f"{_money(channel_revenue, currency)}"
    )
    dates = f"({spec.start.isoformat()} to {spec.end.isoformat()})"
    outside_orders = f"{outside:,} own order{' falls' if outside == 1 else 's fall'}"
    are = "is" if outside == 1 else "are"
    asked = "" if spec.results_source == ResultsChoice.AUTO else ", as the trial's setting asks"
    lead = "Conversions and revenue:"
    if source == ResultSource.ORDERS:
        if own is None:
            return (
                f"{lead} the shop's own orders{asked}, but none are imported yet, so every "
                f"arm has 0 conversions ({reported})."
            )
        conversions, revenue = sums(own)
        text = (
            f"{lead} the shop's own orders{asked}, {_conversions(conversions)} and "
            f"{_money(revenue, currency)} ({reported})"
        )
        if outside:
            text += f"; {outside_orders} outside the trial's dates {dates} and {are} not counted"
        return text + "."
    if own is None:
        return f"{lead} the channels' reports{asked} (own orders: none imported)."
    if spec.results_source == ResultsChoice.CHANNEL:
        conversions, revenue = sums(own)
        return (
            f"{lead} the channels' reports{asked} (own orders would give "
            f"{_conversions(conversions)} and {_money(revenue, currency)})."
        )
    if outside:
        return (
            f"{lead} the channels' reports; {outside_orders} outside the trial's dates "
            f"{dates} and {are} not used to switch."
        )
    return (
        f"{lead} the channels' reports (own orders are imported, but none is paid, matched "
        f"to an arm and dated within the trial {dates})."
    )


@dataclass(frozen=True)
class SourceSummary:
    """Whose conversions and revenue the models read, beside both sources' trial totals.

    ``channel`` and ``orders`` are per arm id (``orders`` is None without own orders);
    ``orders_outside_dates`` counts paid orders dated outside the trial, which are never
    counted and never switch the source; ``sentence`` says it all in plain words.
    """

    source: ResultSource
    choice: ResultsChoice
    channel: dict[int, ArmTotals]
    orders: dict[int, ArmTotals] | None
    orders_outside_dates: int
    sentence: str

    def used(self, trial: Trial) -> dict[int, ArmTotals]:
        """Each arm's totals as the models read them (conversions and revenue from
        ``source``; impressions, clicks and spend always the channels')."""
        return _used(trial, self.channel, self.orders, self.source)


def summarize_source(
    trial: Trial, channel: dict[int, ArmTotals], credited: Attribution | None
) -> SourceSummary:
    """The source summary from totals and orders already read (None: no own orders)."""
    own = credited.totals([a.id for a in trial.arms]) if credited is not None else None
    outside = credited.outside_dates[0] if credited is not None else 0
    source = source_of(trial, credited)
    return SourceSummary(
        source=source,
        choice=trial.spec.results_source,
        channel=channel,
        orders=own,
        orders_outside_dates=outside,
        sentence=_source_sentence(trial, source, channel, own, outside),
    )


# -- what an orders import would change --------------------------------------------------


@dataclass(frozen=True)
class ArmEffect:
    arm_id: int
    arm: str
    conversions_before: int
    conversions_after: int
    revenue_before: float
    revenue_after: float
    flagged: bool  # a change big enough to need its own confirmation


@dataclass(frozen=True)
class OrdersEffect:
    """The conversions and revenue the models read now, and after an orders import."""

    source_before: ResultSource
    source_after: ResultSource
    arms: tuple[ArmEffect, ...]
    leaves_no_conversions: bool
    warning: str  # plain words; empty when the change needs no confirmation

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.warning)

    @property
    def changes(self) -> bool:
        """Whether the import changes any number the models read."""
        return self.source_before != self.source_after or any(
            (a.conversions_before, a.revenue_before) != (a.conversions_after, a.revenue_after)
            for a in self.arms
        )


_SOURCE_WORDS = {
    ResultSource.CHANNEL: "the channels' reports",
    ResultSource.ORDERS: "the shop's own orders",
}


def orders_effect(
    trial: Trial,
    channel: dict[int, ArmTotals],
    stored: Sequence[OrderRow],
    incoming: Sequence[OrderRow],
    rules: Sequence[UtmRule],
) -> OrdersEffect:
    """What committing ``incoming`` (replacing stored touches it changes) would do to the
    conversions and revenue the models read, the source switching rule included.

    An arm's change needs confirmation when its conversions move by more than half
    (|after - before| > before / 2), or go from none to some because the source switches
    while the trial had conversions; so does leaving a trial that had conversions with none.
    """
    merged = {(o.order_id, o.touch): o for o in stored}
    merged.update({(o.order_id, o.touch): o for o in incoming})
    before_credit = attribute(trial, stored, rules) if stored else None
    after_credit = attribute(trial, list(merged.values()), rules) if merged else None
    before = summarize_source(trial, channel, before_credit)
    after = summarize_source(trial, channel, after_credit)
    used_before, used_after = before.used(trial), after.used(trial)
    switched = before.source != after.source
    total_before = sum(t.conversions for t in used_before.values())
    total_after = sum(t.conversions for t in used_after.values())
    arms = []
    for arm in trial.arms:
        b, a = used_before[arm.id], used_after[arm.id]
        change = abs(a.conversions - b.conversions)
        flagged = (b.conversions > 0 and change > 0.5 * b.conversions) or (
            b.conversions == 0 and a.conversions > 0 and switched and total_before > 0
        )
        arms.append(
            ArmEffect(
                arm_id=arm.id,
                arm=arm.name,
                conversions_before=b.conversions,
                conversions_after=a.conversions,
                revenue_before=b.revenue,
                revenue_after=a.revenue,
                flagged=flagged,
            )
        )
    leaves_none = total_before > 0 and total_after == 0
    warning = ""
    flagged_arms = [a for a in arms if a.flagged]
    if flagged_arms or leaves_none:
        what = (
            f"the source changes from {_SOURCE_WORDS[before.source]} to "
            f"{_SOURCE_WORDS[after.source]}"
            if switched
            else f"the source stays {_SOURCE_WORDS[after.source]}"
        )
        listed = ", ".join(
            f"{a.arm} {a.conversions_before:,} → {a.conversions_after:,}" for a in flagged_arms
        )
        warning = f"This import changes the conversions the results use: {what}"
        if listed:
            warning += f"; conversions {listed}"
        if leaves_none:
            warning += "; the trial would be left with no conversions at all"
        warning += "."
    return OrdersEffect(
        source_before=before.source,
        source_after=after.source,
        arms=tuple(arms),
        leaves_no_conversions=leaves_none,
        warning=warning,
    )


# -- reconciliation -------------------------------------------------------------------------


@dataclass(frozen=True)
class ArmReconciliation:
    arm_id: int
    arm: str
    channel_conversions: int
    order_conversions: int
    channel_revenue: float
    order_revenue: float

    @property
    def conversions_difference(self) -> int:
        return self.channel_conversions - self.order_conversions

    @property
    def revenue_difference(self) -> float:
        return round(self.channel_revenue - self.order_revenue, 6)

    @staticmethod
    def _percent(difference: float, base: float) -> float | None:
        return None if base == 0 else difference / base

    @property
    def conversions_difference_pct(self) -> float | None:
        """How much the channel over-reports, as a share of own orders."""
        return self._percent(self.conversions_difference, self.order_conversions)

    @property
    def revenue_difference_pct(self) -> float | None:
        return self._percent(self.revenue_difference, self.order_revenue)


@dataclass(frozen=True)
class Reconciliation:
    arms: tuple[ArmReconciliation, ...]
    attribution: Attribution
    source: ResultSource
    has_orders: bool
    summary: SourceSummary | None = None


def reconcile(
    trial: Trial,
    channel: dict[int, ArmTotals],
    orders: Sequence[OrderRow],
    rules: Sequence[UtmRule],
) -> Reconciliation:
    """Channel-reported conversions and revenue per arm beside own orders."""
    attribution = attribute(trial, orders, rules)
    own = attribution.totals([a.id for a in trial.arms])
    arms = tuple(
        ArmReconciliation(
            arm_id=arm.id,
            arm=arm.name,
            channel_conversions=channel[arm.id].conversions,
            order_conversions=own[arm.id].conversions,
            channel_revenue=channel[arm.id].revenue,
            order_revenue=own[arm.id].revenue,
        )
        for arm in trial.arms
    )
    summary = summarize_source(trial, channel, attribution if orders else None)
    return Reconciliation(
        arms=arms,
        attribution=attribution,
        source=summary.source,
        has_orders=bool(orders),
        summary=summary,
    )
