"""Results: a trial's posterior (of one round, for a trial in rounds) — verdict, headline,
funnel per arm, intervals against break-even, distributions, raw vs modelled,
diagnostics, what changed since the previous round, and the figures by segment and week.
The exact preview shows at once, labelled "Preview — not the verdict" (figures only: no
verdict, no recommendation, no report); the full model's analysis replaces it when its fit
is done."""

import streamlit as st

from ui.fits import analysis_for, data_digest, exact_fit, fit_with_progress, mcmc_fit
from ui.results import report_downloads, show_results
from ui.rounds import pick_round, round_caption, round_without_data, show_comparison
from ui.segments import show_segments
from ui.session import show_flash, store
from ui.text import md
from ui.trial_picker import pick_trial, require_data

trials = store()
summary = pick_trial(trials, "Results")
st.title(f"Results · {md(summary.trial.name)}")
show_flash()
require_data(summary)
trial = pick_round(summary.trial)
round_caption(trial)
round_without_data(trial)

digest = data_digest(trial)
shown = st.empty()
with shown.container():
    round_number = trial.round_number if trial.rounds else 0
    preview = exact_fit(trial.id, digest, round_number=round_number).posterior
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
    if trial.round_number >= 2:
        st.subheader(f"Compare rounds: {trial.round_number - 1} → {trial.round_number}")
        earlier = trial.in_round(trial.round_number - 1)
        before = mcmc_fit(trial.id, data_digest(earlier), round_number=earlier.round_number)
        if before.error or outcome.error:
            st.info("The rounds cannot be compared until both are fitted.")
        else:
            show_comparison(trials, trial, (before.posterior, outcome.posterior))

show_segments(trials, trial)
