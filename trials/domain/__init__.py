"""The trial registry's vocabulary: trials, arms, decision rules and daily results.

Everything here is a frozen dataclass that checks itself on construction. A spec that
breaks a rule raises :class:`TrialValidationError` carrying *every* problem found, each
tied to the field a marketer typed it in, so a form can show the reason beside the field
and a CLI can list them all at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "Arm",
    "ArmSpec",
    "ArmTotals",
    "AttributionRule",
    "DailyResult",
    "DecisionRule",
    "OrderRow",
    "OrderStatus",
    "PrimaryMetric",
    "Problem",
    "ResultRow",
    "ResultSource",
    "ResultsChoice",
    "Trial",
    "TrialSpec",
    "TrialStatus",
    "TrialSummary",
    "TrialValidationError",
    "UserError",
    "arm_key",
]

# Shares given per arm may be rounded by the person typing them (33.3 % x 3).
SHARE_TOLERANCE = 0.005


class UserError(Exception):
    """A mistake the user can fix; shown as a plain message, never as a traceback."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, tied to the field it came from.

    ``field`` uses dotted paths with list indexes, e.g. ``"end"`` or ``"arms[2].creative"``.
    """

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class TrialValidationError(UserError):
    """Raised with every problem found in a trial or arm specification."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    def for_field(self, name: str) -> list[str]:
        """Messages for one field (exact match), for showing beside that field."""
        return [p.message for p in self.problems if p.field == name]


TRIAL_FIELDS = frozenset(
    {
        "name",
        "hypothesis",
        "primary_metric",
        "break_even_roas",
        "gross_margin",
        "currency",
        "start",
        "end",
        "budget",
        "arms",
        "status",
        "decision_rule",
        "is_demo",
        "attribution_rule",
        "results_source",
    }
)


class PrimaryMetric(StrEnum):
    """What the trial is decided on."""

    CONVERSION_RATE = "conversion_rate"  # conversions per click
    ROAS = "roas"  # revenue per unit of spend
    CPA = "cpa"  # spend per conversion

    @property
    def label(self) -> str:
        return {
            PrimaryMetric.CONVERSION_RATE: "Conversion rate (conversions per click)",
            PrimaryMetric.ROAS: "ROAS (revenue per unit of spend)",
            PrimaryMetric.CPA: "CPA (spend per conversion)",
        }[self]


class TrialStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    DECIDED = "decided"
    ARCHIVED = "archived"


class AttributionRule(StrEnum):
    """How an own order that more than one arm claims is credited (counted once either way)."""

    LAST_TOUCH = "last_touch"  # the touch with the latest timestamp takes the order
    SPLIT = "split"  # each claiming arm gets an equal share

    @property
    def label(self) -> str:
        return {
            AttributionRule.LAST_TOUCH: "Last touch (the latest click before the order)",
            AttributionRule.SPLIT: "Split evenly between the arms that claim it",
        }[self]


class ResultsChoice(StrEnum):
    """Whose conversions and revenue the models read."""

    AUTO = "auto"  # own orders once they give a conversion within the trial's dates
    CHANNEL = "channel"
    ORDERS = "orders"

    @property
    def label(self) -> str:
        return {
            ResultsChoice.AUTO: "Own orders once any are within the trial's dates, else "
            "channel reports",
            ResultsChoice.CHANNEL: "Channel reports",
            ResultsChoice.ORDERS: "Own orders",
        }[self]


class ResultSource(StrEnum):
    """Where a day's numbers came from: the ad platform's report, or the shop's own orders."""

    CHANNEL = "channel"
    ORDERS = "orders"


