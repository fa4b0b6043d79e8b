"""From funnel-stage draws to a ``Posterior``: the part the exact and MCMC paths share.

**ROAS is what the arm returns per unit spent**: with plenty of data its posterior mean is
the arm's revenue / spend, whatever the conversions' dates and whether some carry no
revenue. It is the funnel's product, each factor defined so that the product of the
observed totals is exactly revenue / spend:

    ROAS = impressions/spend * CTR * conversions per click * revenue per conversion
    conversions per click   = CVR * paired share + unpaired conversions per click
    revenue per conversion  = paying share * order value * revenue scale

(revenue scale: all revenue / revenue on days with conversions, 1 unless some revenue
came on days without conversions).

* **CVR** is the share of clicks that convert, learned from *paired* days only: days with
  clicks and no more conversions than clicks. A day with more conversions than clicks
  (view-through conversions) or with conversions but no clicks (late conversions after a
  pause, own orders dated after the click) cannot say which clicks converted, so it is
  never read as a day on which every click converted; its conversions are *unpaired*.
  The paired share is the share of the arm's clicks on paired days.
* **Unpaired conversions per click** ~ Gamma(a + unpaired / s, (b + clicks) / s), s the
  lump size of unpaired conversions (``unpaired_lump_size``): they count for ROAS and
  cost per conversion, not for the conversion rate.
* **Paying share** ~ Beta(a + conversions on days with revenue, b + conversions on days
  without): conversions without revenue (sign-ups, cancelled orders) lower revenue per
  conversion instead of being ignored.
* **Order value** is the engine's (revenue per conversion on days with revenue).

The paying share and unpaired conversions are conjugate and, given the data, independent
of the sampled stages, so both engines draw them here exactly (seeded).

    CPA = 1 / (impressions/spend * CTR * conversions per click)

Arms whose data cannot inform a quantity yet get NaN draws and a named reason instead of
a number. An arm with clicks but no conversions yet keeps its ROAS: the conversion rate
pins it near zero, so it is compared with the other arms (and can be seen to trail).
"""

from __future__ import annotations

import time

import numpy as np

from inference.funnel.data import FunnelData
from inference.funnel.levels import few_days, structure_notes
from inference.funnel.spec import ModelSpec
from inference.summary import Diagnostics, Posterior

__all__ = [
    "conjugate_parameters",
    "conjugate_parts",
    "data_notes",
    "derived_draws",
    "metric_notes",
    "stage_posterior",
    "undefined_for",
]

NO_CONVERSIONS = "no conversions yet"
NO_REVENUE = "no orders with revenue yet"
UNPAIRED_ONLY = "no day whose clicks explain its conversions yet"


def stage_posterior(
    method: str,
    data: FunnelData,
    spec: ModelSpec,
    ctr: np.ndarray,
    cvr: np.ndarray,
    order_value: np.ndarray,
    *,
    seed: int,
    started: float,
) -> Posterior:
    """A ``Posterior`` from per-arm stage draws of shape (n_draws, n_arms).

    ``order_value`` is revenue per conversion on days with revenue. A trial with no data
    at all is marked unreliable ("no data yet"), so nothing acts on it.
    """
    undefined = undefined_for(data)
    parts = conjugate_parts(data, spec, ctr.shape[0], seed)
    draws = derived_draws(ctr, cvr, order_value, parts, undefined)
    diagnostics = (
        Diagnostics() if len(data.arm) else Diagnostics(reliable=False, reasons=("no data yet",))
    )
    return Posterior(
        method=method,
        spec=spec,
        arms=data.arms,
        data_digest=data.digest(),
        draws=draws,
        undefined=undefined,
        diagnostics=diagnostics,
        notes=data_notes(data, spec),
        metric_notes=metric_notes(data, spec, method),
        seconds=time.perf_counter() - started,
        seed=seed,
    )


