"""A trial's verdict and each arm's recommendation, from its posterior and its
pre-registered rule. The one place these are decided: pages, the CLI, reports and the
decision log present what :func:`decide` returns.

The rule itself (gates, winner, equal, every arm losing money) is stated once, in
``inference.rule``; this module reads a posterior into it, adds the health checks a
scale needs (spend delivered as planned, no cost-per-click jump beyond click noise), and
turns the verdict into one recommendation per arm with its numbers:

* ``scale`` — the leader, when the whole rule is met and its data look healthy;
* ``equal`` — every arm, when the arms are practically equal;
* ``stop`` — an arm clearly behind the leader, or one that probably loses money, or
  every arm when they all probably lose money;
* ``fix_creative`` / ``fix_landing`` — instead of ``stop`` when the gap sits in one
  funnel stage: the click-through rate (the ad) or the conversion after the click (the
  landing page and offer), while the other stage holds up;
* ``keep_testing`` — anything short of that, with what is missing and how long and how
  much spend the rule likely still needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from inference.decisions import Allocation, ArmComparison, allocate, compare_arms
from inference.planning import DecisionProgress
from inference.rule import Rule, quantities_from_draws, verdict
from trials.domain import ArmTotals, DailyResult, DecisionRule, PrimaryMetric, Trial

__all__ = [
    "LABELS",
    "VERDICT_LABELS",
    "ArmDecision",
    "Gate",
    "TrialDecision",
    "WeakStage",
    "budget_split",
    "cpc_jumps",
    "decide",
    "decision_dict",
    "delivery_gaps",
    "inference_rule",
    "raw_estimate",
    "raw_vs_model_sentence",
    "split_notes",
    "stage_dict",
    "weakest_stages",
]

RECOMMENDATIONS = ("scale", "keep_testing", "equal", "stop", "fix_creative", "fix_landing")
LABELS = {
    "scale": "Scale",
    "keep_testing": "Keep testing",
    "equal": "Practically equal",
    "stop": "Stop",
    "fix_creative": "Fix the creative",
    "fix_landing": "Fix the landing page",
}
VERDICT_LABELS = {
    "scale": "Scale the winner",
    "keep_testing": "Keep testing",
    "equal": "Practically equal",
    "stop_all": "Stop: every arm probably loses money",
}
PROFIT_CONFIDENCE = Rule().profit_confidence  # P(ROAS > break-even) a scale needs
STAGE_CONFIDENCE = 0.9  # P(stage worse than the reference's) that names a weak stage
DELIVERY_TOLERANCE = 0.10  # absolute gap between actual and planned spend share
CPC_JUMP = 2.0  # a day's cost per click this many times (or 1/this) the days before...
CPC_FALSE_FIRE = 0.05  # ...and beyond click noise: identical days fire at most this often
CPC_WINDOW = 5
ROUND_DAYS = 7  # the next round's length, for the budget split's caps and floors
MAX_MULTIPLE = 2.0  # the most an arm may take, as a multiple of its spend at today's pace
LEARNING_FLOOR = 0.5  # an arm still under test keeps this share of its pace
STAGES = {
    "ctr": "click-through rate",
    "cvr": "conversion after the click",
    "revenue_per_conversion": "order value",
}

_METRIC = {
    PrimaryMetric.CONVERSION_RATE: ("cvr", True),
    PrimaryMetric.ROAS: ("roas", True),
    PrimaryMetric.CPA: ("cpa", False),
}


def inference_rule(rule: DecisionRule, planned_days: int | None = None) -> Rule:
    """The registered rule as the verdict (and the planner) reads it, with the trial's
    planned length (the schedule of its daily looks)."""
    return Rule(
        min_days=rule.min_days,
        min_conversions_per_arm=rule.min_conversions_per_arm,
        probability_threshold=rule.probability_threshold,
        expected_loss_threshold=rule.expected_loss_threshold,
        equivalence_margin=rule.equivalence_margin,
        planned_days=planned_days,
    )


def planned_days(trial: Trial) -> int:
    """The trial's planned length in days, start and end included."""
    return max((trial.spec.end - trial.spec.start).days + 1, 1)


@dataclass(frozen=True)
class Gate:
    name: str  # min_days, min_conversions, reliable_fit, delivery, cpc_stable
    passed: bool
    message: str


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


