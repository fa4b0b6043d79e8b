"""Bridges stored trials to the Bayesian engine: a trial's results as ``FunnelData``, and
fitted posteriors as the plain dicts the CLI and exports print.

Field names in ``arm_results`` are a public interface (``python -m trials analyze --json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trials.domain import ArmTotals, DailyResult, ResultSource, Trial
from trials.store import TrialStore

__all__ = [
    "ANALYSED_METRICS",
    "DecisionInputs",
    "analyse",
    "analysis_dict",
    "decide_for",
    "decision_inputs",
    "full_analysis",
    "funnel_data",
    "response_curves",
]

ANALYSED_METRICS = ("ctr", "cvr", "revenue_per_conversion", "roas", "cpa")


def funnel_data(store: TrialStore, trial: Trial, source: ResultSource | None = None):
    """The trial's daily results in the arrays the models read (arms in trial order).

    Impressions, clicks and spend always come from the channels' reports. Conversions
    and revenue come from ``source``: by default :func:`trials.attribution.source_for`
    (with ``auto``, own orders once they give a conversion within the trial's dates).
    """
    from inference.data import FunnelData
    from trials.attribution import attribute, source_for

    index = {arm.id: i for i, arm in enumerate(trial.arms)}
    rows = {
        (r.arm_id, r.day): {
            "arm": index[r.arm_id],
            "day": r.day.isoformat(),
            "impressions": r.impressions,
            "clicks": r.clicks,
            "conversions": r.conversions,
            "spend": r.spend,
            "revenue": r.revenue,
        }
        for r in store.daily_results(trial.id, ResultSource.CHANNEL)
    }
    if source is None:
        source = source_for(store, trial)
    if source == ResultSource.ORDERS:
        for row in rows.values():
            row["conversions"], row["revenue"] = 0, 0.0
        orders = store.orders(trial.id)
        credited = attribute(trial, orders, store.utm_rules(trial.id)).results
        for r in credited:
            row = rows.setdefault(
                (r.arm_id, r.day),
                {
                    "arm": index[r.arm_id],
                    "day": r.day.isoformat(),
                    "impressions": 0,
                    "clicks": 0,
                    "spend": 0.0,
                },
            )
            row["conversions"], row["revenue"] = r.conversions, r.revenue
    ordered = [rows[k] for k in sorted(rows, key=lambda k: (k[1], index[k[0]]))]
    return FunnelData.from_rows([(a.spec.channel, a.name) for a in trial.arms], ordered)


def analyse(store: TrialStore, trial: Trial, *, method: str, spec, seed: int, progress=None):
    """Fit the trial's posterior by ``method`` ("mcmc" or "exact").

    A trial with no data yet gets the exact path's neutral answer (every metric undefined,
    with its reason) instead of an error.
    """
    from inference.conjugate import exact_posterior

    data = funnel_data(store, trial)
    if method == "exact" or len(data.arm) == 0:
        return exact_posterior(data, spec, seed=seed)
    from inference.fit import fit_mcmc

    return fit_mcmc(data, spec, seed=seed, progress=progress)


def analysis_dict(trial: Trial, totals: dict[int, ArmTotals], posterior) -> dict[str, Any]:
    """The analysis as JSON-ready data: per arm, totals and each metric's mean and HDI."""
    return {
        "trial": trial.name,
        "method": posterior.method,
        # The exact path is always unpooled and binomial, whatever the spec asked for.
        "pooling": posterior.spec.pooling if posterior.method == "mcmc" else "none",
        "overdispersion": posterior.spec.overdispersion and posterior.method == "mcmc",
        "hdi_prob": posterior.spec.hdi_prob,
        "seed": posterior.seed,
        "data_digest": posterior.data_digest,
        "arms": [
            {
                "channel": arm.spec.channel,
                "creative": arm.spec.creative,
                "control": arm.spec.control,
                "totals": totals[arm.id].as_dict(),
                **{m: posterior.interval(m, i).as_dict() for m in ANALYSED_METRICS},
            }
            for i, arm in enumerate(trial.arms)
        ],
        "diagnostics": posterior.diagnostics.as_dict(),
        "notes": list(posterior.notes),
        "seconds": round(posterior.seconds, 3),
    }


