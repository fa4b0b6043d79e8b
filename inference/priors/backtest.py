"""Would learned priors have helped? Leave-one-trial-out on past trials.

For each past trial with more than ``days`` days of data, priors are learned from the
*other* trials; each arm's estimate from the trial's first ``days`` days is made with
and without the learned prior and compared with the trial's final estimate (all its
data):

- CTR and CVR: posterior means, Beta(1, 1) without the prior (the exact preview's
  prior), the learned Beta with it; absolute error in rate (percentage points ÷ 100).
- Order value: the raw mean without the prior, shrunk towards the learned log-normal
  (same currency) with it; absolute error relative to the final value (a share, so
  currencies never mix). Arms without a conversion in the first days are left out.

**Days saved** (CVR): for each trial, the first day ``d ≥ days`` on which the estimate
without the prior is as close to the final estimate as the day-``days`` estimate with
the prior was; ``d − days`` days saved. The final estimate includes those days, so
without a prior the error reaches 0 on the trial's last day at the latest: the measure
is bounded by the trial's length and says how much earlier the prior gets one there.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from inference.priors.fit import shrunk_log_mean, shrunk_rate
from inference.priors.learn import LearnedPriors, PastTrial, arm_counts, learn

__all__ = ["Backtest", "StageError", "backtest"]


@dataclass(frozen=True)
class StageError:
    stage: str
    arms: int
    error_without: float | None  # mean absolute error without the prior
    error_with: float | None

    @property
    def improvement(self) -> float | None:
        if not self.error_without or self.error_with is None:
            return None
        return 1 - self.error_with / self.error_without


@dataclass(frozen=True)
class Backtest:
    days: int
    trials: int  # held-out trials (with more than ``days`` days and another trial to learn from)
    stages: tuple[StageError, ...]
    days_saved_median: float | None
    days_saved_mean: float | None
    days_saved_by_trial: tuple[tuple[str, int], ...]
    reason: str | None  # why there is nothing to show, or None

    def stage(self, name: str) -> StageError:
        return next(s for s in self.stages if s.stage == name)


def _rate(sums, stage: str) -> tuple[int, int]:
    if stage == "ctr":
        return sums.impressions, sums.clicks
    return sums.paired_clicks, sums.paired_conversions


def _cvr_error(trial: PastTrial, until: int, priors: LearnedPriors | None) -> float | None:
    errors = []
    for arm in trial.arms:
        n, k = _rate(arm_counts(arm), "cvr")
        if n == 0:
            continue
        prior = priors.for_arm(arm.channel, "cvr") if priors is not None else None
        n_d, k_d = _rate(arm_counts(arm, until), "cvr")
        errors.append(abs(shrunk_rate(k_d, n_d, prior.beta if prior else None) - k / n))
    return sum(errors) / len(errors) if errors else None


def backtest(trials: Sequence[PastTrial], days: int = 7) -> Backtest:
    """Leave-one-trial-out day-``days`` errors with and without learned priors."""
    trials = [t for t in trials if t.length > 0]
    errors: dict[str, list[tuple[float, float]]] = {"ctr": [], "cvr": [], "order_value": []}
    saved: list[tuple[str, int]] = []
    held = 0
    for i, trial in enumerate(trials):
        others = trials[:i] + trials[i + 1 :]
        if trial.length <= days or not others:
            continue
        held += 1
        priors = learn(others)
        for arm in trial.arms:
            final, early = arm_counts(arm), arm_counts(arm, days)
            for stage in ("ctr", "cvr"):
                n, k = _rate(final, stage)
                if n == 0:
                    continue
                n_d, k_d = _rate(early, stage)
                prior = priors.for_arm(arm.channel, stage)
                without = shrunk_rate(k_d, n_d, None)
                with_ = shrunk_rate(k_d, n_d, prior.beta if prior else None)
                errors[stage].append((abs(without - k / n), abs(with_ - k / n)))
            if final.conversions > 0 and final.revenue > 0 and early.conversions > 0:
                truth = final.revenue / final.conversions
                raw = early.revenue / early.conversions
                prior = priors.for_arm(arm.channel, "order_value", trial.currency)
                shrunk = shrunk_log_mean(raw, early.conversions, prior.lognormal if prior else None)
                errors["order_value"].append(
                    (abs(raw - truth) / truth, abs(shrunk - truth) / truth)
                )
        target = _cvr_error(trial, days, priors)
        if target is None:
            continue
        for d in range(days, trial.length + 1):
            without = _cvr_error(trial, d, None)
            if without is not None and without <= target + 1e-15:
                saved.append((trial.name, d - days))
                break
    stages = tuple(
        StageError(
            stage,
            len(pairs),
            sum(p[0] for p in pairs) / len(pairs) if pairs else None,
            sum(p[1] for p in pairs) / len(pairs) if pairs else None,
        )
        for stage, pairs in errors.items()
    )
    reason = None
    if held == 0:
        reason = (
            f"a back-test needs at least two finished trials, one of them with more than "
            f"{days} days of data"
        )
    values = [s for _, s in saved]
    return Backtest(
        days=days,
        trials=held,
        stages=stages,
        days_saved_median=statistics.median(values) if values else None,
        days_saved_mean=sum(values) / len(values) if values else None,
        days_saved_by_trial=tuple(saved),
        reason=reason,
    )
