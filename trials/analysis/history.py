"""Results over time inside a trial: each arm's chance to be best and its ROAS on the data
up to each day, so a reader sees when a result settled.

Each day's figures come from the exact (conjugate) path on the cumulative data up to that
day (each arm on its own, every day alike; ``inference.funnel.conjugate.conjugate_draws``,
seeded), a millisecond or two a day; never a full-model fit per day. Like the Results
preview its chances are too sure for real daily data, so the series shows *when* the
picture stopped moving, not a verdict: the verdict is the full model's, on the Results page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from trials.analysis.result import TrialData, load
from trials.domain import Trial
from trials.domain.verdicts import higher_is_better, metric_name
from trials.storage.store import TrialStore

__all__ = ["HISTORY_NOTE", "HistoryPoint", "TrialHistory", "history", "trial_history"]

N_DRAWS = 4000
HDI_PROB = 0.94
HISTORY_NOTE = (
    "Each day: the exact path on the data up to that day (each arm on its own, every day "
    f"alike; {N_DRAWS:,} seeded draws), not the full model, so its chances are too sure. "
    "It shows when the picture settled; the verdict is the full model's."
)


@dataclass(frozen=True)
class HistoryPoint:
    day: date
    arm_id: int
    arm: str
    channel: str
    creative: str
    p_best: float | None  # on the trial's primary metric; None where undefined that day
    roas_mean: float | None
    roas_low: float | None
    roas_high: float | None
    roas_reason: str | None
    spend: float  # up to and including the day
    conversions: int


@dataclass(frozen=True)
class TrialHistory:
    trial: Trial
    metric: str  # the posterior quantity P(best) is on (cvr, roas or cpa)
    seed: int
    n_draws: int
    points: tuple[HistoryPoint, ...]  # day by day, arms in trial order
    leader: str | None  # the arm with the highest P(best) on the last day
    leader_since: date | None  # the first day from which that arm led every day
    p_best_mc_error: float  # the largest Monte Carlo standard error of a P(best) shown
    note: str = HISTORY_NOTE

    @property
    def days(self) -> tuple[date, ...]:
        return tuple(dict.fromkeys(p.day for p in self.points))


def _clean(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def trial_history(data: TrialData, *, seed: int = 0, n_draws: int = N_DRAWS) -> TrialHistory:
    """The series for a trial's loaded data (see the module's docstring)."""
    from inference.decisions import p_best
    from inference.funnel.conjugate import conjugate_draws
    from inference.summary import hdi

    trial, f = data.trial, data.funnel
    metric = metric_name(trial.spec.primary_metric)
    higher = higher_is_better(trial.spec.primary_metric)
    points: list[HistoryPoint] = []
    leaders: list[tuple[date, int | None]] = []
    worst = 0.0
    for d, iso in enumerate(f.days):
        day = date.fromisoformat(iso)
        rows = f.day <= d
        sub = f.where(rows)
        posterior = conjugate_draws(
            sub, seed=int(np.random.SeedSequence([seed, d]).generate_state(1)[0]), n_draws=n_draws
        )
        draws = posterior.draws[metric]
        defined = [
            i
            for i in range(f.n_arms)
            if i not in posterior.undefined.get(metric, {}) and np.isfinite(draws[:, i]).all()
        ]
        chances: dict[int, float] = {}
        if len(defined) >= 2:
            chances = dict(zip(defined, map(float, p_best(draws[:, defined], higher)), strict=True))
        elif len(defined) == 1:
            chances = {defined[0]: 1.0}
        for p in chances.values():
            worst = max(worst, math.sqrt(p * (1 - p) / n_draws))
        leaders.append((day, max(chances, key=chances.get) if chances else None))
        spend = np.bincount(sub.arm, weights=sub.spend, minlength=f.n_arms)
        conversions = np.bincount(sub.arm, weights=sub.conversions, minlength=f.n_arms)
        for i, arm in enumerate(trial.arms):
            roas = posterior.draws["roas"][:, i]
            reason = posterior.undefined.get("roas", {}).get(i)
            if reason or not np.isfinite(roas).all():
                mean = low = high = math.nan
                reason = reason or "not defined"
            else:
                mean, (low, high) = float(roas.mean()), hdi(roas, HDI_PROB)
            points.append(
                HistoryPoint(
                    day=day,
                    arm_id=arm.id,
                    arm=arm.name,
                    channel=arm.spec.channel,
                    creative=arm.spec.creative,
                    p_best=chances.get(i),
                    roas_mean=_clean(mean),
                    roas_low=_clean(low),
                    roas_high=_clean(high),
                    roas_reason=reason,
                    spend=round(float(spend[i]), 2),
                    conversions=int(conversions[i]),
                )
            )
    leader = leaders[-1][1] if leaders else None
    since = None
    if leader is not None:
        since = leaders[-1][0]
        for day, who in reversed(leaders):
            if who != leader:
                break
            since = day
    return TrialHistory(
        trial=trial,
        metric=metric,
        seed=seed,
        n_draws=n_draws,
        points=tuple(points),
        leader=trial.arms[leader].name if leader is not None else None,
        leader_since=since,
        p_best_mc_error=worst,
    )


def history(store: TrialStore, trial: Trial, *, seed: int = 0) -> TrialHistory:
    """The trial's series from the store."""
    return trial_history(load(store, trial), seed=seed)
