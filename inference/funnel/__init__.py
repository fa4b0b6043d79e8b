"""The funnel model: impressions -> clicks -> conversions -> revenue per arm, with partial
pooling and day-to-day overdispersion.

``spec`` (what is fitted, as plain data), ``data`` (a trial's rows), ``levels`` (which
pooling levels the data support), ``model`` (the model stated in PyMC, the reference),
``kernel`` (the same density written out by hand in numba), ``sampler`` (the kernel as a
model nutpie samples), ``fit`` (the MCMC engine), ``derived`` (from stage draws to a
``Posterior``), and the exact preview (``conjugate``, ``exact``).
"""
