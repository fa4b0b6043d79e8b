"""Operating characteristics of the funnel model on simulated trials, shared by the slow
tests (``test_pooling_simulated.py``, ``test_messy_simulated.py``) and
``bench/operating_characteristics.py``.

Per simulated trial every model sees the same data:

* ``default``: ``fit_mcmc`` with the default ``ModelSpec`` (partial pooling);
* ``none``: ``fit_mcmc`` with ``pooling="none"``;
* ``reference``: the independent per-arm reference (``tests/inference/reference.py``);
* ``raw``: raw totals, revenue / spend (no interval, no verdict).

and is judged on ROAS: whether its leader (highest P(best); highest revenue / spend for
raw totals) is the true best, its posterior mean over the true ROAS, whether its 94 %
interval covers the true ROAS, and whether the decision rule (``inference.rule``, one
look at the planned end) says ``scale``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from inference.funnel.fit import fit_mcmc
from inference.funnel.spec import ModelSpec, SamplerSettings
from inference.rule import Rule, quantities_from_draws, verdict
from inference.summary import hdi
from tests.inference.messy import ArmTruth, Features, MessyTrial, messy_trial
from tests.inference.reference import raw_roas, reference_draws

__all__ = [
    "MODELS",
    "SHAPES",
    "ModelResults",
    "Shape",
    "evaluate",
    "rate_error",
    "summary",
]

MODELS = ("default", "none", "reference", "raw")
HDI_PROB = 0.94


@dataclass(frozen=True)
class Shape:
    """A trial shape: ``arms(seed, aa)`` gives the arms' truths of one simulated trial
    (``aa``: every arm the same)."""

    name: str
    days: int
    arms: Callable[[int, bool], list[ArmTruth]]
    break_even: float = 1.0
    features: Features = field(default_factory=Features)


def _demo(seed: int, aa: bool) -> list[ArmTruth]:
    """Like the demo "WeChat vs Weibo launch": 1,000 per arm over 28 days, about nine
    conversions each, WeChat's ROAS 18 % above Weibo's (2.38 vs 2.02 before day effects)."""
    spend = 1000 / 28
    weibo = ArmTruth("Weibo", cpm=15.0, ctr=0.009, cvr=0.016, order_value=210.0, daily_spend=spend)
    wechat = ArmTruth(
        "WeChat", cpm=60.0, ctr=0.012, cvr=0.045, order_value=264.3, daily_spend=spend
    )
    if aa:
        wechat = ArmTruth(
            "WeChat", cpm=15.0, ctr=0.009, cvr=0.016, order_value=210.0, daily_spend=spend
        )
    return [wechat, weibo]


def _spread(channels: int, per_channel: int, channel_sd: float, arm_sd: float, spend: float):
    def arms(seed: int, aa: bool) -> list[ArmTruth]:
        rng = np.random.default_rng([seed, 99])
        k = channels * per_channel
        ch = np.repeat(np.arange(channels), per_channel)

        def logit_rate(base):
            if aa:
                return np.full(k, base)
            eta = np.log(base / (1 - base))
            eta = eta + rng.normal(0, channel_sd, channels)[ch] + rng.normal(0, arm_sd, k)
            return 1 / (1 + np.exp(-eta))

        ctr, cvr = logit_rate(0.02), logit_rate(0.03)
        aov = np.full(k, 80.0)
        if not aa:
            aov = 80.0 * np.exp(rng.normal(0, 0.3, channels)[ch] + rng.normal(0, 0.1, k))
        return [
            ArmTruth(
                f"channel {ch[a]}",
                ctr=float(ctr[a]),
                cvr=float(cvr[a]),
                order_value=float(aov[a]),
                daily_spend=spend,
            )
            for a in range(k)
        ]

    return arms


SHAPES = {
    "demo 2x1": Shape("demo 2x1", 28, _demo),
    "1x3": Shape("1x3", 28, _spread(1, 3, 0.0, 0.3, 40.0)),
    "4x5": Shape("4x5", 21, _spread(4, 5, 0.6, 0.3, 40.0)),
}


@dataclass
class ModelResults:
    named: list[bool] = field(default_factory=list)  # leader is the true best
    ratio: list[float] = field(default_factory=list)  # per arm: estimate / true ROAS
    covered: list[bool] = field(default_factory=list)  # per arm: 94 % interval covers
    scaled: list[bool] = field(default_factory=list)  # the rule said "scale"
    scaled_best: list[bool] = field(default_factory=list)  # ... and named the true best
    reliable: list[bool] = field(default_factory=list)
    seconds: float = 0.0


def _judge(roas: np.ndarray, trial: MessyTrial, shape: Shape, reliable: bool, ess) -> tuple:
    """(leader, scaled) under the default rule, one look at the planned end."""
    t = trial.data.totals()
    comparable = np.isfinite(roas).all(axis=0)
    if comparable.sum() < 2:
        return None, False
    filled = np.where(np.isfinite(roas), roas, 0.0)
    q = quantities_from_draws(filled, effective_draws=ess)
    p_profit = [float((roas[:, a] > shape.break_even).mean()) for a in range(roas.shape[1])]
    v = verdict(
        q,
        Rule(planned_days=shape.days),
        days=t.days.tolist(),
        conversions=t.conversions.tolist(),
        reliable=reliable,
        p_profit=p_profit,
        information=1.0,
        comparable=comparable.tolist(),
    )
    return q.leader, v.code == "scale"


def _record(out: ModelResults, roas: np.ndarray, trial, shape, reliable, ess) -> None:
    truth = trial.truth
    leader, scaled = _judge(roas, trial, shape, reliable, ess)
    out.named.append(leader == truth.best)
    out.scaled.append(scaled)
    out.scaled_best.append(scaled and leader == truth.best)
    out.reliable.append(reliable)
    for a in range(roas.shape[1]):
        if truth.roas[a] <= 0 or not np.isfinite(roas[:, a]).all():
            continue
        out.ratio.append(float(roas[:, a].mean() / truth.roas[a]))
        low, high = hdi(roas[:, a], HDI_PROB)
        out.covered.append(bool(low <= truth.roas[a] <= high))


def evaluate(
    shape: Shape,
    n_trials: int,
    *,
    seed: int,
    aa: bool = False,
    models: tuple[str, ...] = MODELS,
    sampler: SamplerSettings | None = None,
    features: Features | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, ModelResults]:
    """Simulate ``n_trials`` trials of ``shape`` and judge each model on each."""
    results = {m: ModelResults() for m in models}
    sampler = sampler or SamplerSettings()
    specs = {
        "default": ModelSpec(hdi_prob=HDI_PROB, sampler=sampler),
        "none": ModelSpec(pooling="none", hdi_prob=HDI_PROB, sampler=sampler),
    }
    for n in range(n_trials):
        trial_seed = seed * 100_003 + n
        trial = messy_trial(
            trial_seed,
            shape.arms(trial_seed, aa),
            days=shape.days,
            features=features or shape.features,
        )
        for m in models:
            started = time.perf_counter()
            if m in specs:
                posterior = fit_mcmc(trial.data, specs[m], seed=trial_seed)
                d = posterior.diagnostics
                _record(
                    results[m],
                    posterior.draws["roas"],
                    trial,
                    shape,
                    d.reliable,
                    d.ess_bulk_min,
                )
            elif m == "reference":
                roas = reference_draws(trial.data, seed=trial_seed)["roas"]
                _record(results[m], roas, trial, shape, True, None)
            else:
                raw = raw_roas(trial.data)
                r = results[m]
                r.named.append(int(np.nanargmax(raw)) == trial.truth.best)
                keep = trial.truth.roas > 0
                r.ratio += list(raw[keep] / trial.truth.roas[keep])
            results[m].seconds += time.perf_counter() - started
        if progress:
            progress(n)
    return results


def rate_error(values) -> tuple[float, float]:
    """A share and its binomial Monte Carlo error (at least that of one event in n)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 0:
        return math.nan, math.nan
    p = float(x.mean())
    return p, math.sqrt(max(p * (1 - p), 1 / n) / n)


def median_bias(ratio, seed: int = 0, n_boot: int = 400) -> tuple[float, float]:
    """Median of estimate / truth - 1, with its bootstrap error."""
    x = np.asarray(ratio, dtype=float)
    if len(x) == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    boots = np.median(rng.choice(x, size=(n_boot, len(x))), axis=1)
    return float(np.median(x) - 1), float(boots.std())


def paired_difference(a, b) -> tuple[float, float]:
    """Mean of a - b over the same trials and its Monte Carlo error."""
    d = np.asarray(a, float) - np.asarray(b, float)
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else math.nan


def summary(r: ModelResults) -> dict[str, tuple[float, float]]:
    return {
        "named": rate_error(r.named),
        "bias": median_bias(r.ratio),
        "coverage": rate_error(r.covered),
        "scaled": rate_error(r.scaled),
        "unreliable": rate_error([not x for x in r.reliable]),
    }
