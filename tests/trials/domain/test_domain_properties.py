"""Property-based: whatever a file or form hands the registry, it either builds a valid
trial or says, field by field, what is wrong - never an unhandled exception."""

from hypothesis import given, settings
from hypothesis import strategies as st

from trials.domain import TRIAL_FIELDS, TrialSpec, TrialValidationError

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.dates().map(str),
)
arm = st.dictionaries(
    st.sampled_from(["channel", "creative", "budget_share", "control", "colour"]),
    scalars,
    max_size=5,
)
values = st.dictionaries(
    st.sampled_from(sorted(TRIAL_FIELDS | {"budgte", "arms"})),
    st.one_of(
        scalars,
        st.lists(st.one_of(arm, scalars), max_size=4),
        st.dictionaries(st.text(max_size=10), scalars, max_size=3),
    ),
    max_size=14,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_build_either_succeeds_or_names_every_field(raw):
    try:
        spec = TrialSpec.build(**raw)
    except TrialValidationError as e:
        assert e.problems
        for problem in e.problems:
            assert problem.field and problem.message
            root = problem.field.split(".")[0].split("[")[0]
            assert root in TRIAL_FIELDS | {"budgte"}, problem
    else:
        assert spec.problems() == []
        assert len(spec.arms) >= 2
