"""Budget by goal, bridged to stored trials: which trials and arms, in which currency, the
arms' posteriors and response curves as draws (``inference.planning.goal``), untested
channels from what past trials say, and the plan in a marketer's words.

Field names in ``trials.reports.contract.goal_plan_dict`` are a public interface
(``python -m trials plan --goal-conversions N --by DATE --json``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np

from inference.planning.goal import (
    MAX_MULTIPLE,
    ArmResponse,
    ChannelPrior,
    Goal,
    GoalPlan,
    curve_response,
    pace_response,
    plan_goal,
    prior_response,
    resampled,
)
from trials.domain import TrialStatus, UserError
from trials.storage.store import TrialStore

if TYPE_CHECKING:
    from trials.analysis.result import TrialAnalysis
    from trials.domain import Trial

__all__ = [
    "DRAWS",
    "PROBABILITIES",
    "GoalArm",
    "GoalRequest",
    "GoalResult",
    "arm_responses",
    "goal_analyses",
    "goal_trials",
    "plan_by_goal",
    "untested_channel_prior",
]

PROBABILITIES = (0.5, 0.8)
DRAWS = 2000  # posterior draws the simulation uses (each trial's resampled to this many)
RECENT_DAYS = 7  # today's daily spend: the average over an arm's last week with data
# An untested channel's numbers are as uncertain as channels differ from each other in the
# funnel model (spread 1.0 on the log-odds scale): CVR ~ Beta(1.5, .) has a log-odds sd of
# about 1, cost per click a log sd of 1, order value a log sd of 0.5.
UNTESTED_CVR_A = 1.5
UNTESTED_CPC_LOG_SD = 1.0
UNTESTED_VALUE_LOG_SD = 0.5


@dataclass(frozen=True)
class GoalRequest:
    """What the marketer asks: ``target`` conversions (or revenue, in the currency) by
    ``by``, spending from ``start`` (both days included)."""

    metric: str  # "conversions" or "revenue"
    target: float
    by: date
    start: date
    channels: tuple[str, ...] = ()  # only these channels (untested ones from a prior)
    seed: int = 0

    @property
    def days(self) -> int:
        return (self.by - self.start).days + 1


@dataclass(frozen=True)
class GoalArm:
    """One arm (or untested channel) the plan may spend on."""

    trial: str | None  # None for an untested channel
    channel: str
    creative: str | None
    basis: str  # "response curve", "one spend level so far" or "untested channel"
    current_daily_spend: float


@dataclass(frozen=True)
class GoalResult:
    """The plan (None when there is nothing to plan from, with ``reason``) and its words."""

    request: GoalRequest
    currency: str
    trials: tuple[str, ...]
    arms: tuple[GoalArm, ...]
    plan: GoalPlan | None
    reason: str | None  # why there is no plan (no data at hand)
    assumptions: tuple[str, ...]
    notes: tuple[str, ...]  # arms left out and why, untested channels' source
    preview: bool = False  # planned on the exact preview, not the full model

    def sentences(self) -> list[str]:
        """The answer per probability, in words."""
        if self.plan is None:
            return [self.reason or "No plan."]
        return [level_sentence(self, level) for level in self.plan.levels]


def goal_trials(
    store: TrialStore, refs: Sequence[str] = (), currency: str | None = None
) -> tuple[list[Trial], str | None]:
    """The trials to plan from and their currency. ``refs`` names trials (default: every
    trial with data that is not archived); with ``currency`` only trials in it are kept;
    without it, trials in more than one currency are refused (money is never mixed)."""
    if refs:
        chosen = [store.get_trial(r) for r in dict.fromkeys(refs)]
    else:
        chosen = [
            s.trial
            for s in store.list_trials()
            if s.days_with_data and s.trial.spec.status is not TrialStatus.ARCHIVED
        ]
    if currency is not None:
        currency = currency.strip().upper()
        kept = [t for t in chosen if t.spec.currency == currency]
        if refs and len(kept) < len(chosen):
            other = [t for t in chosen if t.spec.currency != currency]
            raise UserError(
                f"{_names(other)} {'is' if len(other) == 1 else 'are'} not in {currency}: "
                "a plan is made in one currency; leave those trials out or plan them apart"
            )
        return kept, currency
    by_currency: dict[str, list[Trial]] = {}
    for t in chosen:
        by_currency.setdefault(t.spec.currency, []).append(t)
    if len(by_currency) > 1:
        listing = "; ".join(f"{c}: {_names(ts)}" for c, ts in sorted(by_currency.items()))
        raise UserError(
            "these trials are in different currencies, and money in different currencies is "
            f"never added up ({listing}). Plan one currency at a time with --currency "
            f"({', '.join(sorted(by_currency))})"
        )
    return chosen, next(iter(by_currency), None)


def _names(trials: Sequence[Trial]) -> str:
    return ", ".join(f"'{t.name}'" for t in trials)


def goal_analyses(
    store: TrialStore, trials: Sequence[Trial], *, method: str = "mcmc", seed: int = 0
) -> list[TrialAnalysis]:
    """Each trial's one analysis (posterior and response curves), as ``analyze`` gives it."""
    from inference.funnel.spec import ModelSpec
    from trials.analysis.result import analyze_trial

    return [analyze_trial(store, t, method=method, spec=ModelSpec(), seed=seed) for t in trials]


