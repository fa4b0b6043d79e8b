"""A trial's recommendation per arm, from its posterior and its pre-registered rule.

Before any ``scale``: the minimum days and conversions per arm (the trial's rule), a
reliable fit, spend delivered roughly as planned, and no sudden jump in cost per click.
Then, on the trial's primary metric:

* ``scale`` — the arm leads clearly (P(best) at the rule's threshold, or choosing it
  costs less than the rule's expected-loss share) and returns above break-even with at
  least ``PROFIT_CONFIDENCE``;
* ``stop`` — the rule is met for another arm and this one is clearly behind;
* ``fix_creative`` / ``fix_landing`` — clearly behind, with the gap in one funnel stage:
  the click-through rate (the ad itself) or the conversion after the click (the landing
  page and offer), while the other stage holds up;
* ``keep_testing`` — anything short of that, with the days the rule likely still needs.

Every recommendation carries one sentence with its numbers.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

import numpy as np

from inference.decisions import (
    Allocation,
    ArmComparison,
    allocate,
    compare_arms,
    winner_threshold,
)
from inference.planning import DecisionProgress
from trials.domain import ArmTotals, DailyResult, PrimaryMetric, Trial

__all__ = [
    "ArmDecision",
    "Gate",
    "TrialDecision",
    "cpc_jumps",
    "decide",
    "decision_dict",
    "delivery_gaps",
    "raw_estimate",
    "raw_vs_model_sentence",
]

RECOMMENDATIONS = ("scale", "keep_testing", "stop", "fix_creative", "fix_landing")
PROFIT_CONFIDENCE = 0.8  # P(ROAS > break-even) an arm needs before it is scaled
STAGE_CONFIDENCE = 0.9  # P(stage worse than the leader's) that names the weak stage
DELIVERY_TOLERANCE = 0.10  # absolute gap between actual and planned spend share
CPC_JUMP = 2.0  # a day's cost per click this many times (or 1/this) the days before
CPC_WINDOW = 5

_METRIC = {
    PrimaryMetric.CONVERSION_RATE: ("cvr", True),
    PrimaryMetric.ROAS: ("roas", True),
    PrimaryMetric.CPA: ("cpa", False),
}


@dataclass(frozen=True)
class Gate:
    name: str  # min_days, min_conversions, reliable_fit, delivery, cpc_stable
    passed: bool
    message: str


@dataclass(frozen=True)
class ArmDecision:
    arm_id: int
    name: str
    comparison: ArmComparison | None  # None when the metric is undefined for the arm
    expected_loss: float | None  # in ``loss_unit``
    loss_unit: str
    p_roas_above_break_even: float | None
    recommendation: str
    reason: str
    gates: tuple[Gate, ...]


@dataclass(frozen=True)
class TrialDecision:
    metric: str
    arms: tuple[ArmDecision, ...]
    gates: tuple[Gate, ...]  # trial-wide
    leader: int | None  # arm id
    rule_met: bool
    allocation: Allocation | None = None
    allocated_arms: tuple[int, ...] = ()  # arm ids the allocation covers, in order


# -- health gates ---------------------------------------------------------------------------


def delivery_gaps(trial: Trial, totals: dict[int, ArmTotals]) -> dict[int, str]:
    """Arms whose share of spend so far strays from the plan by more than 10 points."""
    spent = sum(t.spend for t in totals.values())
    if spent <= 0:
        return {}
    out = {}
    for arm, planned in zip(trial.arms, trial.spec.planned_shares(), strict=True):
        actual = totals[arm.id].spend / spent
        if abs(actual - planned) > DELIVERY_TOLERANCE:
            out[arm.id] = (
                f"spend share {actual:.0%} against {planned:.0%} planned; the platform "
                "delivered this arm unevenly"
            )
    return out


def cpc_jumps(trial: Trial, daily: list[DailyResult]) -> dict[int, str]:
    """Arms whose cost per click jumped (x2 or /2) against the median of the days before."""
    out = {}
    for arm in trial.arms:
        rows = sorted(
            (r for r in daily if r.arm_id == arm.id and r.clicks > 0), key=lambda r: r.day
        )
        cpc = [r.spend / r.clicks for r in rows]
        for t in range(CPC_WINDOW, len(rows)):
            before = statistics.median(cpc[t - CPC_WINDOW : t])
            if before > 0 and not 1 / CPC_JUMP < cpc[t] / before < CPC_JUMP:
                out[arm.id] = (
                    f"cost per click jumped to {cpc[t]:.2f} on {rows[t].day} from about "
                    f"{before:.2f}; check for a bid, audience or tracking change"
                )
                break
    return out


# -- the decision ---------------------------------------------------------------------------


def _loss(draws: np.ndarray, metric: PrimaryMetric, comparison: ArmComparison, i: int):
    if metric is PrimaryMetric.ROAS:
        return comparison.expected_loss * 1000, "revenue per 1,000 spent"
    if metric is PrimaryMetric.CPA:
        best = draws.min(axis=1)
        return float((1000 * (1 - best / draws[:, i])).mean()), "spend per 1,000 spent"
    return comparison.expected_loss * 1000, "conversions per 1,000 clicks"


def _headline(
    metric: PrimaryMetric, name: str, mean: float, low: float, high: float, cur: str
) -> str:
    if metric is PrimaryMetric.ROAS:
        return f"{name} returns {mean:.2f} per 1 spent (94% HDI {low:.2f}–{high:.2f})"
    if metric is PrimaryMetric.CPA:
        return f"{name} costs {mean:,.2f} {cur} per conversion (94% HDI {low:,.2f}–{high:,.2f})"
    return f"{name} converts {mean:.2%} of clicks (94% HDI {low:.2%}–{high:.2%})"


def _progress_text(progress: DecisionProgress | None, trial: Trial) -> str:
    rule = trial.spec.decision_rule
    if progress is None or progress.reason or progress.reached:
        return ""
    if progress.days_80 is not None:
        return (
            f" About {progress.days_80} more days at today's budget reach the "
            f"{rule.probability_threshold:.0%} rule with 80% probability."
        )
    if progress.days_median is not None:
        return (
            f" About {progress.days_median} more days at today's budget reach the rule with "
            "50% probability."
        )
    return " At today's budget the rule is unlikely to be met within 60 days."


def decide(
    trial: Trial,
    posterior,
    totals: dict[int, ArmTotals],
    daily: list[DailyResult],
    progress: DecisionProgress | None = None,
    *,
    budget: float | None = None,
    low: float = 0.0,
    high: float | None = None,
    risk: float = 0.5,
    seed: int = 0,
) -> TrialDecision:
    """Recommend per arm; with ``budget``, also split the next round's budget.

    ``totals`` are per arm from the source the models read (conversions count for the
    minimum); ``daily`` the channels' daily rows (for cost-per-click jumps).
    """
    spec = trial.spec
    rule = spec.decision_rule
    metric = spec.primary_metric
    name_of, higher = _METRIC[metric]
    draws_all = posterior.draws[name_of]
    defined = [
        i
        for i in range(len(trial.arms))
        if np.isfinite(draws_all[:, i]).all() and i not in posterior.undefined.get(name_of, {})
    ]
    arm_ids = [a.id for a in trial.arms]
    control = next((i for i, a in enumerate(trial.arms) if a.spec.control), None)
    days = min((totals[a].days for a in arm_ids), default=0)
    trial_gates = (
        Gate(
            "min_days",
            days >= rule.min_days,
            f"{days} of the {rule.min_days} days the rule asks for"
            if days < rule.min_days
            else f"{days} days of data (the rule asks for {rule.min_days})",
        ),
        Gate(
            "reliable_fit",
            posterior.diagnostics.reliable,
            "the model fit is reliable"
            if posterior.diagnostics.reliable
            else "the model fit is unreliable: " + "; ".join(posterior.diagnostics.reasons),
        ),
    )
    comparisons: dict[int, ArmComparison] = {}
    if len(defined) >= 2:
        sub = draws_all[:, defined]
        local_control = defined.index(control) if control in defined else None
        for j, comp in enumerate(
            compare_arms(
                sub,
                higher_is_better=higher,
                control=local_control,
                hdi_prob=posterior.spec.hdi_prob,
            )
        ):
            comparisons[defined[j]] = comp
    leader = max(comparisons, key=lambda i: comparisons[i].p_best) if comparisons else None
    leader_comp = comparisons.get(leader) if leader is not None else None
    # A winner clears the threshold guarded over arms; "equal" means choosing the leader
    # costs less than the rule's loss share, so no arm is worth scaling over another.
    winner = winner_threshold(rule.probability_threshold, len(comparisons))
    decisive = leader_comp is not None and leader_comp.p_best >= winner
    equal = (
        leader_comp.relative_loss
        if leader_comp is not None
        and not decisive
        and leader_comp.relative_loss <= rule.expected_loss_threshold
        else None
    )
    gates_ok = all(g.passed for g in trial_gates)
    verdict = _Verdict(trial, posterior, progress, leader, winner, decisive, equal)
    roas = posterior.draws["roas"]
    delivery = delivery_gaps(trial, totals)
    jumps = cpc_jumps(trial, daily)
    decisions = []
    for i, arm in enumerate(trial.arms):
        t = totals[arm.id]
        gates = (
            Gate(
                "min_conversions",
                t.conversions >= rule.min_conversions_per_arm,
                f"{t.conversions} of the {rule.min_conversions_per_arm} conversions "
                "the rule asks for"
                if t.conversions < rule.min_conversions_per_arm
                else f"{t.conversions} conversions (the rule asks for "
                f"{rule.min_conversions_per_arm})",
            ),
            Gate(
                "delivery", arm.id not in delivery, delivery.get(arm.id, "spend share as planned")
            ),
            Gate("cpc_stable", arm.id not in jumps, jumps.get(arm.id, "cost per click steady")),
        )
        p_profit = (
            float((roas[:, i] > spec.break_even_roas).mean())
            if np.isfinite(roas[:, i]).all() and i not in posterior.undefined.get("roas", {})
            else None
        )
        comp = comparisons.get(i)
        if comp is None:
            reason = posterior.undefined.get(name_of, {}).get(i) or "not enough data yet"
            decisions.append(
                ArmDecision(
                    arm.id,
                    arm.name,
                    None,
                    None,
                    "",
                    p_profit,
                    "keep_testing",
                    f"{arm.name}: no estimate yet ({reason}). Keep testing.",
                    gates,
                )
            )
            continue
        loss, unit = _loss(draws_all[:, defined], metric, comp, defined.index(i))
        interval = posterior.interval(name_of, i)
        sentence = _headline(
            metric, arm.name, interval.mean, interval.low, interval.high, spec.currency
        )
        if comp.p_beat_control is not None:
            sentence += f"; {comp.p_beat_control:.0%} chance it beats {trial.arms[control].name}"
        else:
            sentence += f"; {comp.p_best:.0%} chance it is the best arm"
        sentence += f"; expected loss if wrong {loss:,.2f} {unit}."
        blocking = [g for g in (*trial_gates, gates[0]) if not g.passed]
        recommendation, why = _recommend(verdict, i, comp, blocking, gates, p_profit)
        decisions.append(
            ArmDecision(
                arm.id,
                arm.name,
                comp,
                loss,
                unit,
                p_profit,
                recommendation,
                f"{sentence} {why}",
                gates,
            )
        )
    allocation, allocated = None, ()
    if budget is not None:
        allocation, allocated = _allocation(trial, posterior, totals, budget, low, high, risk, seed)
    return TrialDecision(
        metric=metric.value,
        arms=tuple(decisions),
        gates=trial_gates,
        leader=trial.arms[leader].id if leader is not None else None,
        rule_met=bool(
            decisive
            and gates_ok
            and all(totals[a].conversions >= rule.min_conversions_per_arm for a in arm_ids)
        ),
        allocation=allocation,
        allocated_arms=allocated,
    )


@dataclass(frozen=True)
class _Verdict:
    """What the trial as a whole says, for judging each arm."""

    trial: Trial
    posterior: Any
    progress: DecisionProgress | None
    leader: int | None  # arm index
    winner: float  # the P(best) a winner needs
    decisive: bool  # the leader clears ``winner``
    equal: float | None  # the leader's relative loss when the arms are practically equal


def _recommend(verdict: _Verdict, i, comp, blocking, gates, p_profit) -> tuple[str, str]:
    trial, posterior, progress = verdict.trial, verdict.posterior, verdict.progress
    spec, leader, decisive, equal, winner = (
        trial.spec,
        verdict.leader,
        verdict.decisive,
        verdict.equal,
        verdict.winner,
    )
    if blocking:
        return "keep_testing", "Keep testing: " + "; ".join(
            g.message for g in blocking
        ) + "." + _progress_text(progress, trial)
    if i == leader and decisive:
        flags = [g for g in gates[1:] if not g.passed]
        if flags:
            return "keep_testing", "Leads, but check before scaling: " + "; ".join(
                g.message for g in flags
            ) + "."
        if p_profit is None or p_profit >= PROFIT_CONFIDENCE:
            above = (
                ""
                if p_profit is None
                else f", above break-even {spec.break_even_roas:g} with {p_profit:.0%} probability"
            )
            return "scale", f"Scale: it leads with {comp.p_best:.0%}{above}."
        stage = _weak_stage(posterior, i, None)
        return stage or "stop", (
            f"It leads, but returns above break-even {spec.break_even_roas:g} with only "
            f"{p_profit:.0%} probability: "
            + ("improve it before spending more." if stage else "stop rather than scale it.")
        )
    if equal is not None:
        return "keep_testing", (
            "No winner to scale: the arms are practically equal (choosing the leader "
            f"costs at most {equal:.1%} of its value). Keep today's split, or "
            "end the trial and test a bolder change."
        )
    if decisive and comp.p_best < 1 - winner:
        stage = (
            _weak_stage(posterior, i, leader)
            if spec.primary_metric is not PrimaryMetric.CONVERSION_RATE
            else None
        )
        leader_name = trial.arms[leader].name
        if stage == "fix_creative":
            return (
                stage,
                f"Fix the creative: its click-through rate trails {leader_name}'s while "
                "conversion after the click holds up.",
            )
        if stage == "fix_landing":
            return (
                stage,
                f"Fix the landing page or offer: its conversion after the click trails "
                f"{leader_name}'s while its click-through rate holds up.",
            )
        return "stop", f"Stop: {comp.p_best:.1%} chance of being the best; {leader_name} leads."
    return "keep_testing", (
        f"Keep testing: no arm is clearly ahead yet (a winner needs {winner:.1%} to be best)."
        + _progress_text(progress, trial)
    )


def _weak_stage(posterior, i: int, leader: int | None) -> str | None:
    """``fix_creative`` or ``fix_landing`` when one funnel stage alone holds arm ``i`` back.

    Against the leader when given, else against the best other arm on each stage.
    """
    ctr, cvr = posterior.draws["ctr"], posterior.draws["cvr"]
    if not (np.isfinite(ctr[:, i]).all() and np.isfinite(cvr[:, i]).all()):
        return None
    others = [
        j
        for j in range(ctr.shape[1])
        if j != i and np.isfinite(ctr[:, j]).all() and np.isfinite(cvr[:, j]).all()
    ]
    if not others:
        return None
    ref = leader if leader is not None else others
    ctr_ref = ctr[:, ref] if leader is not None else ctr[:, others].max(axis=1)
    cvr_ref = cvr[:, ref] if leader is not None else cvr[:, others].max(axis=1)
    ctr_worse = float((ctr[:, i] < ctr_ref).mean())
    cvr_worse = float((cvr[:, i] < cvr_ref).mean())
    if ctr_worse >= STAGE_CONFIDENCE and cvr_worse < STAGE_CONFIDENCE:
        return "fix_creative"
    if cvr_worse >= STAGE_CONFIDENCE and ctr_worse < STAGE_CONFIDENCE:
        return "fix_landing"
    return None


def _allocation(trial, posterior, totals, budget, low, high, risk, seed):
    roas = posterior.draws["roas"]
    usable = [
        i
        for i in range(len(trial.arms))
        if np.isfinite(roas[:, i]).all() and i not in posterior.undefined.get("roas", {})
    ]
    if not usable:
        return None, ()
    current = [max(totals[trial.arms[i].id].spend, 0.0) for i in usable]
    result = allocate(
        roas[:, usable],
        budget,
        break_even=trial.spec.break_even_roas,
        low=low,
        high=high,
        current=current if sum(current) > 0 else None,
        risk=risk,
        seed=seed,
    )
    return result, tuple(trial.arms[i].id for i in usable)


def raw_estimate(metric: PrimaryMetric, t: ArmTotals) -> float | None:
    """The metric straight from the totals, before any modelling (None when undefined)."""
    if metric is PrimaryMetric.ROAS:
        return t.revenue / t.spend if t.spend else None
    if metric is PrimaryMetric.CPA:
        return t.spend / t.conversions if t.conversions else None
    return t.conversions / t.clicks if t.clicks else None


def raw_vs_model_sentence(trial: Trial, posterior, totals: dict[int, ArmTotals]) -> str:
    """One plain sentence on why the raw and the modelled figures differ most for one arm."""
    name, _ = _METRIC[trial.spec.primary_metric]
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
                }
                for arm_id, budget, rev, now in zip(
                    decision.allocated_arms,
                    a.budgets,
                    a.expected_revenue,
                    a.current_budgets,
                    strict=True,
                )
            ],
            "total_budget": round(sum(a.budgets), 2),
            "expected_revenue": round(a.total_expected_revenue, 2),
            "expected_profit": round(a.expected_profit, 2),
            "p_loss": round(a.p_loss, 4),
            "current_expected_revenue": round(a.current_expected_revenue, 2),
            "current_p_loss": round(a.current_p_loss, 4),
            "risk": a.risk,
            "cvar_alpha": a.alpha,
        }
    return out
