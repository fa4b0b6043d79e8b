"""Results: a trial's posterior — headline, funnel per arm, intervals against break-even,
distributions, raw vs modelled, diagnostics. The exact preview shows at once; the full
model replaces it when its fit is done."""

import streamlit as st

from ui.fits import data_digest, decision_for, exact_fit, inputs_for, mcmc_fit
from ui.results import report_downloads, show_results
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
totals = inputs_for(trial.id, digest, trial.spec).totals
shown = st.empty()
with shown.container():
    preview = exact_fit(trial.id, digest).posterior
    st.info("Instant preview (exact conjugate posteriors); the full model is being fitted…")
    show_results(trial, preview, totals, decision_for(trial, preview))

bar = st.progress(0.0, text="Fitting the full model (partial pooling, day-to-day variation)")
outcome = mcmc_fit(trial.id, digest, _progress=lambda f, m: bar.progress(f, text=m))
bar.empty()
if outcome.error:
    st.error(f"The full model could not be fitted ({md(outcome.error)}); showing the preview.")
else:
    with shown.container():
        posterior = outcome.posterior
        st.caption(
            f"Full model: {posterior.spec.pooling} pooling, day-to-day variation, "
            f"{posterior.n_draws:,} draws · data digest {posterior.data_digest[:12]}"
        )
        show_results(trial, posterior, totals, decision_for(trial, posterior))
        st.subheader("Share")
        report_downloads(trial, posterior)
