"""Own orders credited to arms.

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

Attribution is computed on read, so changing the rule or a UTM rule re-credits. Which
source the models then read, and what an orders import would change, is
``trials.domain.sources``; own orders beside the channels' reports,
``trials.domain.reconciliation``.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from trials.domain.enums import AttributionRule, ResultSource
from trials.domain.imports import UtmRule
from trials.domain.orders import OrderRow, OrderStatus
from trials.domain.results import ArmTotals, DailyResult, arm_key
from trials.domain.trial import Trial

__all__ = ["Attribution", "SharedOrder", "attribute", "resolve_arm"]

_FINALITY = {OrderStatus.PAID: 0, OrderStatus.CANCELLED: 1, OrderStatus.REFUNDED: 2}


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
        winners = _winners(claimed, arm_ids, rule)
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


def _winners(
    claimed: list[tuple[OrderRow, int]], arm_ids: tuple[int, ...], rule: AttributionRule
) -> tuple[int, ...]:
    """The arms an order is credited to: every claiming arm with ``split`` (or when one arm
    claims it), else the arm of the latest touch (a tie splits between the tied arms)."""
    if rule == AttributionRule.SPLIT or len(arm_ids) == 1:
        return arm_ids
    last_time = max(o.ordered_at for o, _ in claimed)
    return tuple(dict.fromkeys(a for o, a in claimed if o.ordered_at == last_time))


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
