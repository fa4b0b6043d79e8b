"""A trial's decision as the public JSON of ``analyze --json`` (and the reports and the
decision log, which read it), and the raw-versus-modelled figures beside it."""

from __future__ import annotations

import math
from typing import Any

from trials.analysis.budget import split_notes
from trials.analysis.decisions import LABELS, VERDICT_LABELS, TrialDecision, metric_name
from trials.analysis.stages import WeakStage
from trials.domain import ArmTotals, PrimaryMetric, Trial

__all__ = ["decision_dict", "raw_estimate", "raw_vs_model_sentence", "stage_dict"]


def raw_estimate(metric: PrimaryMetric, t: ArmTotals) -> float | None:
    """The metric straight from the totals, before any modelling (None when undefined)."""
    if metric is PrimaryMetric.ROAS:
        return t.revenue / t.spend if t.spend else None
    if metric is PrimaryMetric.CPA:
        return t.spend / t.conversions if t.conversions else None
    return t.conversions / t.clicks if t.clicks else None


def raw_vs_model_sentence(trial: Trial, posterior, totals: dict[int, ArmTotals]) -> str:
    """One plain sentence on why the raw and the modelled figures differ most for one arm."""
    name = metric_name(trial.spec.primary_metric)
    widest, gap = None, 0.0
    for i, arm in enumerate(trial.arms):
        raw = raw_estimate(trial.spec.primary_metric, totals[arm.id])
        model = posterior.interval(name, i)
        if raw and model.defined and abs(model.mean / raw - 1) > gap:
            widest, gap = (arm, raw, model.mean), abs(model.mean / raw - 1)
    if widest is None or gap < 0.02:
        return (
            "Raw and modelled figures agree closely: there is enough data for the noise "
            "to wash out."
        )
    arm, raw, model = widest
    fmt = ".2%" if trial.spec.primary_metric is PrimaryMetric.CONVERSION_RATE else ",.2f"
    why = (
        "the model pulls each arm toward its channel's and the trial's average in proportion "
        "to how little data the arm has, and lets daily rates wander, so a few lucky or "
        "unlucky days move it less"
        if posterior.method == "mcmc" and posterior.spec.pooling == "partial"
        else "the model adds a weak prior and, for ROAS and CPA, carries the uncertainty of "
        "each funnel stage"
    )
    return (
        f"{arm.name}: raw {raw:{fmt}} vs modelled {model:{fmt}} ({arm.spec.channel}, "
        f"{totals[arm.id].conversions} conversions): {why}."
    )


def _clean(x: float | None, digits: int = 4) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def stage_dict(weak: WeakStage | None) -> dict[str, Any] | None:
    """An arm's weakest stage as JSON."""
    if weak is None:
        return None
    return {
        "stage": weak.stage,
        "label": weak.label,
        "ratio_to_reference": _clean(weak.ratio),
        "p_below_reference": _clean(weak.p_below),
        "clear": weak.clear,
    }


def _progress_dict(decision: TrialDecision) -> dict[str, Any] | None:
    p = decision.progress
    if p is None:
        return None
    return {
        "days_median": p.days_median,
        "days_80": p.days_80,
        "reason": p.reason,
        "sentence": decision.progress_text,
    }


def decision_dict(trial: Trial, decision: TrialDecision) -> dict[str, Any]:
    """Per-arm fields ``analyze --json`` adds, keyed by arm id, and the allocation."""
    arms = {}
    for d in decision.arms:
        c = d.comparison
        arms[d.arm_id] = {
            "p_best": _clean(c.p_best) if c else None,
            "p_beat_control": _clean(c.p_beat_control) if c else None,
            "lift_vs_control": (
                {
                    "mean": _clean(c.lift_mean),
                    "hdi_low": _clean(c.lift_low),
                    "hdi_high": _clean(c.lift_high),
                }
                if c and c.lift_mean is not None
                else None
            ),
            "expected_loss": _clean(d.expected_loss),
            "expected_loss_unit": d.loss_unit or None,
            "p_roas_above_break_even": _clean(d.p_roas_above_break_even),
            "recommendation": d.recommendation,
            "recommendation_label": LABELS[d.recommendation],
            "reason": d.reason,
            "gates": [{"name": g.name, "passed": g.passed, "message": g.message} for g in d.gates],
        }
    out: dict[str, Any] = {
        "arms": arms,
        "decision": {
            "metric": decision.metric,
            "leader": next((a.name for a in trial.arms if a.id == decision.leader), None),
            "rule_met": decision.rule_met,
            "gates": [
                {"name": g.name, "passed": g.passed, "message": g.message} for g in decision.gates
            ],
            "verdict": decision.verdict,
            "verdict_label": VERDICT_LABELS[decision.verdict],
            "reason": decision.reason,
            "rule": decision.rule.as_dict(),
            "winner_threshold": _clean(decision.winner_threshold),
            "information": _clean(decision.information),
            "p_best_mc_error": _clean(decision.p_best_error, 5),
            "settled": decision.settled,
            "margin": _clean(decision.margin, 5),
            "draws_used": decision.draws_used,
            "close_calls": [
                {
                    "quantity": c.quantity,
                    "arm": trial.arms[c.arm].name if c.arm is not None else None,
                    "value": _clean(c.value, 5),
                    "mc_error": _clean(c.error, 5),
                    "bar": _clean(c.bar, 5),
                }
                for c in decision.close_calls
            ],
            "progress": _progress_dict(decision),
        },
    }
    a = decision.allocation
    if a is not None:
        names = {arm.id: arm for arm in trial.arms}
        out["allocation"] = {
            "arms": [
                {
                    "channel": names[arm_id].spec.channel,
                    "creative": names[arm_id].spec.creative,
                    "budget": budget,
                    "expected_revenue": round(rev, 2),
                    "current_budget": now,
                    "cap": None if cap is None else round(cap, 2),
                    "floor": round(floor, 2),
                }
                for arm_id, budget, rev, now, cap, floor in zip(
                    decision.allocated_arms,
                    a.budgets,
                    a.expected_revenue,
                    a.current_budgets,
                    a.caps,
                    a.floors,
                    strict=True,
                )
            ],
            "total_budget": round(sum(a.budgets), 2),
            "expected_revenue": round(a.total_expected_revenue, 2),
            "expected_profit": round(a.expected_profit, 2),
            "p_loss": round(a.p_loss, 4),
            "current_expected_revenue": round(a.current_expected_revenue, 2),
            "current_expected_profit": round(a.current_expected_profit, 2),
            "current_p_loss": round(a.current_p_loss, 4),
            "risk": a.risk,
            "cvar_alpha": a.alpha,
            "offered_budget": round(a.budget, 2),
            "unspent": round(a.unspent, 2),
            "notes": split_notes(trial, a, decision.allocated_arms),
        }
    return out
