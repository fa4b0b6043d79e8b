"""The public JSON: every field the CLI's ``--json``, the reports and the decision log
write, in one place.

Field names here are a product interface: add fields, never rename them
(``tests/trials/reports/test_json_contract.py`` holds every command's fields against a snapshot).
The functions read the analysis layer's results by their fields; those types are named
for the type checker only, so this module imports nothing above the domain.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from trials import APP_VERSION
from trials.domain import ArmTotals, ResultSource, Trial, TrialSummary, UserError
from trials.domain.accounts import AccountEvent, Membership, Role, User, Workspace
from trials.domain.amendments import Amendment, amendment_lines
from trials.domain.imports import ImportBatch, UtmRule
from trials.domain.priors import TrialPriors
from trials.domain.reconciliation import ArmReconciliation, Reconciliation
from trials.domain.rounds import Round
from trials.domain.scale_plans import ScalePlan
from trials.domain.sources import ArmEffect, OrdersEffect, SourceSummary, sums
from trials.domain.verdicts import LABELS, VERDICT_LABELS, DecisionEntry, raw_estimate

if TYPE_CHECKING:
    from inference.planning.plan import Plan
    from inference.priors.backtest import Backtest
    from trials.analysis.decisions import ArmDecision, Gate, TrialDecision
    from trials.analysis.goal import GoalResult
    from trials.analysis.history import TrialHistory
    from trials.analysis.portfolio import Portfolio, PortfolioRow
    from trials.analysis.priors import WorkspacePriors
    from trials.analysis.result import TrialAnalysis
    from trials.analysis.rounds import RoundComparison
    from trials.analysis.scale_plan import ScaleTracking
    from trials.analysis.segments import GroupedResults
    from trials.analysis.stages import WeakStage
    from trials.ingest.daily import ImportPreview
    from trials.ingest.orders import OrdersPreview
    from trials.ingest.reading import RowProblem

__all__ = [
    "ANALYSED_METRICS",
    "account_event_dict",
    "amendment_dict",
    "analysis_dict",
    "arm_effect_dict",
    "arm_reconciliation_dict",
    "batch_dict",
    "decision_dict",
    "entry_dict",
    "evidence_snapshot",
    "goal_plan_dict",
    "grouped_dict",
    "history_dict",
    "import_preview_dict",
    "member_dict",
    "orders_effect_dict",
    "orders_preview_dict",
    "plan_dict",
    "portfolio_dict",
    "priors_dict",
    "reconciliation_dict",
    "round_comparison_dict",
    "round_dict",
    "scale_plan_dict",
    "scale_tracking_dict",
    "source_summary_dict",
    "stage_dict",
    "summary_dict",
    "trial_dict",
    "trial_priors_dict",
    "user_dict",
    "utm_rule_dict",
    "workspace_dict",
]

ANALYSED_METRICS = ("ctr", "cvr", "revenue_per_conversion", "roas", "cpa")


# -- trials --------------------------------------------------------------------------------


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
        "round": trial.round_number,
        "rounds": [round_dict(trial, r) for r in trial.rounds],
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


def batch_dict(batch: ImportBatch) -> dict[str, Any]:
    """One import batch (``imports --json``)."""
    return {
        "import": batch.id,
        "kind": batch.kind,
        "file": batch.file_name,
        "digest": batch.digest,
        "rows": batch.row_count,
        "status": batch.status,
        "created_at": batch.created_at.isoformat(),
        "created_by": batch.created_by,
        "undone_at": batch.undone_at.isoformat() if batch.undone_at else None,
        "undone_by": batch.undone_by,
        "details": batch.details,
    }


def utm_rule_dict(trial: Trial, rule: UtmRule) -> dict[str, Any]:
    """A UTM rule (``utm --json``): its values (blank: any) and the arm it sends orders to."""
    return {
        "utm_source": rule.utm_source,
        "utm_medium": rule.utm_medium,
        "utm_campaign": rule.utm_campaign,
        "utm_content": rule.utm_content,
        "arm": trial.arm(rule.arm_id).name,
    }


# -- the analysis ---------------------------------------------------------------------------


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
    out: dict[str, Any] = {
        "arms": {d.arm_id: _arm_decision_dict(d) for d in decision.arms},
        "decision": _verdict_dict(trial, decision),
    }
    if decision.allocation is not None:
        out["allocation"] = _allocation_dict(trial, decision)
    return out


def _gate_dict(g: Gate) -> dict[str, Any]:
    return {"name": g.name, "passed": g.passed, "message": g.message}


def _arm_decision_dict(d: ArmDecision) -> dict[str, Any]:
    """One arm's comparison, expected loss, recommendation and gates."""
    c = d.comparison
    return {
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
        "gates": [_gate_dict(g) for g in d.gates],
    }


