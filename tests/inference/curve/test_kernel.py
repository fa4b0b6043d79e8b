"""The hand-written curve kernel against the PyMC model: the same density up to a constant
and the same gradient, under fixed, odd and random priors on fixed and random ladders."""

import dataclasses
import itertools
import math

import numpy as np
import pytest

from inference.curve.data import SpendLadder
from inference.curve.kernel import curve_log_density
from inference.curve.layout import FLOATS, CurveData, pack, start
from inference.curve.model import build_saturation_model
from inference.curve.spec import PARAMETERS, SaturationPriors
from tests.inference.simulate_curves import ODD_PRIORS, CurveTruth, simulate_ladder

NEAR = CurveTruth(elasticity=0.5, average_roas=4.0, level=20.0)


def test_model_has_named_day_coords_and_its_parameters():
    ladder, _, _ = simulate_ladder(np.random.default_rng(0), NEAR)
    model = build_saturation_model(ladder)
    assert list(model.coords) == ["day"] and len(model.coords["day"]) == 21
    names = {rv.name for rv in model.free_RVs}
    assert names == {"m0", "elasticity", "day_cv", "order_value", "order_value_shape"}
    point = model.initial_point()
    assert math.isfinite(model.compile_logp()(point))


def _odd_ladder():
    ladder, _, _ = simulate_ladder(np.random.default_rng(3), NEAR)
    # A day with orders but no revenue yet, and a paused day with late-credited orders
    # (left out: the curve cannot explain conversions without spend).
    conversions, revenue, spend = (
        ladder.conversions.copy(),
        ladder.revenue.copy(),
        ladder.spend.copy(),
    )
    conversions[2], revenue[2] = 3, 0.0
    spend[4], conversions[4], revenue[4] = 0.0, 2, 150.0
    return SpendLadder.of(spend, conversions, revenue)


def _pymc(ladder, priors):
    model = build_saturation_model(ladder, priors)
    return model, model.compile_logp(), model.compile_dlogp()


def _gaps(pymc, data: CurveData, seed=0):
    """PyMC's log density minus the kernel's at a few points, and the largest gradient
    difference."""
    model, logp, dlogp = pymc
    assert {v.name for v in model.value_vars} == set(PARAMETERS)
    order = [PARAMETERS.index(v.name) for v in model.value_vars]
    rng = np.random.default_rng(seed)
    gaps, grad_gap = [], 0.0
    for _ in range(5):
        u = start(data.floats) + rng.normal(0, 0.7, len(PARAMETERS))
        point = dict(zip(PARAMETERS, u, strict=True))
        grad = np.empty(len(PARAMETERS))
        ours = curve_log_density(u, grad, data)
        gaps.append(ours - float(logp(point)))
        grad_gap = max(grad_gap, float(np.max(np.abs(grad[order] - dlogp(point)))))
    return np.array(gaps), grad_gap


def _equal(gaps, grad_gap):
    return bool(np.all(np.isfinite(gaps)) and np.ptp(gaps) < 1e-8 and grad_gap < 1e-7)


@pytest.mark.parametrize("priors", [SaturationPriors(), ODD_PRIORS], ids=["default", "odd"])
def test_hand_written_density_equals_the_pymc_model_up_to_a_constant(priors):
    ladder = _odd_ladder()
    assert len(build_saturation_model(ladder).coords["day"]) == len(ladder.spend) - 1
    gaps, grad_gap = _gaps(_pymc(ladder, priors), pack(ladder, priors))
    assert _equal(gaps, grad_gap), (np.ptp(gaps), grad_gap)


def test_the_equality_check_sees_any_two_prior_numbers_swapped():
    """Swapping two prior numbers on one side only breaks the equality: in the kernel's
    floats (every pair) and in the PyMC model (the elasticity's two shapes)."""
    ladder = _odd_ladder()
    data = pack(ladder, ODD_PRIORS)
    floats = data.floats
    # Every prior number reaches the kernel.
    names = {f.name for f in dataclasses.fields(SaturationPriors)}
    assert names == set(FLOATS) - {"log_level", "log_value"}
    pymc = _pymc(ladder, ODD_PRIORS)
    assert _equal(*_gaps(pymc, data))
    for i, j in itertools.combinations(range(len(FLOATS)), 2):
        swapped = floats.copy()
        swapped[[i, j]] = floats[[j, i]]
        assert not _equal(*_gaps(pymc, data._replace(floats=swapped))), (FLOATS[i], FLOATS[j])
    flipped = dataclasses.replace(ODD_PRIORS, elasticity_a=2.9, elasticity_b=1.6)
    assert not _equal(*_gaps(_pymc(ladder, flipped), data))


def random_priors(rng: np.random.Generator) -> SaturationPriors:
    """Every prior number moved off its default at random, by up to a factor of two."""
    return SaturationPriors(
        **{
            f.name: f.default * float(np.exp(rng.uniform(-0.7, 0.7)))
            for f in dataclasses.fields(SaturationPriors)
        }
    )


def random_ladder(rng: np.random.Generator) -> SpendLadder:
    """A ladder of a random curve, with random days per level, sometimes with a day of
    orders without revenue and a paused day with late-credited orders."""
    truth = CurveTruth(
        elasticity=float(rng.uniform(0.1, 0.9)),
        average_roas=float(rng.uniform(1.0, 6.0)),
        level=float(rng.uniform(3.0, 30.0)),
    )
    ladder = simulate_ladder(rng, truth, days_per_level=int(rng.integers(3, 10)))[0]
    if rng.random() < 0.5:
        spend, conversions, revenue = (
            a.copy() for a in (ladder.spend, ladder.conversions, ladder.revenue)
        )
        conversions[1], revenue[1] = 2, 0.0
        spend[3], conversions[3] = 0.0, 1
        ladder = SpendLadder.of(spend, conversions, revenue)
    return ladder


@pytest.mark.parametrize("seed", range(6))
def test_density_equals_pymc_for_random_ladders_and_priors(seed):
    rng = np.random.default_rng(seed)
    ladder, priors = random_ladder(rng), random_priors(rng)
    gaps, grad_gap = _gaps(_pymc(ladder, priors), pack(ladder, priors), seed=seed)
    assert _equal(gaps, grad_gap), (np.ptp(gaps), grad_gap)
