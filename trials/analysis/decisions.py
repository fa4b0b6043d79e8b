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

from dataclasses import dataclass, field, replace

import numpy as np

from inference.decisions import Allocation, ArmComparison, compare_arms
from inference.montecarlo import probability
from inference.planning.progress import DecisionProgress
from inference.rule import Quantities, Rule, Verdict, quantities_from_draws, verdict
from inference.settling import CloseCall, Settling, settle
from trials.analysis.gates import Gate, arm_gates, cpc_jumps, delivery_gaps, trial_gates
from trials.analysis.stages import WeakStage, weakest_stages
from trials.analysis.verdict_text import Texts, expected_loss, numbers_sentence, recommend
from trials.domain import ArmTotals, DailyResult, DecisionRule, Trial
from trials.domain.verdicts import higher_is_better, metric_name

__all__ = [
    "ArmDecision",
    "Gate",
    "TrialDecision",
    "WeakStage",
    "cpc_jumps",
    "decide",
    "delivery_gaps",
    "inference_rule",
    "planned_days",
    "weakest_stages",
]


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


def information_share(trial: Trial, totals: dict[int, ArmTotals]) -> float:
    """Share of the trial's planned days that have data (for the rule's look boundary)."""
    days = max((t.days for t in totals.values()), default=0)
    return min(days / planned_days(trial), 1.0)


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
    allocation_notes: tuple[str, ...] = ()  # caps, floors and arms left out, in words
    verdict: str = "keep_testing"  # inference.rule.VERDICTS
    reason: str = ""
    rule: DecisionRule = field(default_factory=DecisionRule)
    winner_threshold: float | None = None  # the P(best) a winner needed at this look
    information: float = 1.0  # share of the planned days with data
    p_best_error: float | None = None  # Monte Carlo error of the leader's P(best)
    progress: DecisionProgress | None = None
    progress_text: str = ""
    # Settled: no value within the Monte Carlo errors of the rule's estimates changes the
    # verdict (``inference.settling``); an unsettled one keeps testing, too close to call.
    settled: bool = True
    margin: float | None = None  # the leader's P(best) minus the winner threshold
    close_calls: tuple[CloseCall, ...] = ()  # what kept it from being settled
    draws_used: int | None = None  # posterior draws the verdict was reached on


# -- the decision --------------------------------------------------------------------------


def decide(
    trial: Trial,
    posterior,
    totals: dict[int, ArmTotals],
    daily: list[DailyResult],
    progress: DecisionProgress | None = None,
    *,
    seed: int = 0,
    progress_text: str = "",
) -> TrialDecision:
    """The trial's verdict and a recommendation per arm (the next round's split is added
    by ``trials.analysis.budget.with_split``).

    ``totals`` are per arm from the source the models read (their conversions and days
    are what the rule counts); ``daily`` the channels' daily rows (health checks);
    ``progress`` and ``progress_text`` say how far the rule likely is (see
    ``trials.analysis.planning``).
    """
    drawn = _from_draws(trial, posterior)
    information = information_share(trial, totals)
    v, settling = _settled_verdict(trial, posterior, totals, drawn, information)
    health = _gates_and_health(trial, posterior, v, totals, daily)
    weak = weakest_stages(posterior, v.leader)
    text = Texts(
        trial, posterior, v, drawn.quantities, drawn.p_profit, progress_text, totals, settling
    )
    decisions = tuple(
        _arm_decision(trial, posterior, i, drawn, v, health, weak, text, totals)
        for i in range(len(trial.arms))
    )
    return TrialDecision(
        metric=trial.spec.primary_metric.value,
        arms=decisions,
        gates=health.gates,
        leader=trial.arms[v.leader].id if v.leader is not None else None,
        rule_met=health.code != "keep_testing",
        verdict=health.code,
        reason=text.verdict(health.code, health.messages),
        rule=trial.spec.decision_rule,
        winner_threshold=v.winner_threshold,
        information=information,
        p_best_error=drawn.p_best_error,
        progress=progress,
        progress_text=progress_text,
        settled=settling.settled,
        margin=settling.margin,
        close_calls=settling.close,
        draws_used=posterior.n_draws,
    )