def _verdict_dict(trial: Trial, decision: TrialDecision) -> dict[str, Any]:
    """The trial's verdict, the rule it was judged by, its settling and progress."""
    return {
        "metric": decision.metric,
        "leader": next((a.name for a in trial.arms if a.id == decision.leader), None),
        "rule_met": decision.rule_met,
        "gates": [_gate_dict(g) for g in decision.gates],
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
    }


def _allocation_dict(trial: Trial, decision: TrialDecision) -> dict[str, Any]:
    """The next round's split (``decision.allocation``, not None) beside today's."""
    a = decision.allocation
    names = {arm.id: arm for arm in trial.arms}
    return {
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
        "notes": list(decision.allocation_notes),
    }


def analysis_dict(analysis: TrialAnalysis) -> dict[str, Any]:
    """The analysis as JSON-ready data (``python -m trials analyze --json``): per arm its
    totals, each metric's mean and HDI, the decision fields; the verdict and the rule."""
    trial, posterior, decision = analysis.trial, analysis.posterior, analysis.decision
    extra = decision_dict(trial, decision)
    arms = []
    for i, arm in enumerate(trial.arms):
        d = analysis.arm_decision(arm.id)
        row = {
            "channel": arm.spec.channel,
            "creative": arm.spec.creative,
            "control": arm.spec.control,
            "totals": analysis.totals[arm.id].as_dict(),
            **{m: posterior.interval(m, i).as_dict() for m in ANALYSED_METRICS},
            **extra["arms"][arm.id],
            "raw_estimate": raw_estimate(trial.spec.primary_metric, analysis.totals[arm.id]),
            "weakest_stage": stage_dict(d.weak_stage),
        }
        if analysis.data.source is ResultSource.ORDERS:
            row["channel_totals"] = analysis.data.channel_totals[arm.id].as_dict()
        if analysis.curves is not None:
            row["response_curve"] = analysis.curves[arm.id].as_dict()
        arms.append(row)
    out = {
        "trial": trial.name,
        "method": posterior.method,
        # The exact path is a preview: its verdict and recommendations read "preview".
        "preview": decision.verdict == "preview",
        # The exact path is always unpooled and binomial, whatever the spec asked for.
        "pooling": posterior.spec.pooling if posterior.method == "mcmc" else "none",
        "overdispersion": posterior.spec.overdispersion and posterior.method == "mcmc",
        "hdi_prob": posterior.spec.hdi_prob,
        "seed": posterior.seed,
        "data_digest": posterior.data_digest,
        "arms": arms,
        "diagnostics": posterior.diagnostics.as_dict(),
        "notes": list(posterior.notes),
        "seconds": round(posterior.seconds, 3),
        "raw_vs_model": analysis.raw_vs_model,
        "currency": trial.spec.currency,
        "round": trial.round_number,
        "round_start": trial.spec.start.isoformat(),
        "round_end": trial.spec.end.isoformat(),
        "rounds": trial.current_round,
        "results_source": analysis.data.source.value,
        "source": source_summary_dict(analysis.data.summary),
        "decision": extra["decision"] | {"rule_version": trial.rule_version},
        "amendments": [
            amendment_dict(a) | {"sentence": line}
            for a, line in zip(
                analysis.data.amendments, amendment_lines(analysis.data.amendments), strict=True
            )
        ],
    }
    if "allocation" in extra:
        out["allocation"] = extra["allocation"]
    if out["preview"]:
        out["preview_note"] = decision.reason
    return out


# -- rounds --------------------------------------------------------------------------------


def round_dict(trial: Trial, r: Round) -> dict[str, Any]:
    """One round of a trial: its dates, budget, rule, arms and what changed as it began."""
    names = {a.id: a.name for a in trial.all_arms}
    return {
        "number": r.number,
        "start": r.start.isoformat(),
        "end": r.end.isoformat(),
        "budget": r.budget,
        "decision_rule": r.decision_rule.as_dict(),
        "arms": [names[i] for i in r.arm_ids],
        "replaced": [{"before": names[old], "after": names[new]} for old, new in r.replaced],
        "added": [names[i] for i in r.added],
        "dropped": [names[i] for i in r.dropped],
        "reason": r.reason,
        "starts_from_previous_posterior": r.carry_prior,
        "created_at": r.created_at.isoformat() if r.created_at else None,
        "created_by": r.created_by,
    }


