"""Trial: one trial's settings, arms and data so far, with edit, status and archive."""

import altair as alt
import pandas as pd
import streamlit as st

from trials.domain import TrialSpec, TrialStatus, TrialValidationError, UserError
from trials.domain.amendments import amendment_lines
from ui.fits import analysis_for, data_digest, mcmc_fit
from ui.import_history import batches_table
from ui.results import show_verdict
from ui.rule_check import show_trial_look_rates
from ui.session import flash, show_flash, store
from ui.text import md, money, percent
from ui.trial_form import show_problems, trial_form
from ui.trial_picker import pick_trial

trials = store()
summary = pick_trial(trials, "Trial")
trial = summary.trial
spec = trial.spec
totals = trials.arm_totals(trial.id)

st.title(md(trial.name))
st.caption(
    f"{spec.status.value.capitalize()}{' · demo' if spec.is_demo else ''} · "
    f"decided on {spec.primary_metric.label} · {spec.start} → {spec.end} · "
    f"registered by {md(trial.created_by)}"
)
show_flash()
if spec.hypothesis:
    st.markdown(f"**Hypothesis:** {md(spec.hypothesis)}")

c1, c2, c3, c4, c5 = st.columns(5)
c1.metric(f"Spend so far ({spec.currency})", money(summary.spend))
c2.metric(
    "Budget used",
    percent(summary.budget_used, 0),
    help=f"Of the budget cap, {money(spec.budget, spec.currency)}.",
)
c3.metric("Days with data", summary.days_with_data)
c4.metric("Last data", str(summary.last_data_date or "none yet"))
c5.metric("Break-even ROAS", f"{spec.break_even_roas:.2f}")


if summary.days_with_data:
    # The verdict, the source and the totals the rule counts: the same analysis the
    # Results and Recommendations pages show.
    bar = st.progress(0.0, text="Fitting the model for the verdict")
    outcome = mcmc_fit(trial.id, data_digest(trial), _progress=lambda f, m: bar.progress(f, text=m))
    bar.empty()
    if outcome.error:
        st.error(f"The model could not be fitted: {md(outcome.error)}")
    else:
        analysis = analysis_for(trial, outcome.posterior)
        show_verdict(analysis)
        totals = analysis.totals

amendments = trials.amendments(trial.id)
if amendments:
    st.subheader("Amendments to the pre-registered rule")
    st.caption(
        f"The plan registered before the data came in was changed {len(amendments)} time(s); "
        f"the decision rule in force is version {trial.rule_version}. Each change is "
        "recorded with who made it, when, the values before and after, and why."
    )
    for line in amendment_lines(amendments):
        st.markdown(f"- {md(line)}")

arms_tab, daily_tab, edit_tab, manage_tab = st.tabs(["Arms", "Daily data", "Edit", "Manage"])

