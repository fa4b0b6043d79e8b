"""The exact preview as a trial's analysis: figures only, never a verdict.

The exact path (``inference.funnel.conjugate``) gives exact answers for a simpler model: each arm
on its own, every day alike. Real daily data vary more than that, so its intervals are too
narrow and its chances too sure (identical arms would be called different far too often).
It is shown while the full model fits and is labelled a preview; nothing acts on it:

* its verdict is ``preview`` and every arm's recommendation ``preview`` (no scale, stop or
  keep testing), with P(best), P(beats the control) and P(ROAS above break-even) exact;
* ``decide --method exact`` refuses and records nothing; reports and budget splits need
  the full model (``refuse_preview``).
"""

from __future__ import annotations

import math

from inference.decisions import ArmComparison
from trials.analysis.decisions import ArmDecision, TrialDecision, metric_name
from trials.domain import PrimaryMetric, Trial, UserError

__all__ = ["PREVIEW_NOTE", "is_preview", "preview_decision", "refuse_preview"]

PREVIEW_NOTE = (
    "Preview — not the verdict: exact figures for a simpler model (each arm on its own, "
    "every day alike), so its intervals are too narrow and its chances too sure. The "
    "verdict, recommendations, budget split, reports and recorded decisions come from the "
    "full model only."
)


def is_preview(posterior) -> bool:
    return posterior.method == "exact"


def refuse_preview(posterior, what: str) -> None:
    """Raise ``UserError`` when ``posterior`` is the exact preview: ``what`` needs the
    full model."""
    if is_preview(posterior):
        raise UserError(
            f"{what} needs the full model; the exact path is a preview, not the verdict "
            "(run it without --method exact)"
        )


def preview_decision(trial: Trial, data, spec, seed: int = 0):
    """The exact posterior and a neutral decision carrying its exact chances."""
    from inference.funnel.conjugate import exact_comparison

    metric = trial.spec.primary_metric
    control = next((i for i, a in enumerate(trial.arms) if a.spec.control), None)
    posterior, comparison = exact_comparison(
        data.funnel,
        spec,
        metric=metric_name(metric),
        higher_is_better=metric is not PrimaryMetric.CPA,
        control=control,
        break_even=trial.spec.break_even_roas,
        seed=seed,
    )
    arms = []
    for i, arm in enumerate(trial.arms):
        p_best = comparison.p_best[i]
        chances = None
        if p_best is not None:
            chances = ArmComparison(
                p_best=p_best,
                p_beat_control=comparison.p_beat_control[i],
                lift_mean=None,
                lift_low=None,
                lift_high=None,
                expected_loss=math.nan,
                relative_loss=math.nan,
            )
        arms.append(
            ArmDecision(
                arm_id=arm.id,
                name=arm.name,
                comparison=chances,
                expected_loss=None,
                loss_unit="",
                p_roas_above_break_even=comparison.p_above_break_even[i],
                recommendation="preview",
                reason=f"{arm.name}: preview figures only; the full model recommends.",
                gates=(),
            )
        )
    defined = [(p, i) for i, p in enumerate(comparison.p_best) if p is not None]
    leader = trial.arms[max(defined)[1]].id if defined else None
    decision = TrialDecision(
        metric=metric.value,
        arms=tuple(arms),
        gates=(),
        leader=leader,
        rule_met=False,
        verdict="preview",
        reason=PREVIEW_NOTE,
        rule=trial.spec.decision_rule,
    )
    return posterior, decision
