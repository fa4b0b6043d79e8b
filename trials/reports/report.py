"""A trial's report as tables: the verdict, results, recommendations, next round's budget
(when there is an allocation) and the decision log.

:func:`build_report` reads an ``analyze``-shaped result and the decision log; each table
has its own function here. How the tables are written out — CSV, XLSX, Markdown or HTML —
is ``trials.reports.render``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trials.domain import Trial, UserError
from trials.domain.verdicts import DecisionEntry

__all__ = ["Report", "Table", "arm_label", "build_report", "estimate"]


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    formats: dict[str, str] | None = None  # column → "money", "percent", "ratio", "int"


@dataclass(frozen=True)
class Report:
    trial: Trial
    analysis: dict[str, Any]
    tables: tuple[Table, ...]
    created_at: datetime


def estimate(metric: dict | None, key: str = "mean") -> float | None:
    """One number of an arm's metric (its mean, or an end of its HDI); None when absent."""
    return None if not metric else metric.get(key)


def arm_label(arm: dict[str, Any]) -> str:
    return f"{arm['channel']} · {arm['creative']}"


def build_report(trial: Trial, analysis: dict[str, Any], log: Sequence[DecisionEntry]) -> Report:
    """The report's tables from an ``analyze``-shaped result and the decision log; always
    the full model's (the exact preview is refused with UserError)."""
    if analysis.get("preview"):
        raise UserError("a report needs the full model, not the exact preview")
    arms = analysis["arms"]
    results = _results_table(arms)
    recommendations = _recommendations_table(arms)
    tables = [_verdict_table(analysis), results, recommendations]
    allocation = analysis.get("allocation")
    if allocation:
        tables.append(_allocation_table(allocation))
    tables.append(_decision_log_table(log))
    return Report(trial, analysis, tuple(tables), datetime.now(UTC))


# -- the tables ---------------------------------------------------------------------------


def _verdict_table(analysis: dict[str, Any]) -> Table:
    """The trial's verdict, its reason, the data source, the rule and the progress: the
    same words the pages show."""
    decision = analysis.get("decision") or {}
    rule = decision.get("rule") or {}
    version = decision.get("rule_version") or 1
    rows = [
        ("Verdict", decision.get("verdict_label") or decision.get("verdict")),
        ("Why", decision.get("reason")),
        ("Data source", (analysis.get("source") or {}).get("sentence")),
    ]
    if rule:
        rows.append(("Rule" + (f" (version {version})" if version > 1 else ""), _rule(rule)))
    rows += [("Amendment", a["sentence"]) for a in analysis.get("amendments") or ()]
    progress = decision.get("progress") or {}
    if decision.get("verdict") == "keep_testing" and progress.get("sentence"):
        rows.append(("Progress", progress["sentence"]))
    return Table("Verdict", ("Item", "Value"), tuple(rows))


def _rule(rule: dict[str, Any]) -> str:
    """The decision rule in one sentence."""
    return (
        f"at least {rule['min_days']} days and {rule['min_conversions_per_arm']} "
        f"conversions per arm; a winner at {rule['probability_threshold']:.0%} to be "
        f"best (guarded over arms and early looks); expected loss under "
        f"{rule['expected_loss_threshold']:.1%}; equal within "
        f"±{rule['equivalence_margin']:.0%}"
    )


_INTERVALS = ("ctr", "cvr", "roas", "cpa")  # each as mean, HDI low, HDI high


def _results_table(arms: Sequence[dict[str, Any]]) -> Table:
    """Each arm's totals and its metrics with their intervals."""
    return Table(
        "Results",
        (
            "Arm",
            "Impressions",
            "Clicks",
            "Conversions",
            "Spend",
            "Revenue",
            "CTR",
            "CTR low",
            "CTR high",
            "CVR",
            "CVR low",
            "CVR high",
            "ROAS",
            "ROAS low",
            "ROAS high",
            "CPA",
            "CPA low",
            "CPA high",
        ),
        tuple(
            (
                arm_label(a),
                a["totals"]["impressions"],
                a["totals"]["clicks"],
                a["totals"]["conversions"],
                a["totals"]["spend"],
                a["totals"]["revenue"],
                *(estimate(a[m], k) for m in _INTERVALS for k in ("mean", "hdi_low", "hdi_high")),
            )
            for a in arms
        ),
        {
            "Spend": "money",
            "Revenue": "money",
            "Impressions": "int",
            "Clicks": "int",
            "Conversions": "int",
            **{c: "percent" for c in ("CTR", "CTR low", "CTR high", "CVR", "CVR low", "CVR high")},
            **{c: "ratio" for c in ("ROAS", "ROAS low", "ROAS high")},
            **{c: "money" for c in ("CPA", "CPA low", "CPA high")},
        },
    )


def _recommendations_table(arms: Sequence[dict[str, Any]]) -> Table:
    """Each arm's recommendation and the numbers behind it."""
    return Table(
        "Recommendations",
        (
            "Arm",
            "Recommendation",
            "P(best)",
            "P(beat control)",
            "Expected loss",
            "Loss unit",
            "P(ROAS > break-even)",
            "Weakest stage",
            "Reason",
        ),
        tuple(
            (
                arm_label(a),
                a.get("recommendation_label") or a.get("recommendation"),
                a.get("p_best"),
                a.get("p_beat_control"),
                a.get("expected_loss"),
                a.get("expected_loss_unit"),
                a.get("p_roas_above_break_even"),
                (a.get("weakest_stage") or {}).get("label"),
                a.get("reason"),
            )
            for a in arms
        ),
        {
            "P(best)": "percent",
            "P(beat control)": "percent",
            "P(ROAS > break-even)": "percent",
            "Expected loss": "ratio",
        },
    )


def _allocation_table(allocation: dict[str, Any]) -> Table:
    """Next round's budget per arm, then the allocation's notes as rows of their own."""
    return Table(
        "Next round's budget",
        ("Arm", "Budget", "Today's split", "Expected revenue", "At most"),
        tuple(
            (
                arm_label(a),
                a["budget"],
                a["current_budget"],
                a["expected_revenue"],
                a.get("cap"),
            )
            for a in allocation["arms"]
        )
        + tuple((note, None, None, None, None) for note in allocation.get("notes") or ()),
        {
            "Budget": "money",
            "Today's split": "money",
            "Expected revenue": "money",
            "At most": "money",
        },
    )


def _decision_log_table(log: Sequence[DecisionEntry]) -> Table:
    """Every entry of the decision log, in the log's order."""
    return Table(
        "Decision log",
        (
            "Entry",
            "When (UTC)",
            "By",
            "Scale",
            "Stop",
            "Fix",
            "Keep testing",
            "Budget change",
            "Note",
            "Corrects",
            "Data digest",
        ),
        tuple(
            (
                e.id,
                e.created_at.strftime("%Y-%m-%d %H:%M"),
                e.created_by,
                ", ".join(e.summary.get("scale", [])),
                ", ".join(e.summary.get("stop", [])),
                ", ".join(e.summary.get("fix", [])),
                ", ".join(e.summary.get("keep_testing", [])),
                e.summary.get("budget_change", ""),
                e.note,
                e.corrects,
                str(e.snapshot.get("data_digest") or "")[:12],
            )
            for e in log
        ),
        {"Entry": "int", "Corrects": "int"},
    )
