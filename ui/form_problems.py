"""Showing why a submitted trial form was refused: each problem's reason beneath its
field, the arms' problems beneath the arms table with their editor row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trials.domain import Problem, TrialValidationError
from ui.text import md

__all__ = ["ErrorSlots", "show_problems"]


@dataclass
class ErrorSlots:
    slots: dict[str, Any]
    arm_rows: list[int] = field(default_factory=list)


def show_problems(slots: ErrorSlots, error: TrialValidationError) -> None:
    """Put each problem's reason beneath its field (arms' problems beneath the arms table)."""
    grouped: dict[str, list[str]] = {}
    for problem in error.problems:
        slot, message = _slot_for(problem, slots)
        grouped.setdefault(slot, []).append(message)
    for slot, messages in grouped.items():
        # A problem can quote what was typed (a name, an arm): shown as text, never markup.
        slots.slots[slot].error("\n\n".join(md(m) for m in messages), icon=":material/error:")
    slots.slots["_general"].error(
        f"Nothing was saved: {len(error.problems)} thing(s) to fix, shown beside each field.",
        icon=":material/error:",
    )


LABELS = {
    "name": "Trial name",
    "primary_metric": "Primary metric",
    "break_even_roas": "Break-even ROAS",
    "gross_margin": "Gross margin",
    "currency": "Currency",
    "budget": "Budget",
    "start": "Start",
    "end": "End",
    "channel": "channel",
    "creative": "creative",
    "budget_share": "budget share",
    "min_days": "Minimum days",
    "min_conversions_per_arm": "Minimum conversions",
    "probability_threshold": "Probability to act",
    "expected_loss_threshold": "Largest acceptable expected loss",
}
# Messages that read as a predicate of their field ("is empty") get the field's label.
PREDICATES = ("is ", "are ", "must ", "disagrees ", "appears ")


def _sentence(label: str, message: str) -> str:
    if message.startswith(PREDICATES):
        return f"{label} {message}"
    return message[:1].upper() + message[1:]


def _slot_for(problem: Problem, slots: ErrorSlots) -> tuple[str, str]:
    head, _, rest = problem.field.partition(".")
    if head.startswith("arms["):
        index = int(head[5:-1])
        row = slots.arm_rows[index] if index < len(slots.arm_rows) else index + 1
        return "arms", f"Row {row}: " + _sentence(LABELS.get(rest, "this arm"), problem.message)
    if head == "decision_rule":
        return head, _sentence(LABELS.get(rest, rest), problem.message)
    if head in slots.slots:
        return head, _sentence(LABELS.get(head, head), problem.message)
    return "_general", str(problem)
