"""The hand-written funnel kernel against the PyMC model (fixed and random priors, every
structure, random structures) and its behaviour where naive formulas break (tier 1 and 2)."""

import dataclasses
import itertools

import numpy as np
import pytest
from scipy import special

from inference import FunnelData, ModelSpec, Priors
from inference.funnel.kernel import arm_values, log_density
from inference.funnel.layout import initial_point, layout_for, pack
from tests.inference.simulate import simulate_trial

# Every structure the model can take: pooling, overdispersion, centred or not, and the
# levels the data support (one or more channels, one or more arms per channel, orders).
SPECS = {
    "default": {},
    "unpooled": {"pooling": "none"},
    "binomial": {"overdispersion": False},
    "centred": {"parameterization": "centred"},
    "non-centred": {"parameterization": "non_centred"},
}
SHAPES = {
    "2 channels x 2 arms": dict(channels=2, arms_per_channel=2),
    "1 channel x 3 arms": dict(channels=1, arms_per_channel=3),
    "3 channels x 1 arm": dict(channels=3, arms_per_channel=1),
    "1 arm": dict(channels=1, arms_per_channel=1),
}


def trial(shape: str, seed: int = 3) -> FunnelData:
    return simulate_trial(np.random.default_rng(seed), days=10, **SHAPES[shape])[0]


def without_revenue(data: FunnelData) -> FunnelData:
    from dataclasses import replace

    return replace(data, revenue=np.zeros_like(data.revenue))


def evaluate(data: FunnelData, spec: ModelSpec, x: np.ndarray) -> tuple[float, np.ndarray]:
    grad = np.empty_like(x)
    value = log_density(x, grad, pack(data, layout_for(data, spec)))
    return value, grad


def pymc_reference(data: FunnelData, spec: ModelSpec):
    """PyMC's log density and gradient as functions of the layout's flat vector."""
    from inference.funnel.model import build_funnel_model

    model = build_funnel_model(data, spec)
    layout = layout_for(data, spec)
    where = layout.offsets()
    shapes = {name: np.shape(value) for name, value in model.initial_point().items()}
    assert set(shapes) == set(where), "the layout names PyMC's value variables"
    logp, dlogp = model.compile_logp(), model.compile_dlogp()

    def point(x):
        return {name: x[where[name]].reshape(shapes[name]) for name in where}

    def gradient(x):
        flat, out, start = dlogp(point(x)), np.empty_like(x), 0
        for var in model.value_vars:
            size = int(np.prod(shapes[var.name]))
            out[where[var.name]] = flat[start : start + size]
            start += size
        return out

    return (lambda x: float(logp(point(x)))), gradient


# Every prior parameter the density reads, moved off its default to a value no other
# parameter has: swapping two of them in either statement of the model changes the density.
ODD_PRIORS = {
    "ctr_mean": 0.013,
    "cvr_mean": 0.047,
    "rate_logit_sd": 1.13,
    "channel_spread": 0.71,
    "arm_spread": 0.43,
    "revenue_channel_spread": 0.27,
    "revenue_arm_spread": 0.35,
    "spread_sd": 0.57,
    "revenue_log_sd": 0.83,
    "order_value_cv": 0.51,
    "order_value_cv_log_sd": 0.61,
    "order_value_cv_floor": 0.053,
    "daily_variation": 0.093,
    "daily_variation_log_sd": 0.67,
    "beta_a": 1.7,
    "beta_b": 2.3,
}
SPECS |= {
    "odd priors": {"priors": ODD_PRIORS},
    "odd priors, unpooled": {"pooling": "none", "priors": ODD_PRIORS},
    "odd priors, non-centred": {"parameterization": "non_centred", "priors": ODD_PRIORS},
}
SHAPES |= {
    "3 channels x 2 arms": dict(channels=3, arms_per_channel=2),
    "2 channels x 1 arm": dict(channels=2, arms_per_channel=1),
}

CASES = [(s, shape) for s in SPECS for shape in ("2 channels x 2 arms", "3 channels x 2 arms")]
CASES += [(s, "3 channels x 1 arm") for s in ("default", "non-centred", "odd priors")]
CASES += [("default", "1 channel x 3 arms"), ("default", "1 arm"), ("unpooled", "1 arm")]
CASES += [("default", "2 channels x 1 arm"), ("odd priors", "2 channels x 1 arm")]


@pytest.mark.parametrize(("spec_name", "shape"), CASES)
def test_density_and_gradient_equal_pymc_up_to_a_constant(spec_name, shape):
    data = trial(shape)
    spec = ModelSpec.from_dict(SPECS[spec_name])
    assert_equal_to_pymc(data, spec, seed=0)


