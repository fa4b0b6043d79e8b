"""The Bayesian engine: funnel posteriors per arm, exact and by MCMC.

Plain Python (no Streamlit). ``import inference`` is cheap: nutpie, numba and ArviZ load
only when an MCMC fit is asked for, so listing trials never pays for them; PyMC loads only
for the reference engine (``sampler.engine = "pymc"``) or to inspect the model itself.
"""

from inference.funnel.conjugate import exact_posterior
from inference.funnel.data import FunnelData
from inference.funnel.spec import ModelSpec, Priors, SamplerSettings, SpecError
from inference.summary import METRICS, Diagnostics, Interval, Posterior

__all__ = [
    "METRICS",
    "Diagnostics",
    "FunnelData",
    "Interval",
    "ModelSpec",
    "Posterior",
    "Priors",
    "SamplerSettings",
    "SpecError",
    "exact_posterior",
]