# -- the rule's numbers from the posterior draws -------------------------------------------


@dataclass(frozen=True)
class _Drawn:
    """What the rule reads off the posterior draws: the primary metric's quantities over
    the arms where it is defined, and each arm's chance to return above break-even."""

    comparable: list[bool]  # per arm: the metric is defined (finite) for it
    quantities: Quantities | None  # None with fewer than two comparable arms
    comparisons: dict[int, ArmComparison]  # by arm index; comparable arms only
    p_profit: list  # per arm, P(ROAS > break-even) (None where undefined)
    p_profit_error: list  # ... and its Monte Carlo error

    @property
    def p_best_error(self) -> float | None:
        """The Monte Carlo error of the leader's P(best)."""
        return self.quantities.p_best_error if self.quantities is not None else None


def _from_draws(trial: Trial, posterior) -> _Drawn:
    """The rule's numbers from the posterior draws (see :class:`_Drawn`)."""
    p_profit, p_profit_error = _p_profit(posterior, trial.spec.break_even_roas)
    comparable, quantities, comparisons = _compare(trial, posterior)
    return _Drawn(comparable, quantities, comparisons, p_profit, p_profit_error)


def _compare(
    trial: Trial, posterior
) -> tuple[list[bool], Quantities | None, dict[int, ArmComparison]]:
    """Which arms have a defined primary metric, the rule's quantities from those arms'
    draws (spread back over all the arms: P(best) 0 and P(beats the leader) 0.5 for the
    others) and each of those arms' comparison, by arm index."""
    name_of = metric_name(trial.spec.primary_metric)
    higher = higher_is_better(trial.spec.primary_metric)
    draws_all = posterior.draws[name_of]
    k = len(trial.arms)
    comparable = [
        bool(np.isfinite(draws_all[:, i]).all()) and i not in posterior.undefined.get(name_of, {})
        for i in range(k)
    ]
    defined = [i for i in range(k) if comparable[i]]
    if len(defined) < 2:
        return comparable, None, {}
    sub = draws_all[:, defined]
    local = quantities_from_draws(
        sub,
        higher_is_better=higher,
        margin=trial.spec.decision_rule.equivalence_margin,
        runs=posterior.runs,
    )
    full_p_best = np.zeros(k)
    full_beats = np.full(k, 0.5)
    full_beats_error = np.zeros(k)
    full_p_best[defined] = local.p_best
    full_beats[defined] = local.p_beats_leader
    full_beats_error[defined] = local.p_beats_error
    quantities = replace(
        local,
        p_best=full_p_best,
        p_beats_leader=full_beats,
        p_beats_error=full_beats_error,
        leader=defined[local.leader],
    )
    control = _control(trial)
    local_control = defined.index(control) if control in defined else None
    compared = compare_arms(
        sub, higher_is_better=higher, control=local_control, hdi_prob=posterior.spec.hdi_prob
    )
    return comparable, quantities, {defined[j]: c for j, c in enumerate(compared)}


def _control(trial: Trial) -> int | None:
    """The control arm's index, if the trial has one."""
    return next((i for i, a in enumerate(trial.arms) if a.spec.control), None)


def _p_profit(posterior, break_even: float) -> tuple[list, list]:
    """Per arm, P(ROAS > break-even) and its Monte Carlo error (None where undefined)."""
    roas = posterior.draws["roas"]
    p, error = probability(roas > break_even, posterior.runs)
    defined = [
        bool(np.isfinite(roas[:, i]).all()) and i not in posterior.undefined.get("roas", {})
        for i in range(roas.shape[1])
    ]
    return (
        [float(p[i]) if ok else None for i, ok in enumerate(defined)],
        [float(error[i]) if ok else None for i, ok in enumerate(defined)],
    )


# -- the verdict and its settling ----------------------------------------------------------


