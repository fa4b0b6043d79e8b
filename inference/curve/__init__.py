"""The response curve: how one arm's conversions grow with its daily spend (diminishing
returns), and what that says about the next budget step.

``fit`` holds the specification, the PyMC statement and the engine for now; ``kernel`` the
same density written out by hand in numba.
"""
