"""The portfolio: every trial of the workspace at once.

* **Money per currency, never mixed.** Spend, revenue, ROAS and CPA per channel, per trial,
  per week or per month, in one table per currency; with exchange rates the user gives
  (``trials.domain.exchange.Rates``), the currencies it has a rate for are converted into
  its target currency (exact to the micro-unit) and the rates are stated; a currency
  without a rate keeps a table of its own, never converted at a guess nor dropped.
* **Modelled, not only raw.** Each row's ROAS and CPA come with a 94 % interval from the
  exact (conjugate) path on the row's own data: each arm on its own, every day alike, a
  millisecond or two per trial, seeded. It is never a full-model fit (those run on the
  Results page) and it is labelled as such: like the Results preview its intervals are too
  narrow for real daily data. Several arms and trials in one row are combined draw by
  draw (independent trials: draw i of each), revenue ROAS x spend and conversions spend /
  CPA, so the row's ROAS is total revenue over total spend on each draw, never a sum of
  ratios.
* **What the decision log says** per channel: tested, scaled, stopped (with the recorded
  reason, the date and who), from ``store.decisions``.
* **Where the next money goes**: the arms a verdict says to scale or keep testing, from the
  trial's full-model analysis when the caller has one (the app's cached fit) or else the
  latest recorded decision's frozen evidence; a verdict is never recomputed here (an
  archived trial is done: it takes no next money). Their response curves (marginal ROAS
  at today's spend) come from ``response_curves``. And the
  common channels (``trials.domain.channels``) no trial has tried yet, each with what the
  workspace expects of it (:func:`workspace_expectation`, from the learned priors).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from trials.analysis.result import TrialData, load, response_curves
from trials.domain import Trial, TrialStatus, UserError
from trials.domain.channels import CommonChannel, common_channel_of, untried
from trials.domain.exchange import MICROS, Rates, convert_micros, micros
from trials.domain.verdicts import VERDICT_LABELS
from trials.storage.store import TrialStore

__all__ = [
    "BY",
    "Book",
    "ChannelRecord",
    "LoggedAction",
    "ModelFigure",
    "NewChannel",
    "NextArm",
    "Portfolio",
    "PortfolioRow",
    "portfolio",
    "with_curves",
    "workspace_expectation",
]

BY = ("channel", "trial", "week", "month")
N_DRAWS = 2000
HDI_PROB = 0.94
METHOD_NOTE = (
    "ROAS and CPA intervals: the exact path (each arm on its own, every day alike, "
    f"{N_DRAWS:,} seeded draws per trial), not the full model: real daily data vary more, "
    "so these intervals are too narrow. Several trials in a row are combined draw by draw."
)


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelFigure:
    """A modelled figure: mean and 94 % HDI, or None with the reason."""

    mean: float | None
    low: float | None
    high: float | None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {"mean": self.mean, "hdi_low": self.low, "hdi_high": self.high}
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class PortfolioRow:
    key: str  # the channel (case-blind), trial id, ISO week start or month
    label: str
    trials: tuple[str, ...]
    spend_micros: int
    revenue_micros: int
    conversions: int
    roas: ModelFigure
    cpa: ModelFigure

    @property
    def spend(self) -> float:
        return self.spend_micros / MICROS

    @property
    def revenue(self) -> float:
        return self.revenue_micros / MICROS

    @property
    def raw_roas(self) -> float | None:
        return self.revenue_micros / self.spend_micros if self.spend_micros else None

    @property
    def raw_cpa(self) -> float | None:
        return self.spend / self.conversions if self.conversions else None


@dataclass(frozen=True)
class Book:
    """One currency's table: its rows, and which currencies were converted into it."""

    currency: str
    rows: tuple[PortfolioRow, ...]
    total: PortfolioRow
    trials: tuple[str, ...]
    converted_from: tuple[tuple[str, Decimal], ...] = ()  # (currency, 1 of it in this one)
    note: str = ""


@dataclass(frozen=True)
class LoggedAction:
    """One arm's action in one decision-log entry."""

    trial: str
    entry_id: int
    day: date
    who: str
    action: str  # scale, stop, fix, keep_testing
    arm: str
    channel: str
    reason: str  # the note recorded with it, else the evidence's reason for the arm
    reason_source: str  # "note" or "evidence"
    corrected_by: tuple[int, ...] = ()