@dataclass(frozen=True)
class DecisionRule:
    """The pre-registered rule a trial is decided by.

    Attributes
    ----------
    min_days
        Days with data every arm needs before any arm may be scaled.
    min_conversions_per_arm
        Conversions every arm needs before any arm may be scaled.
    probability_threshold
        Posterior probability an arm must reach (to be best, or to beat control) to be scaled.
    expected_loss_threshold
        Largest acceptable expected loss of choosing an arm, as a share of the leading
        arm's value on the primary metric (0.01 = 1 %).
    equivalence_margin
        Arms within this share of the leader (0.1 = ±10 %) are practically equal; the
        trial ends as "equal" when every arm is within it with ``probability_threshold``.

    How these combine into a verdict is stated once, in ``inference.rule``.
    """

    min_days: int = 7
    min_conversions_per_arm: int = 25
    probability_threshold: float = 0.95
    expected_loss_threshold: float = 0.01
    equivalence_margin: float = 0.1

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise TrialValidationError(problems)

    def problems(self, prefix: str = "decision_rule") -> list[Problem]:
        out = []
        if not _is_int(self.min_days) or self.min_days < 1:
            out.append(Problem(f"{prefix}.min_days", "must be a whole number of days, at least 1"))
        if not _is_int(self.min_conversions_per_arm) or self.min_conversions_per_arm < 0:
            out.append(
                Problem(f"{prefix}.min_conversions_per_arm", "must be a whole number, 0 or more")
            )
        if not _is_number(self.probability_threshold) or not 0.5 < self.probability_threshold < 1:
            out.append(
                Problem(
                    f"{prefix}.probability_threshold",
                    "must be between 0.5 and 1 (e.g. 0.95 for 95 %)",
                )
            )
        if not _is_number(self.expected_loss_threshold) or not 0 < self.expected_loss_threshold < 1:
            out.append(
                Problem(
                    f"{prefix}.expected_loss_threshold",
                    "must be a share between 0 and 1 (e.g. 0.01 for 1 %)",
                )
            )
        if not _is_number(self.equivalence_margin) or not 0 < self.equivalence_margin < 1:
            out.append(
                Problem(
                    f"{prefix}.equivalence_margin",
                    "must be a share between 0 and 1 (e.g. 0.1 for ±10 %)",
                )
            )
        return out

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, overrides: dict[str, Any] | None) -> DecisionRule:
        """Defaults merged with ``overrides``; unknown keys are refused, not dropped."""
        overrides = dict(overrides or {})
        known = sorted(f.name for f in fields(cls))
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise TrialValidationError(
                [
                    Problem(f"decision_rule.{k}", f"unknown setting; known: {', '.join(known)}")
                    for k in unknown
                ]
            )
        return cls(**(cls().as_dict() | overrides))


@dataclass(frozen=True)
class ArmSpec:
    """One channel x one creative (or content variant) as the marketer plans it.

    ``budget_share`` is the planned share of the trial's spend (0-1); ``None`` means
    "an equal share of what the other arms leave".
    """

    channel: str
    creative: str
    budget_share: float | None = None
    control: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "channel", _clean_text(self.channel))
        object.__setattr__(self, "creative", _clean_text(self.creative))

    @property
    def name(self) -> str:
        return f"{self.channel} · {self.creative}"

    def problems(self, prefix: str) -> list[Problem]:
        out = []
        if not self.channel:
            out.append(Problem(f"{prefix}.channel", "is empty: name the channel, e.g. WeChat"))
        elif len(self.channel) > 80:
            out.append(Problem(f"{prefix}.channel", "is longer than 80 characters"))
        if not self.creative:
            out.append(Problem(f"{prefix}.creative", "is empty: name the creative, e.g. Video A"))
        elif len(self.creative) > 120:
            out.append(Problem(f"{prefix}.creative", "is longer than 120 characters"))
        if self.budget_share is not None and (
            not _is_number(self.budget_share) or not 0 <= self.budget_share <= 1
        ):
            out.append(
                Problem(f"{prefix}.budget_share", "must be a share between 0 and 1 (0.5 = 50 %)")
            )
        return out


