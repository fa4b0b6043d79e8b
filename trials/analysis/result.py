"""The one analysis of a trial: its data loaded once, its posterior, the rule's verdict and
each arm's recommendation, progress toward the rule, response curves and the data source,
as a single frozen :class:`TrialAnalysis`.

Every page, the CLI, the reports and the decision log present this object (or its
:func:`analysis_dict`, the public JSON of ``python -m trials analyze --json``); none of
them recomputes a concept of its own. Its key is the trial's data digest, the model
settings, the trial's registered settings (the rule) and its version, and the seed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from trials.domain import ArmTotals, DailyResult, PrimaryMetric, ResultSource, Trial
from trials.domain.verdicts import metric_name, raw_estimate
from trials.storage.store import TrialStore

if TYPE_CHECKING:  # the numerics load on first use, not on import
    from inference.summary import Posterior
    from trials.analysis.decisions import ArmDecision, TrialDecision

__all__ = [
    "TrialAnalysis",
    "TrialData",
    "analyse",
    "analyze_trial",
    "full_analysis",
    "funnel_data",
    "load",
    "response_curves",
]


@dataclass(frozen=True, eq=False)
class TrialData:
    """A trial's data, read once: what the models read and what the rule counts."""

    trial: Trial
    funnel: Any  # inference.funnel.data.FunnelData, arms in trial order
    daily: tuple[DailyResult, ...]  # the channels' daily rows (volume, health checks)
    summary: Any  # trials.domain.sources.SourceSummary: which source, both sources' totals
    amendments: tuple = ()  # trials.domain.amendments.Amendment, oldest first

    @property
    def digest(self) -> str:
        return self.funnel.digest()

    @property
    def source(self) -> ResultSource:
        return self.summary.source

    @cached_property
    def totals(self) -> dict[int, ArmTotals]:
        """Per arm, conversions and revenue from the source in use (the rule counts these)."""
        return self.summary.used(self.trial)

    @property
    def channel_totals(self) -> dict[int, ArmTotals]:
        return self.summary.channel


def load(store: TrialStore, trial: Trial) -> TrialData:
    """Read the trial's data once: channel rows, own orders credited to arms, the source.

    Impressions, clicks and spend always come from the channels' reports. Conversions and
    revenue come from the trial's source (``trials.domain.sources``: with ``auto``, own orders
    once they give a conversion within the trial's dates).
    """
    from inference.funnel.data import FunnelData
    from trials.domain.attribution import attribute
    from trials.domain.sources import summarize_source

    daily = tuple(store.daily_results(trial.id, ResultSource.CHANNEL))
    index = {arm.id: i for i, arm in enumerate(trial.arms)}
    # A trial in rounds is read one round at a time (``trial.in_round``): its days and arms.
    days = (trial.spec.start, trial.spec.end) if trial.rounds else None
    if days is not None:
        daily = tuple(r for r in daily if r.arm_id in index and days[0] <= r.day <= days[1])
    channel_totals = store.arm_totals(trial.id, days=days)
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
        for r in daily
    }
    orders = store.orders(trial.id)
    # A round's orders go to that round's arms only (a rule may name an arm of another).
    rules = [r for r in store.utm_rules(trial.id) if r.arm_id in index]
    credited = attribute(trial, orders, rules) if orders else None
    summary = summarize_source(trial, channel_totals, credited)
    if summary.source == ResultSource.ORDERS:
        for row in rows.values():
            row["conversions"], row["revenue"] = 0, 0.0
        for r in credited.results if credited is not None else ():
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
    funnel = FunnelData.from_rows([(a.spec.channel, a.name) for a in trial.arms], ordered)
    return TrialData(trial, funnel, daily, summary, tuple(store.amendments(trial.id)))


def funnel_data(store: TrialStore, trial: Trial):
    """The trial's daily results in the arrays the models read (arms in trial order)."""
    return load(store, trial).funnel


def fit(data: TrialData, *, method: str, spec, seed: int, progress=None):
    """The posterior by ``method`` ("mcmc" or "exact"), with more draws when the verdict
    is too close to its bar to be settled (``trials.analysis.settle``); a trial with no data yet
    gets the exact path's neutral answer (every metric undefined, with its reason)."""
    if method == "exact" or len(data.funnel.arm) == 0:
        # The exact preview is exact (nothing to settle) and never drives a verdict.
        from inference.funnel.conjugate import exact_posterior

        return exact_posterior(data.funnel, spec, seed=seed)
    from trials.analysis.settle import settled_fit

    return settled_fit(data, spec=spec, seed=seed, progress=progress)


def analyse(store: TrialStore, trial: Trial, *, method: str, spec, seed: int, progress=None):
    """Fit the trial's posterior by ``method`` ("mcmc" or "exact")."""
    return fit(load(store, trial), method=method, spec=spec, seed=seed, progress=progress)