@dataclass(frozen=True)
class ChannelRecord:
    channel: str
    common: str | None  # the common channel it counts as (trials.domain.channels)
    trials: tuple[str, ...]
    status: str  # scaled, testing, being fixed, stopped, tested, planned
    actions: tuple[LoggedAction, ...]  # oldest first


@dataclass(frozen=True)
class NextArm:
    """An arm a verdict says to scale or keep testing, with its response curve."""

    trial: str
    trial_id: int
    currency: str
    arm: str
    channel: str
    recommendation: str
    verdict: str
    source: str  # where the verdict comes from, in words
    curve: Any | None  # inference.curve ResponseCurve (None: not computed)


@dataclass(frozen=True)
class NewChannel:
    channel: CommonChannel
    expectation: ChannelExpectation | None  # None: nothing learned yet


@dataclass(frozen=True)
class Portfolio:
    by: str
    since: date | None
    seed: int
    rates: Rates
    books: tuple[Book, ...]
    without_data: tuple[str, ...]  # trials with no data (since ``since``)
    channels: tuple[ChannelRecord, ...]
    next_arms: tuple[NextArm, ...]
    no_verdict: tuple[str, ...]  # trials with data but no verdict to read
    new_channels: tuple[NewChannel, ...]
    notes: tuple[str, ...]
    method: str = "exact"
    method_note: str = METHOD_NOTE
    unused_rates: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ChannelExpectation:
    """What the workspace's learned priors expect of a channel it has not tried: the
    workspace-wide prior across channels (a new channel has none of its own), rates as
    the mean of a new trial's figure, money per currency as the typical (median) figure,
    and how much evidence the CVR prior is worth."""

    ctr: float | None
    cvr: float | None
    cvr_ess: float | None  # clicks' worth of evidence
    money: tuple[tuple[str, float | None, float | None], ...]  # (currency, CPC, order value)
    trials: int

    def __str__(self) -> str:
        parts = []
        if self.ctr is not None:
            parts.append(f"CTR about {self.ctr:.2%}")
        if self.cvr is not None:
            worth = f" (worth about {self.cvr_ess:,.0f} clicks)" if self.cvr_ess else ""
            parts.append(f"CVR about {self.cvr:.2%}{worth}")
        for currency, cpc, value in self.money:
            if cpc is not None:
                parts.append(f"cost per click about {cpc:,.2f} {currency}")
            if value is not None:
                parts.append(f"order value about {value:,.2f} {currency}")
        return "; ".join(parts) + f" — across channels, from {self.trials} finished trials"

    def as_dict(self) -> dict[str, Any]:
        return {
            "ctr": self.ctr,
            "cvr": self.cvr,
            "cvr_ess": self.cvr_ess,
            "money": [
                {"currency": c, "cost_per_click": cpc, "order_value": value}
                for c, cpc, value in self.money
            ],
            "trials": self.trials,
            "sentence": str(self),
        }


def workspace_expectation(learned, channel: CommonChannel) -> ChannelExpectation | None:
    """What the workspace expects of ``channel`` before trying it: the priors learned
    from its finished trials (``trials.analysis.priors``), across channels since the
    channel has no trial of its own. None when too few trials have finished to learn a
    workspace-wide prior (the portfolio then says "no expectation yet")."""
    ctr, cvr = learned.for_arm(channel.name, "ctr"), learned.for_arm(channel.name, "cvr")
    if ctr is None and cvr is None:
        return None
    money = tuple(
        (
            currency,
            _median(learned.for_arm(channel.name, "cpc", currency)),
            _median(learned.for_arm(channel.name, "order_value", currency)),
        )
        for currency in learned.currencies()
    )
    return ChannelExpectation(
        ctr=ctr.mean if ctr is not None else None,
        cvr=cvr.mean if cvr is not None else None,
        cvr_ess=cvr.ess if cvr is not None else None,
        money=tuple(m for m in money if m[1] is not None or m[2] is not None),
        trials=len(learned.trials),
    )


def _median(prior) -> float | None:
    return prior.mean if prior is not None else None


# -- the pieces: one trial's share of each row ----------------------------------------------


@dataclass(frozen=True, eq=False)
class _Piece:
    key: str
    label: str
    trial: str
    spend: int  # micro-units, the trial's currency
    revenue: int
    conversions: int
    revenue_draws: np.ndarray | None  # in units of the trial's currency
    conversion_draws: np.ndarray | None
    roas_reason: str | None = None
    cpa_reason: str | None = None


def _channel_key(channel: str) -> str:
    return " ".join(channel.split()).casefold()


