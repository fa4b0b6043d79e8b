"""Planning bridged to stored trials: baselines from past trials, progress of a running one,
and plans as the plain dicts the CLI prints.

Field names in ``plan_dict`` are a public interface (``python -m trials plan --json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from inference.planning.progress import DecisionProgress, progress_to_decision
from trials.analysis.decisions import inference_rule, planned_days
from trials.analysis.priors import workspace_priors
from trials.domain import ArmTotals, DailyResult, PrimaryMetric, Trial
from trials.storage.store import TrialStore

__all__ = [
    "RECENT_DAYS",
    "Baseline",
    "plan_rule",
    "progress_sentence",
    "trial_progress",
    "workspace_baseline",
]

RECENT_DAYS = 7  # "today's spend" is the average of the last week with data
MAX_BASELINE_STRENGTH = 20_000  # past trials inform the baseline, but other times differ


@dataclass(frozen=True)
class Baseline:
    """A plan's starting point from the workspace's finished trials (``trials.analysis.priors``):
    rates from the learned priors across channels, money in one currency only."""

    ctr: float | None
    cvr: float | None
    cpc: float | None  # in ``currency``; None when no finished trial is in it
    revenue_per_conversion: float | None  # in ``currency``
    clicks: int  # clicks the conversion rate was learned from
    trials: tuple[str, ...]
    currency: str | None = None
    cvr_strength: float | None = None  # the learned prior's ESS (clicks of evidence)
    currencies: tuple[str, ...] = ()  # currencies of the finished trials

    @property
    def strength(self) -> float:
        """How many clicks of evidence the baseline is worth: the learned prior's ESS, never
        more than the clicks it was learned from (and capped)."""
        ess = self.cvr_strength if self.cvr_strength is not None else self.clicks
        return float(min(max(ess, 1.0), MAX_BASELINE_STRENGTH))


def workspace_baseline(
    store: TrialStore,
    currency: str | None = None,
    today: date | None = None,
) -> Baseline | None:
    """CTR and CVR (learned priors across channels), cost per click and revenue per
    conversion in ``currency`` (default: the finished trials' only currency; with several
    and none named, no money); None without a finished trial.

    Money never mixes currencies: only finished trials in ``currency`` give its cost per
    click and order value.
    """
    found = workspace_priors(store, today=today, workspace_min_trials=1)
    learned = found.learned
    if not learned.trials:
        return None
    currencies = learned.currencies()
    if currency is None and len(currencies) == 1:
        currency = currencies[0]
    ctr, cvr = learned.get(None, "ctr"), learned.get(None, "cvr")
    cpc = learned.get(None, "cpc", currency) if currency else None
    value = learned.get(None, "order_value", currency) if currency else None
    return Baseline(
        ctr=ctr.mean if ctr else None,
        cvr=cvr.mean if cvr else None,
        cpc=cpc.mean if cpc else None,
        revenue_per_conversion=value.mean if value else None,
        clicks=cvr.beta.total if cvr else 0,
        trials=learned.trials,
        currency=currency,
        cvr_strength=cvr.ess if cvr else None,
        currencies=currencies,
    )


# The registered rule as the planner reads it: the same rule ``analyze`` applies.
plan_rule = inference_rule


def _recent(rows: list, field: str) -> float:
    """Average per day of ``field`` over an arm's last ``RECENT_DAYS`` days with data."""
    if not rows:
        return 0.0
    since = rows[-1].day - timedelta(days=RECENT_DAYS - 1)
    window = [getattr(r, field) for r in rows if r.day >= since]
    return sum(window) / (RECENT_DAYS if len(rows) >= RECENT_DAYS else len(window))


def trial_progress(
    trial: Trial, totals: dict[int, ArmTotals], daily: list[DailyResult], seed: int = 0
) -> DecisionProgress:
    """How many more days at today's volume the trial needs to meet its decision rule.

    ``totals`` are the ones the rule counts (from the source the models read), ``daily``
    the channels' rows for today's volume: each arm's average daily clicks over its last
    ``RECENT_DAYS`` days with data. Judged on conversions per click (for ROAS and CPA
    trials too: conversions carry most of their uncertainty).
    """
    if len(trial.arms) < 2:
        return DecisionProgress(False, (), None, None, "a decision needs at least two arms")
    if not any(t.days for t in totals.values()):
        return DecisionProgress(False, (), None, None, "no results yet")
    arms = trial.arms
    rows = {a.id: sorted((r for r in daily if r.arm_id == a.id), key=lambda r: r.day) for a in arms}
    clicks = np.array([totals[a.id].clicks for a in arms], dtype=float)
    converted = np.array([min(totals[a.id].conversions, totals[a.id].clicks) for a in arms], float)
    return progress_to_decision(
        clicks,
        converted,
        np.array([_recent(rows[a.id], "clicks") for a in arms]),
        min(totals[a.id].days for a in arms),
        plan_rule(trial.spec.decision_rule),
        conversions=np.array([totals[a.id].conversions for a in arms], float),
        planned_days=planned_days(trial),
        seed=seed,
    )


