"""Fitting: MCMC against the exact path (tier 1), caching, progress, gates and errors."""

from dataclasses import replace

import numpy as np
import pytest

from inference import ModelSpec, exact_posterior
from inference.funnel.conjugate import exact_rate_intervals
from inference.funnel.fit import FitError, _diagnostics, compiled_model_count, fit_mcmc
from tests.inference.simulate import day_rows, simulate_trial

FLAT = ModelSpec(pooling="none", overdispersion=False)


@pytest.fixture(scope="module")
def trial():
    return simulate_trial(np.random.default_rng(7), channels=1, arms_per_channel=3, days=14)


def test_unpooled_binomial_mcmc_equals_the_conjugate_posterior(trial):
    from scipy import stats

    from inference.funnel.conjugate import beta_posterior

    data, _ = trial
    mcmc = fit_mcmc(data, FLAT, seed=1)
    exact = exact_rate_intervals(data, FLAT)
    assert mcmc.diagnostics.reliable, mcmc.diagnostics.reasons
    ess = mcmc.diagnostics.ess_bulk_min
    totals = data.totals()
    for metric, hits, tries in (
        ("ctr", totals.clicks, totals.impressions),
        ("cvr", totals.converted_clicks, totals.clicks),
    ):
        alpha, beta = beta_posterior(hits, tries)
        for arm in range(data.n_arms):
            truth = stats.beta(alpha[arm], beta[arm])
            got = mcmc.interval(metric, arm)
            # The mean within 4 Monte-Carlo standard errors of the exact mean...
            assert abs(got.mean - exact[metric][arm].mean) < 4 * truth.std() / np.sqrt(ess)
            # ...and the sampled 94 % interval holds 94 % of the exact posterior, within
            # 4 standard errors of a proportion estimated from `ess` draws.
            mass = truth.cdf(got.high) - truth.cdf(got.low)
            assert abs(mass - 0.94) < 4 * np.sqrt(0.94 * 0.06 / ess)


def test_trials_of_any_shape_share_one_compiled_kernel_and_report_progress(trial):
    from numba.core import event

    class Compiles(event.Listener):
        count = 0

        def on_start(self, e):
            self.count += 1

        def on_end(self, e):
            pass

    data, _ = trial
    fit_mcmc(data, seed=0)
    other, _ = simulate_trial(np.random.default_rng(8), channels=2, arms_per_channel=3, days=15)
    seen, compiles = [], Compiles()
    with event.install_listener("numba:compile", compiles):
        posterior = fit_mcmc(other, seed=0, progress=lambda f, m: seen.append((f, m)))
    # One machine-code version of the density serves every trial: nothing per shape.
    assert compiles.count == 0
    assert compiled_model_count() == 0
    assert not any("compiling" in m for _, m in seen)
    assert seen and seen[-1] == (1.0, "summarising")
    assert any(m == "sampling" for _, m in seen)
    assert all(0 <= f <= 1 for f, _ in seen)
    assert posterior.diagnostics.reliable, posterior.diagnostics.reasons


def test_pymc_engine_reuses_its_compiled_model_and_agrees_with_the_kernel(trial):
    """The PyMC model compiled by nutpie (the reference) gives the same posterior as the
    hand-written density, and new days reuse its compiled model."""
    data, _ = trial
    reference = ModelSpec.from_dict({"sampler": {"engine": "pymc"}})
    first = fit_mcmc(data, reference, seed=3)
    count = compiled_model_count()
    more, _ = simulate_trial(np.random.default_rng(7), channels=1, arms_per_channel=3, days=15)
    seen = []
    fit_mcmc(more, reference, seed=0, progress=lambda f, m: seen.append((f, m)))
    assert compiled_model_count() == count >= 1
    assert not any("compiling" in m for _, m in seen)
    kernel = fit_mcmc(data, seed=4)
    assert first.diagnostics.reliable and kernel.diagnostics.reliable
    ess = min(first.diagnostics.ess_bulk_min, kernel.diagnostics.ess_bulk_min)
    for metric in ("ctr", "cvr", "revenue_per_conversion", "roas"):
        a, b = first.draws[metric], kernel.draws[metric]
        # Two independent Monte-Carlo estimates of one mean: within 4 standard errors.
        tolerance = 4 * np.sqrt(2 / ess) * np.maximum(a.std(axis=0), b.std(axis=0))
        assert (np.abs(a.mean(axis=0) - b.mean(axis=0)) < tolerance).all(), metric


def test_same_data_and_seed_give_the_same_draws(trial):
    data, _ = trial
    a = fit_mcmc(data, seed=11)
    b = fit_mcmc(data, seed=11)
    for metric in a.draws:
        np.testing.assert_array_equal(a.draws[metric], b.draws[metric])