def _period(day: date, by: str) -> tuple[str, str]:
    if by == "week":
        start = day - timedelta(days=day.weekday())
        year, week, _ = start.isocalendar()
        return start.isoformat(), f"{year}-W{week:02d} (from {start.isoformat()})"
    return day.strftime("%Y-%m"), day.strftime("%Y-%m")


def _seed(seed: int, trial_id: int, part: int) -> int:
    return int(np.random.SeedSequence([seed, trial_id, part]).generate_state(1)[0])


def _pieces(data: TrialData, by: str, since: date | None, seed: int) -> tuple[_Piece, ...]:
    """The trial's share of each row it appears in, with the exact path's draws."""
    from inference.funnel.conjugate import conjugate_draws

    trial, f = data.trial, data.funnel
    days = np.array([date.fromisoformat(d) for d in f.days], dtype=object)
    kept = np.ones(len(f.arm), dtype=bool)
    if since is not None and len(f.arm):
        kept = np.array([days[j] >= since for j in f.day], dtype=bool)
    spend_rows = np.array([micros(x) for x in f.spend], dtype=np.int64)
    revenue_rows = np.array([micros(x) for x in f.revenue], dtype=np.int64)
    if by in ("week", "month"):
        parts: dict[str, tuple[str, np.ndarray]] = {}
        for r in np.flatnonzero(kept):
            key, label = _period(days[f.day[r]], by)
            parts.setdefault(key, (label, np.zeros(len(f.arm), dtype=bool)))[1][r] = True
        groups = [(key, label, rows, None) for key, (label, rows) in sorted(parts.items())]
    elif by == "channel":
        groups = []
        channels: dict[str, list[int]] = {}
        names: dict[str, str] = {}
        for i, arm in enumerate(trial.arms):
            key = _channel_key(arm.spec.channel)
            channels.setdefault(key, []).append(i)
            names.setdefault(key, arm.spec.channel)
        for key, arms in channels.items():
            groups.append((key, names[key], kept, arms))
    else:
        groups = [(str(trial.id), trial.name, kept, None)]
    out = []
    whole = None
    for part, (key, label, rows, arms) in enumerate(groups):
        arms = list(range(len(trial.arms))) if arms is None else arms
        mask = rows & np.isin(f.arm, arms)
        if not mask.any():
            continue
        if by == "channel":  # one posterior of the whole (kept) data, read per channel
            if whole is None:
                whole = conjugate_draws(
                    f.where(kept), seed=_seed(seed, trial.id, 0), n_draws=N_DRAWS
                )
            posterior = whole
        else:
            posterior = conjugate_draws(
                f.where(rows), seed=_seed(seed, trial.id, part), n_draws=N_DRAWS
            )
        out.append(_piece(key, label, trial, f, mask, arms, posterior, spend_rows, revenue_rows))
    return tuple(out)


def _piece(key, label, trial: Trial, f, mask, arms, posterior, spend_rows, revenue_rows) -> _Piece:
    revenue_draws = np.zeros(posterior.n_draws)
    conversion_draws = np.zeros(posterior.n_draws)
    roas_reason = cpa_reason = None
    for i in arms:
        arm_rows = mask & (f.arm == i)
        spend = float(f.spend[arm_rows].sum())
        if spend <= 0:
            continue  # no spend: nothing to weigh (its revenue still counts raw)
        name = trial.arms[i].name
        roas = posterior.draws["roas"][:, i]
        cpa = posterior.draws["cpa"][:, i]
        why = posterior.undefined.get("roas", {}).get(i)
        if why or not np.isfinite(roas).all():
            roas_reason = roas_reason or f"{trial.name}, {name}: {why or 'not defined'}"
        else:
            revenue_draws += roas * spend
        why = posterior.undefined.get("cpa", {}).get(i)
        if why or not np.isfinite(cpa).all():
            cpa_reason = cpa_reason or f"{trial.name}, {name}: {why or 'not defined'}"
        else:
            conversion_draws += spend / cpa
    return _Piece(
        key=key,
        label=label,
        trial=trial.name,
        spend=int(spend_rows[mask].sum()),
        revenue=int(revenue_rows[mask].sum()),
        conversions=int(f.conversions[mask].sum()),
        revenue_draws=revenue_draws,
        conversion_draws=conversion_draws,
        roas_reason=roas_reason,
        cpa_reason=cpa_reason,
    )