def progress_sentence(
    progress: DecisionProgress,
    trial: Trial,
    totals: dict[int, ArmTotals],
    daily: list[DailyResult],
) -> str:
    """One plain sentence on the distance to a decision: days, spend, and the budget cap.

    The one wording of progress: the Trial page, the recommendations and the reports all
    show this sentence.
    """
    spec = trial.spec
    if progress.reason:
        return f"No estimate of the days to a decision: {progress.reason}."
    if progress.reached:
        return "The decision rule is met on today's data."
    rate = sum(
        _recent(sorted((r for r in daily if r.arm_id == a.id), key=lambda r: r.day), "spend")
        for a in trial.arms
    )
    spent = sum(t.spend for t in totals.values())
    left = spec.budget - spent if spec.budget > 0 else None
    on = ""
    if spec.primary_metric is not PrimaryMetric.CONVERSION_RATE:
        on = " (estimated on conversion rate; order values add noise, so allow a little more)"
    short = _budget_short(progress, spec, spent, left, rate, on)
    if short is not None:
        return short
    return _days_and_spend(progress, spec.currency, left, rate, on)


def _budget_short(progress: DecisionProgress, spec, spent, left, rate, on: str) -> str | None:
    """The sentence when the budget cap is spent, or when what it leaves (at today's spend
    of ``rate`` a day) very likely runs out before the rule is met; None otherwise."""
    cur = spec.currency
    if left is not None and left <= 0:
        return (
            f"The budget cap is spent ({_money(spent)} of {_money(spec.budget)} {cur}): the "
            "decision rule cannot be met without raising it, testing fewer arms, or ending "
            "the trial without a winner."
        )
    horizon = len(progress.probability_by_day)
    cap_days = int(left // rate) if left is not None and rate > 0 else None
    if cap_days is None or cap_days >= horizon:
        return None
    by_cap = progress.probability_by_day[cap_days - 1] if cap_days >= 1 else 0.0
    if by_cap >= 0.05:
        return None
    days_left = f"about {_days(cap_days)} more" if cap_days >= 1 else "less than a day"
    return (
        f"The remaining budget cannot reach the decision rule: {_money(left)} {cur} is "
        f"left, {days_left} at today's spend of {_money(rate)} {cur} a day, and the "
        f"rule is met by then with {_chance(by_cap)} probability{on}. Raise the cap, "
        "test fewer arms, or end the trial without a winner."
    )


def _days_and_spend(progress: DecisionProgress, cur: str, left, rate, on: str) -> str:
    """The days and the spend the rule likely still needs at today's spend of ``rate`` a
    day, beside what the budget cap leaves (``left``; None without a cap)."""
    horizon = len(progress.probability_by_day)
    if progress.days_median is None:
        return (
            f"At today's volume the decision rule is unlikely to be met within {horizon} "
            f"more days{on}: consider fewer arms or a bigger budget."
        )
    need = progress.days_80 or progress.days_median
    level = "80%" if progress.days_80 else "50%"
    text = (
        f"The rule needs about {_days(progress.days_median)} more (with 50% probability; "
        + (
            f"{_days(progress.days_80)} with 80%"
            if progress.days_80
            else f"80% is not reached within {horizon} days"
        )
        + f") and about {_money(need * rate)} {cur} more spend at today's "
        f"{_money(rate)} {cur} a day for {level}{on}."
    )
    if left is not None:
        text += f" The budget cap leaves {_money(max(left, 0))} {cur}."
        if need * rate > left:
            text += " That is less than the rule likely needs."
    return text


def _money(x: float) -> str:
    return f"{x:,.2f}"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _chance(p: float) -> str:
    """A probability in words: "under 1%" rather than a bare 0%."""
    return "under 1%" if p < 0.005 else f"only {p:.0%}"
