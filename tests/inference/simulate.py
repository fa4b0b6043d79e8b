"""Simulated trials with known truth, generated the way real campaigns behave: spend
wobbles around plan, impressions follow spend through a CPM, daily click and conversion
rates carry a log-normal day effect (overdispersion), order values are gamma-skewed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.funnel.data import FunnelData

CTR_DAY_SD, CVR_DAY_SD, ORDER_SHAPE = 0.15, 0.2, 2.0


@dataclass(frozen=True)
class Truth:
    ctr: np.ndarray  # mean daily rates (the day effect's mean included)
    cvr: np.ndarray
    order_value: np.ndarray
    roas: np.ndarray  # expected revenue per unit of spend


def simulate_trial(
    rng: np.random.Generator,
    *,
    channels: int = 2,
    arms_per_channel: int = 2,
    days: int = 28,
    daily_spend: float = 40.0,
    cpm: float = 20.0,
    base_ctr: float = 0.02,
    base_cvr: float = 0.03,
    base_order_value: float = 80.0,
    channel_sd: float = 0.6,
    arm_sd: float = 0.3,
    ctr: np.ndarray | None = None,
    cvr: np.ndarray | None = None,
    order_value: np.ndarray | None = None,
) -> tuple[FunnelData, Truth]:
    n_arms = channels * arms_per_channel
    arm_channel = np.repeat(np.arange(channels), arms_per_channel)

    def rates(base, given):
        if given is not None:
            return np.asarray(given, dtype=float)
        logit = np.log(base / (1 - base))
        eta = (
            logit + rng.normal(0, channel_sd, channels)[arm_channel] + rng.normal(0, arm_sd, n_arms)
        )
        return 1 / (1 + np.exp(-eta))

    ctr_base = rates(base_ctr, ctr)
    cvr_base = rates(base_cvr, cvr)
    aov = (
        np.asarray(order_value, dtype=float)
        if order_value is not None
        else base_order_value * np.exp(rng.normal(0, 0.3, n_arms))
    )
    rows = []
    for d in range(days):
        for a in range(n_arms):
            spend = round(daily_spend * rng.uniform(0.85, 1.15), 2)
            impressions = int(rng.poisson(spend / cpm * 1000))
            p_click = min(0.95, ctr_base[a] * rng.lognormal(0, CTR_DAY_SD))
            clicks = int(rng.binomial(impressions, p_click))
            p_conv = min(0.95, cvr_base[a] * rng.lognormal(0, CVR_DAY_SD))
            conversions = int(rng.binomial(clicks, p_conv))
            revenue = float(rng.gamma(ORDER_SHAPE, aov[a] / ORDER_SHAPE, conversions).sum())
            rows.append(
                dict(
                    arm=a,
                    day=f"2026-09-{d + 1:02d}" if d < 30 else f"2026-10-{d - 29:02d}",
                    impressions=impressions,
                    clicks=clicks,
                    conversions=conversions,
                    spend=spend,
                    revenue=round(revenue, 2),
                )
            )
    arms = [(f"channel {c}", f"channel {c} · arm {a}") for a, c in enumerate(arm_channel)]
    data = FunnelData.from_rows(arms, rows)
    ctr_mean = ctr_base * np.exp(CTR_DAY_SD**2 / 2)
    cvr_mean = cvr_base * np.exp(CVR_DAY_SD**2 / 2)
    truth = Truth(ctr_mean, cvr_mean, aov, (1000 / cpm) * ctr_mean * cvr_mean * aov)
    return data, truth


def day_rows(per_arm) -> list[dict]:
    """Rows for ``FunnelData.from_rows`` from, per arm, a list of (impressions, clicks,
    conversions, spend, revenue) days starting 2026-09-01."""
    return [
        dict(
            arm=arm,
            day=f"2026-09-{d + 1:02d}",
            impressions=i,
            clicks=c,
            conversions=v,
            spend=s,
            revenue=r,
        )
        for arm, days in enumerate(per_arm)
        for d, (i, c, v, s, r) in enumerate(days)
    ]
