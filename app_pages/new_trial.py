"""New trial: register what will be tested, how it will be judged, and its arms."""

import streamlit as st

from ui.new_trial import plan_step, register_step

st.title("New trial")
st.caption(
    "Write the trial down before the money is spent: the hypothesis, the metric it is "
    "decided on, and the rule for deciding."
)

suggested = plan_step()
st.subheader("2 · Register")
register_step(suggested)
