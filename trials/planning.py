"""Planning bridged to stored trials: baselines from past trials, progress of a running one,
and plans as the plain dicts the CLI prints.

Field names in ``plan_dict`` are a public interface (``python -m trials plan --json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from inference.planning import DecisionProgress, Plan, PlanRule, progress_to_decision
from trials.domain import DecisionRule, PrimaryMetric, Trial
from trials.store import TrialStore

__all__ = [
    "RECENT_DAYS",
    "Baseline",
    "plan_dict",
    "plan_rule",
    "progress_sentence",
    "trial_progress",
    "workspace_baseline",
]

RECENT_DAYS = 7  # "today's spend" is the average of the last week with data
MAX_BASELINE_STRENGTH = 20_000  # past trials inform the baseline, but other times differ


@dataclass(frozen=True)
class Baseline:
    """Rates pooled over past trials' results, to start a plan from."""

    ctr: float | None
    cvr: float | None
    cpc: float | None
    revenue_per_conversion: float | None
    clicks: int
    trials: tuple[str, ...]

    @property
    def strength(self) -> float:
        """How many clicks of evidence the baseline rests on (capped)."""
        return float(min(max(self.clicks, 100), MAX_BASELINE_STRENGTH))


def workspace_baseline(store: TrialStore, trial_ids: list[int] | None = None) -> Baseline | None:
    """Pooled CTR, CVR, CPC and revenue per conversion of trials with data (None: none)."""
    impressions = clicks = conversions = 0
    spend = revenue = 0.0
    names = []
    for summary in store.list_trials():
        trial = summary.trial
        if (trial_ids is not None and trial.id not in trial_ids) or not summary.days_with_data:
            continue
        names.append(trial.name)
        for t in store.arm_totals(trial.id).values():
            impressions += t.impressions
            clicks += t.clicks
            conversions += min(t.conversions, t.clicks)
            spend += t.spend
            revenue += t.revenue
    if not names:
        return None
    return Baseline(
        ctr=clicks / impressions if impressions else None,
        cvr=conversions / clicks if clicks and conversions else None,
        cpc=spend / clicks if clicks and spend else None,
        revenue_per_conversion=revenue / conversions if conversions and revenue else None,
        clicks=clicks,
        trials=tuple(names),
    )


def plan_rule(rule: DecisionRule) -> PlanRule:
    return PlanRule(
        min_days=rule.min_days,
        min_conversions_per_arm=rule.min_conversions_per_arm,
        probability_threshold=rule.probability_threshold,
        expected_loss_threshold=rule.expected_loss_threshold,
    )


def trial_progress(store: TrialStore, trial: Trial, seed: int = 0) -> DecisionProgress:
    """How many more days at today's volume the trial needs to meet its decision rule.

    Judged on conversions per click (for ROAS and CPA trials too: conversions carry most
    of their uncertainty); "today's volume" is each arm's average daily clicks over its
    last ``RECENT_DAYS`` days with data.
    """
    if len(trial.arms) < 2:
        return DecisionProgress(False, (), None, None, "a decision needs at least two arms")
    totals = store.arm_totals(trial.id)
    if not any(t.days for t in totals.values()):
        return DecisionProgress(False, (), None, None, "no results yet")
    daily = store.daily_results(trial.id)
    recent = {}
    for arm in trial.arms:
        rows = sorted((r for r in daily if r.arm_id == arm.id), key=lambda r: r.day)
        if rows:
            since = rows[-1].day - timedelta(days=RECENT_DAYS - 1)
            window = [r.clicks for r in rows if r.day >= since]
            recent[arm.id] = (
                sum(window) / RECENT_DAYS
                if len(rows) >= RECENT_DAYS
                else (sum(window) / len(window))
            )
        else:
            recent[arm.id] = 0.0
    arms = trial.arms
    clicks = np.array([totals[a.id].clicks for a in arms], dtype=float)
    converted = np.array([min(totals[a.id].conversions, totals[a.id].clicks) for a in arms], float)
    return progress_to_decision(
        clicks,
        converted,
        np.array([recent[a.id] for a in arms]),
        min(totals[a.id].days for a in arms),
        plan_rule(trial.spec.decision_rule),
        conversions=np.array([totals[a.id].conversions for a in arms], float),
        seed=seed,
    )


def progress_sentence(progress: DecisionProgress, trial: Trial) -> str:
    """One plain sentence on the distance to a decision."""
    rule = trial.spec.decision_rule
    if progress.reason:
        return f"No estimate of the days to a decision: {progress.reason}."
    if progress.reached:
        return "The decision rule is met on today's data."
    on = ""
    if trial.spec.primary_metric is not PrimaryMetric.CONVERSION_RATE:
        on = " (estimated on conversion rate; order values add noise, so allow a little more)"
    horizon = len(progress.probability_by_day)
    if progress.days_median is None:
        return (
            f"At today's volume the decision rule is unlikely to be met within {horizon} "
            f"more days{on}: consider fewer arms or a bigger budget."
        )
    later = (
        f", {progress.days_80} days with 80% probability"
        if progress.days_80
        else f"; 80% is not reached within {horizon} days"
    )
    return (
        f"About {progress.days_median} more days at today's volume meet the decision rule "
        f"({rule.probability_threshold:.0%} to be best, or an expected loss under "
        f"{rule.expected_loss_threshold:.0%}) with 50% probability{later}{on}."
    )


def plan_dict(plan: Plan) -> dict[str, Any]:
    """A plan as JSON-ready data."""
    i = plan.inputs
    return {
        "inputs": {
            "metric": i.metric,
            "baseline_cvr": i.baseline_cvr,
            "baseline_ctr": i.baseline_ctr,
            "lift": i.lift,
            "arms": i.arms,
            "cpc": i.cpc,
            "clicks_per_day": i.trial_clicks_per_day,
            "daily_budget": i.trial_daily_budget,
            "assurance": i.assurance,
            "budget_cap": i.budget_cap,
            "max_days": i.max_days,
            "decision_rule": {
                "min_days": i.rule.min_days,
                "min_conversions_per_arm": i.rule.min_conversions_per_arm,
                "probability_threshold": i.rule.probability_threshold,
                "expected_loss_threshold": i.rule.expected_loss_threshold,
            },
            "baseline_strength": i.baseline_strength,
            "concentration": i.concentration,
            "simulations": i.simulations,
        },
        "clicks_per_arm_per_day": i.trial_clicks_per_day / i.arms,
        "design_effect": round(plan.design_effect, 4),
        "days": plan.days,
        "clicks_per_arm_for_assurance": plan.clicks_per_arm_for_assurance,
        "budget": plan.budget,
        "classical_clicks_per_arm": plan.classical_clicks_per_arm,
        "classical_days": _days_for(plan.classical_clicks_per_arm, i),
        "within_limits": plan.within_limits,
        "assurance_curve": [
            {
                "days": p.days,
                "clicks_per_arm": p.clicks_per_arm,
                "budget": p.budget,
                "assurance": p.assurance,
                "wrong_arm": p.wrong_arm,
            }
            for p in plan.curve
        ],
        "advice": [{"change": a.change, "days": a.days, "budget": a.budget} for a in plan.advice],
        "seed": plan.seed,
    }


def _days_for(trials_per_arm: int, inputs) -> int:
    """Days at the planned volume to reach the classical clicks (impressions for CTR)."""
    return int(np.ceil(trials_per_arm / inputs.trials_per_arm_per_day))