def round_comparison_dict(comparison: RoundComparison) -> dict[str, Any]:
    """``python -m trials compare-rounds --json``: per arm and stage, the change's posterior."""

    def interval(x) -> dict[str, Any]:
        return x.as_dict()

    return {
        "trial": comparison.trial.name,
        "before": comparison.before,
        "after": comparison.after,
        "method": comparison.method,
        "hdi_prob": comparison.hdi_prob,
        "currency": comparison.trial.spec.currency,
        "arms": [
            {
                "before": arm.before_name,
                "after": arm.after_name,
                "kind": arm.kind,
                "stages": [
                    {
                        "stage": s.stage,
                        "before": interval(s.before),
                        "after": interval(s.after),
                        "change": interval(s.change),
                        "p_improved": _clean(s.p_improved),
                        **({"reason": s.reason} if s.reason else {}),
                    }
                    for s in arm.stages
                ],
            }
            for arm in comparison.arms
        ],
        "added": list(comparison.added),
        "dropped": list(comparison.dropped),
        "notes": list(comparison.notes),
    }


# -- plans and the decision log ----------------------------------------------------------


def grouped_dict(result: GroupedResults) -> dict[str, Any]:
    """``segments TRIAL --json``: per arm × segment (or × ISO week) the raw totals and the
    pooled ROAS, CPA and CVR (``{mean, hdi_low, hdi_high}``, with a ``reason`` where the
    data cannot say yet); money in the trial's one ``currency``."""
    by_week = result.by == "week"
    return {
        "trial": result.trial.name,
        "by": result.by,
        "method": result.method,
        "currency": result.currency,
        "hdi_prob": result.hdi_prob,
        "seed": result.seed,
        "seconds": round(result.seconds, 3),
        "has_segments": result.has_segments,
        "notes": list(result.notes),
        "diagnostics": result.diagnostics.as_dict() if result.diagnostics else None,
        "units": [
            {
                "arm": u.arm,
                "channel": result.trial.arm(u.arm_id).spec.channel,
                "creative": result.trial.arm(u.arm_id).spec.creative,
                "segment": None if by_week else u.group,
                "week": u.group if by_week else None,
                "week_start": u.week_start.isoformat() if u.week_start else None,
                "impressions": u.impressions,
                "clicks": u.clicks,
                "conversions": u.conversions,
                "spend": u.spend,
                "revenue": u.revenue,
                "days": u.days,
                "raw_roas": _clean(u.raw_roas),
                **{m: u.metrics[m].as_dict() for m in ("roas", "cpa", "cvr")},
            }
            for u in result.units
        ],
    }


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
                "equivalence_margin": i.rule.equivalence_margin,
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
        "classical_days": math.ceil(plan.classical_clicks_per_arm / i.trials_per_arm_per_day),
        "within_limits": plan.within_limits,
        "assurance_curve": [
            {
                "days": p.days,
                "clicks_per_arm": p.clicks_per_arm,
                "budget": p.budget,
                "assurance": p.assurance,
                "wrong_arm": p.wrong_arm,
                "p_winner": p.p_winner,
                "p_equal": p.p_equal,
            }
            for p in plan.curve
        ],
        "advice": [{"change": a.change, "days": a.days, "budget": a.budget} for a in plan.advice],
        "seed": plan.seed,
    }


