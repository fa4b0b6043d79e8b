"""Rounds: start the next one, and compare two rounds arm by arm and stage by stage.

The loop "fix the content or the landing path, then test again" made measurable: for each
arm that ran in both rounds (or whose creative was replaced between them), the posterior
of the change of each funnel stage (CTR, CVR, order value) and of ROAS and CPA, with the
probability that it improved. Each round is fitted on its own days and arms (``trial.in_round``)
by the same analysis every page uses; the two posteriors are independent (disjoint data),
so the change's posterior is the ratio of independent draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from inference.summary import Interval, hdi
from trials.domain import Trial, UserError
from trials.domain.rounds import NextRound
from trials.storage.store import TrialStore

__all__ = [
    "STAGES",
    "ArmChange",
    "RoundComparison",
    "StageChange",
    "compare_rounds",
    "start_round",
]

# The stages compared, in funnel order, with whether a higher value is better.
STAGES = (
    ("ctr", True),
    ("cvr", True),
    ("revenue_per_conversion", True),
    ("roas", True),
    ("cpa", False),
)
STAGE_WORDS = {
    "ctr": "CTR",
    "cvr": "CVR",
    "revenue_per_conversion": "order value",
    "roas": "ROAS",
    "cpa": "CPA",
}


@dataclass(frozen=True)
class StageChange:
    """One stage of one arm, before and after: the relative change (after / before − 1)
    with its interval, and P(improved) (lower is better for CPA); undefined with a reason
    when either round cannot say (e.g. no conversions yet)."""

    stage: str
    before: Interval
    after: Interval
    change: Interval
    p_improved: float | None
    reason: str | None = None


@dataclass(frozen=True)
class ArmChange:
    """One arm followed from the earlier round to the later one: ``kind`` is "same" (the
    arm ran in both) or "replaced" (its creative was replaced in between)."""

    before_arm_id: int
    after_arm_id: int
    before_name: str
    after_name: str
    kind: str
    stages: tuple[StageChange, ...]

    def stage(self, name: str) -> StageChange:
        return next(s for s in self.stages if s.stage == name)


@dataclass(frozen=True)
class RoundComparison:
    """Round ``before`` against round ``after`` of one trial."""

    trial: Trial
    before: int
    after: int
    method: str
    arms: tuple[ArmChange, ...]
    added: tuple[str, ...]  # arms of the later round with no arm in the earlier one
    dropped: tuple[str, ...]  # arms of the earlier round that did not go on
    hdi_prob: float
    notes: tuple[str, ...] = ()


def start_round(store: TrialStore, trial: Trial, plan: NextRound) -> Trial:
    """Start the trial's next round (the store checks and writes it, all or nothing)."""
    return store.start_round(trial.id, plan)


def lineage(trial: Trial, before: int, after: int) -> list[tuple[int, int, str]]:
    """(arm id in ``before``, arm id in ``after``, "same" | "replaced") for each arm of
    round ``after`` that descends from an arm of round ``before``."""
    earlier = set(_arm_ids(trial, before))
    pairs = []
    for arm_id in _arm_ids(trial, after):
        current, kind = arm_id, "same"
        for number in range(after, before, -1):
            r = trial.round(number)
            old = r.replacing(current) if r is not None else None
            if old is not None:
                current, kind = old, "replaced"
        if current in earlier:
            pairs.append((current, arm_id, kind))
    return pairs


def _arm_ids(trial: Trial, number: int) -> list[int]:
    return [a.id for a in trial.in_round(number).arms]


def compare_rounds(
    store: TrialStore,
    trial: Trial,
    *,
    before: int | None = None,
    after: int | None = None,
    method: str = "mcmc",
    spec=None,
    seed: int = 0,
    posteriors: tuple[Any, Any] | None = None,
) -> RoundComparison:
    """Round ``before`` (default: the one before ``after``) against round ``after``
    (default: the current one). ``posteriors`` reuses fits already made (the pages cache
    them); otherwise each round is fitted by ``method``."""
    from inference.funnel.spec import ModelSpec
    from trials.analysis.result import analyse

    after = trial.current_round if after is None else after
    before = after - 1 if before is None else before
    if trial.current_round < 2:
        raise UserError(
            f"'{trial.name}' has one round so far; start the next one (python -m trials "
            "round …, or 'Start next round' on the Trial page) to compare rounds"
        )
    if not 1 <= before < after <= trial.current_round:
        raise UserError(
            f"rounds {before} and {after} cannot be compared: '{trial.name}' has rounds 1 to "
            f"{trial.current_round}, and the earlier round comes first"
        )
    spec = spec or ModelSpec()
    if posteriors is None:
        posteriors = tuple(
            analyse(store, trial.in_round(n), method=method, spec=spec, seed=seed + n)
            for n in (before, after)
        )
    first, second = posteriors
    views = trial.in_round(before), trial.in_round(after)
    index = [{a.id: i for i, a in enumerate(v.arms)} for v in views]
    names = {a.id: a.name for a in trial.all_arms}
    pairs = lineage(trial, before, after)
    arms = tuple(
        ArmChange(
            before_arm_id=old,
            after_arm_id=new,
            before_name=names[old],
            after_name=names[new],
            kind=kind,
            stages=tuple(
                _stage_change(first, second, index[0][old], index[1][new], stage, higher)
                for stage, higher in STAGES
            ),
        )
        for old, new, kind in pairs
    )
    followed_old = {old for old, _, _ in pairs}
    followed_new = {new for _, new, _ in pairs}
    notes = []
    if first.method != "mcmc" or second.method != "mcmc":
        notes.append(
            "exact preview: each round's figures come from the simpler exact model (no "
            "pooling, no day-to-day variation)"
        )
    return RoundComparison(
        trial=trial,
        before=before,
        after=after,
        method=second.method,
        arms=arms,
        added=tuple(a.name for a in views[1].arms if a.id not in followed_new),
        dropped=tuple(a.name for a in views[0].arms if a.id not in followed_old),
        hdi_prob=second.spec.hdi_prob,
        notes=tuple(notes),
    )


def _stage_change(first, second, i: int, j: int, stage: str, higher: bool) -> StageChange:
    before, after = first.interval(stage, i), second.interval(stage, j)
    if not before.defined or not after.defined:
        which = before if not before.defined else after
        return StageChange(
            stage,
            before,
            after,
            Interval(float("nan"), float("nan"), float("nan"), which.reason or "undefined"),
            None,
            which.reason or "not defined in one of the rounds",
        )
    a = np.asarray(first.draws[stage][:, i], dtype=float)
    b = np.asarray(second.draws[stage][:, j], dtype=float)
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    ok = np.isfinite(a) & np.isfinite(b) & (a > 0)
    ratio = b[ok] / a[ok] - 1.0
    if ratio.size == 0:
        return StageChange(
            stage,
            before,
            after,
            Interval(float("nan"), float("nan"), float("nan"), "no usable draws"),
            None,
            "no usable draws",
        )
    low, high = hdi(ratio, second.spec.hdi_prob)
    improved = (b[ok] > a[ok]) if higher else (b[ok] < a[ok])
    return StageChange(
        stage,
        before,
        after,
        Interval(float(np.mean(ratio)), float(low), float(high)),
        float(np.mean(improved)),
    )
