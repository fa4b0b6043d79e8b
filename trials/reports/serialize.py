"""Plain-dict views of trials for JSON output and exports. Field names here are a public
interface (the CLI's ``--json``): add fields, never rename them."""

from __future__ import annotations

from typing import Any

from trials.domain import ArmTotals, Trial, TrialSummary

__all__ = ["summary_dict", "trial_dict"]


def trial_dict(
    trial: Trial,
    totals: dict[int, ArmTotals] | None = None,
    order_totals: dict[int, ArmTotals] | None = None,
) -> dict[str, Any]:
    """A trial as JSON. ``totals`` are the channels' reported numbers per arm;
    ``order_totals``, when the trial has own orders, the conversions and revenue they credit
    to each arm (``order_totals`` is then added to every arm)."""
    spec = trial.spec
    totals = totals or {}
    shares = spec.planned_shares()
    return {
        "id": trial.id,
        "name": spec.name,
        "hypothesis": spec.hypothesis,
        "primary_metric": spec.primary_metric.value,
        "break_even_roas": spec.break_even_roas,
        "gross_margin": spec.gross_margin,
        "currency": spec.currency,
        "start": spec.start.isoformat(),
        "end": spec.end.isoformat(),
        "budget": spec.budget,
        "status": spec.status.value,
        "is_demo": spec.is_demo,
        "decision_rule": spec.decision_rule.as_dict(),
        "rule_version": trial.rule_version,
        "attribution_rule": spec.attribution_rule.value,
        "results_source": spec.results_source.value,
        "created_at": trial.created_at.isoformat(),
        "created_by": trial.created_by,
        "updated_at": trial.updated_at.isoformat(),
        "updated_by": trial.updated_by,
        "arms": [
            {
                "id": arm.id,
                "name": arm.name,
                "channel": arm.spec.channel,
                "creative": arm.spec.creative,
                "control": arm.spec.control,
                "budget_share": arm.spec.budget_share,
                "planned_share": round(share, 6),
                "totals": totals.get(arm.id, ArmTotals()).as_dict(),
                **(
                    {"order_totals": order_totals.get(arm.id, ArmTotals()).as_dict()}
                    if order_totals
                    else {}
                ),
            }
            for arm, share in zip(trial.arms, shares, strict=True)
        ],
    }


def summary_dict(summary: TrialSummary) -> dict[str, Any]:
    spec = summary.trial.spec
    return {
        "id": summary.trial.id,
        "name": spec.name,
        "status": spec.status.value,
        "primary_metric": spec.primary_metric.value,
        "currency": spec.currency,
        "start": spec.start.isoformat(),
        "end": spec.end.isoformat(),
        "arms": len(summary.trial.arms),
        "days_with_data": summary.days_with_data,
        "spend": summary.spend,
        "budget": spec.budget,
        "last_data_date": summary.last_data_date.isoformat() if summary.last_data_date else None,
        "is_demo": spec.is_demo,
    }