class _PieceCache:
    """Pieces per trial, data digest, grouping, start and seed (a revisit reads no draws)."""

    def __init__(self, size: int = 512):
        self._size = size
        self._done: OrderedDict[tuple, tuple[_Piece, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, compute: Callable[[], tuple[_Piece, ...]]) -> tuple[_Piece, ...]:
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
        value = compute()
        with self._lock:
            self._done[key] = value
            while len(self._done) > self._size:
                self._done.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._done.clear()


_CACHE = _PieceCache()
clear_cache = _CACHE.clear


# -- rows and books ------------------------------------------------------------------------


def _figure(draws: np.ndarray | None, reason: str | None) -> ModelFigure:
    from inference.summary import hdi

    if reason:
        return ModelFigure(None, None, None, reason)
    if draws is None or not np.isfinite(draws).all():
        return ModelFigure(None, None, None, "not defined")
    low, high = hdi(draws, HDI_PROB)
    return ModelFigure(float(draws.mean()), float(low), float(high))


def _row(key: str, label: str, pieces: list[tuple[_Piece, Decimal]]) -> PortfolioRow:
    spend = sum(convert_micros(p.spend, r) for p, r in pieces)
    revenue = sum(convert_micros(p.revenue, r) for p, r in pieces)
    modelled = [(p, r) for p, r in pieces if p.spend > 0]
    roas_reason = next((p.roas_reason for p, _ in modelled if p.roas_reason), None)
    cpa_reason = next((p.cpa_reason for p, _ in modelled if p.cpa_reason), None)
    if not modelled:
        roas = cpa = ModelFigure(None, None, None, "no spend yet")
    else:
        units = spend / MICROS
        revenue_draws = sum(p.revenue_draws * float(r) for p, r in modelled)
        conversion_draws = sum(p.conversion_draws for p, _ in modelled)
        roas = _figure(revenue_draws / units, roas_reason)
        with np.errstate(divide="ignore"):
            cpa = _figure(units / conversion_draws, cpa_reason)
    return PortfolioRow(
        key=key,
        label=label,
        trials=tuple(dict.fromkeys(p.trial for p, _ in pieces)),
        spend_micros=spend,
        revenue_micros=revenue,
        conversions=sum(p.conversions for p, _ in pieces),
        roas=roas,
        cpa=cpa,
    )


def _book(
    currency: str,
    pieces: list[tuple[_Piece, Decimal]],
    by: str,
    converted_from=(),
    note: str = "",
) -> Book:
    grouped: dict[str, list[tuple[_Piece, Decimal]]] = {}
    for p, r in pieces:
        grouped.setdefault(p.key, []).append((p, r))
    rows = [_row(key, group[0][0].label, group) for key, group in grouped.items()]
    if by in ("week", "month"):
        rows.sort(key=lambda row: row.key)
    else:
        rows.sort(key=lambda row: (-row.spend_micros, row.label))
    return Book(
        currency=currency,
        rows=tuple(rows),
        total=_row("total", "All", pieces),
        trials=tuple(dict.fromkeys(p.trial for p, _ in pieces)),
        converted_from=tuple(converted_from),
        note=note,
    )


def _books(pieces: dict[str, list[_Piece]], rates: Rates, by: str) -> tuple[Book, ...]:
    """One book per currency, or the target's book with every currency it has a rate for
    (``pieces`` by the trials' currency)."""
    order = sorted(pieces, key=lambda c: (-sum(p.spend for p in pieces[c]), c))
    if rates.target is None:
        return tuple(_book(c, [(p, Decimal(1)) for p in pieces[c]], by) for c in order)
    into = [c for c in order if rates.rate(c) is not None]
    books = []
    if into:
        converted = tuple((c, rates.rate(c)) for c in into if c != rates.target)
        books.append(
            _book(
                rates.target,
                [(p, rates.rate(c)) for c in into for p in pieces[c]],
                by,
                converted,
                "converted at the rates given: "
                + ", ".join(f"1 {c} = {r} {rates.target}" for c, r in converted)
                if converted
                else "",
            )
        )
    for c in order:
        if c not in into:
            books.append(
                _book(
                    c,
                    [(p, Decimal(1)) for p in pieces[c]],
                    by,
                    note=f"not converted: no rate for {c} was given (add {c}=VALUE, "
                    f"1 {c} in {rates.target}); shown in {c}",
                )
            )
    return tuple(books)


# -- the decision log ---------------------------------------------------------------------


_STATUS_ORDER = (("scale", "scaled"), ("keep_testing", "testing"), ("fix", "being fixed"))


def _logged(trial: Trial, entries) -> list[LoggedAction]:
    channels = {arm.name: arm.spec.channel for arm in trial.all_arms}
    out = []
    for e in entries:
        evidence = {
            f"{a.get('channel')} · {a.get('creative')}": a.get("reason") or ""
            for a in (e.snapshot or {}).get("arms", [])
        }
        for action in ("scale", "stop", "fix", "keep_testing"):
            for arm in e.summary.get(action, []):
                note = e.note.strip()
                out.append(
                    LoggedAction(
                        trial=trial.name,
                        entry_id=e.id,
                        day=e.created_at.date(),
                        who=e.created_by,
                        action=action,
                        arm=arm,
                        channel=channels.get(arm, arm.partition(" · ")[0]),
                        reason=note or evidence.get(arm, ""),
                        reason_source="note" if note else "evidence",
                        corrected_by=tuple(e.corrected_by),
                    )
                )
    return out


def _channel_records(
    trials: list[Trial], logs: dict[int, list[LoggedAction]], with_data: set[int]
) -> tuple[ChannelRecord, ...]:
    by_key: dict[str, dict[str, Any]] = {}
    for trial in trials:
        for arm in trial.arms:
            key = _channel_key(arm.spec.channel)
            entry = by_key.setdefault(
                key, {"channel": arm.spec.channel, "trials": [], "actions": [], "data": False}
            )
            if trial.name not in entry["trials"]:
                entry["trials"].append(trial.name)
            entry["data"] = entry["data"] or trial.id in with_data
        for action in logs.get(trial.id, []):
            key = _channel_key(action.channel)
            if key in by_key:
                by_key[key]["actions"].append(action)
    out = []
    for entry in by_key.values():
        actions = sorted(entry["actions"], key=lambda a: (a.day, a.entry_id))
        latest: dict[tuple[str, str], str] = {}
        for a in actions:
            if not a.corrected_by:
                latest[(a.trial, a.arm)] = a.action
        now = set(latest.values())
        status = next((words for action, words in _STATUS_ORDER if action in now), None)
        if status is None:
            status = "stopped" if "stop" in now else "tested" if entry["data"] else "planned"
        common = common_channel_of(entry["channel"])
        out.append(
            ChannelRecord(
                channel=entry["channel"],
                common=common.name if common else None,
                trials=tuple(entry["trials"]),
                status=status,
                actions=tuple(actions),
            )
        )
    return tuple(sorted(out, key=lambda r: r.channel.casefold()))


# -- where the next money goes ------------------------------------------------------------


def _verdict_of(trial: Trial, data: TrialData, analysis, entries) -> tuple[str, str, dict] | None:
    """(verdict, where it comes from, {arm name: recommendation}) or None: from the full
    model's analysis when given, else the latest decision's frozen evidence."""
    if analysis is not None and analysis.posterior.method == "mcmc":
        recs = {d.name: d.recommendation for d in analysis.decision.arms}
        return analysis.verdict, "the full model, fitted in the app on today's data", recs
    for e in reversed(entries):
        snap = e.snapshot or {}
        verdict = (snap.get("decision") or {}).get("verdict")
        if e.corrected_by or verdict not in VERDICT_LABELS or snap.get("method") != "mcmc":
            continue
        recs = {
            f"{a.get('channel')} · {a.get('creative')}": a.get("recommendation")
            for a in snap.get("arms", [])
        }
        when = f"decision #{e.id} recorded {e.created_at.date().isoformat()} by {e.created_by}"
        if snap.get("data_digest") != data.digest:
            when += " (on the data of that day)"
        return verdict, when, recs
    return None


def _next_arms(data: TrialData, verdict, analysis, seed: int, curves: bool) -> list[NextArm]:
    verdict_name, source, recs = verdict
    trial = data.trial
    chosen = [a for a in trial.arms if recs.get(a.name) in ("scale", "keep_testing")]
    fitted: dict[int, Any] = {}
    if analysis is not None and analysis.curves is not None:
        fitted = {a.id: analysis.curves.get(a.id) for a in chosen}
    elif curves and chosen:
        fitted = _curves(data, tuple(a.id for a in chosen), seed)
    return [
        NextArm(
            trial=trial.name,
            trial_id=trial.id,
            currency=trial.spec.currency,
            arm=a.name,
            channel=a.spec.channel,
            recommendation=recs[a.name],
            verdict=verdict_name,
            source=source,
            curve=fitted.get(a.id),
        )
        for a in chosen
    ]


_CURVES: OrderedDict[tuple, dict] = OrderedDict()
_CURVES_LOCK = threading.Lock()


def _curves(data: TrialData, arm_ids: tuple[int, ...], seed: int) -> dict[int, Any]:
    key = (data.trial.id, data.trial.spec, data.digest, arm_ids, seed)
    with _CURVES_LOCK:
        if key in _CURVES:
            return _CURVES[key]
    value = response_curves(data, seed=seed, arm_ids=set(arm_ids))
    with _CURVES_LOCK:
        _CURVES[key] = value
        while len(_CURVES) > 256:
            _CURVES.popitem(last=False)
    return value


# -- the portfolio -------------------------------------------------------------------------


def portfolio(
    store: TrialStore,
    *,
    by: str = "channel",
    rates: Rates | None = None,
    since: date | None = None,
    seed: int = 0,
    analyses: Mapping[int, Any] | None = None,
    curves: bool = True,
) -> Portfolio:
    """The workspace's portfolio (see the module's docstring).

    ``analyses``: full-model analyses the caller already has, by trial id (the app's
    cached fits), read for verdicts and response curves; a trial without one reads its
    latest recorded decision. ``curves=False`` leaves response curves out (they sample
    a small model per arm that ran at several spend levels).
    """
    if by not in BY:
        raise UserError(f"--by {by}: choose one of {', '.join(BY)}")
    rates = rates or Rates()
    analyses = analyses or {}
    trials = [s.trial for s in reversed(store.list_trials())]  # oldest first
    pieces: dict[str, list[_Piece]] = {}
    without, no_verdict, with_data = [], [], set()
    logs: dict[int, list[LoggedAction]] = {}
    next_arms: list[NextArm] = []
    for trial in trials:
        data = load(store, trial)
        entries = store.decisions(trial.id)
        logs[trial.id] = _logged(trial, entries)
        key = (trial.id, trial.spec, data.digest, by, since, seed, N_DRAWS)
        got = _CACHE.get(key, lambda data=data: _pieces(data, by, since, seed))
        if not got:
            without.append(trial.name)
            continue
        with_data.add(trial.id)
        pieces.setdefault(trial.spec.currency, []).extend(got)
        if trial.spec.status is TrialStatus.ARCHIVED:
            continue  # done: no next money, and no verdict is missing
        analysis = analyses.get(trial.id)
        if analysis is not None and analysis.data.digest != data.digest:
            analysis = None
        verdict = _verdict_of(trial, data, analysis, entries)
        if verdict is None:
            no_verdict.append(trial.name)
        else:
            next_arms.extend(_next_arms(data, verdict, analysis, seed, curves))
    labels = [arm.spec.channel for t in trials for arm in t.arms]
    unused = tuple(c for c in rates.rates if c not in pieces and c != rates.target)
    notes = []
    if unused:
        notes.append(f"rates not used (no trial with data in them): {', '.join(unused)}")
    return Portfolio(
        by=by,
        since=since,
        seed=seed,
        rates=rates,
        books=_books(pieces, rates, by),
        without_data=tuple(without),
        channels=_channel_records(trials, logs, with_data),
        next_arms=tuple(next_arms),
        no_verdict=tuple(no_verdict),
        new_channels=_new_channels(store, untried(labels)),
        notes=tuple(notes),
        unused_rates=unused,
    )


def with_curves(store: TrialStore, p: Portfolio) -> Portfolio:
    """``p`` with the response curves its next arms lack (for a page that shows the tables
    first and the curves when they are fitted); only those trials' data are read again."""
    missing = {n.trial_id for n in p.next_arms if n.curve is None}
    if not missing:
        return p
    fitted: dict[int, dict[int, Any]] = {}
    for trial_id in missing:
        data = load(store, store.get_trial(trial_id))
        ids = {a.name: a.id for a in data.trial.arms}
        names = [n.arm for n in p.next_arms if n.trial_id == trial_id]
        curves = _curves(data, tuple(ids[name] for name in names), p.seed)
        fitted[trial_id] = {name: curves.get(ids[name]) for name in names}
    arms = tuple(
        n if n.curve is not None else replace(n, curve=fitted[n.trial_id].get(n.arm))
        for n in p.next_arms
    )
    return replace(p, next_arms=arms)


def _new_channels(store: TrialStore, channels) -> tuple[NewChannel, ...]:
    if not channels:
        return ()
    from trials.analysis.priors import workspace_priors

    learned = workspace_priors(store).learned
    return tuple(NewChannel(c, workspace_expectation(learned, c)) for c in channels)
