"""The funnel model's specification as plain data: priors, pooling, likelihood options and
sampler settings, with defaults, and the model's free parameters (``parameters``), the
declaration both statements of the model implement. Nothing here knows about PyMC;
``inference.funnel.model`` translates a spec into a PyMC model and
``inference.funnel.kernel`` writes the same density out by hand.

Overrides merge over defaults (``ModelSpec.from_dict({"pooling": "none"})``); unknown
keys are refused.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

__all__ = [
    "QUANTITIES",
    "ModelSpec",
    "Priors",
    "SamplerSettings",
    "SpecError",
    "Structure",
    "parameters",
]

Pooling = Literal["partial", "none"]
Parameterization = Literal["auto", "centred", "non_centred"]
Engine = Literal["numba", "pymc"]

# The pooled quantities, in the kernel's order: logit CTR, logit CVR, log order value.
QUANTITIES = ("ctr", "cvr", "log_order_value")


class SpecError(ValueError):
    """A model setting that cannot be used, with the reason."""


@dataclass(frozen=True)
class Priors:
    """Prior beliefs, on the scales the model uses.

    Rates are modelled on the logit scale; revenue per conversion on the log scale. The
    ``*_spread`` values are prior medians of the between-channel and between-arm standard
    deviations (log-normal priors with ``spread_sd`` on the log scale): 0.3 on the logit
    scale means arms typically differ by about ±30 % in rate.
    """

    ctr_mean: float = 0.02
    cvr_mean: float = 0.03
    rate_logit_sd: float = 1.5
    # Channels differ a lot (a search click and a feed impression are different things);
    # creatives within one channel much less.
    channel_spread: float = 1.0
    arm_spread: float = 0.3
    revenue_channel_spread: float = 0.4
    revenue_arm_spread: float = 0.2
    spread_sd: float = 0.4
    revenue_log_sd: float = 1.0
    # Single order values vary around the arm's mean with this coefficient of variation
    # (log-normal prior; typical shop orders vary by about +-70 %, 95 % between 32 % and
    # 150 %: wider lets an arm with a single day of orders wander). The floor keeps a
    # single-price product (every conversion worth the same) a well-posed model: its
    # order values are learned as constant to within the floor instead of chasing an
    # infinite gamma shape.
    order_value_cv: float = 0.7
    order_value_cv_log_sd: float = 0.4
    order_value_cv_floor: float = 0.02
    # Day-to-day variation of an arm's rates, as the relative sd of a day's rate around
    # the arm's mean (log-normal prior, per arm and stage). Its median is small, so one
    # day of data gives nearly the binomial answer; many days let each arm's own data
    # say how much its days vary. Each arm has its own, so one arm's odd days cannot
    # move another arm's rates.
    daily_variation: float = 0.04
    daily_variation_log_sd: float = 0.75
    # Beta(a, b) prior of the share of conversions that carry revenue: conversions are
    # expected to carry revenue unless the data show otherwise.
    paying_share_a: float = 1.0
    paying_share_b: float = 0.02
    # Gamma(a, b) prior of conversions not explained by the day's clicks (view-through,
    # late conversions after a pause) per click: about none unless the data show some.
    unpaired_a: float = 0.001
    unpaired_b: float = 1.0
    # Beta(a, b) priors on each rate when pooling is "none".
    beta_a: float = 1.0
    beta_b: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise SpecError(f"priors.{f.name} must be a positive number, not {value!r}")
        for name in ("ctr_mean", "cvr_mean", "daily_variation"):
            if getattr(self, name) >= 1:
                raise SpecError(f"priors.{name} must be below 1")


@dataclass(frozen=True)
class SamplerSettings:
    """How the posterior is sampled (nutpie's NUTS)."""

    # Two chains, one per core of the 2-core target machine. 1,500 draws each keep the
    # largest split R-hat over every arm's six quantities under 1.01 even with 100 arms
    # (600 quantities), and bulk/tail ESS well above 400; nutpie's adaptation settles in
    # a few hundred warm-up steps (bench/ measures both).
    draws: int = 1500
    tune: int = 400
    chains: int = 2
    target_accept: float = 0.9
    cores: int = 2
    # "numba": the model's density written out by hand (inference.funnel.kernel), compiled once
    # per machine; "pymc": the PyMC model compiled by nutpie, once per trial shape. Both
    # are the same model (tested to agree to rounding); "pymc" is the reference.
    engine: Engine = "numba"
    # A run that fails a gate (divergences, R-hat, ESS) is sampled once more with twice
    # the draws and target acceptance 0.98, and judged afresh; the note says so.
    retry: bool = True

    def __post_init__(self) -> None:
        for name in ("draws", "tune", "chains", "cores"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise SpecError(f"sampler.{name} must be a whole number of at least 1")
        if not 0.5 <= self.target_accept < 1:
            raise SpecError("sampler.target_accept must be in [0.5, 1)")
        if self.engine not in ("numba", "pymc"):
            raise SpecError(f"sampler.engine must be 'numba' or 'pymc', not {self.engine!r}")


@dataclass(frozen=True)
class ModelSpec:
    """Everything that decides what is fitted and how.

    Attributes
    ----------
    pooling
        ``"partial"``: arms share strength within their channel and channels within the
        trial (hierarchical); ``"none"``: every arm on its own, Beta priors on rates.
    overdispersion
        Daily rates vary more than binomial noise: beta-binomial counts per day.
    parameterization
        ``"auto"`` (default): per funnel stage, the arm level is centred where the data
        pin each arm down more tightly than the prior spread (typically CTR) and
        non-centred where they do not (typically CVR with a few dozen conversions);
        channel levels are centred. ``"centred"`` or ``"non_centred"`` force one form.
    hdi_prob
        Width of reported highest-density intervals.
    """

    pooling: Pooling = "partial"
    overdispersion: bool = True
    parameterization: Parameterization = "auto"
    hdi_prob: float = 0.94
    priors: Priors = field(default_factory=Priors)
    sampler: SamplerSettings = field(default_factory=SamplerSettings)

    def __post_init__(self) -> None:
        if self.pooling not in ("partial", "none"):
            raise SpecError(f"pooling must be 'partial' or 'none', not {self.pooling!r}")
        if self.parameterization not in ("auto", "centred", "non_centred"):
            raise SpecError("parameterization must be 'auto', 'centred' or 'non_centred'")
        if not 0.5 <= self.hdi_prob < 1:
            raise SpecError("hdi_prob must be in [0.5, 1)")

    @classmethod
    def from_dict(cls, overrides: dict[str, Any] | None = None) -> ModelSpec:
        """Defaults with ``overrides`` merged over them (nested for priors and sampler)."""
        overrides = dict(overrides or {})
        default = cls()
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise SpecError(f"unknown model settings: {', '.join(unknown)}")
        priors = _merge(Priors, default.priors, overrides.pop("priors", None), "priors")
        sampler = _merge(
            SamplerSettings, default.sampler, overrides.pop("sampler", None), "sampler"
        )
        return replace(default, priors=priors, sampler=sampler, **overrides)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def structure_key(self) -> tuple:
        """What the compiled model depends on (not sampler settings, which apply later)."""
        return (self.pooling, self.overdispersion, self.parameterization, self.priors)


def _merge(kind, default, overrides, name):
    if overrides is None:
        return default
    if not isinstance(overrides, dict):
        raise SpecError(f"{name} must be a table of settings")
    known = {f.name for f in fields(kind)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise SpecError(f"unknown {name} settings: {', '.join(unknown)}")
    return kind(**(asdict(default) | overrides))


@dataclass(frozen=True)
class Structure:
    """The shape a trial's data give the model under a spec
    (``inference.funnel.levels.model_structure``)."""

    pooling: Pooling
    overdispersion: bool
    channel_level: bool  # channels pooled around a trial mean (3+ channels)
    centred_channels: bool
    arm_level: bool  # arms pooled within their channel (a channel with 2+ arms)
    centred_arms: tuple[bool, bool, bool]  # per quantity, in ``QUANTITIES`` order
    learned_concentrations: tuple[int, int]  # arms whose CTR, CVR concentration is learned


def parameters(s: Structure) -> tuple[str, ...]:
    """The model's free parameters, named as PyMC names its value variables, in the order
    of the kernel's unconstrained vector. The PyMC statement (``inference.funnel.model``)
    and the kernel's layout (``inference.funnel.layout``) both implement exactly these;
    ``tests/inference/funnel/test_terms.py`` fails until they do."""
    names: list[str] = []
    for q, centred_arms in zip(QUANTITIES, s.centred_arms, strict=True):
        if s.pooling == "none":  # every arm on its own prior
            names.append("log_order_value" if q == "log_order_value" else f"{q}_rate_logodds__")
            continue
        if s.channel_level:
            channels = f"{q}_channel" if s.centred_channels else f"{q}_channel_z"
            names += [f"{q}_mu", f"{q}_sd_channel_log__", channels]
        else:
            names.append(f"{q}_channel")
        if s.arm_level:
            names += [f"{q}_sd_arm_log__", f"{q}_arm" if centred_arms else f"{q}_arm_z"]
    if s.overdispersion:
        for stage, learned in zip(("ctr", "cvr"), s.learned_concentrations, strict=True):
            if learned:
                names.append(f"{stage}_concentration_log__")
    names.append("order_value_cv_log__")
    return tuple(names)