@dataclass(frozen=True)
class TrialSpec:
    """A trial as registered: what is tested, how it is judged, and its arms."""

    name: str
    primary_metric: PrimaryMetric
    break_even_roas: float
    currency: str
    start: date
    end: date
    budget: float
    arms: tuple[ArmSpec, ...]
    hypothesis: str = ""
    gross_margin: float | None = None
    status: TrialStatus = TrialStatus.DRAFT
    decision_rule: DecisionRule = field(default_factory=DecisionRule)
    is_demo: bool = False
    attribution_rule: AttributionRule = AttributionRule.LAST_TOUCH
    results_source: ResultsChoice = ResultsChoice.AUTO

    def __post_init__(self) -> None:
        object.__setattr__(self, "attribution_rule", AttributionRule(self.attribution_rule))
        object.__setattr__(self, "results_source", ResultsChoice(self.results_source))
        object.__setattr__(self, "name", _clean_text(self.name))
        object.__setattr__(self, "hypothesis", str(self.hypothesis or "").strip())
        object.__setattr__(self, "currency", _clean_text(self.currency).upper())
        object.__setattr__(self, "arms", tuple(self.arms))
        problems = self.problems()
        if problems:
            raise TrialValidationError(problems)

    @classmethod
    def build(cls, **values: Any) -> TrialSpec:
        """Construct from loosely typed values (form fields, JSON, TOML).

        Converts what can be converted and reports every problem at once, instead of
        failing on the first. A gross margin stands in for the break-even ROAS
        (break-even = 1 / margin).
        """
        v = dict(values)
        problems = [
            Problem(key, f"unknown field; known fields: {', '.join(sorted(TRIAL_FIELDS))}")
            for key in sorted(set(v) - TRIAL_FIELDS)
        ]
        metric = _coerce(
            v, "primary_metric", PrimaryMetric, problems, "conversion_rate, roas or cpa"
        )
        status = _coerce(v, "status", TrialStatus, problems, "draft, running, decided or archived")
        attribution = _coerce(
            v, "attribution_rule", AttributionRule, problems, "last_touch or split"
        )
        results_source = _coerce(
            v, "results_source", ResultsChoice, problems, "auto, channel or orders"
        )
        start = _coerce_date(v, "start", problems)
        end = _coerce_date(v, "end", problems)
        budget = _coerce_float(v, "budget", problems)
        margin = _coerce_float(v, "gross_margin", problems, required=False)
        break_even = _coerce_float(v, "break_even_roas", problems, required=False)
        if margin is not None and 0 < margin <= 1:
            if break_even is None:
                break_even = 1 / margin
            elif not math.isclose(break_even, 1 / margin, rel_tol=1e-3):
                problems.append(
                    Problem(
                        "break_even_roas",
                        f"disagrees with gross margin {margin:g} (break-even = 1 / margin = "
                        f"{1 / margin:.3g}); give one of the two",
                    )
                )
        arms = _coerce_arms(v.get("arms"), problems)
        rule = _coerce_rule(v.get("decision_rule"), problems)
        already = {p.field for p in problems}
        problems.extend(
            p
            for p in spec_problems(
                name=v.get("name"),
                currency=v.get("currency"),
                break_even_roas=break_even,
                gross_margin=margin,
                budget=budget,
                start=start,
                end=end,
            )
            if p.field not in already
        )
        if problems:
            raise TrialValidationError(problems)
        return cls(
            name=str(v.get("name") or ""),
            hypothesis=str(v.get("hypothesis") or ""),
            primary_metric=metric,
            break_even_roas=break_even,
            gross_margin=margin,
            currency=str(v.get("currency") or ""),
            start=start,
            end=end,
            budget=budget,
            arms=tuple(arms),
            status=status,
            decision_rule=rule,
            is_demo=bool(v.get("is_demo", False)),
            attribution_rule=attribution,
            results_source=results_source,
        )

    def problems(self) -> list[Problem]:
        return spec_problems(
            name=self.name,
            currency=self.currency,
            break_even_roas=self.break_even_roas,
            gross_margin=self.gross_margin,
            budget=self.budget,
            start=self.start,
            end=self.end,
        ) + arm_list_problems(self.arms)

    def planned_shares(self) -> tuple[float, ...]:
        """Each arm's planned share of spend; blank shares split what is left equally."""
        given = sum(a.budget_share for a in self.arms if a.budget_share is not None)
        blanks = sum(a.budget_share is None for a in self.arms)
        rest = max(0.0, 1.0 - given) / blanks if blanks else 0.0
        return tuple(a.budget_share if a.budget_share is not None else rest for a in self.arms)

    def with_changes(self, **changes: Any) -> TrialSpec:
        return replace(self, **changes)