def test_partial_pooling_shrinks_towards_the_channel(trial):
    data, _ = trial
    pooled = fit_mcmc(data, seed=2)
    flat = exact_posterior(data, seed=2)
    spread = lambda p: np.ptp(p.draws["cvr"].mean(axis=0))  # noqa: E731
    assert spread(pooled) < spread(flat)


def test_sampler_failure_is_a_plain_message(trial, monkeypatch):
    import nutpie

    def broken(*args, **kwargs):
        raise RuntimeError("All initialization points failed\n\nCaused by: ...")

    monkeypatch.setattr(nutpie, "sample", broken)
    with pytest.raises(FitError, match=r"the sampler failed \(RuntimeError: All initialization"):
        fit_mcmc(trial[0], seed=0)


class _Trace:
    """Just enough of an InferenceData for the diagnostics."""

    def __init__(self, chains, divergences, energy=None):
        import xarray as xr

        self.posterior = xr.Dataset(coords={"chain": range(chains)})
        diverging = np.zeros((chains, 500), dtype=bool)
        diverging.flat[:divergences] = True
        if energy is None:
            energy = np.random.default_rng(1).normal(size=(chains, 500))
        self.sample_stats = xr.Dataset(
            {
                "diverging": (("chain", "draw"), diverging),
                "energy": (("chain", "draw"), energy),
            }
        )


def test_gates_mark_bad_fits_unreliable_with_reasons():
    rng = np.random.default_rng(0)
    good = {"ctr": rng.normal(0.02, 0.001, (2000, 2))}
    assert _diagnostics(_Trace(4, 0), good, 2, {}).reliable
    stuck = good["ctr"].copy()
    stuck[:500] += 0.01  # the first chain sits elsewhere
    bad = _diagnostics(_Trace(4, 3), {"ctr": stuck}, 2, {})
    assert not bad.reliable
    assert any("R-hat" in r for r in bad.reasons)
    assert "3 divergent transitions" in bad.reasons
    few = _diagnostics(_Trace(4, 0), {"ctr": rng.normal(size=(200, 2))}, 2, {})
    assert any("ESS" in r for r in few.reasons)
    # Energy that barely moves between draws: the chains cannot explore (E-BFMI ~ 0.01).
    sticky = np.cumsum(rng.normal(size=(4, 500)), axis=1)
    stuck_energy = _diagnostics(_Trace(4, 0, energy=sticky), good, 2, {})
    assert not stuck_energy.reliable
    assert any("E-BFMI" in r for r in stuck_energy.reasons)


def test_a_run_that_fails_a_gate_is_sampled_again_with_smaller_steps(trial, monkeypatch):
    import inference.funnel.fit as fit

    real, calls, runs = fit._diagnostics, [], []
    real_sample = fit._sample

    def first_run_diverges(trace, draws, n_arms, undefined):
        calls.append(n_arms)
        result = real(trace, draws, n_arms, undefined)
        if len(calls) == 1:
            return replace(
                result, divergences=3, reliable=False, reasons=("3 divergent transitions",)
            )
        return result

    def recording_sample(compiled, settings, seed, progress):
        runs.append(settings)
        return real_sample(compiled, settings, seed, progress)

    monkeypatch.setattr(fit, "_diagnostics", first_run_diverges)
    monkeypatch.setattr(fit, "_sample", recording_sample)
    seen = []
    posterior = fit_mcmc(trial[0], seed=5, progress=lambda f, m: seen.append(m))
    assert [s.target_accept for s in runs] == [ModelSpec().sampler.target_accept, 0.98]
    assert runs[1].draws == 2 * runs[0].draws
    assert posterior.diagnostics.reliable
    assert posterior.draws["ctr"].shape[0] == runs[1].draws * runs[1].chains
    assert any("sampling again with smaller steps (3 divergent" in m for m in seen)
    assert any(n.startswith("sampled twice: the first run failed a check") for n in posterior.notes)
    # Switched off, the first verdict stands.
    runs.clear()
    calls.clear()
    no_retry = ModelSpec.from_dict({"sampler": {"retry": False}})
    assert not fit_mcmc(trial[0], no_retry, seed=5).diagnostics.reliable
    assert len(runs) == 1


def test_a_fit_in_a_fresh_process_loads_neither_pymc_nor_pytensor():
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, numpy as np; from inference.funnel.fit import fit_mcmc; "
        "from tests.inference.simulate import day_rows, simulate_trial; "
        "data, _ = simulate_trial(np.random.default_rng(1), channels=2, arms_per_channel=2, "
        "days=7); p = fit_mcmc(data, seed=1); "
        "print(p.diagnostics.reliable, [m for m in ('pymc', 'pytensor') if m in sys.modules])"
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "True []"