def untested_channel_prior(store: TrialStore, channel: str, currency: str) -> ChannelPrior | None:
    """What we expect of ``channel``, never tried in this workspace, in ``currency``.

    The priors learned from the workspace's finished trials (``trials.analysis.priors``:
    the channel's own where it has one, else the workspace-wide prior across channels,
    as strong as the data behind them allow): CVR as their Beta, cost per click and order
    value as their log-normals in ``currency``. The level those rates hold at (the
    reference daily spend) is the average daily spend of an arm in the workspace's trials
    in ``currency``. Without learned priors for a stage (too few finished trials), the
    workspace's past rates in ``currency``, pooled and widened to the spread channels show
    between each other. None when no trial in ``currency`` has clicks yet.
    """
    from trials.analysis.priors import workspace_priors

    clicks = conversions = arm_days = 0
    spend = revenue = 0.0
    for summary in store.list_trials():
        t = summary.trial
        if t.spec.currency != currency or not summary.days_with_data:
            continue
        for totals in store.arm_totals(t.id).values():
            clicks += totals.clicks
            conversions += min(totals.conversions, totals.clicks)
            spend += totals.spend
            revenue += totals.revenue
            arm_days += totals.days
    if not clicks or spend <= 0 or not arm_days:
        return None
    learned = workspace_priors(store, currency=currency).learned
    cvr_prior = learned.for_arm(channel, "cvr")
    cpc_prior = learned.for_arm(channel, "cpc", currency)
    value_prior = learned.for_arm(channel, "order_value", currency)
    if cvr_prior is not None and cpc_prior is not None and value_prior is not None:
        whose = "its own" if learned.get(channel, "cvr") is not None else "the workspace-wide"
        return ChannelPrior(
            channel=channel,
            currency=currency,
            cpc_log_mean=cpc_prior.lognormal.log_mean,
            cpc_log_sd=cpc_prior.lognormal.log_sd,
            cvr_a=cvr_prior.beta.a,
            cvr_b=cvr_prior.beta.b,
            order_value_log_mean=value_prior.lognormal.log_mean,
            order_value_log_sd=value_prior.lognormal.log_sd,
            reference_daily_spend=spend / arm_days,
            source=f"{whose} learned prior from {len(learned.trials)} finished trials "
            f"(money in {currency})",
        )
    cvr = max(conversions, 0.5) / clicks  # half a conversion when none yet: a rate near 0
    value = revenue / conversions if conversions and revenue > 0 else 1.0
    return ChannelPrior(
        channel=channel,
        currency=currency,
        cpc_log_mean=math.log(spend / clicks),
        cpc_log_sd=UNTESTED_CPC_LOG_SD,
        cvr_a=UNTESTED_CVR_A,
        cvr_b=UNTESTED_CVR_A * (1 - cvr) / cvr,
        order_value_log_mean=math.log(value),
        order_value_log_sd=UNTESTED_VALUE_LOG_SD,
        reference_daily_spend=spend / arm_days,
        source=f"this workspace's past trials in {currency}, pooled (too few finished "
        "trials to learn priors from)",
    )


def _recent_daily_spend(rows: list) -> float:
    """An arm's daily spend today: the mean over its last ``RECENT_DAYS`` days with data."""
    rows = sorted((r for r in rows if r.spend > 0), key=lambda r: r.day)
    if not rows:
        return 0.0
    since = rows[-1].day - timedelta(days=RECENT_DAYS - 1)
    window = [r.spend for r in rows if r.day >= since]
    return float(sum(window) / len(window))