with arms_tab:
    shares = spec.planned_shares()
    rows = []
    for arm, share in zip(trial.arms, shares, strict=True):
        t = totals[arm.id]
        rows.append(
            {
                "Channel": arm.spec.channel,
                "Creative": arm.spec.creative,
                "Control": arm.spec.control,
                "Planned share": share,
                "Spend share": t.spend / summary.spend if summary.spend else None,
                "Impressions": t.impressions,
                "Clicks": t.clicks,
                "Conversions": t.conversions,
                "Spend": t.spend,
                "Revenue": t.revenue,
                "CTR": t.clicks / t.impressions if t.impressions else None,
                "CVR": t.conversions / t.clicks if t.clicks else None,
                "ROAS": t.revenue / t.spend if t.spend else None,
                "CPA": t.spend / t.conversions if t.conversions else None,
                "Days": t.days,
            }
        )
    pct = st.column_config.NumberColumn(format="percent")
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        placeholder="–",
        column_config={
            "Planned share": pct,
            "Spend share": pct,
            "CTR": pct,
            "Impressions": st.column_config.NumberColumn(format="localized"),
            "Clicks": st.column_config.NumberColumn(format="localized"),
            "CVR": pct,
            "Spend": st.column_config.NumberColumn(format="localized"),
            "Revenue": st.column_config.NumberColumn(format="localized"),
            "ROAS": st.column_config.NumberColumn(format="%.2f"),
            "CPA": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    st.caption(
        "Raw totals and rates as reported, before any modelling: with a few dozen "
        "conversions per arm, raw rates swing a lot from noise alone."
    )

with daily_tab:
    st.page_link(
        "app_pages/data.py",
        label="Import, edit or undo data",
        icon=":material/upload_file:",
        query_params={"trial": str(trial.id)},
    )
    daily = trials.daily_results(trial.id)
    if not daily:
        st.info("No daily results yet.")
    else:
        names = {a.id: a.name for a in trial.arms}
        frame = pd.DataFrame(
            {
                "Day": [r.day for r in daily],
                "Arm": [names[r.arm_id] for r in daily],
                "Impressions": [r.impressions for r in daily],
                "Clicks": [r.clicks for r in daily],
                "Conversions": [r.conversions for r in daily],
                "Spend": [r.spend for r in daily],
                "Revenue": [r.revenue for r in daily],
            }
        )
        measure = (
            st.segmented_control(
                "Show",
                ["Spend", "Impressions", "Clicks", "Conversions", "Revenue"],
                default="Conversions",
                key="daily_measure",
            )
            or "Conversions"
        )
        chart = (
            alt.Chart(frame)
            .mark_line(point=True)
            .encode(
                x=alt.X("Day:T", title=None),
                y=alt.Y(f"{measure}:Q"),
                color=alt.Color(
                    "Arm:N",
                    legend=alt.Legend(orient="bottom", title=None, labelLimit=400, columns=2),
                ),
                tooltip=["Day:T", "Arm:N", f"{measure}:Q"],
            )
            .properties(height=280)
        )
        st.altair_chart(chart, width="stretch")
        with st.expander(f"All {len(frame)} daily rows"):
            st.dataframe(frame, hide_index=True)
        batches = trials.import_batches(trial.id)
        st.caption("Where the data came from")
        st.dataframe(batches_table(batches), hide_index=True)

with edit_tab:
    if st.toggle("Show how the rule behaves when checked every day", key="look_rates"):
        show_trial_look_rates(trial)
    submitted, slots = trial_form(
        f"edit_{trial.id}",
        initial=trial,
        submit_label="Save changes",
        ask_reason=trials.has_data(trial.id),
    )
    if submitted:
        try:
            updated = trials.update_trial(
                trial.id,
                TrialSpec.build(**submitted.values),
                submitted.arm_ids,
                reason=submitted.reason or None,
            )
        except TrialValidationError as problems:
            show_problems(slots, problems)
        except UserError as e:
            # E.g. a locked field changed without a reason: nothing was saved.
            slots.slots.get("reason", slots.slots["_general"]).error(
                md(str(e)), icon=":material/error:"
            )
        else:
            recorded = len(trials.amendments(trial.id)) > len(amendments)
            note = " The amendment is recorded and listed on this page." if recorded else ""
            flash(f"Saved changes to {md(updated.name)}.{note}")
            st.rerun()

with manage_tab:
    st.write(f"Status: **{spec.status.value}**")
    moves = {
        TrialStatus.DRAFT: [TrialStatus.RUNNING, TrialStatus.ARCHIVED],
        TrialStatus.RUNNING: [TrialStatus.DECIDED, TrialStatus.ARCHIVED],
        TrialStatus.DECIDED: [TrialStatus.RUNNING, TrialStatus.ARCHIVED],
        TrialStatus.ARCHIVED: [TrialStatus.DRAFT, TrialStatus.RUNNING],
    }[spec.status]
    labels = {
        TrialStatus.DRAFT: "Restore as draft",
        TrialStatus.RUNNING: "Mark as running",
        TrialStatus.DECIDED: "Mark as decided",
        TrialStatus.ARCHIVED: "Archive",
    }
    for column, status in zip(st.columns(len(moves) + 2)[: len(moves)], moves, strict=True):
        if column.button(labels[status], key=f"status_{status.value}"):
            trials.set_status(trial.id, status)
            flash(f"{md(trial.name)} is now {status.value}.")
            st.rerun()
    st.divider()
    deletable = spec.is_demo or summary.days_with_data == 0
    st.write("**Delete**")
    if not deletable:
        st.caption("This trial has results, so it can be archived but not deleted.")
    else:
        sure = st.checkbox(
            "Yes, delete this trial and everything stored for it", key="confirm_delete"
        )
        if st.button("Delete trial", type="primary", disabled=not sure):
            try:
                trials.delete_trial(trial.id)
            except UserError as e:
                st.error(md(str(e)))
            else:
                flash(f"Deleted {md(trial.name)}.")
                st.query_params.clear()
                st.switch_page("app_pages/trials.py")
