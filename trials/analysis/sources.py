"""Own orders and the channels' reports, as the store holds them now: the trial's results
source, the totals own orders credit, the effect of an orders import, the reconciliation.

Loads from the store and hands over to the pure rules in ``trials.domain`` (attribution,
sources, reconciliation).
"""

from __future__ import annotations

from collections.abc import Sequence

from trials.domain import ArmTotals, OrderRow, ResultSource, Trial
from trials.domain.attribution import Attribution, attribute
from trials.domain.reconciliation import Reconciliation
from trials.domain.reconciliation import reconcile as _reconcile
from trials.domain.sources import OrdersEffect, SourceSummary, source_of, summarize_source
from trials.domain.sources import orders_effect as _orders_effect
from trials.storage.store import TrialStore

__all__ = ["order_totals", "orders_effect", "reconcile", "source_for", "source_summary"]


def order_totals(store: TrialStore, trial: Trial) -> dict[int, ArmTotals] | None:
    """Conversions and revenue own orders credit to each arm; None without orders."""
    orders = store.orders(trial.id)
    if not orders:
        return None
    credited = attribute(trial, orders, store.utm_rules(trial.id))
    return credited.totals([a.id for a in trial.arms])


def _credited(store: TrialStore, trial: Trial) -> Attribution | None:
    orders = store.orders(trial.id)
    if not orders:
        return None
    return attribute(trial, orders, store.utm_rules(trial.id))


def source_for(store: TrialStore, trial: Trial) -> ResultSource:
    """Whose conversions and revenue the models read for this trial now.

    ``channel`` or ``orders`` as the trial's setting says; with ``auto``, own orders only
    once the credited orders give at least one conversion on a day within the trial's
    dates (orders wholly outside the dates never switch), else the channels' reports.
    """
    return source_of(trial, _credited(store, trial))


def source_summary(store: TrialStore, trial: Trial) -> SourceSummary:
    """The source the trial's results use, both sources' totals, and a sentence saying so."""
    return summarize_source(trial, store.arm_totals(trial.id), _credited(store, trial))


def orders_effect(store: TrialStore, trial: Trial, incoming: Sequence[OrderRow]) -> OrdersEffect:
    """What committing ``incoming`` would do to the conversions and revenue the models read
    (see ``trials.domain.sources.orders_effect``)."""
    return _orders_effect(
        trial,
        store.arm_totals(trial.id),
        store.orders(trial.id),
        incoming,
        store.utm_rules(trial.id),
    )


def reconcile(store: TrialStore, trial: Trial) -> Reconciliation:
    """Channel-reported conversions and revenue per arm beside own orders."""
    return _reconcile(
        trial, store.arm_totals(trial.id), store.orders(trial.id), store.utm_rules(trial.id)
    )