@dataclass(frozen=True)
class ArmDecision:
    arm_id: int
    name: str
    comparison: ArmComparison | None  # None when the metric is undefined for the arm
    expected_loss: float | None  # in ``loss_unit``
    loss_unit: str
    p_roas_above_break_even: float | None
    recommendation: str
    reason: str
    gates: tuple[Gate, ...]
    weak_stage: WeakStage | None = None


@dataclass(frozen=True)
class TrialDecision:
    metric: str
    arms: tuple[ArmDecision, ...]
    gates: tuple[Gate, ...]  # trial-wide
    leader: int | None  # arm id
    rule_met: bool  # the rule reached a verdict (scale, equal or stop_all)
    allocation: Allocation | None = None
    allocated_arms: tuple[int, ...] = ()  # arm ids the allocation covers, in order
    verdict: str = "keep_testing"  # inference.rule.VERDICTS
    reason: str = ""
    rule: DecisionRule = field(default_factory=DecisionRule)
    winner_threshold: float | None = None  # the P(best) a winner needed at this look
    information: float = 1.0  # share of the planned days with data
    p_best_error: float | None = None  # Monte Carlo error of the leader's P(best)
    progress: DecisionProgress | None = None
    progress_text: str = ""


# -- health checks ---------------------------------------------------------------------------


def delivery_gaps(
    trial: Trial, totals: dict[int, ArmTotals], daily: list[DailyResult] | None = None
) -> dict[int, str]:
    """Arms whose share of spend strays from the plan by more than 10 points.

    With ``daily`` rows, spend is compared over the days every arm ran, so an arm added
    later does not make the others look over-delivered.
    """
    spends = {a.id: totals[a.id].spend for a in trial.arms}
    if daily:
        days_of = {a.id: {r.day for r in daily if r.arm_id == a.id} for a in trial.arms}
        common = set.intersection(*days_of.values()) if days_of else set()
        if common and any(d != common for d in days_of.values()):
            spends = {a.id: 0.0 for a in trial.arms}
            for r in daily:
                if r.day in common and r.arm_id in spends:
                    spends[r.arm_id] += r.spend
    spent = sum(spends.values())
    if spent <= 0:
        return {}
    out = {}
    for arm, planned in zip(trial.arms, trial.spec.planned_shares(), strict=True):
        actual = spends[arm.id] / spent
        if abs(actual - planned) > DELIVERY_TOLERANCE:
            out[arm.id] = (
                f"spend share {actual:.0%} against {planned:.0%} planned; the platform "
                "delivered this arm unevenly"
            )
    return out


def cpc_jumps(trial: Trial, daily: list[DailyResult]) -> dict[int, str]:
    """Arms whose cost per click jumped (x2 or /2 against the days before) by more than
    click noise explains.

    Under a steady cost per click, a day's clicks given its and the previous days' clicks
    are binomial in proportion to spend; a day is a jump when that test's two-sided
    p-value is below ``CPC_FALSE_FIRE`` over the number of days tested (so an arm with
    steady costs is flagged at most 5 % of the time however many days it ran) and its
    cost per click is beyond x2 or /2 of the days before.
    """
    out = {}
    for arm in trial.arms:
        rows = sorted((r for r in daily if r.arm_id == arm.id and r.spend > 0), key=lambda r: r.day)
        tests = max(len(rows) - CPC_WINDOW, 1)
        for t in range(CPC_WINDOW, len(rows)):
            window = rows[t - CPC_WINDOW : t]
            clicks_before = sum(r.clicks for r in window)
            spend_before = sum(r.spend for r in window)
            day = rows[t]
            if clicks_before == 0:
                continue
            before = spend_before / clicks_before
            now = day.spend / day.clicks if day.clicks else math.inf
            if 1 / CPC_JUMP < now / before < CPC_JUMP:
                continue
            n = day.clicks + clicks_before
            share = day.spend / (day.spend + spend_before)
            p = stats.binomtest(day.clicks, n, share).pvalue
            if p < CPC_FALSE_FIRE / tests:
                shown = f"{now:.2f}" if math.isfinite(now) else "no clicks"
                out[arm.id] = (
                    f"cost per click jumped to {shown} on {day.day} from about "
                    f"{before:.2f}; check for a bid, audience or tracking change"
                )
                break
    return out


