"""Tier 1: the vectorised diagnostics equal ArviZ's, quantity by quantity."""

import arviz as az
import numpy as np
import pytest

from inference.diagnostics import convergence, ess_bulk, ess_tail, rank_rhat


def autoregressive(rng, quantities, chains, draws, phi):
    """AR(1) chains with per-quantity autocorrelation ``phi``."""
    x = np.zeros((quantities, chains, draws))
    noise = rng.normal(size=x.shape)
    for t in range(1, draws):
        x[:, :, t] = phi[:, None] * x[:, :, t - 1] + noise[:, :, t]
    return x


@pytest.mark.parametrize("chains,draws", [(2, 1000), (4, 250), (2, 501), (2, 7), (1, 100)])
def test_diagnostics_equal_arviz(chains, draws):
    rng = np.random.default_rng(chains * draws)
    phi = rng.uniform(-0.5, 0.99, size=12)
    x = autoregressive(rng, 12, chains, draws, phi)
    x[3, 0] += 2.0  # one chain stuck elsewhere
    x[5] = np.exp(x[5])  # skewed
    x[7] = 1.5  # constant
    r_hat, bulk, tail = convergence(x)
    np.testing.assert_allclose(bulk, ess_bulk(x))
    np.testing.assert_allclose(tail, ess_tail(x))
    np.testing.assert_allclose(r_hat, rank_rhat(x), equal_nan=True)
    for q in range(12):
        if chains > 1 and q != 7:
            assert r_hat[q] == pytest.approx(float(az.rhat(x[q])), rel=1e-9)
        assert bulk[q] == pytest.approx(float(az.ess(x[q], method="bulk")), rel=1e-9)
        assert tail[q] == pytest.approx(float(az.ess(x[q], method="tail")), rel=1e-9)
    if chains > 1:
        assert r_hat[3] > 1.01  # the stuck chain is caught


def test_single_chain_has_no_r_hat_and_tiny_runs_no_ess():
    x = np.random.default_rng(0).normal(size=(2, 1, 50))
    assert np.isnan(rank_rhat(x)).all()
    assert np.isnan(ess_bulk(np.zeros((2, 2, 3)) + np.arange(3))).all()


def test_ebfmi_equals_arviz():
    from inference.diagnostics import ebfmi

    rng = np.random.default_rng(4)
    energy = np.cumsum(rng.normal(size=(3, 800)), axis=1) * 0.2 + rng.normal(size=(3, 800))
    np.testing.assert_allclose(ebfmi(energy), az.bfmi(energy), rtol=1e-12)
