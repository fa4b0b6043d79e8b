"""The model's free parameters are declared once (``inference.funnel.spec.parameters``); the
PyMC statement and the kernel's layout must both implement exactly that list, for every
structure. A term added to the declaration fails here until both statements have it (and
the kernel's equality tests then check they agree on its density)."""

import numpy as np
import pytest

from inference import FunnelData, ModelSpec
from inference.funnel.layout import layout_for
from inference.funnel.levels import model_structure
from inference.funnel.spec import parameters
from tests.inference.funnel.test_kernel import SHAPES, short_arm, trial

SPECS = {
    "default": {},
    "unpooled": {"pooling": "none"},
    "binomial": {"overdispersion": False},
    "centred": {"parameterization": "centred"},
    "non-centred": {"parameterization": "non_centred"},
}


def cases():
    for spec_name in SPECS:
        for shape in SHAPES:
            yield spec_name, shape, False
        yield spec_name, "2 channels x 2 arms", True


@pytest.mark.parametrize(("spec_name", "shape", "short"), list(cases()))
def test_both_statements_implement_exactly_the_declared_parameters(spec_name, shape, short):
    from inference.funnel.model import build_funnel_model

    data: FunnelData = trial(shape)
    if short:
        data = short_arm(data)
    spec = ModelSpec.from_dict(SPECS[spec_name])
    declared = parameters(model_structure(data, spec))
    assert len(set(declared)) == len(declared)
    pymc = [v.name for v in build_funnel_model(data, spec).value_vars]
    assert sorted(pymc) == sorted(declared), "the PyMC model (inference.funnel.model)"
    kernel = [name for name, _ in layout_for(data, spec).blocks]
    assert kernel == list(declared), "the kernel's layout (inference.funnel.layout)"


def test_a_term_missing_from_one_statement_is_caught():
    """The check above on a declaration with one term more: it fails."""
    data = trial("2 channels x 2 arms")
    spec = ModelSpec()
    declared = (*parameters(model_structure(data, spec)), "day_of_week_sd_log__")
    kernel = [name for name, _ in layout_for(data, spec).blocks]
    assert kernel != list(declared)
    assert np.isin(kernel, declared).all()
