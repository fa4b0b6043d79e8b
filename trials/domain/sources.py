"""Whose conversions and revenue the models read, said in plain words, and what an
orders import would change.

The one rule (:func:`source_of`): the trial's choice, and with ``auto`` the shop's own
orders once, as credited (``trials.domain.attribution``), they give a conversion within
the trial's dates; else the channels' reports. Impressions, clicks and spend are always
the channels'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from trials.domain.attribution import Attribution, attribute
from trials.domain.enums import ResultsChoice, ResultSource
from trials.domain.imports import UtmRule
from trials.domain.orders import OrderRow
from trials.domain.results import ArmTotals
from trials.domain.trial import Arm, Trial

__all__ = [
    "ArmEffect",
    "OrdersEffect",
    "SourceSummary",
    "orders_effect",
    "source_of",
    "summarize_source",
    "sums",
]

# -- the source ----------------------------------------------------------------------------


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
    # A trial in rounds is read one round at a time: its orders outside the round's dates
    # belong to another round (or to none).
    the_dates = f"round {trial.round_number}'s dates" if trial.rounds else "the trial's dates"
    within = f"within round {trial.round_number}" if trial.rounds else "within the trial"
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
            text += f"; {outside_orders} outside {the_dates} {dates} and {are} not counted"
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
            f"{lead} the channels' reports; {outside_orders} outside {the_dates} "
            f"{dates} and {are} not used to switch."
        )
    return (
        f"{lead} the channels' reports (own orders are imported, but none is paid, matched "
        f"to an arm and dated {within} {dates})."
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
    total_before = sum(t.conversions for t in used_before.values())
    total_after = sum(t.conversions for t in used_after.values())
    switch_adds = before.source != after.source and total_before > 0
    arms = tuple(
        _arm_effect(arm, used_before[arm.id], used_after[arm.id], switch_adds) for arm in trial.arms
    )
    leaves_none = total_before > 0 and total_after == 0
    return OrdersEffect(
        source_before=before.source,
        source_after=after.source,
        arms=arms,
        leaves_no_conversions=leaves_none,
        warning=_effect_warning(before.source, after.source, arms, leaves_none),
    )


def _arm_effect(arm: Arm, b: ArmTotals, a: ArmTotals, switch_adds: bool) -> ArmEffect:
    """One arm before (``b``) and after (``a``) the import; ``switch_adds``: the source
    switches while the trial had conversions, so an arm going from none to some is flagged."""
    change = abs(a.conversions - b.conversions)
    flagged = (b.conversions > 0 and change > 0.5 * b.conversions) or (
        b.conversions == 0 and a.conversions > 0 and switch_adds
    )
    return ArmEffect(
        arm_id=arm.id,
        arm=arm.name,
        conversions_before=b.conversions,
        conversions_after=a.conversions,
        revenue_before=b.revenue,
        revenue_after=a.revenue,
        flagged=flagged,
    )


def _effect_warning(
    before: ResultSource, after: ResultSource, arms: Sequence[ArmEffect], leaves_none: bool
) -> str:
    """The warning in plain words; empty when the change needs no confirmation."""
    flagged_arms = [a for a in arms if a.flagged]
    if not (flagged_arms or leaves_none):
        return ""
    what = (
        f"the source changes from {_SOURCE_WORDS[before]} to {_SOURCE_WORDS[after]}"
        if before != after
        else f"the source stays {_SOURCE_WORDS[after]}"
    )
    listed = ", ".join(
        f"{a.arm} {a.conversions_before:,} → {a.conversions_after:,}" for a in flagged_arms
    )
    warning = f"This import changes the conversions the results use: {what}"
    if listed:
        warning += f"; conversions {listed}"
    if leaves_none:
        warning += "; the trial would be left with no conversions at all"
    return warning + "."
