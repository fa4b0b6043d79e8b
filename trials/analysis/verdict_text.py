"""The plain sentences of a verdict and of each arm's recommendation, from its numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inference.decisions import ArmComparison
from inference.rule import SETTLED_ERRORS, Rule
from trials.analysis.gates import trial_gates
from trials.domain import PrimaryMetric, Trial
from trials.domain.verdicts import metric_name

__all__ = [
    "Texts",
    "expected_loss",
    "headline",
    "numbers_sentence",
    "recommend",
]

PROFIT_CONFIDENCE = Rule().profit_confidence  # P(ROAS > break-even) a scale needs


@dataclass(frozen=True)
class Texts:
    """The plain sentences of a verdict, from its numbers."""

    trial: Trial
    posterior: Any
    v: Any  # inference.rule.Verdict
    q: Any  # inference.rule.Quantities | None
    p_profit: list
    progress_text: str
    totals: dict
    settling: Any = None  # inference.settling.Settling

    def name(self, i: int) -> str:
        return self.trial.arms[i].name

    def leader_numbers(self) -> str:
        """The leader's P(best) against the bar; near it, with its sampling error and how
        far from the bar it is."""
        q, v = self.q, self.v
        p, w, error = q.p_best[v.leader], v.winner_threshold, q.p_best_error
        at = " at this point of the trial" if v.information < 1 else ""
        if abs(p - w) >= (SETTLED_ERRORS + 1) * error:
            return f"{p:.1%} chance to be best (a winner needs {w:.1%}{at})"
        side = "above" if p >= w else "below"
        return (
            f"{p:.2%} chance to be best (± {error:.2%} from sampling), "
            f"{abs(p - w) * 100:.2f} points {side} the {w:.2%} a winner needs{at}"
        )

    def too_close(self) -> str:
        """Why an unsettled verdict keeps testing, in plain words."""
        calls = self.settling.close if self.settling is not None else ()
        if len(self.trial.arms) == 2:
            # With two arms, "B is better than A" is B's P(best) again.
            calls = [c for c in calls if c.quantity != "p_beats_leader"] or calls
        said = "; ".join(self.call_words(c) for c in calls[:3]) or "the estimates are on the bar"
        draws = self.posterior.n_draws
        return (
            f"too close to call: {said}. Even after {draws:,} posterior draws another "
            "run of the model could tip it either way, so the rule keeps testing until "
            "more data move it off the bar"
        )

    def call_words(self, c) -> str:
        lead = self.name(self.v.leader)
        pm = f"(± {c.error:.2%} from sampling)"
        if c.quantity == "p_best":
            return f"{lead}'s {c.value:.2%} chance to be best {pm} is on the bar of {c.bar:.2%}"
        if c.quantity == "p_beats_leader":
            return (
                f"the {1 - c.value:.2%} chance that {lead} is better than {self.name(c.arm)} "
                f"{pm} is on the {1 - c.bar:.2%} that would put it clearly behind"
            )
        if c.quantity == "relative_loss":
            return (
                f"choosing {lead} could cost {c.value:.2%} of its value {pm}, on the "
                f"{c.bar:.1%} the rule allows"
            )
        if c.quantity == "p_equal":
            return (
                f"the {c.value:.2%} chance that every arm is practically equal {pm} is on "
                f"the {c.bar:.0%} the rule asks"
            )
        near = min((PROFIT_CONFIDENCE, 1 - PROFIT_CONFIDENCE), key=lambda b: abs(c.value - b))
        return (
            f"{self.name(c.arm)} returns above break-even with {c.value:.2%} probability {pm}, "
            f"on the {near:.0%} the rule reads"
        )

    def missing(self, health: list[str]) -> list[str]:
        v, q, rule = self.v, self.q, self.trial.spec.decision_rule
        out = []
        if not v.gates["min_days"] or not v.gates["min_conversions"] or not v.gates["reliable_fit"]:
            out += [
                g.message
                for g in trial_gates(rule, v, self.posterior, self.totals, self.trial)
                if not g.passed
            ]
        if "comparison" in v.blocked_by:
            out.append("some arms have no estimate yet")
        if q is None:
            return out
        lead = self.name(v.leader)
        if "settled" in v.blocked_by:
            out.append(self.too_close())
        elif "probability" in v.blocked_by:
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
        text = "The rule is not met yet" + (": " + "; ".join(missing) if missing else "")
        return text + "." + (" " + self.progress_text if self.progress_text else "")


def recommend(code, i, v, weak, text: Texts, gates, health) -> tuple[str, str]:
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
        return "keep_testing", "Keep testing. " + text.verdict(code, health)
    own = [g.message for g in gates if not g.passed and g.name in ("min_days", "min_conversions")]
    extra = f" Its own data: {'; '.join(own)}." if own else ""
    return "keep_testing", (
        f"Keep testing: the trial has no verdict yet (see {leader_name})." + extra
        if leader_name
        else "Keep testing." + extra
    )


# -- an arm's numbers in words -------------------------------------------------------------


def numbers_sentence(
    trial: Trial,
    posterior,
    i: int,
    comp: ArmComparison,
    p_profit: float | None,
    loss: float,
    unit: str,
    control: int | None,
) -> str:
    """Arm ``i``'s numbers in one sentence: its estimate, its chance against the control (or
    of being the best), of returning above break-even, and its expected loss."""
    spec = trial.spec
    arm = trial.arms[i]
    interval = posterior.interval(metric_name(spec.primary_metric), i)
    sentence = headline(
        spec.primary_metric, arm.name, interval, posterior.spec.hdi_prob, spec.currency
    )
    if comp.p_beat_control is not None:
        sentence += f"; {comp.p_beat_control:.0%} chance it beats {trial.arms[control].name}"
    else:
        sentence += f"; {comp.p_best:.0%} chance it is the best arm"
    if p_profit is not None:
        sentence += f"; {p_profit:.0%} chance it returns above break-even {spec.break_even_roas:g}"
    return sentence + f"; expected loss if chosen {loss:,.2f} {unit}."


def expected_loss(metric: PrimaryMetric, comparison: ArmComparison) -> tuple[float, str]:
    """The expected loss of choosing an arm, E[best - arm] (``inference.decisions``), in a
    marketer's unit; the rule's threshold reads the same loss over the leader's mean."""
    if metric is PrimaryMetric.ROAS:
        return comparison.expected_loss * 1000, "revenue per 1,000 spent"
    if metric is PrimaryMetric.CPA:
        return comparison.expected_loss, "{currency} per conversion"
    return comparison.expected_loss * 1000, "conversions per 1,000 clicks"


def headline(metric: PrimaryMetric, name: str, interval, width: float, cur: str) -> str:
    """An arm's primary metric and its interval, in a marketer's words."""
    mean, low, high = interval.mean, interval.low, interval.high
    hdi = f"{width:.0%} HDI"
    if metric is PrimaryMetric.ROAS:
        return f"{name} returns {mean:.2f} per 1 spent ({hdi} {low:.2f}–{high:.2f})"
    if metric is PrimaryMetric.CPA:
        return f"{name} costs {mean:,.2f} {cur} per conversion ({hdi} {low:,.2f}–{high:,.2f})"
    return f"{name} converts {mean:.2%} of clicks ({hdi} {low:.2%}–{high:.2%})"