def assert_equal_to_pymc(data: FunnelData, spec: ModelSpec, seed: int) -> None:
    """Both statements of the model at three random points: the same value up to one
    constant and the same gradient."""
    reference, reference_gradient = pymc_reference(data, spec)
    rng = np.random.default_rng(seed)
    start = initial_point(data, spec)
    gaps = []
    for _ in range(3):
        x = start + rng.normal(0, 0.7, start.size)
        value, grad = evaluate(data, spec, x)
        gaps.append(value - reference(x))
        expected = reference_gradient(x)
        # Concentrations near their priors (kappa ~ 1e4) cost a few digits to cancellation.
        np.testing.assert_allclose(grad, expected, rtol=1e-8, atol=1e-9 * np.abs(expected).max())
    # The constant (normalising terms PyMC keeps) is the same at every point.
    assert np.ptp(gaps) < 1e-8 * max(1.0, abs(reference(start)))


def random_priors(rng: np.random.Generator) -> Priors:
    """Every prior number moved off its default at random, by up to a factor of two either
    way: a prior read by one statement of the model and not the other, or read in the
    wrong place, changes one side only."""
    values = {
        f.name: f.default * float(np.exp(rng.uniform(-0.7, 0.7)))
        for f in dataclasses.fields(Priors)
    }
    return Priors(**values)


def random_case(seed: int) -> tuple[FunnelData, ModelSpec]:
    """A random structure (channels, arms per channel, days, messy rows, an arm too short to
    learn its day-to-day variation, pooling, overdispersion, parameterization) under random
    priors."""
    rng = np.random.default_rng(seed)
    shape = dict(
        channels=int(rng.integers(1, 5)),
        arms_per_channel=int(rng.integers(1, 4)),
        days=int(rng.choice([1, 3, 6, 10])),
    )
    data = simulate_trial(rng, **shape)[0]
    if data.n_arms > 1 and shape["days"] >= 6:
        if rng.random() < 0.5:
            data = messy(data)
        if rng.random() < 0.5:
            data = short_arm(data)
    spec = ModelSpec(
        pooling=str(rng.choice(["partial", "none"])),
        overdispersion=bool(rng.random() < 0.7),
        parameterization=str(rng.choice(["auto", "centred", "non_centred"])),
        priors=random_priors(rng),
    )
    return data, spec


@pytest.mark.parametrize("seed", range(8))
def test_density_equals_pymc_for_random_structures_and_priors(seed):
    data, spec = random_case(seed)
    assert_equal_to_pymc(data, spec, seed=seed)


def test_random_priors_move_every_prior_number():
    defaults, drawn = Priors(), random_priors(np.random.default_rng(0))
    for f in dataclasses.fields(Priors):
        assert getattr(drawn, f.name) != getattr(defaults, f.name), f.name


def messy(data: FunnelData) -> FunnelData:
    """The same trial with what real exports carry: a view-through day (more conversions
    than clicks), late conversions on a day without clicks, conversions without revenue
    and a single-price arm."""
    from dataclasses import replace

    clicks, conversions = data.clicks.copy(), data.conversions.copy()
    impressions, revenue = data.impressions.copy(), data.revenue.copy()
    first = np.flatnonzero(data.arm == 1)
    conversions[first[0]] = clicks[first[0]] + 1
    clicks[first[1]], conversions[first[1]] = 0, 3
    revenue[first[2]] = 0.0
    zero = np.flatnonzero(data.arm == 0)
    conversions[zero[0]] = max(conversions[zero[0]], 2)
    revenue[zero[0]] = 0.0
    fixed = np.flatnonzero(data.arm == data.n_arms - 1)
    revenue[fixed] = 49.0 * conversions[fixed]
    impressions = np.maximum(impressions, clicks)
    return replace(
        data, impressions=impressions, clicks=clicks, conversions=conversions, revenue=revenue
    )


@pytest.mark.parametrize("spec_name", ["default", "odd priors", "unpooled"])
def test_density_equals_pymc_on_messy_rows(spec_name):
    data = messy(trial("2 channels x 2 arms"))
    assert data.view_through_excess > 0 and not data.paired.all()
    spec = ModelSpec.from_dict(SPECS[spec_name])
    assert_equal_to_pymc(data, spec, seed=2)


def short_arm(data: FunnelData) -> FunnelData:
    """Arm 0 keeps two days only: its concentrations stay fixed, the others' are learned."""
    keep = (data.arm != 0) | (data.day < 2)
    rows = [
        dict(
            arm=int(data.arm[i]),
            day=data.days[data.day[i]],
            impressions=int(data.impressions[i]),
            clicks=int(data.clicks[i]),
            conversions=int(data.conversions[i]),
            spend=float(data.spend[i]),
            revenue=float(data.revenue[i]),
        )
        for i in np.flatnonzero(keep)
    ]
    arms = [(data.channels[data.arm_channel[a]], label) for a, label in enumerate(data.arms)]
    return FunnelData.from_rows(arms, rows)