@dataclass(frozen=True)
class Arm:
    """A stored arm: its database id and its spec."""

    id: int
    spec: ArmSpec

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class Trial:
    """A stored trial."""

    id: int
    spec: TrialSpec
    arms: tuple[Arm, ...]
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    # 1 + the amendments that changed the decision rule or the primary metric once the
    # trial had data (see ``trials.domain.amendments``); the store fills it when loading.
    rule_version: int = 1

    @property
    def name(self) -> str:
        return self.spec.name

    def arm(self, arm_id: int) -> Arm:
        for a in self.arms:
            if a.id == arm_id:
                return a
        raise KeyError(arm_id)


@dataclass(frozen=True)
class DailyResult:
    """One arm's numbers for one day from one source."""

    arm_id: int
    day: date
    impressions: int
    clicks: int
    conversions: int
    spend: float
    revenue: float
    source: ResultSource = ResultSource.CHANNEL
    import_batch_id: int | None = None

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise TrialValidationError(problems)

    def problems(self) -> list[Problem]:
        out = []
        for name in ("impressions", "clicks", "conversions"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                out.append(Problem(name, "must be a whole number, 0 or more"))
        for name in ("spend", "revenue"):
            value = getattr(self, name)
            if not _is_number(value) or value < 0:
                out.append(Problem(name, "must be a finite amount, 0 or more"))
        if not out and self.clicks > self.impressions:
            out.append(Problem("clicks", "are more than impressions"))
        return out


def arm_key(channel: str, creative: str) -> tuple[str, str]:
    """How rows find their arm: channel and creative, ignoring case and extra spaces."""
    return (_clean_text(channel).casefold(), _clean_text(creative).casefold())


@dataclass(frozen=True)
class ResultRow:
    """One arm-day as it arrives (from a file or the editing grid), before it is stored.

    The arm is named, not yet resolved to an id, so a file may name arms the trial does
    not have yet. ``row`` is where it came from (file row number; 0 for none).
    """

    channel: str
    creative: str
    day: date
    impressions: int
    clicks: int
    conversions: int
    spend: float
    revenue: float
    row: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return arm_key(self.channel, self.creative)

    @property
    def arm_name(self) -> str:
        return f"{_clean_text(self.channel)} · {_clean_text(self.creative)}"


class OrderStatus(StrEnum):
    PAID = "paid"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class OrderRow:
    """One of the shop's own orders, as one touch: the UTM values (or arm) it came with.

    An order claimed by two arms arrives as two rows with the same ``order_id``.
    """

    order_id: str
    ordered_at: datetime
    amount: float
    status: OrderStatus
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_content: str = ""
    channel: str = ""
    creative: str = ""
    row: int = 0
    import_batch_id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", OrderStatus(self.status))
        for name in ("order_id", *TOUCH_FIELDS):
            object.__setattr__(self, name, _clean_text(getattr(self, name)))

    @property
    def touch(self) -> str:
        """What tells two touches of one order apart (case and spacing ignored)."""
        return "\x1f".join(getattr(self, f).casefold() for f in TOUCH_FIELDS)

    @property
    def utm(self) -> tuple[str, str, str, str]:
        return (self.utm_source, self.utm_medium, self.utm_campaign, self.utm_content)


TOUCH_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "channel", "creative")