def conjugate_parts(data: FunnelData, spec: ModelSpec, n_draws: int, seed: int) -> dict:
    """Draws of the paying share and unpaired conversions per click, with the fixed
    per-arm ratios of the ROAS identity (impressions per spend, paired share, revenue
    scale)."""
    c = conjugate_parameters(data, spec)
    rng = np.random.default_rng([seed, 14])
    size = (n_draws, data.n_arms)
    return {
        "paying": rng.beta(*c["paying"], size=size),
        "unpaired": rng.gamma(c["unpaired"][0], 1.0 / c["unpaired"][1], size=size),
        **{k: c[k] for k in ("impressions_per_spend", "paired_share", "revenue_scale")},
    }


def conjugate_parameters(data: FunnelData, spec: ModelSpec) -> dict:
    """Per arm: the paying share's Beta (a, b), unpaired conversions per click's Gamma
    (shape, rate), and the fixed ratios of the ROAS identity. The exact preview
    integrates these same distributions instead of drawing them."""
    t = data.totals()
    p = spec.priors
    lump = unpaired_lump_size(data)
    with np.errstate(divide="ignore", invalid="ignore"):
        paired_share = np.where(t.clicks > 0, t.paired_clicks / t.clicks, 1.0)
        revenue_scale = np.where(t.paid_revenue > 0, t.revenue / t.paid_revenue, 1.0)
    return {
        "paying": (
            p.paying_share_a + t.paying_conversions,
            p.paying_share_b + t.zero_revenue_conversions,
        ),
        "unpaired": (
            p.unpaired_a + t.unpaired_conversions / lump,
            # The prior's pseudo-clicks are scaled with the clicks, so the mean stays
            # about unpaired / clicks however lumpy they are.
            (p.unpaired_b + t.clicks) / lump,
        ),
        "impressions_per_spend": t.impressions_per_spend,
        "paired_share": paired_share,
        "revenue_scale": revenue_scale,
    }


def unpaired_lump_size(data: FunnelData) -> np.ndarray:
    """Per arm, the dispersion of unpaired conversions: sum(u_d^2) / sum(u_d) over days.

    Unpaired conversions come in lumps of a day (a platform's view-through day, the orders
    of a pause), not one by one: for lumps arriving at random, Var(U) = E(U) * E(S^2) /
    E(S) for lump sizes S (a compound Poisson count), so the Gamma posterior counts U / that
    many independent events. One day with 413 view-through conversions is then one piece of
    evidence, not 413 (measured: counted one by one, A/A trials with view-through days
    scaled 8 % of the time with ROAS intervals covering 83 %). 1 for arms without any.
    """
    u = data.unpaired_conversions.astype(np.float64)
    total = np.bincount(data.arm, weights=u, minlength=data.n_arms)
    squares = np.bincount(data.arm, weights=u * u, minlength=data.n_arms)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, np.maximum(squares / total, 1.0), 1.0)


def undefined_for(data: FunnelData) -> dict[str, dict[int, str]]:
    """Per metric, the arms whose data cannot say anything about it yet, and why."""
    t = data.totals()
    no_revenue_anywhere = not data.has_revenue.any()
    undefined: dict[str, dict[int, str]] = {}
    for metric, empty, reason in (
        ("ctr", t.impressions == 0, "no impressions yet"),
        ("cvr", t.clicks == 0, "no clicks yet"),
        ("cvr", (t.clicks > 0) & (t.paired_clicks == 0), UNPAIRED_ONLY),
        ("revenue_per_conversion", t.conversions == 0, NO_CONVERSIONS),
        (
            "revenue_per_conversion",
            (t.conversions > 0) & no_revenue_anywhere,
            NO_REVENUE,
        ),
    ):
        for arm in np.flatnonzero(empty):
            undefined.setdefault(metric, {})[int(arm)] = reason
    return undefined