@pytest.mark.parametrize("spec_name", ["default", "odd priors", "non-centred"])
def test_density_equals_pymc_with_fixed_and_learned_concentrations(spec_name):
    data = short_arm(messy(trial("2 channels x 2 arms")))
    spec = ModelSpec.from_dict(SPECS[spec_name])
    layout = layout_for(data, spec)
    assert (layout.kappa_slot[0] == -1).all() and (layout.kappa_slot[1:] >= 0).all()
    assert_equal_to_pymc(data, spec, seed=4)


def test_swapping_two_prior_parameters_changes_the_density():
    """The guard behind ODD_PRIORS: the density sees each prior parameter on its own."""
    data = trial("3 channels x 2 arms")
    base = ModelSpec.from_dict({"priors": ODD_PRIORS})
    x = initial_point(data, base) + np.random.default_rng(3).normal(
        0, 0.5, layout_for(data, base).n_dim
    )
    value = evaluate(data, base, x)[0]
    names = [n for n in ODD_PRIORS if n not in ("beta_a", "beta_b")]
    for a, b in itertools.pairwise(names):
        swapped = dict(ODD_PRIORS, **{a: ODD_PRIORS[b], b: ODD_PRIORS[a]})
        if max(swapped["ctr_mean"], swapped["cvr_mean"], swapped["daily_variation"]) >= 1:
            continue
        other = ModelSpec.from_dict({"priors": swapped})
        assert evaluate(data, other, x)[0] != pytest.approx(value, rel=1e-12), (a, b)


def test_density_without_any_orders_equals_pymc():
    data = without_revenue(trial("2 channels x 2 arms"))
    spec = ModelSpec()
    reference, reference_gradient = pymc_reference(data, spec)
    x = initial_point(data, spec) + 0.3
    value, grad = evaluate(data, spec, x)
    np.testing.assert_allclose(grad, reference_gradient(x), rtol=1e-8, atol=1e-8)
    y = x - 0.5
    assert abs((evaluate(data, spec, y)[0] - value) - (reference(y) - reference(x))) < 1e-8


def test_arm_values_are_the_rates_and_order_values_at_a_point():
    data = trial("2 channels x 2 arms")
    for spec in (ModelSpec(), ModelSpec(pooling="none")):
        layout = layout_for(data, spec)
        x = np.random.default_rng(1).normal(0, 1, layout.n_dim)
        out = np.empty((3, data.n_arms))
        arm_values(x, pack(data, layout), out)
        where = layout.offsets()
        if spec.pooling == "none":
            np.testing.assert_allclose(out[0], special.expit(x[where["ctr_rate_logodds__"]]))
            np.testing.assert_allclose(out[2], np.exp(x[where["log_order_value"]]))
        else:
            assert ((out[:2] > 0) & (out[:2] < 1)).all() and (out[2] > 0).all()


def test_huge_concentration_tends_to_the_binomial_model():
    """Beta-binomial days with kappa -> infinity are binomial: the density (less the
    concentration's own prior) and its gradient match the model without overdispersion."""
    data = trial("2 channels x 2 arms")
    over, plain = ModelSpec(), ModelSpec(overdispersion=False)
    lay_over, lay_plain = layout_for(data, over), layout_for(data, plain)
    x_plain = initial_point(data, plain) + 0.2
    x_over = np.empty(lay_over.n_dim)
    where_over, where_plain = lay_over.offsets(), lay_plain.offsets()
    for name, at in where_plain.items():
        x_over[where_over[name]] = x_plain[at]
    u = 45.0  # kappa = 3.5e19
    x_over[where_over["ctr_concentration_log__"]] = u
    x_over[where_over["cvr_concentration_log__"]] = u
    value_over, grad_over = evaluate(data, over, x_over)
    value_plain, grad_plain = evaluate(data, plain, x_plain)
    sd = 2 * over.priors.daily_variation_log_sd
    prior = -0.5 * (((u - lay_over.kappa_centre) / sd) ** 2).sum()
    assert value_over - prior == pytest.approx(value_plain, rel=1e-9)
    for name, at in where_plain.items():
        np.testing.assert_allclose(grad_over[where_over[name]], grad_plain[at], rtol=1e-6)


def test_rows_are_grouped_by_arm_whatever_order_they_come_in():
    data = trial("2 channels x 2 arms")
    order = np.random.default_rng(5).permutation(len(data.arm))
    from dataclasses import replace

    shuffled = replace(
        data,
        **{
            name: getattr(data, name)[order]
            for name in ("arm", "day", "impressions", "clicks", "conversions", "spend", "revenue")
        },
    )
    x = initial_point(data, ModelSpec()) + 0.1
    a, b = evaluate(data, ModelSpec(), x), evaluate(shuffled, ModelSpec(), x)
    assert a[0] == pytest.approx(b[0], rel=1e-12)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-10)