def response_curves(
    data: TrialData, seed: int = 0, hdi_prob: float = 0.94, arm_ids=None
) -> dict[int, Any]:
    """Each arm's diminishing-returns curve (``inference.curve.fit``), by arm id (only
    those in ``arm_ids`` when given); arms that ran at a single spend level get a neutral
    answer with the reason."""
    import numpy as np

    from inference.curve.data import SpendLadder
    from inference.curve.fit import fit_saturation

    f = data.funnel
    out = {}
    for i, arm in enumerate(data.trial.arms):
        if arm_ids is not None and arm.id not in arm_ids:
            continue
        rows = f.arm == i
        order = np.argsort(f.day[rows], kind="stable")
        ladder = SpendLadder.of(
            f.spend[rows][order], f.conversions[rows][order], f.revenue[rows][order]
        )
        out[arm.id] = fit_saturation(
            ladder, data.trial.spec.break_even_roas, seed=seed, hdi_prob=hdi_prob
        )
    return out


@dataclass(frozen=True, eq=False)
class TrialAnalysis:
    """Everything known about a trial on one data digest, settings and rule version."""

    data: TrialData
    posterior: Posterior
    decision: TrialDecision  # the verdict and each arm's recommendation
    curves: dict[int, Any] | None  # response curves by arm id (MCMC only)
    raw_vs_model: str
    seed: int

    @property
    def trial(self) -> Trial:
        return self.data.trial

    @property
    def totals(self) -> dict[int, ArmTotals]:
        return self.data.totals

    @property
    def verdict(self) -> str:
        return self.decision.verdict

    def arm_decision(self, arm_id: int) -> ArmDecision:
        return next(d for d in self.decision.arms if d.arm_id == arm_id)

    def with_split(
        self, budget: float, *, low: float = 0.0, high: float | None = None, risk: float = 0.5
    ) -> TrialAnalysis:
        """The same analysis with the next round's budget split (raises ValueError on
        bounds that cannot hold the budget; UserError on the exact preview)."""
        from trials.analysis.budget import with_split
        from trials.analysis.preview import refuse_preview

        refuse_preview(self.posterior, "a budget split")
        decision = with_split(
            self.decision,
            self.trial,
            self.posterior,
            self.totals,
            budget,
            low=low,
            high=high,
            risk=risk,
            seed=self.seed,
            curves=self.curves,
        )
        return replace(self, decision=decision)


def analyze_trial(
    store: TrialStore,
    trial: Trial,
    *,
    method: str,
    spec,
    seed: int,
    progress=None,
    data: TrialData | None = None,
    posterior=None,
    curves: dict[int, Any] | None = None,
) -> TrialAnalysis:
    """The trial's one analysis. Pass ``data`` and ``posterior`` (and ``curves``) to reuse
    work already done; the pages cache whole analyses per key instead.

    ``progress`` reports the fit's progress; ``method="exact"`` gives a labelled preview
    (exact figures for a simpler model, never a verdict).
    """
    data = data or load(store, trial)
    if method == "exact":
        from trials.analysis.preview import preview_decision

        posterior, decision = preview_decision(trial, data, spec, seed)
        sentence = raw_vs_model_sentence(trial, posterior, data.totals)
        return TrialAnalysis(data, posterior, decision, None, sentence, seed)
    if posterior is None:
        posterior = fit(data, method=method, spec=spec, seed=seed, progress=progress)
    decision = _decision(data, posterior, seed)
    # A trial with no data yet gets the exact path's neutral posterior (see ``fit``): no curves.
    mcmc = posterior.method == "mcmc"
    if mcmc and curves is None:
        curves = response_curves(data, seed=seed, hdi_prob=posterior.spec.hdi_prob)
    return TrialAnalysis(
        data=data,
        posterior=posterior,
        decision=decision,
        curves=curves if mcmc else None,
        raw_vs_model=raw_vs_model_sentence(trial, posterior, data.totals),
        seed=seed,
    )


def _decision(data: TrialData, posterior, seed: int) -> TrialDecision:
    """The rule's verdict on ``posterior``, with how far the rule likely still is."""
    from trials.analysis.decisions import decide
    from trials.analysis.planning import progress_sentence, trial_progress

    trial, daily = data.trial, list(data.daily)
    progress = trial_progress(trial, data.totals, daily, seed=seed)
    return decide(
        trial,
        posterior,
        data.totals,
        daily,
        progress,
        seed=seed,
        progress_text=progress_sentence(progress, trial, data.totals, daily),
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
) -> dict[str, Any]:
    """Everything ``analyze --json`` prints, with the allocation when ``budget`` is given."""
    from trials.reports.contract import analysis_dict

    analysis = analyze_trial(store, trial, method=method, spec=spec, seed=seed, progress=progress)
    if budget is not None:
        analysis = analysis.with_split(budget, low=low, high=high, risk=risk)
    return analysis_dict(analysis)


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
