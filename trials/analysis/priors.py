"""What past trials teach: priors learned from the workspace's finished trials.

The one definition the Priors page, ``python -m trials priors``, the planner and an
opted-in ``analyze`` read. The maths is ``inference.priors``; this reads the store.

A **finished** trial is decided or archived, or has an end date before today; either way
it needs data. Its numbers are the channels' reported daily results (own orders are not
read here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date

from inference.funnel.spec import ModelSpec
from inference.priors.backtest import Backtest, backtest
from inference.priors.fit import FEW_TRIALS, beta_logit_normal
from inference.priors.learn import (
    DayCounts,
    LearnedPriors,
    PastArm,
    PastTrial,
    StagePrior,
    learn,
)
from trials.domain import Trial, TrialStatus, TrialSummary
from trials.domain.priors import TrialPriors
from trials.storage.store import TrialStore

__all__ = [
    "FEW_TRIALS",
    "STAGE_NAMES",
    "WorkspacePriors",
    "finished",
    "past_trials",
    "priors_backtest",
    "strength_words",
    "trial_model_spec",
    "workspace_priors",
]

STAGE_NAMES = {
    "ctr": "click-through rate",
    "cvr": "conversion rate",
    "order_value": "revenue per conversion",
    "cpc": "cost per click",
}
UNITS = {"ctr": "impressions", "cvr": "clicks", "order_value": "conversions"}


def finished(summary: TrialSummary, today: date) -> bool:
    """Decided or archived, or ended before ``today``; with data either way."""
    trial = summary.trial
    if not summary.days_with_data:
        return False
    return trial.spec.status in (TrialStatus.DECIDED, TrialStatus.ARCHIVED) or (
        trial.spec.end < today
    )


def _past(store: TrialStore, trial: Trial) -> PastTrial:
    rows = store.daily_results(trial.id)
    first = min((r.day for r in rows), default=None)
    arms = []
    for arm in trial.arms:
        days = tuple(
            DayCounts(
                (r.day - first).days, r.impressions, r.clicks, r.conversions, r.spend, r.revenue
            )
            for r in sorted((r for r in rows if r.arm_id == arm.id), key=lambda r: r.day)
        )
        arms.append(PastArm(arm.spec.channel, days))
    return PastTrial(trial.name, trial.spec.currency, tuple(arms))


def past_trials(
    store: TrialStore, today: date | None = None, exclude: int | None = None
) -> list[PastTrial]:
    """The workspace's finished trials as the maths reads them, oldest first."""
    today = today or date.today()
    summaries = [s for s in store.list_trials() if finished(s, today) and s.trial.id != exclude]
    summaries.sort(key=lambda s: s.trial.id)
    return [_past(store, s.trial) for s in summaries]


@dataclass(frozen=True)
class WorkspacePriors:
    """The learned priors, the finished trials they come from and what to say about them."""

    learned: LearnedPriors
    currency: str | None  # money rows of this currency only (None: every currency, apart)

    @property
    def trials(self) -> tuple[str, ...]:
        return self.learned.trials

    def rows(self) -> list[StagePrior]:
        return [
            r
            for r in self.learned.rows
            if r.currency is None or self.currency is None or r.currency == self.currency
        ]

    def notes(self) -> list[str]:
        n = len(self.trials)
        if n == 0:
            return [
                "No finished trial yet (decided, archived, or past its end date, with data): "
                "nothing to learn from, so there are no learned priors."
            ]
        notes = []
        if n < FEW_TRIALS:
            notes.append(
                f"Only {n} finished trial{'s' if n > 1 else ''}: the priors are kept weak, "
                "and there is no workspace-wide prior across channels until "
                f"{FEW_TRIALS} trials have finished."
            )
        if self.currency is not None and self.currency not in self.learned.currencies():
            notes.append(
                f"No finished trial in {self.currency}: no order value or cost per click "
                "in that currency (money is never converted between currencies)."
            )
        notes.append(
            "A channel without a finished trial has no learned prior of its own; a new "
            "channel starts from the workspace-wide prior when there is one."
        )
        return notes


def workspace_priors(
    store: TrialStore,
    *,
    currency: str | None = None,
    today: date | None = None,
    exclude: int | None = None,
    workspace_min_trials: int = FEW_TRIALS,
) -> WorkspacePriors:
    """Priors learned from the workspace's finished trials (``exclude``: leave one out)."""
    past = past_trials(store, today, exclude)
    return WorkspacePriors(learn(past, workspace_min_trials), currency)