# -- the funnel stage that holds an arm back --------------------------------------------------


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


# -- the decision ---------------------------------------------------------------------------


def _loss(metric: PrimaryMetric, comparison: ArmComparison) -> tuple[float, str]:
    """The expected loss of choosing an arm, E[best - arm] (``inference.decisions``), in a
    marketer's unit; the rule's threshold reads the same loss over the leader's mean."""
    if metric is PrimaryMetric.ROAS:
        return comparison.expected_loss * 1000, "revenue per 1,000 spent"
    if metric is PrimaryMetric.CPA:
        return comparison.expected_loss, "{currency} per conversion"
    return comparison.expected_loss * 1000, "conversions per 1,000 clicks"


def _headline(metric: PrimaryMetric, name: str, interval, width: float, cur: str) -> str:
    mean, low, high = interval.mean, interval.low, interval.high
    hdi = f"{width:.0%} HDI"
    if metric is PrimaryMetric.ROAS:
        return f"{name} returns {mean:.2f} per 1 spent ({hdi} {low:.2f}–{high:.2f})"
    if metric is PrimaryMetric.CPA:
        return f"{name} costs {mean:,.2f} {cur} per conversion ({hdi} {low:,.2f}–{high:,.2f})"
    return f"{name} converts {mean:.2%} of clicks ({hdi} {low:.2%}–{high:.2%})"


def information_share(trial: Trial, totals: dict[int, ArmTotals]) -> float:
    """Share of the trial's planned days that have data (for the rule's look boundary)."""
    days = max((t.days for t in totals.values()), default=0)
    return min(days / planned_days(trial), 1.0)


def _p_profit(posterior, i: int, break_even: float) -> float | None:
    roas = posterior.draws["roas"][:, i]
    if not np.isfinite(roas).all() or i in posterior.undefined.get("roas", {}):
        return None
    return float((roas > break_even).mean())


def _trial_gates(rule: DecisionRule, v, posterior, totals, trial) -> tuple[Gate, ...]:
    contenders = [a for i, a in enumerate(trial.arms) if i not in v.trailing]
    days = min((totals[a.id].days for a in contenders), default=0)
    conversions = min((totals[a.id].conversions for a in contenders), default=0)
    out_of = len(trial.arms) - len(contenders)
    besides = f" (not counting {out_of} arm{'s' * (out_of > 1)} clearly behind)" if out_of else ""
    return (
        Gate(
            "min_days",
            v.gates["min_days"],
            f"{days} of the {rule.min_days} days the rule asks for{besides}"
            if not v.gates["min_days"]
            else f"{days} days of data (the rule asks for {rule.min_days})",
        ),
        Gate(
            "min_conversions",
            v.gates["min_conversions"],
            f"{conversions} of the {rule.min_conversions_per_arm} conversions per arm the rule "
            f"asks for{besides}"
            if not v.gates["min_conversions"]
            else f"at least {rule.min_conversions_per_arm} conversions per arm{besides}",
        ),
        Gate(
            "reliable_fit",
            posterior.diagnostics.reliable,
            "the model fit is reliable"
            if posterior.diagnostics.reliable
            else "the model fit is unreliable: " + "; ".join(posterior.diagnostics.reasons),
        ),
    )


def _arm_gates(rule, t: ArmTotals, behind: bool, delivery, jumps, arm_id) -> tuple[Gate, ...]:
    need = rule.min_conversions_per_arm
    if t.conversions >= need:
        conv = Gate("min_conversions", True, f"{t.conversions} conversions (the rule asks {need})")
    elif behind:
        conv = Gate(
            "min_conversions",
            True,
            f"{t.conversions} conversions; not needed, the arm is clearly behind",
        )
    else:
        conv = Gate(
            "min_conversions", False, f"{t.conversions} of the {need} conversions the rule asks for"
        )
    days = Gate(
        "min_days",
        t.days >= rule.min_days,
        f"{t.days} of the {rule.min_days} days the rule asks for"
        if t.days < rule.min_days
        else f"{t.days} days of data",
    )
    return (
        conv,
        days,
        Gate("delivery", arm_id not in delivery, delivery.get(arm_id, "spend share as planned")),
        Gate("cpc_stable", arm_id not in jumps, jumps.get(arm_id, "cost per click steady")),
    )