def goal_plan_dict(result: GoalResult) -> dict[str, Any]:
    """A budget-by-goal plan as JSON-ready data (``plan --goal-conversions|--goal-revenue``):
    money in the one ``currency``; per probability the least total and daily spend and
    its split per arm and per channel, or why the goal is out of reach."""
    req, plan = result.request, result.plan

    def money(x: float | None) -> float | None:
        return None if x is None or not math.isfinite(x) else round(float(x), 2)

    plans = []
    sentences = result.sentences()
    for number, level in enumerate(plan.levels if plan is not None else ()):
        arms = []
        channels: dict[str, list[float]] = {}
        for n, arm in enumerate(result.arms):
            daily = level.arm_daily_spend[n] if level.reachable else None
            arms.append(
                {
                    "trial": arm.trial,
                    "channel": arm.channel,
                    "creative": arm.creative,
                    "basis": arm.basis,
                    "current_daily_spend": money(arm.current_daily_spend),
                    "daily_spend": money(daily),
                    "spend": money(None if daily is None else daily * req.days),
                    "expected_conversions": _clean(
                        level.expected_conversions[n] if level.reachable else None, 2
                    ),
                    "expected_revenue": money(
                        level.expected_revenue[n] if level.reachable else None
                    ),
                    "marginal_return": _clean(level.marginal[n] if level.reachable else None, 6),
                }
            )
            if daily is not None:
                channels.setdefault(arm.channel, []).append(daily)
        plans.append(
            {
                "probability": level.probability,
                "reachable": level.reachable,
                "unreachable_at_any_spend": level.at_any_spend,
                "total_spend": money(level.total_spend),
                "daily_spend": money(level.daily_spend),
                "p_reached": round(level.achieved, 4),
                "expected_conversions": _clean(
                    sum(level.expected_conversions) if level.reachable else None, 2
                ),
                "expected_revenue": money(sum(level.expected_revenue) if level.reachable else None),
                "sentence": sentences[number],
                "arms": arms,
                "channels": [
                    {
                        "channel": c,
                        "daily_spend": money(sum(d)),
                        "spend": money(sum(d) * req.days),
                    }
                    for c, d in channels.items()
                ],
            }
        )
    return {
        "goal": {
            "metric": req.metric,
            "target": req.target,
            "by": req.by.isoformat(),
            "from": req.start.isoformat(),
            "days": req.days,
        },
        "currency": result.currency,
        "trials": list(result.trials),
        "channels_asked": list(req.channels),
        "preview": result.preview,
        "split": "posterior-mean marginal return",
        "plans": plans,
        "p_reached_at_unlimited_spend": None if plan is None else round(plan.limit_probability, 4),
        "reason": result.reason,
        "assumptions": list(result.assumptions),
        "notes": list(result.notes),
        "draws": None if plan is None else plan.n_draws,
        "seed": req.seed,
    }


def evidence_snapshot(analysis: dict[str, Any]) -> dict[str, Any]:
    """The frozen evidence from an ``analyze``-shaped result (see ``trials.cli.main``); the
    exact preview is no evidence (UserError)."""
    if analysis.get("preview"):
        raise UserError("a decision needs the full model's evidence, not the exact preview")
    keep_arm = (
        "channel",
        "creative",
        "control",
        "totals",
        "ctr",
        "cvr",
        "revenue_per_conversion",
        "roas",
        "cpa",
        "p_best",
        "p_beat_control",
        "lift_vs_control",
        "expected_loss",
        "expected_loss_unit",
        "p_roas_above_break_even",
        "recommendation",
        "reason",
        "weakest_stage",
    )
    return {
        "app_version": APP_VERSION,
        "method": analysis.get("method"),
        "pooling": analysis.get("pooling"),
        "overdispersion": analysis.get("overdispersion"),
        "hdi_prob": analysis.get("hdi_prob"),
        "seed": analysis.get("seed"),
        "data_digest": analysis.get("data_digest"),
        "results_source": analysis.get("results_source"),
        "source": analysis.get("source"),
        "diagnostics": analysis.get("diagnostics"),
        "decision": analysis.get("decision"),  # the verdict and the rule it was judged by
        "arms": [{k: arm.get(k) for k in keep_arm} for arm in analysis.get("arms", [])],
    }


def entry_dict(entry: DecisionEntry) -> dict[str, Any]:
    """One log entry as JSON (``python -m trials decisions --json``)."""
    return {
        "id": entry.id,
        "created_at": entry.created_at.isoformat(),
        "created_by": entry.created_by,
        **entry.summary,
        "note": entry.note,
        "corrects": entry.corrects,
        "corrected_by": list(entry.corrected_by),
        "snapshot": entry.snapshot,
    }


# -- imports, own orders and amendments --------------------------------------------------


