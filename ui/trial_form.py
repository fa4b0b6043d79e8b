"""The trial registration form, used to register a new trial and to edit one.

The form only gathers values; ``TrialSpec.build`` judges them. Each field has a slot
beneath it where the reasons it was refused appear after a submit (``ui.form_problems``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from trials.domain import (
    DecisionRule,
    PrimaryMetric,
    Trial,
    TrialSpec,
    TrialStatus,
)
from ui.form_problems import ErrorSlots

__all__ = ["REASON_LABEL", "Submitted", "trial_form"]

REASON_LABEL = "Why are you amending the pre-registered plan?"
ARM_COLUMNS = ["id", "channel", "creative", "budget_share_pct", "control"]


@dataclass(frozen=True)
class Submitted:
    """What the user submitted: values for ``TrialSpec.build`` and the stored arm ids."""

    values: dict[str, Any]
    arm_ids: list[int | None]
    # Editor row number (1-based) of each arm in ``values["arms"]``, for messages.
    arm_rows: list[int] = field(default_factory=list)
    # Why the pre-registered plan is amended (asked only for a trial with data); "" if none.
    reason: str = ""


def trial_form(
    key: str,
    *,
    initial: Trial | None = None,
    submit_label: str = "Register trial",
    suggested: Any = None,
    ask_reason: bool = False,
) -> tuple[Submitted | None, ErrorSlots]:
    """Draw the form; on the run after a submit, return what was submitted.

    ``suggested`` (a ``ui.planner.PlanSuggestion``) pre-fills a new trial's budget, dates,
    number of arms and decision rule from a plan. ``ask_reason`` (a trial with data) adds
    the field for the reason of an amendment to the locked plan.
    """
    spec = initial.spec if initial else None
    slots: dict[str, Any] = {}
    with st.form(key, border=True):
        slots["_general"] = st.empty()
        values = _name_fields(spec, slots)
        left, right = st.columns(2)
        with left:
            values |= _metric_fields(spec, slots)
        with right:
            values |= _budget_fields(spec, suggested, slots)
        values["status"] = _status_field(spec)
        arms_df = _arms_editor(key, initial, suggested)
        slots["arms"] = st.empty()
        rule = _rule_fields(_starting_rule(spec, suggested), slots)
        reason = _reason_field(slots) if ask_reason else ""
        submitted = st.form_submit_button(submit_label, type="primary")

    if not submitted:
        return None, ErrorSlots(slots)
    arms, arm_ids, arm_rows = _arms_from_frame(arms_df)
    values |= {"arms": arms, "decision_rule": rule}
    submission = Submitted(values, arm_ids, arm_rows, reason=(reason or "").strip())
    return submission, ErrorSlots(slots, arm_rows)


def _name_fields(spec: TrialSpec | None, slots: dict[str, Any]) -> dict[str, Any]:
    name = st.text_input(
        "Trial name",
        value=spec.name if spec else "",
        max_chars=120,
        placeholder="e.g. WeChat vs Weibo launch",
    )
    slots["name"] = st.empty()
    hypothesis = st.text_area(
        "Hypothesis",
        value=spec.hypothesis if spec else "",
        placeholder="What do you expect to happen, and why?",
        height=80,
    )
    return {"name": name, "hypothesis": hypothesis}


def _metric_fields(spec: TrialSpec | None, slots: dict[str, Any]) -> dict[str, Any]:
    """The primary metric and the break-even (a ROAS or a gross margin)."""
    metrics = list(PrimaryMetric)
    metric = st.selectbox(
        "Primary metric",
        metrics,
        index=metrics.index(spec.primary_metric) if spec else 1,
        format_func=lambda m: m.label,
        help="What the trial is decided on.",
    )
    slots["primary_metric"] = st.empty()
    break_even = st.number_input(
        "Break-even ROAS",
        value=None if spec and spec.gross_margin else (spec.break_even_roas if spec else None),
        min_value=0.0,
        step=0.1,
        format="%.2f",
        placeholder="e.g. 2.5",
        help="Revenue per 1 spent at which a channel pays for itself. "
        "Leave empty and give a gross margin instead.",
    )
    slots["break_even_roas"] = st.empty()
    margin_pct = st.number_input(
        "…or gross margin (%)",
        value=spec.gross_margin * 100 if spec and spec.gross_margin else None,
        min_value=0.0,
        max_value=100.0,
        step=1.0,
        format="%.1f",
        placeholder="e.g. 40",
        help="Break-even ROAS = 1 / margin: a 40 % margin breaks even at 2.5.",
    )
    slots["gross_margin"] = st.empty()
    return {
        "primary_metric": metric.value,
        "break_even_roas": break_even,
        "gross_margin": None if margin_pct is None else margin_pct / 100,
    }


def _budget_fields(spec: TrialSpec | None, suggested: Any, slots: dict[str, Any]) -> dict:
    """The currency, the budget cap and the dates (a plan's, for a new trial from one)."""
    currency = st.text_input("Currency", value=spec.currency if spec else "CNY", max_chars=4)
    slots["currency"] = st.empty()
    budget = st.number_input(
        "Total budget cap",
        value=float(spec.budget) if spec else (suggested.budget if suggested else 2000.0),
        min_value=0.0,
        step=100.0,
        format="%.2f",
    )
    slots["budget"] = st.empty()
    start = st.date_input(
        "Start",
        value=spec.start if spec else (suggested.start if suggested else date.today()),
    )
    slots["start"] = st.empty()
    default_end = suggested.end if suggested else date.today() + timedelta(days=20)
    end = st.date_input("End", value=spec.end if spec else default_end)
    slots["end"] = st.empty()
    return {"currency": currency, "start": start, "end": end, "budget": budget}


def _status_field(spec: TrialSpec | None) -> str:
    statuses = list(TrialStatus)
    status = st.selectbox(
        "Status",
        statuses,
        index=statuses.index(spec.status) if spec else 0,
        format_func=lambda s: s.value.capitalize(),
    )
    return status.value


def _arms_editor(key: str, initial: Trial | None, suggested: Any) -> pd.DataFrame:
    st.markdown(
        "**Arms** — one row per channel × creative. Leave budget shares empty to "
        "split the budget equally; tick one control if you have one."
    )
    return st.data_editor(
        _arms_frame(initial, suggested.arms if suggested else 2),
        key=f"{key}_arms",
        num_rows="dynamic",
        hide_index=True,
        column_order=["channel", "creative", "budget_share_pct", "control"],
        column_config={
            "channel": st.column_config.TextColumn("Channel", max_chars=80),
            "creative": st.column_config.TextColumn("Creative / variant", max_chars=120),
            "budget_share_pct": st.column_config.NumberColumn(
                "Budget share (%)", min_value=0.0, max_value=100.0, format="%.1f"
            ),
            "control": st.column_config.CheckboxColumn("Control"),
        },
        width="stretch",
    )


def _starting_rule(spec: TrialSpec | None, suggested: Any) -> DecisionRule:
    """The trial's rule; for a new trial, the plan's rule or the default one."""
    if spec:
        return spec.decision_rule
    if suggested:
        known = DecisionRule().as_dict()
        return DecisionRule.from_dict({k: v for k, v in vars(suggested.rule).items() if k in known})
    return DecisionRule()


def _rule_fields(rule: DecisionRule, slots: dict[str, Any]) -> dict[str, Any]:
    """The decision rule's fields, in percent where people think in percent."""
    with st.expander("Decision rule (set before the data comes in)"):
        c1, c2 = st.columns(2)
        min_days = c1.number_input("Minimum days per arm", value=rule.min_days, min_value=1)
        min_conv = c2.number_input(
            "Minimum conversions per arm", value=rule.min_conversions_per_arm, min_value=0
        )
        probability = c1.number_input(
            "Probability to act (%)",
            value=rule.probability_threshold * 100,
            min_value=50.5,
            max_value=99.9,
            step=0.5,
            help="How sure the posterior must be that an arm is best before scaling it.",
        )
        loss = c2.number_input(
            "Largest acceptable expected loss (%)",
            value=rule.expected_loss_threshold * 100,
            min_value=0.01,
            max_value=99.0,
            step=0.1,
            help="Expected loss of choosing an arm if it is not really the best, "
            "as a share of the leading arm's value.",
        )
        margin = c1.number_input(
            "Practically equal within (±%)",
            value=rule.equivalence_margin * 100,
            min_value=0.5,
            max_value=50.0,
            step=0.5,
            help="Arms this close to the leader count as equal: the trial ends 'equal' "
            "when every arm is within it with the probability above.",
        )
        slots["decision_rule"] = st.empty()
    return {
        "min_days": int(min_days),
        "min_conversions_per_arm": int(min_conv),
        "probability_threshold": round(probability / 100, 6),
        "expected_loss_threshold": round(loss / 100, 6),
        "equivalence_margin": round(margin / 100, 6),
    }


def _reason_field(slots: dict[str, Any]) -> str:
    st.caption(
        "This trial has data, so its pre-registered plan is locked: changing the "
        "primary metric, the arms, their budget shares or the decision rule is an "
        "amendment. It is saved only with a reason, and recorded with your name."
    )
    reason = st.text_area(
        REASON_LABEL,
        height=68,
        placeholder="e.g. reach is a third of what we planned, so 7 days cannot be met",
        help="Needed only when you change a locked field; every amendment is shown on this page.",
    )
    slots["reason"] = st.empty()
    return reason


def _arms_frame(initial: Trial | None, blank_rows: int = 2) -> pd.DataFrame:
    if initial is None:
        rows = [
            {"id": None, "channel": "", "creative": "", "budget_share_pct": None, "control": i == 0}
            for i in range(blank_rows)
        ]
    else:
        rows = [
            {
                "id": arm.id,
                "channel": arm.spec.channel,
                "creative": arm.spec.creative,
                "budget_share_pct": None
                if arm.spec.budget_share is None
                else arm.spec.budget_share * 100,
                "control": arm.spec.control,
            }
            for arm in initial.arms
        ]
    frame = pd.DataFrame(rows, columns=ARM_COLUMNS)
    return frame.astype(
        {"id": "Int64", "channel": "string", "creative": "string", "budget_share_pct": "float64"}
    )


def _arms_from_frame(frame: pd.DataFrame) -> tuple[list[dict], list[int | None], list[int]]:
    arms, ids, rows = [], [], []
    for row_number, row in enumerate(frame.to_dict("records"), start=1):
        channel = _text(row.get("channel"))
        creative = _text(row.get("creative"))
        share = _number(row.get("budget_share_pct"))
        if not channel and not creative and share is None:
            continue  # an empty row: nothing was typed in it
        arms.append(
            {
                "channel": channel,
                "creative": creative,
                "budget_share": None if share is None else round(share / 100, 6),
                "control": bool(row.get("control") is True),
            }
        )
        arm_id = row.get("id")
        ids.append(None if arm_id is None or pd.isna(arm_id) else int(arm_id))
        rows.append(row_number)
    return arms, ids, rows


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value)


def _number(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    number = float(value)
    return None if math.isnan(number) else number
