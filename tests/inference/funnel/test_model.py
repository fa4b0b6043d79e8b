"""Tier 2: the model's structure and the derived quantities, fast (no sampling)."""

import numpy as np
import pytest

from inference import FunnelData, ModelSpec, SpecError
from inference.funnel.derived import derived_draws as _derived
from inference.funnel.model import build_funnel_model, structure
from tests.inference.simulate import simulate_trial


def data_with(arms):
    rows = [
        dict(
            arm=a,
            day="2026-09-01",
            impressions=1000,
            clicks=30,
            conversions=2,
            spend=20.0,
            revenue=90.0,
        )
        for a in range(len(arms))
    ]
    return FunnelData.from_rows(arms, rows)


def test_partial_model_has_named_coords_and_levels():
    data, _ = simulate_trial(np.random.default_rng(0), days=3)
    model = build_funnel_model(data, ModelSpec())
    assert set(model.coords) >= {"arm", "channel", "day"}
    assert list(model.coords["arm"]) == list(data.arms)
    names = set(model.named_vars)
    assert {"ctr", "cvr", "revenue_per_conversion", "order_value_shape"} <= names
    # Two channels: each on its own (no channel spread to learn); arms pooled within them.
    # Three days are too few to learn day-to-day variation: concentrations stay fixed.
    assert {"ctr_channel", "ctr_arm", "ctr_sd_arm", "ctr_kappa"} <= names
    assert "ctr_concentration" not in names
    assert "ctr_sd_channel" not in names and "ctr_mu" not in names
    assert model.named_vars_to_dims["ctr_kappa"] == ("arm",)
    assert {"ctr_obs", "cvr_obs"} <= {v.name for v in model.potentials}
    assert model.named_vars_to_dims["ctr"] == ("arm",)


def test_levels_follow_what_the_data_can_tell_apart():
    one_channel = data_with([("Search", "A"), ("Search", "B")])
    two_single = data_with([("WeChat", "A"), ("Weibo", "B")])
    three_single = data_with([("WeChat", "A"), ("Weibo", "B"), ("Email", "C")])
    assert structure(one_channel) == (False, True)
    assert structure(two_single) == (False, False)
    assert structure(three_single) == (True, False)
    names = set(build_funnel_model(one_channel).named_vars)
    assert "ctr_sd_arm" in names and "ctr_sd_channel" not in names
    names = set(build_funnel_model(two_single).named_vars)
    assert "ctr_sd_channel" not in names and "ctr_sd_arm" not in names
    names = set(build_funnel_model(three_single).named_vars)
    assert "ctr_sd_channel" in names and "ctr_sd_arm" not in names


def test_two_single_arm_channels_are_not_pooled_and_the_notes_say_so():
    from inference.funnel.levels import structure_notes

    two_single = data_with([("WeChat", "A"), ("Weibo", "B")])
    notes = structure_notes(two_single, ModelSpec())
    assert any("each channel is estimated on its own" in n for n in notes)
    assert structure_notes(two_single, ModelSpec(pooling="none")) == ()


def test_switches_change_the_likelihood_and_priors():
    data = data_with([("Search", "A"), ("Search", "B")])
    flat = build_funnel_model(data, ModelSpec(pooling="none", overdispersion=False))
    names = set(flat.named_vars)
    assert {"ctr_rate", "cvr_rate"} <= names and "ctr_mu" not in names
    assert "ctr_concentration" not in names
    assert "ctr_obs" in {v.name for v in flat.potentials}
    nc = build_funnel_model(data, ModelSpec(parameterization="non_centred"))
    assert "ctr_arm_z" in nc.named_vars


def test_auto_parameterization_centres_only_stages_with_strong_data():
    from inference.funnel.model import arm_level_centred

    data, _ = simulate_trial(np.random.default_rng(3), channels=1, arms_per_channel=3, days=14)
    totals = data.totals()
    assert totals.clicks.min() > 400 and totals.converted_clicks.max() < 44
    assert arm_level_centred(data, ModelSpec()) == {
        "ctr": True,  # hundreds of clicks per arm: the data dominate
        "cvr": False,  # a few dozen conversions: the prior spread matters
        "log_order_value": False,
    }
    forced = arm_level_centred(data, ModelSpec(parameterization="centred"))
    assert all(forced.values())


def test_model_logp_is_finite_at_the_initial_point():
    data, _ = simulate_trial(np.random.default_rng(1), days=5)
    for spec in (ModelSpec(), ModelSpec(pooling="none", overdispersion=False)):
        model = build_funnel_model(data, spec)
        logp = model.compile_logp()(model.initial_point())
        assert np.isfinite(logp)


def _stage_logp(model, stage, point):
    """The model's log-likelihood term for a stage, and the rates and concentration."""
    names = [f"{stage}_obs", stage]
    if f"{stage}_kappa" in model.named_vars:
        names.append(f"{stage}_kappa")
    outputs = [model[n] for n in names]
    values = model.compile_fn(outputs, inputs=model.value_vars, on_unused_input="ignore")(point)
    return values[0], values[1], (values[2] if len(values) > 2 else None)