def arm_responses(
    analysis: TrialAnalysis, metric: str, channels: Sequence[str] = (), *, seed: int = 0
) -> tuple[list[tuple[ArmResponse, GoalArm]], list[str]]:
    """Each arm of the analysed trial as draws of its response to daily spend: its
    response curve where it has a reliable one, else its posterior CPA (and revenue per
    conversion) holding to today's spend and falling beyond it. Arms the data cannot
    speak for yet are left out, with why, in the second list."""
    trial, posterior = analysis.trial, analysis.posterior
    wanted = {c.casefold() for c in channels}
    curves = analysis.curves or {}
    pace: list[tuple[ArmResponse, GoalArm]] = []
    out: list[tuple[ArmResponse, GoalArm]] = []
    left_out = []
    for i, arm in enumerate(trial.arms):
        if wanted and arm.spec.channel.casefold() not in wanted:
            continue
        name = f"{trial.name}: {arm.name}"
        rows = [r for r in analysis.data.daily if r.arm_id == arm.id]
        s0 = _recent_daily_spend(rows)
        curve = curves.get(arm.id)
        cpa = posterior.draws["cpa"][:, i]
        value = posterior.draws["revenue_per_conversion"][:, i]
        no_value = (
            "revenue_per_conversion" in posterior.undefined
            and i in posterior.undefined["revenue_per_conversion"]
        )
        if s0 <= 0:
            left_out.append(f"{name}: left out, it has no spend yet.")
            continue
        if curve is not None and curve.reliable and curve.draws is not None:
            response = curve_response(name, arm.spec.channel, trial.spec.currency, curve.draws)
            basis = "response curve"
            out.append(
                (
                    response,
                    GoalArm(trial.name, arm.spec.channel, arm.spec.creative, basis, curve.draws.s0),
                )
            )
            continue
        if i in posterior.undefined.get("cpa", {}) or not np.isfinite(cpa).all():
            left_out.append(
                f"{name}: left out, it has no conversions yet, so there is no rate to plan "
                "from; keep it running until it converts."
            )
            continue
        if metric == "revenue" and (no_value or not np.isfinite(value).all()):
            left_out.append(
                f"{name}: left out of a revenue goal, it has no orders with revenue yet."
            )
            continue
        value = np.where(np.isfinite(value), value, 0.0)
        response = pace_response(
            name,
            arm.spec.channel,
            trial.spec.currency,
            s0,
            1.0 / cpa,
            value,
            seed=seed + 17 * (i + 1),
        )
        pace.append(
            (
                response,
                GoalArm(
                    trial.name, arm.spec.channel, arm.spec.creative, "one spend level so far", s0
                ),
            )
        )
    return pace + out, left_out


def plan_by_goal(
    store: TrialStore,
    analyses: Sequence[TrialAnalysis],
    request: GoalRequest,
    currency: str | None,
) -> GoalResult:
    """The least spend reaching the goal with 50 % and 80 % probability, split across the
    arms of ``analyses`` (one currency) and any untested channel in ``request.channels``."""
    if request.days < 1:
        raise UserError(
            f"the goal's date {request.by.isoformat()} is before the first day of spending "
            f"{request.start.isoformat()}: choose a later date"
        )
    currencies = {a.trial.spec.currency for a in analyses}
    if len(currencies) > 1:
        raise UserError(
            "money in different currencies is never added up: plan "
            f"{', '.join(sorted(currencies))} apart"
        )
    currency = currency or next(iter(currencies), None)
    if currency is None:
        raise UserError("name the currency to plan in (--currency) when no trial is chosen")
    rng_seed = request.seed
    responses: list[ArmResponse] = []
    arms: list[GoalArm] = []
    notes: list[str] = []
    preview = any(a.posterior.method == "exact" for a in analyses)
    tested = set()
    for n, analysis in enumerate(analyses):
        tested |= {a.spec.channel.casefold() for a in analysis.trial.arms}
        pairs, left_out = arm_responses(
            analysis, request.metric, request.channels, seed=rng_seed + 1000 * (n + 1)
        )
        notes += left_out
        pace = [(r, g) for r, g in pairs if r.kind == "pace"]
        # One trial's arms share one posterior: resampled together, their draws stay paired.
        for r, g in zip(
            resampled([r for r, _ in pace], DRAWS, seed=rng_seed + n),
            [g for _, g in pace],
            strict=True,
        ):
            responses.append(r)
            arms.append(g)
        for r, g in pairs:
            if r.kind == "curve":
                responses += resampled([r], DRAWS, seed=rng_seed + 7919 * (n + 1))
                arms.append(g)
    for j, channel in enumerate(c for c in request.channels if c.casefold() not in tested):
        prior = untested_channel_prior(store, channel, currency)
        if prior is None:
            notes.append(
                f"{channel}: left out, no trial in {currency} has results yet to judge an "
                "untested channel by."
            )
            continue
        responses.append(prior_response(prior, DRAWS, seed=rng_seed + 31 * (j + 1)))
        arms.append(GoalArm(None, channel, None, "untested channel", prior.reference_daily_spend))
        notes.append(
            f"{channel} has no trial here: its cost per click, conversion rate and order "
            f"value are what {prior.source} suggest, widened to how much channels differ "
            f"(cost per click about {math.exp(prior.cpc_log_mean):,.2f} {currency}, "
            f"conversion rate about {prior.cvr_a / (prior.cvr_a + prior.cvr_b):.1%}, "
            f"at about {prior.reference_daily_spend:,.2f} {currency} a day)."
        )
    trials = tuple(a.trial.name for a in analyses)
    assumptions = tuple(_assumptions(request, arms, currency))
    if not responses:
        return GoalResult(
            request,
            currency,
            trials,
            (),
            None,
            _no_data_reason(analyses, request),
            assumptions,
            tuple(notes),
            preview,
        )
    goal = Goal(request.metric, float(request.target), request.days)
    plan = plan_goal(responses, goal, probabilities=PROBABILITIES, seed=rng_seed)
    return GoalResult(
        request, currency, trials, tuple(arms), plan, None, assumptions, tuple(notes), preview
    )