def derived_draws(ctr, cvr, order_value, parts: dict, undefined) -> dict[str, np.ndarray]:
    """ROAS, CPA and revenue per impression from the funnel stages and conjugate parts.

    Columns of undefined arms are set to NaN; ``undefined`` gains the derived metrics.
    """
    for arm, reason in undefined.get("ctr", {}).items():
        for derived in ("roas", "cpa", "revenue_per_impression"):
            undefined.setdefault(derived, {}).setdefault(arm, reason)
    for arm, reason in undefined.get("cvr", {}).items():
        if reason != UNPAIRED_ONLY:  # unpaired conversions alone still give a return
            for derived in ("roas", "cpa", "revenue_per_impression"):
                undefined.setdefault(derived, {}).setdefault(arm, reason)
    ips = parts["impressions_per_spend"]
    for arm in np.flatnonzero(~np.isfinite(ips)):
        for metric in ("roas", "cpa"):
            undefined.setdefault(metric, {})[int(arm)] = "no spend yet"
    for arm, reason in undefined.get("revenue_per_conversion", {}).items():
        # Without conversions, ROAS is what the conversion rate says (about none), whatever
        # an order would be worth; a trial without any revenue leaves it unknown.
        if reason != NO_CONVERSIONS:
            for metric in ("roas", "revenue_per_impression"):
                undefined.setdefault(metric, {}).setdefault(arm, reason)
    per_click = np.nan_to_num(cvr) * parts["paired_share"] + parts["unpaired"]
    per_conversion = parts["paying"] * order_value * parts["revenue_scale"]
    with np.errstate(divide="ignore", invalid="ignore"):
        conversions_per_spend = ips * ctr * per_click
        draws = {
            "ctr": ctr,
            "cvr": cvr,
            "revenue_per_conversion": per_conversion,
            "revenue_per_impression": ctr * per_click * per_conversion,
            "roas": conversions_per_spend * per_conversion,
            "cpa": 1.0 / conversions_per_spend,
        }
    for metric, arms in undefined.items():
        draws[metric] = draws[metric].copy()
        draws[metric][:, list(arms)] = np.nan
    return draws


def data_notes(data: FunnelData, spec: ModelSpec) -> tuple[str, ...]:
    """What the model did with the data's oddities and what it could not learn."""
    t = data.totals()
    notes = list(structure_notes(data, spec))
    unpaired = int(t.unpaired_conversions.sum())
    if unpaired:
        notes.append(
            f"{unpaired} conversions came on days whose clicks cannot explain them (more "
            "conversions than clicks, i.e. view-through, or conversions on a day without "
            "clicks); they count for ROAS and cost per conversion, not for the conversion rate"
        )
    zero = int(t.zero_revenue_conversions.sum())
    if zero and data.has_revenue.any():
        notes.append(
            f"{zero} conversion{'s' if zero != 1 else ''} came on days without revenue; "
            "they lower revenue per conversion and ROAS"
        )
    unpaid = float(t.unpaid_revenue.sum())
    if unpaid > 0:
        notes.append(
            f"revenue of {unpaid:,.2f} came on days without conversions; it counts for ROAS"
        )
    return tuple(notes)


def metric_notes(data: FunnelData, spec: ModelSpec, method: str) -> dict[str, dict[int, str]]:
    """Per metric and arm, a caveat on its interval: too few days to learn how much the
    arm's days vary, so the interval assumes the prior's typical variation."""
    if method != "mcmc" or not spec.overdispersion:
        return {}
    t = data.totals()
    typical = spec.priors.daily_variation
    out: dict[str, dict[int, str]] = {}
    for stage, arms in few_days(data).items():
        days = t.days if stage == "ctr" else t.paired_days
        for arm in arms:
            text = (
                f"only {int(days[arm])} day{'s' if days[arm] != 1 else ''} of data: too few "
                "to learn how much this arm's days vary, so the interval assumes typical "
                f"day-to-day variation (about ±{typical:.0%})"
            )
            for metric in (stage, "roas", "cpa", "revenue_per_impression"):
                out.setdefault(metric, {}).setdefault(arm, text)
    return out