@pytest.mark.parametrize("overdispersion", [True, False])
def test_count_likelihood_equals_the_textbook_density_up_to_a_constant(overdispersion):
    """The hand-summed likelihood is scipy's beta-binomial (or binomial) minus log C(n, k)."""
    from scipy import special, stats

    data, _ = simulate_trial(np.random.default_rng(4), days=6)
    model = build_funnel_model(data, ModelSpec(overdispersion=overdispersion))
    rng = np.random.default_rng(5)
    start = model.initial_point()
    for _ in range(3):
        point = {k: v + rng.normal(0, 0.3, size=np.shape(v)) for k, v in start.items()}
        for stage, n, k in (
            ("ctr", data.impressions, data.clicks),
            ("cvr", data.paired_clicks, data.converted_clicks),
        ):
            logp, rate, kappa = _stage_logp(model, stage, point)
            r = rate[data.arm]
            if overdispersion:
                kap = kappa[data.arm]  # one concentration per arm
                textbook = stats.betabinom.logpmf(k, n, r * kap, (1 - r) * kap)
            else:
                textbook = stats.binom.logpmf(k, n, r)
            log_choose = special.gammaln(n + 1) - special.gammaln(k + 1)
            log_choose -= special.gammaln(n - k + 1)
            np.testing.assert_allclose(logp, (textbook - log_choose).sum(), rtol=1e-9)


def test_derived_quantities_on_planted_draws():
    ctr = np.array([[0.02, 0.01], [0.03, 0.01]])
    cvr = np.array([[0.05, 0.10], [0.04, 0.10]])
    aov = np.array([[100.0, 50.0], [120.0, 50.0]])
    ipm = np.array([50.0, np.nan])  # arm 1 has spent nothing
    undefined = {}
    parts = {
        "impressions_per_spend": ipm,
        "paired_share": np.ones(2),
        "revenue_scale": np.ones(2),
        "paying": np.ones((2, 2)),
        "unpaired": np.zeros((2, 2)),
    }
    d = _derived(ctr, cvr, aov, parts, undefined)
    np.testing.assert_allclose(d["roas"][:, 0], [50 * 0.02 * 0.05 * 100, 50 * 0.03 * 0.04 * 120])
    np.testing.assert_allclose(d["cpa"][:, 0], [1 / (50 * 0.02 * 0.05), 1 / (50 * 0.03 * 0.04)])
    np.testing.assert_allclose(d["revenue_per_impression"][:, 1], [0.01 * 0.1 * 50] * 2)
    assert np.isnan(d["roas"][:, 1]).all() and undefined["roas"] == {1: "no spend yet"}


def test_roas_identity_holds_with_unpaired_and_unpaid_conversions():
    """Planted parts: view-through and zero-revenue conversions enter ROAS through the
    paired share, unpaired conversions per click and the paying share."""
    ctr, cvr, aov = np.array([[0.02]]), np.array([[0.05]]), np.array([[100.0]])
    parts = {
        "impressions_per_spend": np.array([50.0]),
        "paired_share": np.array([0.8]),
        "revenue_scale": np.array([1.1]),
        "paying": np.array([[0.5]]),
        "unpaired": np.array([[0.01]]),
    }
    d = _derived(ctr, cvr, aov, parts, {})
    per_click = 0.05 * 0.8 + 0.01
    assert d["roas"][0, 0] == pytest.approx(50 * 0.02 * per_click * 0.5 * 100 * 1.1)
    assert d["cpa"][0, 0] == pytest.approx(1 / (50 * 0.02 * per_click))
    assert d["revenue_per_conversion"][0, 0] == pytest.approx(0.5 * 100 * 1.1)


def test_spec_overrides_merge_over_defaults_and_unknown_keys_are_refused():
    spec = ModelSpec.from_dict(
        {"pooling": "none", "priors": {"arm_spread": 0.5}, "sampler": {"draws": 300}}
    )
    assert spec.pooling == "none" and spec.priors.arm_spread == 0.5
    assert spec.priors.channel_spread == ModelSpec().priors.channel_spread
    assert spec.sampler.draws == 300 and spec.sampler.chains == ModelSpec().sampler.chains
    with pytest.raises(SpecError, match="unknown model settings: poolin"):
        ModelSpec.from_dict({"poolin": "none"})
    with pytest.raises(SpecError, match="unknown priors settings"):
        ModelSpec.from_dict({"priors": {"ctr": 0.1}})
    with pytest.raises(SpecError, match="pooling must be"):
        ModelSpec(pooling="some")
    with pytest.raises(SpecError, match=r"priors\.arm_spread"):
        ModelSpec.from_dict({"priors": {"arm_spread": -1}})
