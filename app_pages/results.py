"""Results: a trial's posterior — verdict, headline, funnel per arm, intervals against
break-even, distributions, raw vs modelled, diagnostics, and the figures by segment and
week. The exact preview shows at once,
labelled "Preview — not the verdict" (figures only: no verdict, no recommendation, no
report); the full model's analysis replaces it when its fit is done."""

import streamlit as st

from ui.fits import analysis_for, data_digest, exact_fit, fit_with_progress
from ui.results import report_downloads, show_results
from ui.segments import show_segments
from ui.session import show_flash, store
from ui.text import md
from ui.trial_picker import pick_trial, require_data

trials = store()
summary = pick_trial(trials, "Results")
trial = summary.trial
st.title(f"Results · {md(trial.name)}")
show_flash()
require_data(summary)

digest = data_digest(trial)
shown = st.empty()
with shown.container():
    preview = exact_fit(trial.id, digest).posterior
    st.info("The full model is being fitted; until it is done, a preview is shown…")
    show_results(analysis_for(trial, preview), preview=True)

outcome = fit_with_progress(
    trial, "Fitting the full model (partial pooling, day-to-day variation)", digest
)
if outcome.error:
    st.error(f"The full model could not be fitted ({md(outcome.error)}); showing the preview.")
else:
    with shown.container():
        posterior = outcome.posterior
        analysis = analysis_for(trial, posterior)
        st.caption(
            f"Full model: {posterior.spec.pooling} pooling, day-to-day variation, "
            f"{posterior.n_draws:,} draws · data digest {posterior.data_digest[:12]}"
        )
        show_results(analysis)
        st.subheader("Share")
        report_downloads(analysis)

show_segments(trials, trial)