def priors_backtest(store: TrialStore, today: date | None = None, days: int = 7) -> Backtest:
    """Leave-one-trial-out back-test over the workspace's finished trials."""
    return backtest(past_trials(store, today), days=days)


def strength_words(row: StagePrior) -> str:
    """The ESS in words: "worth about 1,200 clicks of evidence"."""
    if row.ess is None:
        return "a range of past prices, not a count of evidence"
    return f"worth about {_count(row.ess)} {UNITS[row.stage]} of evidence"


def _count(x: float) -> str:
    if x >= 100:
        return f"{round(x, 1 - math.floor(math.log10(x))):,.0f}"
    return f"{x:,.0f}" if x >= 10 else f"{x:.1f}".rstrip("0").rstrip(".")


# -- an opted-in trial's model ---------------------------------------------------------


@dataclass(frozen=True)
class TrialPriorChoice:
    """What an opted-in trial's analysis uses, per rate stage, and why."""

    spec: ModelSpec
    used: dict[str, tuple[float, float, str]]  # stage -> (mean, ESS, where it came from)
    note: str | None


def trial_model_spec(
    store: TrialStore,
    trial: Trial,
    base: ModelSpec | None = None,
    today: date | None = None,
    setting: TrialPriors | None = None,
) -> TrialPriorChoice:
    """The model settings ``analyze`` uses for the trial: ``base`` unless the trial opted
    in to learned priors.

    The funnel model takes one prior centre per stage (``Priors.ctr_mean``,
    ``cvr_mean``) and one spread on the logit scale for both rates (``rate_logit_sd``): it
    centres the trial's channel (one or two channels) or the channels' common mean (three
    or more). So a one-channel trial gets its channel's prior (or its override); a trial
    over several channels gets the workspace-wide prior, and its per-channel priors and
    overrides are shown but not used. The Beta is matched on the logit scale (mean and sd
    of logit(rate)); the spread is the wider of the two stages', so neither stage's prior
    is stronger than learned. Priors are learned without the trial itself.
    """
    base = base or ModelSpec()
    setting = setting or store.trial_priors(trial.id)
    if not setting.use_learned:
        return TrialPriorChoice(base, {}, None)
    channels = sorted({a.spec.channel for a in trial.arms})
    learned = workspace_priors(store, today=today, exclude=trial.id).learned
    used: dict[str, tuple[float, float, str]] = {}
    for stage in ("ctr", "cvr"):
        if len(channels) == 1:
            override = setting.override(channels[0], stage)
            if override is not None:
                used[stage] = (override.mean, override.strength, "set by hand")
                continue
            row = learned.get(channels[0], stage)
            where = f"learned from past {channels[0]} trials"
        else:
            row = learned.get(None, stage)
            where = "learned across channels (the workspace-wide prior)"
        if row is not None and row.beta is not None:
            used[stage] = (row.mean, row.ess, where)
    if not used:
        return TrialPriorChoice(
            base,
            {},
            "Learned priors are switched on, but there is nothing to use: "
            + (
                f"no finished {channels[0]} trial"
                if len(channels) == 1
                else f"fewer than {FEW_TRIALS} finished trials for a workspace-wide prior"
            )
            + "; the default priors apply.",
        )
    p = base.priors
    sds = [p.rate_logit_sd] if len(used) < 2 else []
    means = {}
    for stage, (mean, ess, _) in used.items():
        centre, sd = beta_logit_normal(mean * ess, (1 - mean) * ess)
        means[f"{stage}_mean"] = 1 / (1 + math.exp(-centre))
        sds.append(sd)
    priors = replace(p, **means, rate_logit_sd=max(sds))
    parts = [
        f"{STAGE_NAMES[s]} {m:.2%} worth about {_count(e)} {UNITS[s]} ({w})"
        for s, (m, e, w) in used.items()
    ]
    note = "Priors from past trials: " + "; ".join(parts) + "."
    if len(channels) > 1 and any(setting.override(c, s) for c in channels for s in used):
        note += (
            " Priors set by hand per channel are not used: with several channels the model "
            "takes one prior per stage."
        )
    return TrialPriorChoice(replace(base, priors=priors), used, note)
