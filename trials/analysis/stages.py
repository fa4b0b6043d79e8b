"""Where an arm's funnel trails: the one definition of "weakest stage", shown on Results,
in ``analyze --json``, in the reports, and behind ``fix_creative`` / ``fix_landing``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["STAGES", "STAGE_CONFIDENCE", "WeakStage", "weakest_stages"]

STAGE_CONFIDENCE = 0.9  # P(stage worse than the reference's) that names a weak stage
STAGES = {
    "ctr": "click-through rate",
    "cvr": "conversion after the click",
    "revenue_per_conversion": "order value",
}


@dataclass(frozen=True)
class WeakStage:
    """Where an arm's funnel trails: the one definition of "weakest stage"."""

    stage: str  # ctr, cvr or revenue_per_conversion
    ratio: float  # the arm's mean over the reference arm's on this stage
    p_below: float  # P(the arm is below the reference on this stage)
    reference: int  # arm index: the leader, or for the leader the best other arm
    clear: bool  # behind on this stage with STAGE_CONFIDENCE while the others hold up

    @property
    def label(self) -> str:
        return STAGES[self.stage]

    @property
    def fix(self) -> str | None:
        """The recommendation a clear gap here calls for."""
        if not self.clear:
            return None
        return {"ctr": "fix_creative", "cvr": "fix_landing"}.get(self.stage)


def weakest_stages(posterior, leader: int | None) -> dict[int, WeakStage]:
    """Per arm index, the funnel stage where it most surely trails its reference: the
    leader, or for the leader (or with no leader) the best other arm on each stage."""
    k = len(posterior.arms)
    out: dict[int, WeakStage] = {}
    if k < 2:
        return out
    finite = {s: np.isfinite(posterior.draws[s]).all(axis=0) for s in STAGES}
    for i in range(k):
        found = []
        for stage in STAGES:
            draws = posterior.draws[stage]
            others = [j for j in range(k) if j != i and finite[stage][j]]
            if not finite[stage][i] or not others:
                continue
            if leader is not None and leader != i and finite[stage][leader]:
                ref_draws, ref = draws[:, leader], leader
            else:
                means = draws[:, others].mean(axis=0)
                ref = others[int(np.argmax(means))]
                ref_draws = draws[:, others].max(axis=1)
            p_below = float((draws[:, i] < ref_draws).mean())
            ratio = float(draws[:, i].mean() / max(draws[:, ref].mean(), 1e-12))
            found.append((stage, ratio, p_below, ref))
        if not found:
            continue
        stage, ratio, p_below, ref = max(found, key=lambda f: (f[2], -f[1]))
        sure = [f for f in found if f[2] >= STAGE_CONFIDENCE]
        out[i] = WeakStage(stage, ratio, p_below, ref, clear=len(sure) == 1 and sure[0][0] == stage)
    return out
