"""The kernels' special functions against scipy, where naive formulas break too."""

import numpy as np
import pytest
from scipy import special

from inference.special import lgamma_digamma, lgamma_ratio


def test_log_gamma_and_digamma_equal_scipy_across_twenty_orders_of_magnitude():
    grid = np.concatenate([np.geomspace(1e-8, 1e12, 2000), [0.5, 1.0, 2.0, 9.999999, 10.0]])
    values = np.array([lgamma_digamma(x) for x in grid])
    np.testing.assert_allclose(values[:, 0], special.gammaln(grid), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(values[:, 1], special.digamma(grid), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("x", [0.2, 7.0, 30.0, 4e4, 2e5, 1e9, 1e17])
@pytest.mark.parametrize("m", [0.0, 1.0, 3.0, 250.0])
def test_log_gamma_ratio_stays_exact_for_huge_arguments(x, m):
    lg_x, dg_x = lgamma_digamma(x)
    value, slope = lgamma_ratio(x, m, lg_x, dg_x)
    if x < 1e6:
        expected = special.gammaln(x + m) - special.gammaln(x)
        # Two log Gammas of size G differ by rounding of about 1e-16 G.
        assert value == pytest.approx(expected, rel=1e-11, abs=1e-15 * abs(special.gammaln(x + m)))
    # lnG(x + m) - lnG(x) = m ln x + m (m - 1) / (2 x) + O(1 / x^2), where scipy's
    # difference of two huge numbers would be rounding noise.
    if x >= 1e9:
        assert value == pytest.approx(m * np.log(x) + m * (m - 1) / (2 * x), rel=1e-14)
        assert slope == pytest.approx(m / x - m * (m - 1) / (2 * x * x), rel=1e-9, abs=1e-30)