def decide(
    trial: Trial,
    posterior,
    totals: dict[int, ArmTotals],
    daily: list[DailyResult],
    progress: DecisionProgress | None = None,
    *,
    budget: float | None = None,
    low: float = 0.0,
    high: float | None = None,
    risk: float = 0.5,
    seed: int = 0,
    progress_text: str = "",
) -> TrialDecision:
    """The trial's verdict and a recommendation per arm; with ``budget``, also the split.

    ``totals`` are per arm from the source the models read (their conversions and days
    are what the rule counts); ``daily`` the channels' daily rows (health checks);
    ``progress`` and ``progress_text`` say how far the rule likely is (see
    ``trials.planning``).
    """
    spec = trial.spec
    rule = spec.decision_rule
    metric = spec.primary_metric
    name_of, higher = _METRIC[metric]
    draws_all = posterior.draws[name_of]
    k = len(trial.arms)
    comparable = [
        bool(np.isfinite(draws_all[:, i]).all()) and i not in posterior.undefined.get(name_of, {})
        for i in range(k)
    ]
    defined = [i for i in range(k) if comparable[i]]
    control = next((i for i, a in enumerate(trial.arms) if a.spec.control), None)
    p_profit = [_p_profit(posterior, i, spec.break_even_roas) for i in range(k)]
    ess = posterior.diagnostics.ess_bulk_min if posterior.method == "mcmc" else None
    quantities = None
    comparisons: dict[int, ArmComparison] = {}
    if len(defined) >= 2:
        sub = draws_all[:, defined]
        local = quantities_from_draws(
            sub,
            higher_is_better=higher,
            margin=rule.equivalence_margin,
            effective_draws=ess,
        )
        full_p_best = np.zeros(k)
        full_beats = np.full(k, 0.5)
        full_p_best[defined] = local.p_best
        full_beats[defined] = local.p_beats_leader
        quantities = type(local)(
            p_best=full_p_best,
            p_beats_leader=full_beats,
            relative_loss=local.relative_loss,
            p_equal=local.p_equal,
            leader=defined[local.leader],
            p_best_error=local.p_best_error,
        )
        local_control = defined.index(control) if control in defined else None
        for j, comp in enumerate(
            compare_arms(
                sub,
                higher_is_better=higher,
                control=local_control,
                hdi_prob=posterior.spec.hdi_prob,
            )
        ):
            comparisons[defined[j]] = comp
    information = information_share(trial, totals)
    v = verdict(
        quantities,
        inference_rule(rule, planned_days(trial)),
        days=[totals[a.id].days for a in trial.arms],
        conversions=[totals[a.id].conversions for a in trial.arms],
        reliable=posterior.diagnostics.reliable,
        p_profit=p_profit,
        information=information,
        comparable=comparable,
    )
    leader = v.leader
    delivery = delivery_gaps(trial, totals, daily)
    jumps = cpc_jumps(trial, daily)
    code = v.code
    health: list[str] = []
    if code == "scale":
        lead_id = trial.arms[leader].id
        health = [m for m in (delivery.get(lead_id), jumps.get(lead_id)) if m]
        if health:
            code = "keep_testing"
    weak = weakest_stages(posterior, leader)
    trial_gates = _trial_gates(rule, v, posterior, totals, trial)
    text = _Texts(trial, posterior, v, quantities, p_profit, progress_text, totals)
    decisions = []
    for i, arm in enumerate(trial.arms):
        gates = _arm_gates(rule, totals[arm.id], i in v.trailing, delivery, jumps, arm.id)
        comp = comparisons.get(i)
        if comp is None:
            reason = posterior.undefined.get(name_of, {}).get(i) or "not enough data yet"
            decisions.append(
                ArmDecision(
                    arm.id,
                    arm.name,
                    None,
                    None,
                    "",
                    p_profit[i],
                    "keep_testing",
                    f"{arm.name}: no estimate yet ({reason}). Keep testing.",
                    gates,
                    weak.get(i),
                )
            )
            continue
        loss, unit = _loss(metric, comp)
        unit = unit.format(currency=spec.currency)
        interval = posterior.interval(name_of, i)
        sentence = _headline(metric, arm.name, interval, posterior.spec.hdi_prob, spec.currency)
        if comp.p_beat_control is not None:
            sentence += f"; {comp.p_beat_control:.0%} chance it beats {trial.arms[control].name}"
        else:
            sentence += f"; {comp.p_best:.0%} chance it is the best arm"
        if p_profit[i] is not None:
            sentence += (
                f"; {p_profit[i]:.0%} chance it returns above break-even {spec.break_even_roas:g}"
            )
        sentence += f"; expected loss if chosen {loss:,.2f} {unit}."
        recommendation, why = _recommend(code, i, v, weak.get(i), text, gates, health)
        decisions.append(
            ArmDecision(
                arm.id,
                arm.name,
                comp,
                loss,
                unit,
                p_profit[i],
                recommendation,
                f"{sentence} {why}",
                gates,
                weak.get(i),
            )
        )
    allocation, allocated = None, ()
    if budget is not None:
        allocation, allocated = budget_split(
            trial,
            posterior,
            totals,
            budget,
            low,
            high,
            risk,
            seed,
            recommendations={d.arm_id: d.recommendation for d in decisions},
        )
    return TrialDecision(
        metric=metric.value,
        arms=tuple(decisions),
        gates=trial_gates,
        leader=trial.arms[leader].id if leader is not None else None,
        rule_met=code != "keep_testing",
        allocation=allocation,
        allocated_arms=allocated,
        verdict=code,
        reason=text.verdict(code, health),
        rule=rule,
        winner_threshold=v.winner_threshold,
        information=information,
        p_best_error=quantities.p_best_error if quantities is not None else None,
        progress=progress,
        progress_text=progress_text,
    )