def import_preview_dict(preview: ImportPreview) -> dict[str, Any]:
    """A daily-results file read and planned (``import --json``)."""
    r = preview.reading
    out: dict[str, Any] = {
        "file": r.file_name,
        "digest": r.digest,
        "format": r.format_label,
        "preset": r.preset,
        "header_row": r.header_row,
        "mapping": r.columns.as_dict() if r.columns else {},
        "decimal": r.decimal,
        "date_order": r.date_order,
        "rows": len(r.rows),
        "skipped": [{"row": n, "reason": why} for n, why in r.skipped],
        "errors": [_problem_dict(p) for p in r.errors],
        "warnings": [_problem_dict(p) for p in r.warnings],
    }
    if preview.plan is not None:
        out["changes"] = preview.plan.counts()
        out["unknown_arms"] = [{"channel": c, "creative": k} for c, k in preview.plan.unknown_arms]
        out["changed_rows"] = [
            {
                "row": c.row.row,
                "arm": c.row.arm_name,
                "day": c.row.day.isoformat(),
                "before": _numbers(c.old),
                "after": _numbers(c.row),
            }
            for c in preview.plan.of("changed")
        ]
        same = preview.plan.same_file
        out["imported_before"] = (
            {"batch": same.id, "at": same.created_at.isoformat(), "by": same.created_by}
            if same
            else None
        )
    return out


def orders_preview_dict(preview: OrdersPreview) -> dict[str, Any]:
    """An orders file read and planned, and its effect (``orders --json``)."""
    r = preview.reading
    out: dict[str, Any] = {
        "file": r.file_name,
        "digest": r.digest,
        "format": r.format_label,
        "header_row": r.header_row,
        "mapping": r.columns.as_dict(),
        "orders": len(r.orders),
        "skipped": [{"row": n, "reason": why} for n, why in r.skipped],
        "errors": [_problem_dict(p) for p in r.errors],
        "warnings": [_problem_dict(p) for p in r.warnings],
    }
    if preview.plan is not None:
        out["changes"] = preview.plan.counts()
        out["changed_orders"] = [
            {
                "order_id": c.order.order_id,
                "row": c.order.row,
                "before": {"status": c.old.status.value, "amount": c.old.amount},
                "after": {"status": c.order.status.value, "amount": c.order.amount},
            }
            for c in preview.plan.of("changed")
        ]
    if preview.effect is not None:
        out["effect"] = orders_effect_dict(preview.effect)
    out["effect_warning"] = preview.effect_warning
    out["needs_confirmation"] = preview.needs_confirmation
    return out


def _problem_dict(p: RowProblem) -> dict[str, Any]:
    return {"row": p.row, "column": p.column, "message": p.message}


def _numbers(r) -> dict[str, Any]:
    return {
        "impressions": r.impressions,
        "clicks": r.clicks,
        "conversions": r.conversions,
        "spend": r.spend,
        "revenue": r.revenue,
    }


def source_summary_dict(summary: SourceSummary) -> dict[str, Any]:
    """Whose conversions and revenue the results use, both sources' totals, in a sentence."""
    channel_conversions, channel_revenue = sums(summary.channel)
    own = sums(summary.orders) if summary.orders is not None else (None, None)
    return {
        "source": summary.source.value,
        "choice": summary.choice.value,
        "channel_conversions": channel_conversions,
        "channel_revenue": channel_revenue,
        "orders_conversions": own[0],
        "orders_revenue": own[1],
        "orders_outside_dates": summary.orders_outside_dates,
        "sentence": summary.sentence,
    }


def arm_effect_dict(effect: ArmEffect) -> dict[str, Any]:
    """One arm's conversions and revenue before and after an orders import."""
    return {
        "arm": effect.arm,
        "conversions_before": effect.conversions_before,
        "conversions_after": effect.conversions_after,
        "revenue_before": effect.revenue_before,
        "revenue_after": effect.revenue_after,
        "flagged": effect.flagged,
    }


def orders_effect_dict(effect: OrdersEffect) -> dict[str, Any]:
    """What an orders import does to the numbers the models read."""
    return {
        "source_before": effect.source_before.value,
        "source_after": effect.source_after.value,
        "arms": [arm_effect_dict(a) for a in effect.arms],
        "leaves_no_conversions": effect.leaves_no_conversions,
        "warning": effect.warning,
    }


def arm_reconciliation_dict(arm: ArmReconciliation) -> dict[str, Any]:
    """One arm's channel-reported figures beside own orders."""
    return {
        "arm": arm.arm,
        "channel_conversions": arm.channel_conversions,
        "order_conversions": arm.order_conversions,
        "conversions_difference": arm.conversions_difference,
        "conversions_difference_pct": arm.conversions_difference_pct,
        "channel_revenue": arm.channel_revenue,
        "order_revenue": arm.order_revenue,
        "revenue_difference": arm.revenue_difference,
        "revenue_difference_pct": arm.revenue_difference_pct,
    }