@dataclass(frozen=True)
class ArmTotals:
    """Sums over an arm's daily results; zeros when there is no data yet."""

    impressions: int = 0
    clicks: int = 0
    conversions: int = 0
    spend: float = 0.0
    revenue: float = 0.0
    days: int = 0

    def as_dict(self) -> dict[str, int | float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class TrialSummary:
    """One row of the trials overview."""

    trial: Trial
    days_with_data: int
    spend: float
    last_data_date: date | None

    @property
    def budget_used(self) -> float | None:
        budget = self.trial.spec.budget
        return self.spend / budget if budget > 0 else None


# -- helpers ----------------------------------------------------------------------------


def _clean_text(value: Any) -> str:
    # Collapse whitespace so "WeChat " and "WeChat" are one channel.
    return " ".join(str(value if value is not None else "").split())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def spec_problems(
    *,
    name: Any,
    currency: Any,
    break_even_roas: Any,
    gross_margin: Any,
    budget: Any,
    start: Any,
    end: Any,
) -> list[Problem]:
    """Checks on a trial's own fields (not its arms)."""
    out = []
    name = _clean_text(name)
    if not name:
        out.append(Problem("name", "is empty: give the trial a name"))
    elif len(name) > 120:
        out.append(Problem("name", "is longer than 120 characters"))
    currency = _clean_text(currency)
    if not (currency.isascii() and currency.isalpha() and 3 <= len(currency) <= 4):
        out.append(Problem("currency", "must be a currency code such as CNY, USD or EUR"))
    if break_even_roas is None and gross_margin is None:
        out.append(
            Problem("break_even_roas", "is missing: give a break-even ROAS or a gross margin")
        )
    elif break_even_roas is not None and (not _is_number(break_even_roas) or break_even_roas <= 0):
        out.append(
            Problem("break_even_roas", "must be above 0 (e.g. 2.5 = 2.5 revenue per 1 spent)")
        )
    if gross_margin is not None and not (_is_number(gross_margin) and 0 < gross_margin <= 1):
        out.append(Problem("gross_margin", "must be between 0 and 1 (0.4 = 40 %)"))
    if budget is None:
        out.append(Problem("budget", "is missing: give the total budget cap (0 for none)"))
    elif not _is_number(budget) or budget < 0:
        out.append(Problem("budget", "must be 0 or more"))
    for key, value in (("start", start), ("end", end)):
        if not isinstance(value, date):
            out.append(Problem(key, "is missing: give a date as YYYY-MM-DD"))
    if isinstance(start, date) and isinstance(end, date) and end < start:
        out.append(Problem("end", "is before the start date"))
    return out


def arm_list_problems(arms: tuple[ArmSpec, ...] | list[ArmSpec]) -> list[Problem]:
    """Checks on a trial's arms: each arm, uniqueness, control and budget shares."""
    out: list[Problem] = []
    if len(arms) < 2:
        out.append(
            Problem("arms", "a trial needs at least two arms to compare (channel x creative)")
        )
    seen: dict[tuple[str, str], int] = {}
    for i, arm in enumerate(arms):
        out.extend(arm.problems(f"arms[{i}]"))
        key = (arm.channel.casefold(), arm.creative.casefold())
        if arm.channel and arm.creative and key in seen:
            out.append(
                Problem(
                    f"arms[{i}]",
                    f"'{arm.name}' appears twice (arms {seen[key] + 1} and {i + 1}); "
                    "each channel x creative pair must be unique",
                )
            )
        seen.setdefault(key, i)
    if sum(a.control for a in arms) > 1:
        out.append(Problem("arms", "mark at most one arm as the control"))
    given = [a.budget_share for a in arms if a.budget_share is not None]
    if all(_is_number(s) for s in given):
        total = sum(given)
        if total > 1 + SHARE_TOLERANCE:
            out.append(
                Problem("arms", f"planned budget shares add up to {total:.1%}; at most 100 %")
            )
        elif arms and len(given) == len(arms) and total < 1 - SHARE_TOLERANCE:
            out.append(
                Problem(
                    "arms",
                    f"planned budget shares add up to {total:.1%}; they must add up to 100 % "
                    "(or leave some blank to split the rest equally)",
                )
            )
    return out


def _coerce_rule(raw: Any, problems: list[Problem]) -> DecisionRule:
    if isinstance(raw, DecisionRule):
        return raw
    if raw is not None and not isinstance(raw, dict):
        problems.append(Problem("decision_rule", "must be a table of settings"))
        return DecisionRule()
    try:
        return DecisionRule.from_dict(raw)
    except TrialValidationError as e:
        problems.extend(e.problems)
    except TypeError:
        problems.append(Problem("decision_rule", "settings must be numbers"))
    return DecisionRule()


_ENUM_DEFAULTS = {
    "status": TrialStatus.DRAFT,
    "attribution_rule": AttributionRule.LAST_TOUCH,
    "results_source": ResultsChoice.AUTO,
}


def _coerce(v, key, enum, problems, allowed):
    raw = v.get(key)
    if raw in (None, ""):
        if key in _ENUM_DEFAULTS:
            return _ENUM_DEFAULTS[key]
        problems.append(Problem(key, f"is missing; one of {allowed}"))
        return None
    try:
        return enum(str(raw).strip().lower())
    except ValueError:
        problems.append(Problem(key, f"'{raw}' is not one of {allowed}"))
        return None


def _coerce_date(v, key, problems) -> date | None:
    raw = v.get(key)
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if raw in (None, ""):
        problems.append(Problem(key, "is missing: give a date as YYYY-MM-DD"))
        return None
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        problems.append(Problem(key, f"'{raw}' is not a date; write it as YYYY-MM-DD"))
        return None


def _coerce_float(v, key, problems, required=True) -> float | None:
    raw = v.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            problems.append(Problem(key, "is missing"))
        return None
    if isinstance(raw, bool):
        problems.append(Problem(key, f"'{raw}' is not a number"))
        return None
    try:
        number = float(str(raw).replace(",", "").strip()) if isinstance(raw, str) else float(raw)
    except (TypeError, ValueError):
        problems.append(Problem(key, f"'{raw}' is not a number"))
        return None
    if not math.isfinite(number):
        problems.append(Problem(key, f"'{raw}' is not a finite number"))
        return None
    return number


def _coerce_arms(raw: Any, problems: list[Problem]) -> list[ArmSpec]:
    if raw is None:
        problems.append(Problem("arms", "are missing: list at least two channel x creative arms"))
        return []
    if not isinstance(raw, list | tuple):
        problems.append(Problem("arms", "must be a list of arms"))
        return []
    arms = []
    for i, item in enumerate(raw):
        if isinstance(item, ArmSpec):
            arms.append(item)
            continue
        if not isinstance(item, dict):
            problems.append(Problem(f"arms[{i}]", "must have a channel and a creative"))
            continue
        unknown = sorted(set(item) - {"channel", "creative", "budget_share", "control"})
        for key in unknown:
            problems.append(
                Problem(
                    f"arms[{i}].{key}",
                    "unknown field; an arm has channel, creative, budget_share and control",
                )
            )
        share = _coerce_float(item, "budget_share", local := [], required=False)
        problems.extend(Problem(f"arms[{i}].{p.field}", p.message) for p in local)
        control = item.get("control", False)
        if not isinstance(control, bool):
            problems.append(Problem(f"arms[{i}].control", "must be true or false"))
            control = False
        arms.append(
            ArmSpec(
                channel=item.get("channel", ""),
                creative=item.get("creative", ""),
                budget_share=share,
                control=control,
            )
        )
    problems.extend(arm_list_problems(arms))
    return arms