@dataclass(frozen=True)
class _Texts:
    """The plain sentences of a verdict, from its numbers."""

    trial: Trial
    posterior: Any
    v: Any  # inference.rule.Verdict
    q: Any  # inference.rule.Quantities | None
    p_profit: list
    progress_text: str
    totals: dict

    def name(self, i: int) -> str:
        return self.trial.arms[i].name

    def leader_numbers(self) -> str:
        q, v = self.q, self.v
        p = q.p_best[v.leader]
        close = ""
        if abs(p - v.winner_threshold) < 3 * q.p_best_error:
            close = (
                f" ± {q.p_best_error:.1%} from sampling: close to the threshold, so a rerun "
                "could tip it"
            )
        at = " at this point of the trial" if v.information < 1 else ""
        return f"{p:.1%} chance to be best{close} (a winner needs {v.winner_threshold:.1%}{at})"

    def missing(self, health: list[str]) -> list[str]:
        v, q, rule = self.v, self.q, self.trial.spec.decision_rule
        out = []
        if not v.gates["min_days"] or not v.gates["min_conversions"] or not v.gates["reliable_fit"]:
            out += [
                g.message
                for g in _trial_gates(rule, v, self.posterior, self.totals, self.trial)
                if not g.passed
            ]
        if "comparison" in v.blocked_by:
            out.append("some arms have no estimate yet")
        if q is None:
            return out
        lead = self.name(v.leader)
        if "probability" in v.blocked_by:
            out.append(f"no arm is clearly ahead yet: {lead} has {self.leader_numbers()}")
        if "expected_loss" in v.blocked_by:
            out.append(
                f"choosing {lead} could still cost {q.relative_loss:.1%} of its value; the rule "
                f"allows {rule.expected_loss_threshold:.1%}"
            )
        if "profit" in v.blocked_by:
            out.append(
                f"{lead} returns above break-even {self.trial.spec.break_even_roas:g} with "
                f"{self.p_profit[v.leader]:.0%} probability; scaling needs "
                f"{PROFIT_CONFIDENCE:.0%}"
            )
        out += [f"{lead}'s data need a check first: {m}" for m in health]
        return out

    def verdict(self, code: str, health: list[str]) -> str:
        v, q, spec = self.v, self.q, self.trial.spec
        rule = spec.decision_rule
        if code == "scale":
            lead = v.leader
            profit = self.p_profit[lead]
            above = (
                ""
                if profit is None
                else f"; it returns above break-even {spec.break_even_roas:g} with {profit:.0%}"
                " probability"
            )
            return (
                f"Scale {self.name(lead)}: the pre-registered rule is met. It has "
                f"{self.leader_numbers()}; choosing it costs at most {q.relative_loss:.1%} of "
                f"its value in expectation{above}."
            )
        if code == "equal":
            return (
                f"The arms are practically equal: {q.p_equal:.0%} chance every arm is within "
                f"±{rule.equivalence_margin:.0%} of {self.name(v.leader)} (the rule asks "
                f"{rule.probability_threshold:.0%}). No winner to scale: keep today's split, or "
                "end the trial and test a bolder change."
            )
        if code == "stop_all":
            return (
                f"Stop: every arm probably loses money. Each returns above break-even "
                f"{spec.break_even_roas:g} with less than {1 - PROFIT_CONFIDENCE:.0%} "
                "probability; fix the offer or the funnel before spending more."
            )
        missing = self.missing(health)
        text = "Keep testing: " + ("; ".join(missing) if missing else "the rule is not met yet")
        return text + "." + (" " + self.progress_text if self.progress_text else "")


