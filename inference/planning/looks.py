"""The decision rule on Beta posteriors, many simulated trials and days at once: what the
rule reads (``decision_metrics``, by quadrature) and whether it is met (``rule_met``,
through ``inference.rule.judge``, the code ``analyze`` runs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from scipy import special

from inference.rule.bars import Rule
from inference.rule.batch import Batch, judge

__all__ = ["GRID", "decision_metrics", "rule_met"]

GRID = 96  # quadrature nodes per posterior comparison


def decision_metrics(
    a: np.ndarray, b: np.ndarray, margin: float = 0.1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For Beta(a, b) posteriors over the last axis (arms): what the rule reads.

    ``a`` and ``b`` are shaped (..., arms). Returns P(best) per arm, the index of the arm
    with the highest P(best), the leader's expected loss E[max] - E[p_leader] over
    E[p_leader], P(each arm beats the leader) and P(every arm within ``margin`` of the
    leader), all by quadrature on a grid spanning every arm's posterior.
    """
    mean = a / (a + b)
    sd = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    lo = np.clip((mean - 8 * sd).min(axis=-1), 0.0, 1.0)
    hi = np.clip((mean + 8 * sd).max(axis=-1), 0.0, 1.0)
    u = (np.arange(GRID) + 0.5) / GRID  # midpoint rule
    x = lo[..., None] + (hi - lo)[..., None] * u  # (..., grid)
    width = (hi - lo) / GRID
    xa = x[..., None, :]  # (..., 1, grid) against (..., arms, 1)
    aa, bb = a[..., None], b[..., None]
    with np.errstate(divide="ignore"):
        log_pdf = (aa - 1) * np.log(xa) + (bb - 1) * np.log1p(-xa) - special.betaln(aa, bb)
    pdf = np.exp(log_pdf)
    cdf = special.betainc(aa, bb, xa)
    log_cdf = np.log(np.maximum(cdf, 1e-300))
    all_below = np.exp(log_cdf.sum(axis=-2))  # P(max <= x), (..., grid)
    others_below = np.exp(log_cdf.sum(axis=-2, keepdims=True) - log_cdf)
    p_best = (pdf * others_below).sum(axis=-1) * width[..., None]
    p_best = p_best / p_best.sum(axis=-1, keepdims=True)  # quadrature error, not mass lost
    leader = p_best.argmax(axis=-1)
    e_max = lo + ((1 - all_below).sum(axis=-1)) * width
    leader_mean = np.take_along_axis(mean, leader[..., None], axis=-1)[..., 0]
    loss = np.maximum(e_max - leader_mean, 0.0) / leader_mean
    lead_pdf = np.take_along_axis(pdf, leader[..., None, None], axis=-2)  # (..., 1, grid)
    lead_mass = lead_pdf.sum(axis=-1) * width[..., None]  # normalises the quadrature
    beats = ((lead_pdf * (1 - cdf)).sum(axis=-1) * width[..., None]) / lead_mass
    np.put_along_axis(beats, leader[..., None], 0.5, axis=-1)
    # F_b at x (1 +- m), read off the CDF already on the grid by linear interpolation
    # (outside the grid, spanning 8 sd beyond every arm, the CDF is 0 or 1).
    band = _on_grid(cdf, x * (1 + margin), lo, width) - _on_grid(cdf, x * (1 - margin), lo, width)
    np.put_along_axis(band, leader[..., None, None], 1.0, axis=-2)
    equal = (lead_pdf[..., 0, :] * band.prod(axis=-2)).sum(axis=-1) * width / lead_mass[..., 0]
    return p_best, leader, loss, beats, np.clip(equal, 0.0, 1.0)


def _on_grid(cdf: np.ndarray, at: np.ndarray, lo: np.ndarray, width: np.ndarray) -> np.ndarray:
    """CDFs (..., arms, grid) tabulated at the grid's midpoints, read at points ``at``
    (..., grid) by linear interpolation."""
    grid = cdf.shape[-1]
    pos = np.clip((at - lo[..., None]) / width[..., None] - 0.5, 0.0, grid - 1.0)
    i0 = np.minimum(np.floor(pos).astype(np.int64), grid - 2)
    frac = (pos - i0)[..., None, :]
    index = np.broadcast_to(i0[..., None, :], cdf.shape)
    below = np.take_along_axis(cdf, index, axis=-1)
    above = np.take_along_axis(cdf, index + 1, axis=-1)
    return below * (1 - frac) + above * frac


def rule_met(
    a: np.ndarray,
    b: np.ndarray,
    conversions: np.ndarray,
    days: np.ndarray,
    rule: Rule,
    information: np.ndarray | float = 1.0,
    planned: Sequence[int] | None = None,
    until_met: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rule's verdict for posteriors shaped (sims, days, arms), through
    ``inference.rule.judge``: whether it is met, the verdict's index in ``VERDICTS`` and
    the leader, each (sims, days). ``planned`` gives per day the planned length the look
    belongs to (default: the rule's). Days are taken one at a time so the quadrature arrays
    stay small. With ``until_met`` a simulated trial is not looked at again once it has a
    verdict (it would have ended: later days say keep testing). Looks that cannot reach a
    verdict (too few days, or no arm with the conversions the rule asks for) skip the
    quadrature.
    """
    sims, n_days, k = a.shape
    code = np.full((sims, n_days), 1, dtype=np.int64)  # keep_testing
    leader = np.zeros((sims, n_days), dtype=np.int64)
    days = np.broadcast_to(days, (sims, n_days))
    information = np.broadcast_to(np.asarray(information, dtype=float), (sims, n_days))
    done = np.zeros(sims, dtype=bool)
    for t in range(n_days):
        look = (days[:, t] >= rule.min_days) & (
            conversions[:, t].max(axis=-1) >= rule.min_conversions_per_arm
        )
        if until_met:
            look &= ~done
        if not look.any():
            continue
        n = int(look.sum())
        p_best, lead, loss, beats, equal = decision_metrics(
            a[look, t], b[look, t], rule.equivalence_margin
        )
        look_rule = rule if planned is None else replace(rule, planned_days=int(planned[t]))
        out = judge(
            Batch(
                p_best=p_best,
                p_beats_leader=beats,
                relative_loss=loss,
                p_equal=equal,
                days=np.broadcast_to(days[look, t][:, None], (n, k)),
                conversions=conversions[look, t],
                reliable=np.ones(n, dtype=bool),
                p_profit=np.full((n, k), np.nan),
                information=information[look, t],
                comparable=np.ones((n, k), dtype=bool),
            ),
            look_rule,
        )
        code[look, t] = out["code"]
        leader[look, t] = lead
        done |= code[:, t] != 1
    return code != 1, code, leader