def test_the_compiled_kernel_survives_a_restart():
    """A second process loads the sampler's machine code from numba's disk cache: no
    compilation at all between starting and a finished fit."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "from numba.core import event\n"
        "class Compiles(event.Listener):\n"
        "    count = 0\n"
        "    def on_start(self, e): self.count += 1\n"
        "    def on_end(self, e): pass\n"
        "compiles = Compiles()\n"
        "with event.install_listener('numba:compile', compiles):\n"
        "    import numpy as np\n"
        "    from inference.funnel.fit import fit_mcmc\n"
        "    from tests.inference.simulate import day_rows, simulate_trial\n"
        "    data, _ = simulate_trial(np.random.default_rng(2), channels=1, "
        "arms_per_channel=2, days=5)\n"
        "    fit_mcmc(data, seed=1)\n"
        "print(compiles.count)\n"
    )
    root = Path(__file__).resolve().parents[3]

    def fresh_process() -> int:
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return int(done.stdout.strip().splitlines()[-1])

    fresh_process()  # fills the cache if this checkout's is empty or stale
    assert fresh_process() == 0


def test_one_arms_view_through_day_leaves_the_other_arm_alone():
    """Per-arm concentrations and unpaired conversions: B's 412-click, 413-conversion day
    moves neither A's CVR nor A's ROAS (the shared concentration moved A's CVR 3.88 % ->
    14.8 %); B's CVR is not pulled towards 100 %."""
    from inference import FunnelData

    rng = np.random.default_rng(11)
    days = [
        [(2000, c, int(rng.binomial(c, 0.04)), 50.0, 0.0) for c in rng.binomial(2000, 0.05, 14)]
        for _ in range(2)
    ]
    days = [[(i, c, v, s, 80.0 * v) for i, c, v, s, _ in arm] for arm in days]
    arms = [("Search", "A"), ("Search", "B")]
    clean = FunnelData.from_rows(arms, day_rows(days))
    days[1][3] = (2000, 412, 413, 50.0, 80.0 * 413)
    odd = FunnelData.from_rows(arms, day_rows(days))
    spec = ModelSpec(pooling="none")
    before, after = fit_mcmc(clean, spec, seed=3), fit_mcmc(odd, spec, seed=3)
    for metric in ("cvr", "roas"):
        a0, a1 = before.interval(metric, 0), after.interval(metric, 0)
        assert abs(a1.mean / a0.mean - 1) < 0.03, metric
    assert after.interval("cvr", 1).high < 0.1
    assert any("view-through" in note for note in after.notes)
    t = odd.totals()
    assert after.interval("roas", 1).mean == pytest.approx(t.revenue[1] / t.spend[1], rel=0.1)


def test_a_single_day_per_arm_is_mildly_wider_than_binomial_and_says_so():
    """One day per arm cannot show day-to-day variation: the concentration stays at its
    prior median, P(B > A) stays near the binomial 0.92 (was 0.74) and each affected
    metric carries a note."""
    from inference import FunnelData

    data = FunnelData.from_rows(
        [("Search", "A"), ("Search", "B")],
        day_rows([[(20000, 1000, 100, 500.0, 8123.0)], [(20000, 1000, 120, 500.0, 9431.0)]]),
    )
    posterior = fit_mcmc(data, ModelSpec(pooling="none"), seed=2)
    assert posterior.diagnostics.reliable, posterior.diagnostics.reasons
    cvr = posterior.draws["cvr"]
    assert 0.87 < (cvr[:, 1] > cvr[:, 0]).mean() < 0.94
    for metric in ("ctr", "cvr", "roas", "cpa"):
        assert "only 1 day of data" in posterior.interval(metric, 0).note


def test_a_single_price_product_fits_cleanly():
    """Every conversion worth 49: the order-value CV settles on its floor instead of
    chasing an infinite gamma shape (a 60-arm trial hung for minutes)."""
    from inference import FunnelData

    rng = np.random.default_rng(4)
    arms = [(f"c{a % 3}", f"arm {a}") for a in range(6)]
    per_arm = []
    for _ in arms:
        clicks = rng.binomial(3000, 0.02, 14)
        conv = rng.binomial(clicks, 0.05)
        per_arm.append([(3000, c, v, 60.0, 49.0 * v) for c, v in zip(clicks, conv, strict=True)])
    posterior = fit_mcmc(FunnelData.from_rows(arms, day_rows(per_arm)), ModelSpec(), seed=1)
    assert posterior.diagnostics.reliable, posterior.diagnostics.reasons
    value = posterior.interval("revenue_per_conversion", 0)
    assert value.low > 48 and value.high < 50