def _recommend(code, i, v, weak, text: _Texts, gates, health) -> tuple[str, str]:
    trial = text.trial
    spec = trial.spec
    profit = text.p_profit[i]
    leader_name = text.name(v.leader) if v.leader is not None else None
    if code == "stop_all":
        return "stop", (
            f"Stop: every arm probably loses money; this one returns above break-even "
            f"{spec.break_even_roas:g} with {profit:.0%} probability."
            if profit is not None
            else "Stop: every arm with revenue probably loses money."
        )
    if code == "scale" and i == v.leader:
        return "scale", f"Scale: {text.verdict(code, health).split(': ', 1)[1]}"
    if code == "equal":
        return "equal", (
            "Practically equal to the others: keep today's split, or end the trial and "
            "test a bolder change."
        )
    if i in v.trailing or code == "scale":
        fix = weak.fix if weak and weak.reference == v.leader else None
        if fix == "fix_creative":
            return fix, (
                f"Fix the creative: its click-through rate trails {leader_name}'s while "
                "conversion after the click holds up."
            )
        if fix == "fix_landing":
            return fix, (
                "Fix the landing page or offer: its conversion after the click trails "
                f"{leader_name}'s while its click-through rate holds up."
            )
        chance = 1 - text.q.p_beats_leader[i] if text.q is not None else 1.0
        return "stop", (
            f"Stop: it is clearly behind {leader_name} ({chance:.1%} chance {leader_name} is "
            "better)."
        )
    if profit is not None and profit < 1 - PROFIT_CONFIDENCE and i in v.losing:
        return "stop", (
            f"Stop: it probably loses money (above break-even {spec.break_even_roas:g} with "
            f"only {profit:.0%} probability)."
        )
    if i == v.leader:
        return "keep_testing", text.verdict(code, health)
    own = [g.message for g in gates if not g.passed and g.name in ("min_days", "min_conversions")]
    extra = f" Its own data: {'; '.join(own)}." if own else ""
    return "keep_testing", (
        f"Keep testing: the trial has no verdict yet (see {leader_name})." + extra
        if leader_name
        else "Keep testing." + extra
    )