@dataclass(frozen=True)
class DecisionInputs:
    """What the decision layer reads besides the posterior."""

    totals: dict[int, ArmTotals]  # conversions and revenue from the source the models read
    daily: list[DailyResult]  # the channels' daily rows
    progress: Any  # inference.planning.DecisionProgress
    source: str


def decision_inputs(store: TrialStore, trial: Trial, seed: int = 0) -> DecisionInputs:
    from trials.attribution import source_summary
    from trials.planning import trial_progress

    summary = source_summary(store, trial)
    return DecisionInputs(
        totals=summary.used(trial),
        daily=store.daily_results(trial.id),
        progress=trial_progress(store, trial, seed=seed),
        source=summary.source.value,
    )


def response_curves(store: TrialStore, trial: Trial, seed: int = 0) -> dict[int, Any]:
    """Each arm's diminishing-returns curve (``inference.saturation``), by arm id; arms
    that ran at a single spend level get a neutral answer with the reason."""
    import numpy as np

    from inference.saturation import SpendLadder, fit_saturation

    data = funnel_data(store, trial)
    out = {}
    for i, arm in enumerate(trial.arms):
        rows = data.arm == i
        order = np.argsort(data.day[rows], kind="stable")
        ladder = SpendLadder.of(
            data.spend[rows][order], data.conversions[rows][order], data.revenue[rows][order]
        )
        out[arm.id] = fit_saturation(ladder, trial.spec.break_even_roas, seed=seed)
    return out


def decide_for(
    store: TrialStore,
    trial: Trial,
    posterior,
    *,
    budget: float | None = None,
    low: float = 0.0,
    high: float | None = None,
    risk: float = 0.5,
    seed: int = 0,
    inputs: DecisionInputs | None = None,
):
    """The trial's recommendations (and, with ``budget``, the split) from ``posterior``."""
    from trials.decisions import decide

    inputs = inputs or decision_inputs(store, trial, seed=seed)
    return decide(
        trial,
        posterior,
        inputs.totals,
        inputs.daily,
        inputs.progress,
        budget=budget,
        low=low,
        high=high,
        risk=risk,
        seed=seed,
    )


def full_analysis(
    store: TrialStore,
    trial: Trial,
    *,
    method: str,
    spec,
    seed: int,
    budget: float | None = None,
    low: float = 0.0,
    high: float | None = None,
    risk: float = 0.5,
    progress=None,
    posterior=None,
    inputs: DecisionInputs | None = None,
    curves: dict[int, Any] | None = None,
) -> dict[str, Any]:
    """Everything ``analyze --json`` prints: posteriors, decisions per arm, the rule's
    verdict, response curves (MCMC only) and, with ``budget``, the allocation.

    Pass ``posterior``, ``inputs`` and ``curves`` to reuse work already done (the pages
    keep theirs per data digest)."""
    from trials.decisions import decision_dict, raw_estimate, raw_vs_model_sentence

    if posterior is None:
        posterior = analyse(store, trial, method=method, spec=spec, seed=seed, progress=progress)
    result = analysis_dict(trial, store.arm_totals(trial.id), posterior)
    inputs = inputs or decision_inputs(store, trial, seed=seed)
    decision = decide_for(
        store,
        trial,
        posterior,
        budget=budget,
        low=low,
        high=high,
        risk=risk,
        seed=seed,
        inputs=inputs,
    )
    extra = decision_dict(trial, decision)
    for arm, row in zip(trial.arms, result["arms"], strict=True):
        row.update(extra["arms"][arm.id])
        row["raw_estimate"] = raw_estimate(trial.spec.primary_metric, inputs.totals[arm.id])
    result["raw_vs_model"] = raw_vs_model_sentence(trial, posterior, inputs.totals)
    if posterior.method == "mcmc":
        curves = curves or response_curves(store, trial, seed=seed)
        for arm, row in zip(trial.arms, result["arms"], strict=True):
            row["response_curve"] = curves[arm.id].as_dict()
    result["currency"] = trial.spec.currency
    result["results_source"] = inputs.source
    result["decision"] = extra["decision"]
    if "allocation" in extra:
        result["allocation"] = extra["allocation"]
    return result