def _no_data_reason(analyses, request: GoalRequest) -> str:
    if not analyses and not request.channels:
        return (
            "There is no trial with results to plan from. Run a trial until its arms have "
            "conversions, or name channels to plan from past trials' rates."
        )
    return (
        "The data at hand cannot answer yet: no chosen arm has both spend and conversions"
        + (" with revenue" if request.metric == "revenue" else "")
        + ". Keep the trials running until each arm has conversions (the decision rule asks "
        "for some per arm), or name untested channels to plan from past trials' rates."
    )


def _assumptions(request: GoalRequest, arms: Sequence[GoalArm], currency: str) -> list[str]:
    out = [
        f"Spending runs {request.days} day{'s' if request.days != 1 else ''}, from "
        f"{request.start.isoformat()} to {request.by.isoformat()} (both included); the goal "
        "counts only what that spending brings, not results so far.",
        "Rates stay as measured: each arm converts as its data say today, with the "
        "uncertainty the posterior carries; days vary as they have.",
        "The money goes where the expected conversions (or revenue) from the next unit spent "
        "are highest, at the posterior mean: one split per budget, the same whatever the "
        "true rates turn out to be.",
        f"All money is in {currency}; other currencies are planned apart.",
    ]
    if any(a.basis == "response curve" for a in arms):
        out.append(
            "Arms with a response curve follow it: returns fall as daily spend grows and "
            "level off at the curve's ceiling."
        )
    if any(a.basis != "response curve" for a in arms):
        out.append(
            "Arms without a response curve (one spend level so far) keep today's cost per "
            "conversion up to today's daily spend; beyond it each unit returns less, by an "
            "unknown rate (anywhere between no fall and falling with the square root of the "
            f"spend), as in the budget split. Nothing beyond {MAX_MULTIPLE:,.0f}× today's "
            "daily spend is considered. Step an arm's budget to learn its curve."
        )
    return out


def level_sentence(result: GoalResult, level) -> str:
    """One probability's answer in words."""
    req, cur = result.request, result.currency
    goal = (
        f"{req.target:,.0f} conversions"
        if req.metric == "conversions"
        else f"{req.target:,.2f} {cur} of revenue"
    )
    head = f"{goal} by {req.by.isoformat()} with {level.probability:.0%} probability"
    if not level.reachable:
        if level.at_any_spend:
            return (
                f"{head}: cannot be reached at any spend. The arms' response curves level "
                f"off below the goal in the {req.days} days left (even unlimited spend "
                f"reaches it with only {result.plan.limit_probability:.0%} probability). "
                "Give it more days, or add channels."
            )
        return (
            f"{head}: not within {MAX_MULTIPLE:,.0f}× today's daily spend on every arm "
            f"(that reaches it with {level.achieved:.0%} probability). Give it more days, "
            "or add channels."
        )
    return (
        f"{head}: about {level.total_spend:,.2f} {cur} in total, {level.daily_spend:,.2f} "
        f"{cur} a day over {req.days} days."
    )