def budget_split(
    trial,
    posterior,
    totals,
    budget,
    low=0.0,
    high=None,
    risk=0.5,
    seed=0,
    *,
    recommendations: dict[int, str] | None = None,
    curves: dict | None = None,
    days: int = ROUND_DAYS,
    max_multiple: float = MAX_MULTIPLE,
):
    """The next round's split of ``budget`` (over ``days``) across the arms with a ROAS
    estimate, and their ids; raises ValueError on impossible bounds.

    Honest by construction: no arm gets more than ``max_multiple`` times its spend at
    today's daily pace, or than its response curve supports where it has one (one step
    up when the next step likely pays, today's level when it may not, the break-even level
    when today's last unit likely loses), arms told to stop or fix
    get nothing, arms still under test keep ``LEARNING_FLOOR`` of their pace (unless every
    arm probably loses money), and the split may leave money unspent when spending it
    would likely lose money. Expected revenue and P(loss) carry diminishing returns
    beyond today's pace (``inference.decisions.allocate``).
    """
    roas = posterior.draws["roas"]
    usable = [
        i
        for i in range(len(trial.arms))
        if np.isfinite(roas[:, i]).all() and i not in posterior.undefined.get("roas", {})
    ]
    if not usable:
        return None, ()
    arms = [trial.arms[i] for i in usable]
    recs = recommendations or {}
    pace = np.array(
        [totals[a.id].spend / totals[a.id].days * days if totals[a.id].days else 0.0 for a in arms]
    )
    user_low = np.broadcast_to(np.asarray(low, dtype=float), (len(arms),))
    user_high = np.broadcast_to(
        np.asarray(budget if high is None else high, dtype=float), (len(arms),)
    )
    stopped = np.array([recs.get(a.id) in ("stop", "fix_creative", "fix_landing") for a in arms])
    testing = np.array([recs.get(a.id) in ("keep_testing", "equal") for a in arms])
    asked = np.where(stopped, 0.0, user_low)  # the user's minimums, which must hold
    if asked.sum() > budget + 1e-9:
        raise ValueError(
            f"the bounds cannot hold a budget of {budget:,.2f}: minimums add up to "
            f"{asked.sum():,.2f}"
        )
    reach = np.array(
        [
            _curve_reach(curves, a.id, days, max_multiple * p)
            for a, p in zip(arms, pace, strict=True)
        ]
    )
    caps = np.where(stopped, 0.0, np.maximum(np.minimum(user_high, reach), asked))
    learning = np.where(testing, np.minimum(LEARNING_FLOOR * pace, caps), 0.0)
    room = budget - asked.sum()
    extra = np.maximum(learning - asked, 0.0)
    if extra.sum() > room:
        extra *= room / extra.sum()
    floors = asked + extra
    current = [max(totals[a.id].spend, 0.0) for a in arms]
    result = allocate(
        roas[:, usable],
        budget,
        break_even=trial.spec.break_even_roas,
        low=floors,
        high=caps,
        current=current if sum(current) > 0 else None,
        risk=risk,
        seed=seed,
        pace=pace,
        spend_less=True,
    )
    return result, tuple(a.id for a in arms)


def _curve_reach(curves: dict | None, arm_id: int, days: int, default: float) -> float:
    """The most an arm's response curve supports over ``days`` (``default`` without one)."""
    from inference.saturation import STEP_CONFIDENCE

    curve = (curves or {}).get(arm_id)
    if curve is None or not curve.reliable or not curve.marginal_now.defined:
        return default
    if (curve.p_next_above_break_even or 0.0) >= STEP_CONFIDENCE:
        daily = curve.next_spend
    elif (curve.p_now_above_break_even or 0.0) < 1 - STEP_CONFIDENCE:
        be = curve.break_even_spend.mean
        daily = min(be, curve.current_spend) if math.isfinite(be) else 0.0
    else:
        daily = curve.current_spend
    return min(max(daily, 0.0) * days, default)


def split_notes(trial: Trial, allocation: Allocation, arm_ids: tuple[int, ...]) -> list[str]:
    """Plain sentences on what bounded the split: money left unspent, caps, floors."""
    cur = trial.spec.currency
    out = []
    if allocation.unspent >= 0.01:
        out.append(
            f"Spends {allocation.budget - allocation.unspent:,.2f} of {allocation.budget:,.2f} "
            f"{cur}: more would go beyond {MAX_MULTIPLE:g}× the arms' pace so far, to arms "
            "told to stop, or likely lose money."
        )
    for arm_id, budget, cap, floor in zip(
        arm_ids, allocation.budgets, allocation.caps, allocation.floors, strict=True
    ):
        name = trial.arm(arm_id).name
        if cap is not None and cap == 0:
            out.append(f"{name}: nothing, as its recommendation is to stop or fix it first.")
        elif cap is not None and budget >= cap - 0.01:
            out.append(
                f"{name}: capped at {cap:,.2f} {cur}, what its response curve supports or at "
                f"most {MAX_MULTIPLE:g}× its spend at today's pace."
            )
        elif floor > 0 and budget <= floor + 0.01:
            out.append(f"{name}: kept at {floor:,.2f} {cur} so its test can still conclude.")
    return out


def raw_estimate(metric: PrimaryMetric, t: ArmTotals) -> float | None:
    """The metric straight from the totals, before any modelling (None when undefined)."""
    if metric is PrimaryMetric.ROAS:
        return t.revenue / t.spend if t.spend else None
    if metric is PrimaryMetric.CPA:
        return t.spend / t.conversions if t.conversions else None
    return t.conversions / t.clicks if t.clicks else None