def reconciliation_dict(reconciliation: Reconciliation, trial: Trial) -> dict[str, Any]:
    """The channels beside own orders (``reconcile --json``)."""
    a = reconciliation.attribution
    names = {arm.id: arm.name for arm in trial.all_arms}
    return {
        "trial": trial.name,
        "results_source": trial.spec.results_source.value,
        "source_in_use": reconciliation.source.value,
        "attribution_rule": trial.spec.attribution_rule.value,
        "arms": [arm_reconciliation_dict(r) for r in reconciliation.arms],
        "orders_counted": a.counted,
        "excluded": {k: {"orders": n, "amount": v} for k, (n, v) in a.excluded.items()},
        "shared_orders": [
            {
                "order_id": s.order_id,
                "arms": [names.get(i, str(i)) for i in s.arms],
                "credited": [{"arm": names.get(i, str(i)), "share": w} for i, w in s.credited],
            }
            for s in a.shared
        ],
        "unattributed": [
            {
                "utm_source": u[0],
                "utm_medium": u[1],
                "utm_campaign": u[2],
                "utm_content": u[3],
                "orders": n,
                "amount": v,
            }
            for u, n, v in a.unattributed
        ],
        "outside_dates": {"orders": a.outside_dates[0], "amount": a.outside_dates[1]},
        "source_summary": source_summary_dict(reconciliation.summary)
        if reconciliation.summary
        else None,
    }


def amendment_dict(amendment: Amendment) -> dict[str, Any]:
    """One amendment to the pre-registered plan (ISO 8601 timestamp)."""
    return {
        "id": amendment.id,
        "trial_id": amendment.trial_id,
        "created_at": amendment.created_at.isoformat(),
        "created_by": amendment.created_by,
        "reason": amendment.reason,
        "before": dict(amendment.before),
        "after": dict(amendment.after),
    }


# -- scale plans ---------------------------------------------------------------------------


def scale_plan_dict(plan: ScalePlan) -> dict[str, Any]:
    """One written-down scale plan (ISO 8601 dates and timestamps)."""
    return {
        "id": plan.id,
        "trial_id": plan.trial_id,
        "arm_id": plan.arm_id,
        "arm": plan.arm_name,
        "base_daily_spend": round(plan.base_daily_spend, 2),
        "step": plan.step,
        "step_days": plan.step_days,
        "stop_probability": plan.stop_probability,
        "break_even_roas": plan.break_even_roas,
        "start": plan.start.isoformat(),
        "stop_condition": plan.stop_condition(),
        "created_at": plan.created_at.isoformat(),
        "created_by": plan.created_by,
        "replaces": plan.replaces,
        "reason": plan.reason,
        "status": plan.status.value,
        "ended_at": plan.ended_at.isoformat() if plan.ended_at else None,
        "ended_by": plan.ended_by,
        "end_reason": plan.end_reason,
    }


def _band_dict(band) -> dict[str, Any] | None:
    if band is None:
        return None
    return {
        "median": _clean(band.median),
        "hdi_low": _clean(band.low),
        "hdi_high": _clean(band.high),
    }


def scale_tracking_dict(
    tracking: ScaleTracking, recommendation: str | None = None
) -> dict[str, Any]:
    """``scale-plan --json``: the plan, its steps against the data and the proposal, with
    the arm's recommendation from the verdict when given."""
    proposal = tracking.proposal
    return {
        "recommendation": recommendation,
        "plan": scale_plan_dict(tracking.plan),
        "currency": tracking.currency,
        "current_step": None if tracking.current_step is None else tracking.current_step + 1,
        "steps": [
            {
                "step": s.index + 1,
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
                "planned_daily_spend": round(s.planned_daily_spend, 2),
                "actual_daily_spend": None
                if s.actual_daily_spend is None
                else round(s.actual_daily_spend, 2),
                "days_with_spend": s.days_with_spend,
                "off_plan": s.off_plan,
                "off_by": _clean(s.off_by),
            }
            for s in tracking.steps
        ],
        "marginal_roas": _band_dict(tracking.marginal),
        "p_marginal_below_break_even": _clean(tracking.p_below_break_even),
        "break_even_daily_spend": _band_dict(tracking.break_even_spend),
        "curve_reason": tracking.curve_reason,
        "proposal": {
            "kind": proposal.kind,
            "text": proposal.text,
            "next_daily_spend": None
            if proposal.next_daily_spend is None
            else round(proposal.next_daily_spend, 2),
            "on": proposal.on.isoformat() if proposal.on else None,
        },
        "notes": list(tracking.notes),
    }


