"""Messy simulated trials with known truth, the way real exports look.

``simulate.py`` makes clean trials; this makes the oddities real platform and shop exports
have, each switchable (``Features``):

* **view-through days**: on some days of an arm the platform reports more conversions
  than clicks (412 clicks, 413 conversions): view-through conversions are added so that
  the day's view-through alone is clicks + 1;
* **conversions without revenue**: each conversion carries revenue only with the arm's
  paying share (sign-ups, cancelled orders), and on some whole click days none does;
* **late conversions**: a share of each day's conversions is dated 1..``late_days`` days
  later, so during a pause (days without clicks or spend) conversions keep arriving;
* **lagged own orders**: every order dated ``lag_days`` days after its click;
* **single price**: revenue = paying conversions x price;
* one day of data, or zero-conversion arms, by the arms' truths and ``days``.

Late and lagged conversions dated after the last click day are kept: the export runs
until they are in (days without spend at the end), so the observed revenue / spend is an
unbiased estimate of the true ROAS.

The truth is exact in expectation: each arm's true ROAS is expected revenue / expected
spend over the whole trial, computed from the same schedule (pauses, view-through days,
days without revenue, lags) the data were drawn with. Every random choice comes from the
``seed``; switching view-through days on or off does not change any other number drawn
(they use their own streams), so fits with and without can be compared on the same data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from inference.funnel.data import FunnelData

__all__ = ["ArmTruth", "Features", "MessyTrial", "Truth", "messy_trial"]

CTR_DAY_SD, CVR_DAY_SD, ORDER_SHAPE = 0.15, 0.2, 2.0
START = date(2026, 9, 1)


@dataclass(frozen=True)
class ArmTruth:
    """One arm's generating values: rates are medians of the daily rates (the daily
    log-normal effect's mean is added in ``Truth``)."""

    channel: str
    cpm: float = 20.0
    ctr: float = 0.02
    cvr: float = 0.03
    order_value: float = 80.0
    paying_share: float = 1.0
    daily_spend: float = 40.0


@dataclass(frozen=True)
class Features:
    """Which oddities a trial has. The defaults give a clean trial."""

    # Per arm index, how many of its click days report view-through conversions.
    view_through: dict[int, int] = field(default_factory=dict)
    # Per arm index, how many whole click days carry no revenue at all (conversions stay).
    days_without_revenue: dict[int, int] = field(default_factory=dict)
    # Days (0-based, within the click days) on which every arm is paused: no impressions,
    # clicks or spend; rows appear only when late conversions land on them.
    pause: tuple[int, ...] = ()
    # Share of conversions dated 1..late_days days after their click (uniform).
    late_share: float = 0.0
    late_days: int = 5
    # Every conversion dated exactly this many days after its click (own orders).
    lag_days: int = 0
    # Every paying conversion worth exactly this (a single-price product).
    single_price: float | None = None


@dataclass(frozen=True)
class Truth:
    ctr: np.ndarray  # mean daily click-through rate
    cvr: np.ndarray  # mean share of clicks that convert (view-through excluded)
    order_value: np.ndarray  # mean revenue of a paying conversion
    paying_share: np.ndarray  # expected share of conversions carrying revenue (whole days too)
    conversions: np.ndarray  # expected conversions, view-through and late ones included
    revenue: np.ndarray  # expected revenue
    spend: np.ndarray  # expected spend
    roas: np.ndarray  # expected revenue / expected spend

    @property
    def best(self) -> int:
        return int(np.argmax(self.roas))


@dataclass(frozen=True)
class MessyTrial:
    data: FunnelData
    truth: Truth
    rows: list[dict]
    view_through_days: dict[int, tuple[int, ...]]
    no_revenue_days: dict[int, tuple[int, ...]]


