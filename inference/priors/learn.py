"""Priors per channel and funnel stage learned from past trials (pure data in, priors out).

A past trial is its arms' daily counts (``PastTrial``). ``learn`` fits, for each channel:
CTR (clicks per impression) and CVR (conversions per click, on days whose clicks can
explain their conversions, as the funnel model reads them) as Beta priors over the
channel's past arms; order value (revenue per conversion) and cost per click as
log-normals over past trials' means, **per currency**; and, from ``FEW_TRIALS`` past
trials on, the same across every channel (the workspace-wide prior: a new channel's
starting point).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from inference.priors.fit import (
    FEW_TRIALS,
    INTERVAL,
    ORDER_LOG_SD,
    BetaPrior,
    Counts,
    LogNormalPrior,
    Means,
    fit_beta_prior,
    fit_lognormal_prior,
)

__all__ = [
    "MONEY_STAGES",
    "RATE_STAGES",
    "STAGES",
    "DayCounts",
    "LearnedPriors",
    "PastArm",
    "PastTrial",
    "StagePrior",
    "arm_counts",
    "learn",
]

RATE_STAGES = ("ctr", "cvr")
MONEY_STAGES = ("order_value", "cpc")
STAGES = RATE_STAGES + MONEY_STAGES


@dataclass(frozen=True)
class DayCounts:
    """One arm's day: ``offset`` days after the trial's first day with data."""

    offset: int
    impressions: int
    clicks: int
    conversions: int
    spend: float
    revenue: float


@dataclass(frozen=True)
class PastArm:
    channel: str
    days: tuple[DayCounts, ...]


@dataclass(frozen=True)
class PastTrial:
    name: str
    currency: str
    arms: tuple[PastArm, ...]

    @property
    def length(self) -> int:
        """Days from the first day with data to the last, inclusive (0: no data)."""
        offsets = [d.offset for a in self.arms for d in a.days]
        return max(offsets) + 1 if offsets else 0


@dataclass(frozen=True)
class ArmSums:
    impressions: int
    clicks: int
    paired_clicks: int  # clicks on days whose conversions do not exceed them
    paired_conversions: int
    conversions: int
    spend: float
    revenue: float


def arm_counts(arm: PastArm, until: int | None = None) -> ArmSums:
    """An arm's sums over days with ``offset < until`` (all days without ``until``)."""
    days = [d for d in arm.days if until is None or d.offset < until]
    paired = [d for d in days if d.clicks > 0 and d.conversions <= d.clicks]
    return ArmSums(
        impressions=sum(d.impressions for d in days),
        clicks=sum(min(d.clicks, d.impressions) for d in days),
        paired_clicks=sum(d.clicks for d in paired),
        paired_conversions=sum(d.conversions for d in paired),
        conversions=sum(d.conversions for d in days),
        spend=sum(d.spend for d in days),
        revenue=sum(d.revenue for d in days),
    )


@dataclass(frozen=True)
class StagePrior:
    """One row of the learned priors: a channel (None: every channel) and a stage, with
    the currency for money stages."""

    channel: str | None
    stage: str
    currency: str | None
    beta: BetaPrior | None = None
    lognormal: LogNormalPrior | None = None

    @property
    def mean(self) -> float:
        """A new trial's typical figure: the Beta's mean for a rate; for money the
        log-normal's median (its centre, which a wide spread does not inflate)."""
        return self.beta.mean if self.beta is not None else self.lognormal.median

    def interval(self, prob: float = INTERVAL) -> tuple[float, float]:
        return (self.beta or self.lognormal).interval(prob)

    @property
    def ess(self) -> float | None:
        return self.beta.ess if self.beta is not None else self.lognormal.ess

    @property
    def trials(self) -> int:
        return (self.beta or self.lognormal).trials

    @property
    def arms(self) -> int | None:
        return self.beta.arms if self.beta is not None else None

    @property
    def capped(self) -> str | None:
        return (self.beta or self.lognormal).capped


@dataclass(frozen=True)
class LearnedPriors:
    rows: tuple[StagePrior, ...]
    trials: tuple[str, ...]  # the past trials learned from
    channels: tuple[str, ...]

    def get(
        self, channel: str | None, stage: str, currency: str | None = None
    ) -> StagePrior | None:
        for r in self.rows:
            if r.channel == channel and r.stage == stage and r.currency == currency:
                return r
        return None

    def for_arm(self, channel: str, stage: str, currency: str | None = None) -> StagePrior | None:
        """The channel's prior, else the workspace-wide one, else None."""
        return self.get(channel, stage, currency) or self.get(None, stage, currency)

    def currencies(self) -> tuple[str, ...]:
        return tuple(sorted({r.currency for r in self.rows if r.currency is not None}))


def _rate_counts(trials: Iterable[PastTrial], channel: str | None, stage: str) -> list[Counts]:
    out = []
    for t in trials:
        for a in t.arms:
            if channel is not None and a.channel != channel:
                continue
            s = arm_counts(a)
            if stage == "ctr":
                out.append(Counts(t.name, s.impressions, s.clicks))
            else:
                out.append(Counts(t.name, s.paired_clicks, s.paired_conversions))
    return out


def _money_means(
    trials: Iterable[PastTrial], channel: str | None, stage: str, currency: str
) -> list[Means]:
    out = []
    for t in trials:
        if t.currency != currency:
            continue  # money is never pooled across currencies
        sums = [arm_counts(a) for a in t.arms if channel is None or a.channel == channel]
        if not sums:
            continue
        if stage == "order_value":
            conversions, revenue = sum(s.conversions for s in sums), sum(s.revenue for s in sums)
            if conversions > 0 and revenue > 0:
                out.append(Means(t.name, revenue / conversions, conversions))
        else:
            clicks, spend = sum(s.clicks for s in sums), sum(s.spend for s in sums)
            if clicks > 0 and spend > 0:
                out.append(Means(t.name, spend / clicks, clicks))
    return out


def _rows_for(trials: Sequence[PastTrial], channel: str | None) -> list[StagePrior]:
    rows = []
    for stage in RATE_STAGES:
        beta = fit_beta_prior(_rate_counts(trials, channel, stage))
        if beta is not None:
            rows.append(StagePrior(channel, stage, None, beta=beta))
    for currency in sorted({t.currency for t in trials}):
        for stage in MONEY_STAGES:
            unit = None if stage == "cpc" else ORDER_LOG_SD
            lognormal = fit_lognormal_prior(
                _money_means(trials, channel, stage, currency), unit_log_sd=unit
            )
            if lognormal is not None:
                rows.append(StagePrior(channel, stage, currency, lognormal=lognormal))
    return rows


def learn(trials: Sequence[PastTrial], workspace_min_trials: int = FEW_TRIALS) -> LearnedPriors:
    """Learned priors per channel and stage, and workspace-wide (across channels, channel
    None) from ``workspace_min_trials`` trials on (below ``FEW_TRIALS`` kept weak)."""
    trials = [t for t in trials if t.length > 0]
    channels = sorted({a.channel for t in trials for a in t.arms if a.days})
    rows: list[StagePrior] = []
    for channel in channels:
        rows += _rows_for([t for t in trials if any(a.channel == channel for a in t.arms)], channel)
    if trials and len(trials) >= workspace_min_trials:
        rows += _rows_for(trials, None)
    return LearnedPriors(tuple(rows), tuple(t.name for t in trials), tuple(channels))
