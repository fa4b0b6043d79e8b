"""Planning a trial before the money is spent, and progress toward a decision while it runs.

Bayesian assurance (O'Hagan, Stevens and Campbell 2005) is the probability that the
trial's decision rule reaches a confident decision, averaged over a *design prior*: what
we believe about the true rates before the trial. Per simulated trial:

    p_0            ~ Beta(baseline * s, (1 - baseline) * s)      (the baseline, strength s)
    log(1 + lift)  ~ Normal(log(1 + L), 0.5 log(1 + L))          (the best variant's lift)
    p_best = p_0 (1 + lift),  every other arm at p_0
    successes[a, t] ~ Binomial(n_eff t, p_a)   for t = 1 .. max_days

where n is the arm's daily clicks (or impressions, for CTR) and n_eff = n / DE with the
design effect DE = 1 + (n - 1) / (kappa + 1): real daily rates vary (beta-binomial with
concentration kappa, as in the funnel model), so a day of n clicks carries the
information of n / DE independent ones. Each day's posterior is the exact conjugate
Beta(1 + k, 1 + n_eff t - k) per arm (effective counts), and the rule is met when

``inference.rule.judge`` (the same code ``analyze`` runs) reaches a verdict: a winner
(``scale``) or practically equal arms (``equal``), with

    P(best_a)         = int f_a(x) prod_{b != a} F_b(x) dx
    E[max]            = int (1 - prod_b F_b(x)) dx
    P(b beats leader) = int f_L(x) (1 - F_b(x)) dx
    P(equal)          = int f_L(x) prod_{b != L} (F_b(x (1 + m)) - F_b(x (1 - m))) dx

by quadrature (m the rule's equivalence margin). The assurance curve is the share of
simulated trials that meet the rule on day t; the classical figure beside it is the
two-proportion fixed-horizon sample size

    n = (z_{1-alpha/2} sqrt(2 pbar (1 - pbar)) + z_{1-beta} sqrt(p1 q1 + p2 q2))^2 / (p2 - p1)^2.

Everything here is numpy and scipy: a plan answers in about a second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import special, stats

from inference.rule import VERDICTS, Batch, Rule, judge

__all__ = [
    "Advice",
    "AssurancePoint",
    "DecisionProgress",
    "LookRates",
    "Plan",
    "PlanInputs",
    "PlanRule",
    "assurance_curve",
    "classical_clicks_per_arm",
    "daily_look_rates",
    "plan_trial",
    "progress_to_decision",
]

GRID = 96  # quadrature nodes per posterior comparison


class PlanError(ValueError):
    """Inputs a plan cannot be made from; the message names the input."""


PlanRule = Rule  # the rule a plan checks is the rule ``analyze`` applies


@dataclass(frozen=True)
class PlanInputs:
    """What a marketer knows before a trial.

    Attributes
    ----------
    baseline_cvr
        Conversions per click today. With ``metric="ctr"`` the plan is on clicks per
        impression instead and needs ``baseline_ctr``.
    lift
        The smallest relative lift worth finding (0.2 = +20 %).
    arms
        Arms in the trial, the control included.
    cpc
        Cost per click.
    clicks_per_day, daily_budget
        The whole trial's daily clicks, or its daily budget (clicks = budget / cpc); one
        of the two. Split evenly over the arms.
    assurance
        The assurance the plan is sized for.
    budget_cap
        The most the trial may spend (none: no cap).
    baseline_strength
        How well the baseline is known, in clicks (or impressions) of past data.
    concentration
        Day-to-day concentration kappa of the rates (the funnel model's prior median);
        ``None`` treats days as independent coin flips.
    """

    baseline_cvr: float
    lift: float
    arms: int
    cpc: float
    clicks_per_day: float | None = None
    daily_budget: float | None = None
    assurance: float = 0.8
    metric: str = "cvr"
    baseline_ctr: float | None = None
    revenue_per_conversion: float | None = None
    budget_cap: float | None = None
    max_days: int = 60
    rule: PlanRule = field(default_factory=PlanRule)
    baseline_strength: float = 2000.0
    concentration: float | None = 300.0
    simulations: int = 400

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise PlanError("; ".join(problems))

    def problems(self) -> list[str]:
        out = []
        if not 0 < self.baseline_cvr < 1:
            out.append("baseline conversion rate must be between 0 and 1 (e.g. 0.03 for 3 %)")
        if self.metric not in ("cvr", "ctr"):
            out.append("metric must be 'cvr' or 'ctr'")
        if self.baseline_ctr is not None and not 0 < self.baseline_ctr < 1:
            out.append("baseline CTR must be between 0 and 1 (e.g. 0.02 for 2 %)")
        if self.metric == "ctr" and self.baseline_ctr is None:
            out.append("planning on CTR needs a baseline CTR")
        if not self.lift > 0:
            out.append("lift must be above 0 (0.2 = +20 %)")
        elif (base := self.metric_baseline) is not None and 0 < base < 1 <= base * (1 + self.lift):
            out.append("baseline x (1 + lift) must stay below 1")
        if not (isinstance(self.arms, int) and 2 <= self.arms <= 50):
            out.append("arms must be a whole number from 2 to 50")
        if not self.cpc > 0:
            out.append("cost per click must be above 0")
        if (self.clicks_per_day is None) == (self.daily_budget is None):
            out.append("give either clicks per day or a daily budget")
        for name in ("clicks_per_day", "daily_budget"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                out.append(f"{name.replace('_', ' ')} must be above 0")
        if not 0 < self.assurance < 1:
            out.append("assurance must be between 0 and 1 (0.8 = 80 %)")
        if self.budget_cap is not None and not self.budget_cap > 0:
            out.append("budget cap must be above 0")
        if not (isinstance(self.max_days, int) and 1 <= self.max_days <= 365):
            out.append("max days must be a whole number from 1 to 365")
        if self.concentration is not None and not self.concentration > 0:
            out.append("concentration must be above 0")
        if not self.simulations >= 50:
            out.append("simulations must be at least 50")
        return out

    @property
    def metric_baseline(self) -> float:
        return self.baseline_ctr if self.metric == "ctr" else self.baseline_cvr

    @property
    def trial_clicks_per_day(self) -> float:
        if self.clicks_per_day is not None:
            return float(self.clicks_per_day)
        return float(self.daily_budget) / self.cpc

    @property
    def trial_daily_budget(self) -> float:
        if self.daily_budget is not None:
            return float(self.daily_budget)
        return float(self.clicks_per_day) * self.cpc

    @property
    def trials_per_arm_per_day(self) -> float:
        """Daily clicks per arm (impressions per arm for a CTR plan)."""
        clicks = self.trial_clicks_per_day / self.arms
        return clicks / self.baseline_ctr if self.metric == "ctr" else clicks


@dataclass(frozen=True)
class AssurancePoint:
    days: int
    clicks_per_arm: float
    budget: float
    assurance: float  # share of simulated trials whose rule reaches a verdict that day
    wrong_arm: float  # share of trials where the rule picked an arm that is not best
    p_winner: float = 0.0  # share ending with a winner to scale
    p_equal: float = 0.0  # share ending with the arms practically equal


@dataclass(frozen=True)
class Advice:
    """One way to make the plan answer within its limits, with what it changes."""

    change: str
    days: int | None
    budget: float | None


@dataclass(frozen=True)
class Plan:
    inputs: PlanInputs
    curve: tuple[AssurancePoint, ...]
    days: int | None  # None: the assurance is not reached within max_days
    clicks_per_arm_for_assurance: float | None
    budget: float | None
    classical_clicks_per_arm: int
    design_effect: float
    within_limits: bool
    advice: tuple[Advice, ...]
    seed: int


def classical_clicks_per_arm(
    baseline: float, lift: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Fixed-horizon sample size per arm for two proportions (two-sided, no correction)."""
    p1, p2 = baseline, baseline * (1 + lift)
    p_bar = (p1 + p2) / 2
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    root = z_a * math.sqrt(2 * p_bar * (1 - p_bar)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(root**2 / (p2 - p1) ** 2)


def design_effect(trials_per_day: float, concentration: float | None) -> float:
    """Variance inflation of a day's count when daily rates vary (beta-binomial)."""
    if concentration is None:
        return 1.0
    return 1.0 + max(trials_per_day - 1.0, 0.0) / (concentration + 1.0)


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


def _rule_met(
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


def check_days(max_days: int) -> list[int]:
    """Days the curve is evaluated on: daily for two weeks, then ever more sparsely."""
    days = list(range(1, 15)) + list(range(16, 31, 2)) + list(range(33, 61, 3))
    days += list(range(65, max_days + 1, 5))
    return sorted({d for d in days if d <= max_days} | {max_days})


@dataclass(frozen=True)
class _Simulated:
    inputs: PlanInputs
    rates: np.ndarray  # (sims, arms)
    successes: np.ndarray  # (sims, days, arms), effective units, cumulative
    conversions: np.ndarray  # (sims, days, arms), real conversions, cumulative
    n_eff: int  # effective trials per arm and day


def _simulate(inputs: PlanInputs, seed: int, identical: bool = False) -> _Simulated:
    """Simulated trials of the plan's design (``identical``: every arm at the baseline)."""
    rng = np.random.default_rng(seed)
    s, k, t_max = inputs.simulations, inputs.arms, inputs.max_days
    base, strength = inputs.metric_baseline, inputs.baseline_strength
    p0 = rng.beta(base * strength, (1 - base) * strength, size=s)
    log_lift = math.log1p(inputs.lift)
    lift = np.expm1(rng.normal(log_lift, 0.5 * log_lift, size=s))
    rates = np.repeat(p0[:, None], k, axis=1)
    if not identical:
        rates[:, -1] = np.minimum(p0 * (1 + lift), 0.999)
    per_day = inputs.trials_per_arm_per_day
    # A day of n clicks informs like n / DE independent ones (see the module docstring).
    n_eff = max(round(per_day / design_effect(per_day, inputs.concentration)), 1)
    daily = rng.binomial(np.full((s, t_max, k), n_eff), rates[:, None, :])
    successes = np.cumsum(daily, axis=1).astype(np.float64)
    conversions = successes * (per_day / n_eff)  # back in real units for the gate
    if inputs.metric == "ctr":  # the minimum-conversion gate counts conversions, not clicks
        conversions = conversions * inputs.baseline_cvr
    return _Simulated(inputs, rates, successes, conversions, n_eff)


def _evaluate(sim: _Simulated, days: list[int]) -> list[AssurancePoint]:
    inputs = sim.inputs
    index = np.asarray(days) - 1
    t = np.asarray(days, dtype=np.float64)
    k = sim.successes[:, index]
    n = sim.n_eff * t[None, :, None]
    # Each day is the planned end of a trial of that length, looked at daily before it.
    met, code, leader = _rule_met(
        1 + k, 1 + n - k, sim.conversions[:, index], t[None, :], inputs.rule, 1.0, days
    )
    best = sim.rates.argmax(axis=1)
    winner = code == VERDICTS.index("scale")
    wrong = winner & (leader != best[:, None])
    clicks = inputs.trial_clicks_per_day / inputs.arms
    return [
        AssurancePoint(
            days=int(d),
            clicks_per_arm=clicks * d,
            budget=inputs.trial_daily_budget * d,
            assurance=float(met[:, i].mean()),
            wrong_arm=float(wrong[:, i].mean()),
            p_winner=float(winner[:, i].mean()),
            p_equal=float((code[:, i] == VERDICTS.index("equal")).mean()),
        )
        for i, d in enumerate(days)
    ]


def assurance_curve(
    inputs: PlanInputs, seed: int = 0, days: list[int] | None = None
) -> tuple[AssurancePoint, ...]:
    """Assurance on each of ``days`` (default ``check_days``) at the planned daily volume.

    A point is the share of simulated trials whose rule is met when evaluated on that
    day (a fixed horizon); ``wrong_arm`` the share met with an arm that is not the best.
    """
    return tuple(_evaluate(_simulate(inputs, seed), days or check_days(inputs.max_days)))


@dataclass(frozen=True)
class LookRates:
    """What checking a trial every day and acting at the first verdict does, by simulation
    of the plan's design through the rule (``inference.rule.judge``)."""

    planned_days: int
    false_scale: float  # identical arms: share of trials with a ``scale`` on some day
    false_scale_error: float  # its Monte Carlo standard error
    verdict: float  # the design's lift: share reaching a verdict by the planned end
    winner: float  # ... of which a winner to scale


def daily_look_rates(inputs: PlanInputs, planned_days: int, seed: int = 0) -> LookRates:
    """The rule's false-scale rate with daily looks, and its chance of a verdict within
    ``planned_days``, at the plan's volume (each look reads the share of the planned days
    passed, as ``analyze`` does)."""
    inputs = replace(
        inputs, max_days=planned_days, rule=replace(inputs.rule, planned_days=planned_days)
    )
    days = list(range(1, planned_days + 1))
    t = np.asarray(days, dtype=np.float64)

    def first(sim: _Simulated) -> tuple[np.ndarray, np.ndarray]:
        k = sim.successes
        n = sim.n_eff * t[None, :, None]
        met, code, _ = _rule_met(
            1 + k,
            1 + n - k,
            sim.conversions,
            t[None, :],
            inputs.rule,
            t / planned_days,
            until_met=True,
        )
        scaled = (code == VERDICTS.index("scale")).any(axis=1)
        return met.any(axis=1), scaled

    _, false = first(_simulate(inputs, seed, identical=True))
    reached, winner = first(_simulate(inputs, seed + 1))
    p = float(false.mean())
    return LookRates(
        planned_days=planned_days,
        false_scale=p,
        false_scale_error=math.sqrt(max(p * (1 - p), 1e-12) / len(false)),
        verdict=float(reached.mean()),
        winner=float(winner.mean()),
    )


def plan_trial(inputs: PlanInputs, seed: int = 0, advise: bool = True) -> Plan:
    """Size a trial for ``inputs.assurance``; with advice when it cannot be done in its limits."""
    sim = _simulate(inputs, seed)
    curve = _evaluate(sim, check_days(inputs.max_days))
    first = next((i for i, p in enumerate(curve) if p.assurance >= inputs.assurance), None)
    if first is not None and first > 0 and curve[first].days - curve[first - 1].days > 1:
        # Fill in the days between the last check below the target and the first above.
        between = list(range(curve[first - 1].days + 1, curve[first].days))
        curve = sorted([*curve, *_evaluate(sim, between)], key=lambda p: p.days)
    point = next((p for p in curve if p.assurance >= inputs.assurance), None)
    within = point is not None and (
        inputs.budget_cap is None or point.budget <= inputs.budget_cap + 1e-9
    )
    return Plan(
        inputs=inputs,
        curve=tuple(curve),
        days=point.days if point else None,
        clicks_per_arm_for_assurance=point.clicks_per_arm if point else None,
        budget=point.budget if point else None,
        classical_clicks_per_arm=classical_clicks_per_arm(inputs.metric_baseline, inputs.lift),
        design_effect=design_effect(inputs.trials_per_arm_per_day, inputs.concentration),
        within_limits=within,
        advice=() if within or not advise else _advice(inputs, seed),
        seed=seed,
    )


def _advice(inputs: PlanInputs, seed: int) -> tuple[Advice, ...]:
    """Ways to make the question answerable: fewer arms, a bigger lift, longer, higher up."""
    quick = replace(inputs, simulations=min(inputs.simulations, 200))
    options: list[tuple[str, PlanInputs]] = []
    if inputs.arms > 2:
        options.append((f"Test 2 arms instead of {inputs.arms}", replace(quick, arms=2)))
    for factor in (1.5, 2.0, 3.0):
        lift = inputs.lift * factor
        if inputs.metric_baseline * (1 + lift) < 1:
            options.append((f"Look for a lift of {lift:.0%} or more", replace(quick, lift=lift)))
    if inputs.max_days < 120:
        longer = min(inputs.max_days * 2, 120)
        options.append((f"Allow up to {longer} days", replace(quick, max_days=longer)))
    if inputs.metric == "cvr" and inputs.baseline_ctr is not None:
        options.append(
            (
                "Decide on CTR (clicks per impression), higher in the funnel",
                replace(quick, metric="ctr"),
            ),
        )
    out = []
    for change, option in options:
        plan = plan_trial(option, seed, advise=False)
        if plan.days is not None:
            cap_ok = inputs.budget_cap is None or plan.budget <= inputs.budget_cap + 1e-9
            out.append(
                Advice(
                    change + ("" if cap_ok else " (still over the budget cap)"),
                    plan.days,
                    plan.budget,
                )
            )
        else:
            out.append(Advice(change + " (not enough on its own)", None, None))
    return tuple(out)


@dataclass(frozen=True)
class DecisionProgress:
    """How far a running trial is from its decision rule, at today's volume.

    ``reached`` means the rule is met on today's data. Otherwise ``probability_by_day``
    gives, for 1 .. horizon more days, the chance the rule is met by then (simulated from
    the current posterior), and ``days_median`` / ``days_80`` the extra days at which
    that chance passes 50 % and 80 % (``None``: not within the horizon).
    """

    reached: bool
    probability_by_day: tuple[float, ...]
    days_median: int | None
    days_80: int | None
    reason: str | None = None


def progress_to_decision(
    trials: np.ndarray,
    successes: np.ndarray,
    trials_per_day: np.ndarray,
    days_so_far: int,
    rule: PlanRule,
    *,
    conversions: np.ndarray | None = None,
    conversions_per_trial: float = 1.0,
    horizon: int = 60,
    simulations: int = 400,
    concentration: float | None = 300.0,
    planned_days: int | None = None,
    seed: int = 0,
) -> DecisionProgress:
    """Extra days until the rule is likely met, simulating future days from the posterior.

    ``trials`` and ``successes`` are the arms' counts so far (clicks and conversions for
    a conversion-rate trial), ``trials_per_day`` their recent daily volume. As in the
    planner, counts are discounted by the design effect of their daily volume, true rates
    are drawn from today's Beta(1 + k, 1 + n - k) posteriors on those effective counts,
    future days from them, and the rule is checked on each future day. With
    ``planned_days`` the rule's look boundary reads the share of them that has passed.
    """
    trials = np.asarray(trials, dtype=np.float64)
    successes = np.asarray(successes, dtype=np.float64)
    per_day = np.asarray(trials_per_day, dtype=np.float64)
    conversions = successes if conversions is None else np.asarray(conversions, float)
    if len(trials) < 2:
        return DecisionProgress(False, (), None, None, "a decision needs at least two arms")
    effect = np.array([design_effect(n, concentration) for n in per_day])
    n, k = trials / effect, successes / effect
    now = (1 + k)[None, None], (1 + n - k)[None, None]

    rule = replace(rule, planned_days=planned_days)

    def share(days):
        return 1.0 if not planned_days else np.asarray(days, float) / planned_days

    met_now, _, _ = _rule_met(
        *now, conversions[None, None], np.asarray(days_so_far), rule, share(days_so_far)
    )
    if bool(met_now[0, 0]):
        return DecisionProgress(True, (), 0, 0)
    if not (per_day > 0).all():
        return DecisionProgress(
            False, (), None, None, "some arms had no traffic lately, so no date can be given"
        )
    rng = np.random.default_rng(seed)
    rates = rng.beta(1 + k, 1 + n - k, size=(simulations, len(trials)))
    n_day = np.maximum(np.round(per_day / effect), 1).astype(np.int64)
    daily = rng.binomial(
        np.broadcast_to(n_day, (simulations, horizon, len(trials))), rates[:, None, :]
    ).astype(np.float64)
    future = np.cumsum(daily, axis=1)
    extra = np.arange(1, horizon + 1, dtype=np.float64)
    n_then = n + n_day * extra[None, :, None]
    k_then = k + future
    conv = conversions + future * (per_day / n_day) * conversions_per_trial
    then = days_so_far + extra[None, :]
    met, _, _ = _rule_met(
        1 + k_then, 1 + n_then - k_then, conv, then, rule, share(then), until_met=True
    )
    by_day = np.maximum.accumulate(met, axis=1).mean(axis=0)

    def first(level: float) -> int | None:
        hits = np.nonzero(by_day >= level)[0]
        return int(hits[0] + 1) if len(hits) else None

    return DecisionProgress(False, tuple(float(p) for p in by_day), first(0.5), first(0.8))