# -- accounts ------------------------------------------------------------------------------


def user_dict(user: User, memberships: Sequence[Membership] = ()) -> dict[str, Any]:
    """An account (never its password or hash) with the workspaces it holds a role in."""
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "site_admin": user.is_admin,
        "has_password": user.has_password,
        "disabled": user.disabled,
        "created_at": user.created_at.isoformat() if user.created_at else None,
        "created_by": user.created_by,
        "workspaces": [
            {"id": m.workspace.id, "name": m.workspace.name, "role": m.role.value}
            for m in memberships
        ],
    }


def workspace_dict(workspace: Workspace, role: Role | None) -> dict[str, Any]:
    """A workspace and the acting user's role there (None: a site administrator's view of
    a workspace they hold no role in)."""
    return {
        "id": workspace.id,
        "name": workspace.name,
        "role": role.value if role is not None else None,
    }


def member_dict(membership: Membership) -> dict[str, Any]:
    """One member of a workspace."""
    return {
        "user": membership.user.name,
        "role": membership.role.value,
        "disabled": membership.user.disabled,
    }


def account_event_dict(event: AccountEvent) -> dict[str, Any]:
    """One entry of the account log (ISO 8601 timestamp)."""
    return {
        "id": event.id,
        "created_at": event.created_at.isoformat(),
        "created_by": event.created_by,
        "action": event.action,
        "user": event.user,
        "workspace": event.workspace,
        "details": dict(event.details),
    }


def priors_dict(found: WorkspacePriors, backtest: Backtest | None = None) -> dict[str, Any]:
    """What past trials teach (``python -m trials priors --json``): one entry per channel
    (null: every channel, the workspace-wide prior) and stage (``ctr``, ``cvr``,
    ``order_value``, ``cpc``; money stages per ``currency``), each with the mean of a new
    trial's figure, its 90 % interval, the ESS (``a + b`` of the Beta for rates, in
    impressions or clicks; conversions for an order value; null for a cost per click),
    the past trials and arms it was learned from, the spread between past trials as
    fitted, and why its strength was capped (null: not capped)."""
    rows = []
    for r in found.rows():
        low, high = r.interval()
        fitted = r.beta.spread if r.beta is not None else r.lognormal.fitted_log_sd
        rows.append(
            {
                "channel": r.channel,
                "stage": r.stage,
                "currency": r.currency,
                "mean": r.mean,
                "interval_low": low,
                "interval_high": high,
                "interval_prob": 0.9,
                "ess": r.ess,
                "trials": r.trials,
                "arms": r.arms,
                "spread": fitted,
                "spread_scale": "rate" if r.beta is not None else "log",
                "capped": r.capped,
            }
        )
    out: dict[str, Any] = {
        "trials": list(found.trials),
        "currency": found.currency,
        "priors": rows,
        "notes": found.notes(),
        "backtest": None,
    }
    if backtest is not None:
        out["backtest"] = {
            "days": backtest.days,
            "trials": backtest.trials,
            "stages": [
                {
                    "stage": s.stage,
                    "arms": s.arms,
                    "error_without": s.error_without,
                    "error_with": s.error_with,
                    "error_unit": "share of the final value"
                    if s.stage == "order_value"
                    else "rate",
                    "improvement": s.improvement,
                }
                for s in backtest.stages
            ],
            "days_saved_median": backtest.days_saved_median,
            "days_saved_mean": backtest.days_saved_mean,
            "days_saved_by_trial": [
                {"trial": name, "days": d} for name, d in backtest.days_saved_by_trial
            ],
            "reason": backtest.reason,
        }
    return out


def trial_priors_dict(trial: Trial, setting: TrialPriors) -> dict[str, Any]:
    """A trial's priors setting (``priors --trial T --json``)."""
    return {
        "trial": trial.name,
        "use_learned": setting.use_learned,
        "overrides": [o.as_dict() for o in setting.overrides],
        "created_at": setting.created_at.isoformat() if setting.created_at else None,
        "created_by": setting.created_by,
    }