def raw_vs_model_sentence(trial: Trial, posterior, totals: dict[int, ArmTotals]) -> str:
    """One plain sentence on why the raw and the modelled figures differ most for one arm."""
    name, _ = _METRIC[trial.spec.primary_metric]
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


def _clean(x: float | None, digits: int = 4) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def stage_dict(weak: WeakStage | None) -> dict[str, Any] | None:
    """An arm's weakest stage as JSON."""
    if weak is None:
        return None
    return {
        "stage": weak.stage,
        "label": weak.label,
        "ratio_to_reference": _clean(weak.ratio),
        "p_below_reference": _clean(weak.p_below),
        "clear": weak.clear,
    }


def _progress_dict(decision: TrialDecision) -> dict[str, Any] | None:
    p = decision.progress
    if p is None:
        return None
    return {
        "days_median": p.days_median,
        "days_80": p.days_80,
        "reason": p.reason,
        "sentence": decision.progress_text,
    }


def decision_dict(trial: Trial, decision: TrialDecision) -> dict[str, Any]:
    """Per-arm fields ``analyze --json`` adds, keyed by arm id, and the allocation."""
    arms = {}
    for d in decision.arms:
        c = d.comparison
        arms[d.arm_id] = {
            "p_best": _clean(c.p_best) if c else None,
            "p_beat_control": _clean(c.p_beat_control) if c else None,
            "lift_vs_control": (
                {
                    "mean": _clean(c.lift_mean),
                    "hdi_low": _clean(c.lift_low),
                    "hdi_high": _clean(c.lift_high),
                }
                if c and c.lift_mean is not None
                else None
            ),
            "expected_loss": _clean(d.expected_loss),
            "expected_loss_unit": d.loss_unit or None,
            "p_roas_above_break_even": _clean(d.p_roas_above_break_even),
            "recommendation": d.recommendation,
            "recommendation_label": LABELS[d.recommendation],
            "reason": d.reason,
            "gates": [{"name": g.name, "passed": g.passed, "message": g.message} for g in d.gates],
        }
    out: dict[str, Any] = {
        "arms": arms,
        "decision": {
            "metric": decision.metric,
            "leader": next((a.name for a in trial.arms if a.id == decision.leader), None),
            "rule_met": decision.rule_met,
            "gates": [
                {"name": g.name, "passed": g.passed, "message": g.message} for g in decision.gates
            ],
            "verdict": decision.verdict,
            "verdict_label": VERDICT_LABELS[decision.verdict],
            "reason": decision.reason,
            "rule": decision.rule.as_dict(),
            "winner_threshold": _clean(decision.winner_threshold),
            "information": _clean(decision.information),
            "p_best_mc_error": _clean(decision.p_best_error, 5),
            "progress": _progress_dict(decision),
        },
    }
    a = decision.allocation
    if a is not None:
        names = {arm.id: arm for arm in trial.arms}
        out["allocation"] = {
            "arms": [
                {
                    "channel": names[arm_id].spec.channel,
                    "creative": names[arm_id].spec.creative,
                    "budget": budget,
                    "expected_revenue": round(rev, 2),
                    "current_budget": now,
                    "cap": None if cap is None else round(cap, 2),
                    "floor": round(floor, 2),
                }
                for arm_id, budget, rev, now, cap, floor in zip(
                    decision.allocated_arms,
                    a.budgets,
                    a.expected_revenue,
                    a.current_budgets,
                    a.caps,
                    a.floors,
                    strict=True,
                )
            ],
            "total_budget": round(sum(a.budgets), 2),
            "expected_revenue": round(a.total_expected_revenue, 2),
            "expected_profit": round(a.expected_profit, 2),
            "p_loss": round(a.p_loss, 4),
            "current_expected_revenue": round(a.current_expected_revenue, 2),
            "current_p_loss": round(a.current_p_loss, 4),
            "risk": a.risk,
            "cvar_alpha": a.alpha,
            "offered_budget": round(a.budget, 2),
            "unspent": round(a.unspent, 2),
            "notes": split_notes(trial, a, decision.allocated_arms),
        }
    return out