def _settled_verdict(
    trial: Trial,
    posterior,
    totals: dict[int, ArmTotals],
    drawn: _Drawn,
    information: float,
) -> tuple[Verdict, Settling]:
    """The rule's verdict and whether it is settled; an unsettled verdict keeps testing."""
    looked = dict(
        days=[totals[a.id].days for a in trial.arms],
        conversions=[totals[a.id].conversions for a in trial.arms],
        reliable=posterior.diagnostics.reliable,
        p_profit=drawn.p_profit,
        information=information,
        comparable=drawn.comparable,
    )
    rule = inference_rule(trial.spec.decision_rule, planned_days(trial))
    v = verdict(drawn.quantities, rule, **looked)
    settling = settle(drawn.quantities, rule, p_profit_error=drawn.p_profit_error, **looked)
    if not settling.settled:
        # Too close to call: the conservative answer, whatever the estimates say.
        v = replace(
            v,
            code="keep_testing",
            trailing=settling.trailing,
            losing=settling.losing,
            blocked_by=(*v.blocked_by, "settled"),
        )
    return v, settling


# -- gates and health checks ---------------------------------------------------------------


@dataclass(frozen=True)
class _Health:
    """The verdict after the health checks, the checks' findings and the trial's gates."""

    code: str  # the verdict's code; a scale with unhealthy data keeps testing
    messages: list[str]  # what is unhealthy about the leader's data (only on a scale)
    delivery: dict[int, str]  # by arm id: spend not delivered as planned
    jumps: dict[int, str]  # by arm id: a cost-per-click jump beyond click noise
    gates: tuple[Gate, ...]  # the trial-wide gates of the rule


def _gates_and_health(
    trial: Trial,
    posterior,
    v: Verdict,
    totals: dict[int, ArmTotals],
    daily: list[DailyResult],
) -> _Health:
    """The trial's gates, and the health checks: a scale needs healthy data on the leader
    (spend delivered as planned, no jump in cost per click), otherwise it keeps testing."""
    delivery = delivery_gaps(trial, totals, daily)
    jumps = cpc_jumps(trial, daily)
    code = v.code
    messages: list[str] = []
    if code == "scale":
        lead_id = trial.arms[v.leader].id
        messages = [m for m in (delivery.get(lead_id), jumps.get(lead_id)) if m]
        if messages:
            code = "keep_testing"
    gates = trial_gates(trial.spec.decision_rule, v, posterior, totals, trial)
    return _Health(code, messages, delivery, jumps, gates)


# -- each arm's recommendation -------------------------------------------------------------


def _arm_decision(
    trial: Trial,
    posterior,
    i: int,
    drawn: _Drawn,
    v: Verdict,
    health: _Health,
    weak: dict[int, WeakStage],
    text: Texts,
    totals: dict[int, ArmTotals],
) -> ArmDecision:
    """Arm ``i``'s recommendation, with the sentence of its numbers and its gates."""
    spec = trial.spec
    arm = trial.arms[i]
    gates = arm_gates(
        spec.decision_rule, totals[arm.id], i in v.trailing, health.delivery, health.jumps, arm.id
    )
    comp = drawn.comparisons.get(i)
    p_profit = drawn.p_profit[i]
    if comp is None:
        name_of = metric_name(spec.primary_metric)
        reason = posterior.undefined.get(name_of, {}).get(i) or "not enough data yet"
        why = f"{arm.name}: no estimate yet ({reason}). Keep testing."
        return ArmDecision(
            arm.id, arm.name, None, None, "", p_profit, "keep_testing", why, gates, weak.get(i)
        )
    loss, unit = expected_loss(spec.primary_metric, comp)
    unit = unit.format(currency=spec.currency)
    sentence = numbers_sentence(trial, posterior, i, comp, p_profit, loss, unit, _control(trial))
    recommendation, why = recommend(health.code, i, v, weak.get(i), text, gates, health.messages)
    return ArmDecision(
        arm.id,
        arm.name,
        comp,
        loss,
        unit,
        p_profit,
        recommendation,
        f"{sentence} {why}",
        gates,
        weak.get(i),
    )