# -- the portfolio and results over time ----------------------------------------------------


def _money(amount_micros: int) -> float:
    """Micro-units as a number of the currency (exact: at most six decimals)."""
    return amount_micros / 1_000_000


def _portfolio_row(row: PortfolioRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "label": row.label,
        "trials": list(row.trials),
        "spend": _money(row.spend_micros),
        "revenue": _money(row.revenue_micros),
        "conversions": row.conversions,
        "raw_roas": _clean(row.raw_roas),
        "raw_cpa": _clean(row.raw_cpa),
        "roas": row.roas.as_dict(),
        "cpa": row.cpa.as_dict(),
    }


def portfolio_dict(p: Portfolio) -> dict[str, Any]:
    """The workspace's portfolio (``python -m trials portfolio --json``): one table per
    currency (``tables``), never a sum across currencies; the rates used; the decision
    log per channel; where the next money goes; new channels to try."""

    def curve(c) -> dict[str, Any] | None:
        return None if c is None else c.as_dict()

    return {
        "by": p.by,
        "since": p.since.isoformat() if p.since else None,
        "seed": p.seed,
        "method": p.method,
        "method_note": p.method_note,
        "hdi_prob": 0.94,
        "currency": p.rates.target,
        "rates": [
            {"currency": code, "rate": str(rate), "into": p.rates.target}
            for code, rate in sorted(p.rates.rates.items())
        ],
        "unused_rates": list(p.unused_rates),
        "tables": [
            {
                "currency": b.currency,
                "converted_from": [
                    {"currency": code, "rate": str(rate)} for code, rate in b.converted_from
                ],
                "note": b.note,
                "trials": list(b.trials),
                "rows": [_portfolio_row(r) for r in b.rows],
                "total": _portfolio_row(b.total),
            }
            for b in p.books
        ],
        "without_data": list(p.without_data),
        "channels": [
            {
                "channel": c.channel,
                "common_channel": c.common,
                "trials": list(c.trials),
                "status": c.status,
                "actions": [
                    {
                        "trial": a.trial,
                        "decision": a.entry_id,
                        "date": a.day.isoformat(),
                        "by": a.who,
                        "action": a.action,
                        "arm": a.arm,
                        "reason": a.reason,
                        "reason_source": a.reason_source,
                        "corrected_by": list(a.corrected_by),
                    }
                    for a in c.actions
                ],
            }
            for c in p.channels
        ],
        "next_money": [
            {
                "trial": n.trial,
                "currency": n.currency,
                "arm": n.arm,
                "channel": n.channel,
                "recommendation": n.recommendation,
                "recommendation_label": LABELS.get(n.recommendation, n.recommendation),
                "verdict": n.verdict,
                "verdict_label": VERDICT_LABELS.get(n.verdict, n.verdict),
                "verdict_source": n.source,
                "response_curve": curve(n.curve),
            }
            for n in p.next_arms
        ],
        "no_verdict": list(p.no_verdict),
        "new_channels": [
            {
                "channel": n.channel.name,
                "what": n.channel.what,
                "expectation": n.expectation.as_dict() if n.expectation else None,
            }
            for n in p.new_channels
        ],
        "notes": list(p.notes),
    }


def history_dict(h: TrialHistory) -> dict[str, Any]:
    """A trial's results over time (``python -m trials history --json``)."""
    return {
        "trial": h.trial.name,
        "method": "exact",
        "note": h.note,
        "metric": h.metric,
        "seed": h.seed,
        "draws": h.n_draws,
        "hdi_prob": 0.94,
        "p_best_mc_error": _clean(h.p_best_mc_error, 5),
        "leader": h.leader,
        "leader_since": h.leader_since.isoformat() if h.leader_since else None,
        "currency": h.trial.spec.currency,
        "days": [
            {
                "day": day.isoformat(),
                "arms": [
                    {
                        "channel": p.channel,
                        "creative": p.creative,
                        "p_best": _clean(p.p_best),
                        "roas": {
                            "mean": _clean(p.roas_mean),
                            "hdi_low": _clean(p.roas_low),
                            "hdi_high": _clean(p.roas_high),
                        }
                        | ({"reason": p.roas_reason} if p.roas_reason else {}),
                        "spend": p.spend,
                        "conversions": p.conversions,
                    }
                    for p in h.points
                    if p.day == day
                ],
            }
            for day in h.days
        ],
    }
