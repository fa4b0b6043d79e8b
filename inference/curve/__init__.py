"""The response curve: how one arm's conversions grow with its daily spend (diminishing
returns), and what that says about the next budget step.

``spec`` (the model in words and its priors), ``data`` (an arm's spend ladder), ``model``
(the PyMC statement, the reference), ``layout`` and ``kernel`` (the same density written
out by hand in numba), ``sampler`` (the kernel as a model nutpie samples) and ``fit`` (the
engine: marginal ROAS now and one step up, with advice).
"""