def messy_trial(
    seed: int,
    arms: Sequence[ArmTruth],
    *,
    days: int = 28,
    features: Features | None = None,
) -> MessyTrial:
    """A trial of ``days`` click days over ``arms`` with the oddities of ``features``."""
    f = features or Features()
    k = len(arms)
    max_lag = f.lag_days + (f.late_days if f.late_share > 0 else 0)
    n_dates = days + max_lag
    click_day = np.ones(days, bool)
    click_day[[d for d in f.pause if 0 <= d < days]] = False

    rng = np.random.default_rng([seed, 0])  # the funnel itself
    pick_vt = np.random.default_rng([seed, 1])  # which days carry view-through
    pick_norev = np.random.default_rng([seed, 3])  # which days carry no revenue
    value_rng = np.random.default_rng([seed, 2])  # order values of view-through conversions

    active = np.flatnonzero(click_day)
    vt_days = {
        a: tuple(sorted(int(d) for d in pick_vt.choice(active, min(n, len(active)), replace=False)))
        for a, n in sorted(f.view_through.items())
        if n
    }
    # Whole days without revenue are ordinary click days (never a view-through day, whose
    # lump of conversions would then change the arm's true ROAS by half).
    norev_days = {}
    for a, n in sorted(f.days_without_revenue.items()):
        candidates = np.array([d for d in active if d not in vt_days.get(a, ())])
        if n:
            chosen = pick_norev.choice(candidates, min(n, len(candidates)), replace=False)
            norev_days[a] = tuple(sorted(int(d) for d in chosen))

    ctr_mean = np.array([t.ctr for t in arms]) * np.exp(CTR_DAY_SD**2 / 2)
    cvr_mean = np.array([t.cvr for t in arms]) * np.exp(CVR_DAY_SD**2 / 2)
    price = np.array(
        [f.single_price if f.single_price is not None else t.order_value for t in arms]
    )
    paying = np.array([t.paying_share for t in arms])

    # Delay distribution of a conversion's date after its click (index = days later).
    delay = np.zeros(max_lag + 1)
    if f.late_share > 0:
        delay[f.lag_days] += 1 - f.late_share
        delay[f.lag_days + 1 : f.lag_days + f.late_days + 1] += f.late_share / f.late_days
    else:
        delay[f.lag_days] = 1.0

    impressions = np.zeros((n_dates, k), np.int64)
    clicks = np.zeros((n_dates, k), np.int64)
    spend = np.zeros((n_dates, k))
    conversions = np.zeros((n_dates, k), np.int64)
    revenue = np.zeros((n_dates, k))
    for d in range(days):
        for a, t in enumerate(arms):
            if not click_day[d]:
                continue
            s = round(t.daily_spend * rng.uniform(0.85, 1.15), 2)
            imp = int(rng.poisson(s / t.cpm * 1000))
            c = int(rng.binomial(imp, min(0.95, t.ctr * rng.lognormal(0, CTR_DAY_SD))))
            conv = int(rng.binomial(c, min(0.95, t.cvr * rng.lognormal(0, CVR_DAY_SD))))
            spend[d, a], impressions[d, a], clicks[d, a] = s, imp, c
            # Date each conversion: its delay after the click.
            later = rng.multinomial(conv, delay)
            conversions[d : d + len(delay), a] += later
    vt = np.zeros((n_dates, k), np.int64)
    for a, ds in vt_days.items():
        for d in ds:
            vt[d, a] = clicks[d, a] + 1
    # Revenue: each conversion pays with the arm's paying share; view-through conversions
    # draw their values from their own stream so the rest of the trial is unchanged.
    for d in range(n_dates):
        for a in range(k):
            for n, r in ((conversions[d, a], rng), (vt[d, a], value_rng)):
                payers = int(r.binomial(n, paying[a]))
                if f.single_price is not None:
                    value = payers * price[a]
                else:
                    value = float(r.gamma(ORDER_SHAPE, price[a] / ORDER_SHAPE, payers).sum())
                revenue[d, a] += value
    conversions = conversions + vt
    for a, ds in norev_days.items():
        revenue[list(ds), a] = 0.0

    rows = []
    for d in range(n_dates):
        day = (START + timedelta(days=d)).isoformat()
        for a in range(k):
            empty = not (clicks[d, a] or spend[d, a] or conversions[d, a] or impressions[d, a])
            if empty and (d >= days or not click_day[d]):
                continue  # a paused or trailing day without anything is not exported
            rows.append(
                dict(
                    arm=a,
                    day=day,
                    impressions=int(impressions[d, a]),
                    clicks=int(clicks[d, a]),
                    conversions=int(conversions[d, a]),
                    spend=float(spend[d, a]),
                    revenue=round(float(revenue[d, a]), 2),
                )
            )
    labels = [(t.channel, f"{t.channel} · arm {a}") for a, t in enumerate(arms)]
    data = FunnelData.from_rows(labels, rows)

    # Truth in expectation, over the same schedule.
    exp_spend = np.array([t.daily_spend for t in arms])[None, :] * click_day[:, None]
    exp_clicks = exp_spend * np.array([1000 / t.cpm for t in arms]) * ctr_mean
    exp_conv = np.zeros((n_dates, k))
    for lag, share in enumerate(delay):
        exp_conv[lag : lag + days] += share * exp_clicks * cvr_mean
    exp_vt = np.zeros((n_dates, k))
    for a, ds in vt_days.items():
        for d in ds:
            exp_vt[d, a] = exp_clicks[d, a] + 1
    exp_all = exp_conv + exp_vt
    pays = np.ones((n_dates, k))
    for a, ds in norev_days.items():
        pays[list(ds), a] = 0.0
    exp_revenue = (exp_all * pays).sum(axis=0) * paying * price
    total_conv = exp_all.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        paying_eff = np.where(
            total_conv > 0, (exp_all * pays).sum(axis=0) * paying / total_conv, paying
        )
    total_spend = exp_spend.sum(axis=0)
    truth = Truth(
        ctr=ctr_mean,
        cvr=cvr_mean,
        order_value=price.astype(float),
        paying_share=paying_eff,
        conversions=total_conv,
        revenue=exp_revenue,
        spend=total_spend,
        roas=exp_revenue / total_spend,
    )
    return MessyTrial(data, truth, rows, vt_days, norev_days)


def sixty_arms(seed: int) -> list[ArmTruth]:
    """60 arms, 10 channels of 6, around CTR 2 % and CVR 3 % (a wide trial)."""
    rng = np.random.default_rng(seed)
    return [
        ArmTruth(
            f"channel {a // 6}",
            ctr=float(0.02 * np.exp(rng.normal(0, 0.3))),
            cvr=float(0.03 * np.exp(rng.normal(0, 0.3))),
            daily_spend=60.0,
        )
        for a in range(60)
    ]
