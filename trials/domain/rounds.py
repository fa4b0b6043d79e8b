"""Rounds: a trial runs in rounds, each with its own dates, budget, arms and rule.

The marketer's loop is: test → read the funnel → fix the content or the landing path →
test again. A *round* is one pass of it. Round 1 is the trial as registered; the next
round starts on a later date with the arms it keeps, the arms whose creative was replaced
(a new arm on the same channel, so the old creative's data stay its own), arms added and
arms dropped, and its own budget and rule. Each day of data belongs to the round whose
dates cover it, and each round is analysed on its own days and arms, so a fix is judged
on the data after it, and the change it made is read by comparing rounds.

A trial with one round stores no round: ``Trial.rounds`` is empty and the trial is its
round 1, exactly as before rounds existed. This module is pure: it checks a plan for the
next round and words it; the store writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from trials.domain import limits
from trials.domain.errors import Problem, TrialValidationError, UserError
from trials.domain.results import arm_key
from trials.domain.rules import DecisionRule
from trials.domain.spec import ArmSpec
from trials.domain.validation import clean_text, is_number

__all__ = [
    "NextRound",
    "Round",
    "RoundChanges",
    "parse_replacement",
]

# "Channel · Old=New" (also "Channel · Old = New"); the arm's name is "Channel · Creative".
ARM_SEPARATOR = " · "


@dataclass(frozen=True)
class Round:
    """One round of a trial as stored.

    ``arm_ids`` are the arms that run in it, in the trial's order. ``replaced`` pairs each
    arm whose creative was replaced as this round began with the arm that replaced it
    (old id, new id); ``carry_prior`` says whether the round starts from the previous
    round's posterior for the arms it kept unchanged.
    """

    number: int
    start: date
    end: date
    budget: float
    decision_rule: DecisionRule
    arm_ids: tuple[int, ...]
    reason: str = ""
    replaced: tuple[tuple[int, int], ...] = ()
    added: tuple[int, ...] = ()
    dropped: tuple[int, ...] = ()
    carry_prior: bool = False
    created_at: datetime | None = None
    created_by: str = ""

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end

    def replaced_by(self, old_arm_id: int) -> int | None:
        for old, new in self.replaced:
            if old == old_arm_id:
                return new
        return None

    def replacing(self, new_arm_id: int) -> int | None:
        for old, new in self.replaced:
            if new == new_arm_id:
                return old
        return None

    @property
    def label(self) -> str:
        return f"Round {self.number} ({self.start.isoformat()} to {self.end.isoformat()})"


@dataclass(frozen=True)
class RoundChanges:
    """What the next round changes about the arms, by arm name ("Channel · Creative")."""

    replace: tuple[tuple[str, str], ...] = ()  # (arm name, new creative)
    add: tuple[ArmSpec, ...] = ()
    drop: tuple[str, ...] = ()


@dataclass(frozen=True)
class NextRound:
    """The marketer's plan for the next round: checked against the trial by the store.

    ``end`` and ``budget`` default to the current round's length and budget; ``rule`` to
    the current rule.
    """

    start: date
    reason: str
    end: date | None = None
    budget: float | None = None
    changes: RoundChanges = field(default_factory=RoundChanges)
    rule: DecisionRule | None = None
    carry_prior: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", str(self.reason or "").strip())
        problems = []
        if not self.reason:
            problems.append(
                Problem(
                    "reason",
                    "is empty: say why the next round starts (e.g. 'new landing page for WeChat')",
                )
            )
        too_long = limits.text_problem(self.reason, limits.LONG_TEXT)
        if too_long:
            problems.append(Problem("reason", too_long))
        if self.end is not None and self.end < self.start:
            problems.append(Problem("end", f"{self.end} is before the round's start {self.start}"))
        if self.budget is not None and (not is_number(self.budget) or self.budget <= 0):
            problems.append(Problem("budget", "must be a positive amount"))
        if problems:
            raise TrialValidationError(problems)


def parse_replacement(text: str) -> tuple[str, str]:
    """``'WeChat · Video A=Video B'`` → ``('WeChat · Video A', 'Video B')``."""
    arm, sep, new = str(text).rpartition("=")
    arm, new = clean_text(arm), clean_text(new)
    if not sep or not arm or not new:
        raise UserError(
            f"'{text}' does not say which creative replaces which: write "
            "'Channel · Old creative=New creative', e.g. 'Weibo · Video A=Video B'"
        )
    return arm, new


def _split(text: str) -> tuple[str, str] | None:
    for sep in ("·", "/"):
        if sep in text:
            channel, _, creative = text.partition(sep)
            return channel, creative
    return None


def parse_arm(text: str) -> ArmSpec:
    """``'Douyin · Clip 1'`` (or ``'Douyin/Clip 1'``) → the arm spec (channel, creative)."""
    parts = _split(str(text))
    if parts is None:
        raise UserError(
            f"'{text}' is not an arm: write 'Channel · Creative' (or Channel/Creative), "
            "e.g. 'Douyin · Clip 1'"
        )
    return ArmSpec(channel=parts[0], creative=parts[1])


def default_end(current_start: date, current_end: date, start: date) -> date:
    """The next round lasts as long as the current one was planned to."""
    return start + timedelta(days=(current_end - current_start).days)


def find_arm(arms: Sequence[tuple[int, str, str]], wanted: str, field_name: str) -> int:
    """The id of the arm ``wanted`` names ('Channel · Creative' or 'Channel/Creative',
    case and spacing ignored) among ``arms`` (id, channel, creative)."""
    parts = _split(wanted)
    if parts is not None:
        key = arm_key(*parts)
        for arm_id, channel, creative in arms:
            if arm_key(channel, creative) == key:
                return arm_id
    known = ", ".join(f"{c} · {k}" for _, c, k in arms) or "none"
    raise TrialValidationError(
        [Problem(field_name, f"no arm '{wanted}' in the current round; its arms: {known}")]
    )
