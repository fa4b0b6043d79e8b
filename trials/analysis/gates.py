"""The gates a verdict is checked against, in plain words: the rule's own (days,
conversions, a reliable fit) and the health checks a scale needs (spend delivered as
planned, no cost-per-click jump beyond click noise)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from trials.domain import ArmTotals, DailyResult, DecisionRule, Trial

__all__ = ["Gate", "arm_gates", "cpc_jumps", "delivery_gaps", "trial_gates"]

DELIVERY_TOLERANCE = 0.10  # absolute gap between actual and planned spend share
CPC_JUMP = 2.0  # a day's cost per click this many times (or 1/this) the days before...
CPC_FALSE_FIRE = 0.05  # ...and beyond click noise: identical days fire at most this often
CPC_WINDOW = 5


@dataclass(frozen=True)
class Gate:
    name: str  # min_days, min_conversions, reliable_fit, delivery, cpc_stable
    passed: bool
    message: str


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


def trial_gates(rule: DecisionRule, v, posterior, totals, trial) -> tuple[Gate, ...]:
    contenders = [a for i, a in enumerate(trial.arms) if i not in v.trailing]
    days = min((totals[a.id].days for a in contenders), default=0)
    conversions = min((totals[a.id].conversions for a in contenders), default=0)
    out_of = len(trial.arms) - len(contenders)
    besides = f" (not counting {out_of} arm{'s' * (out_of > 1)} clearly behind)" if out_of else ""
    short_days = [a for a in contenders if totals[a.id].days < rule.min_days]
    short_conv = [a for a in contenders if totals[a.id].conversions < rule.min_conversions_per_arm]
    return (
        Gate(
            "min_days",
            v.gates["min_days"],
            _short(short_days, contenders, "days", rule.min_days, totals, besides)
            or f"{days} of the {rule.min_days} days the rule asks for{besides}"
            if not v.gates["min_days"]
            else f"{days} days of data (the rule asks for {rule.min_days})",
        ),
        Gate(
            "min_conversions",
            v.gates["min_conversions"],
            _short(
                short_conv, contenders, "conversions", rule.min_conversions_per_arm, totals, besides
            )
            or f"{conversions} of the {rule.min_conversions_per_arm} conversions per arm the "
            f"rule asks for{besides}"
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


def _short(short, contenders, what: str, need: int, totals, besides: str) -> str | None:
    """Name the arms still short of the rule when the others have what it asks (e.g. an
    arm added later): the others' count is not reset by it. None when every arm is."""
    if not short or len(short) == len(contenders):
        return None
    named = "; ".join(f"{a.name} has {getattr(totals[a.id], what)}" for a in short[:3])
    more = f" and {len(short) - 3} more" if len(short) > 3 else ""
    return (
        f"{named}{more} of the {need} {what} the rule asks for (the other arms have them){besides}"
    )


def arm_gates(rule, t: ArmTotals, behind: bool, delivery, jumps, arm_id) -> tuple[Gate, ...]:
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
