"""A trial and its arms as stored, and one row of the trials overview."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from trials.domain.errors import UserError
from trials.domain.rounds import Round
from trials.domain.spec import ArmSpec, TrialSpec

__all__ = ["Arm", "Trial", "TrialSummary"]


@dataclass(frozen=True)
class Arm:
    """A stored arm: its database id and its spec."""

    id: int
    spec: ArmSpec

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class Trial:
    """A stored trial."""

    id: int
    spec: TrialSpec
    arms: tuple[Arm, ...]
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    # 1 + the amendments that changed the decision rule or the primary metric once the
    # trial had data (see ``trials.domain.amendments``); the store fills it when loading.
    rule_version: int = 1
    # Rounds (``trials.domain.rounds``): empty for a trial that never started a second
    # round. With rounds, ``spec`` and ``arms`` are the current round's (its dates, budget,
    # rule and arms) and ``all_arms`` every arm the trial ever ran; ``round_number`` is
    # the round this object shows (``in_round``).
    rounds: tuple[Round, ...] = ()
    all_arms: tuple[Arm, ...] = ()
    round_number: int = 0

    def __post_init__(self) -> None:
        if not self.all_arms:
            object.__setattr__(self, "all_arms", self.arms)
        if not self.round_number:
            object.__setattr__(self, "round_number", self.current_round)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def current_round(self) -> int:
        return len(self.rounds) or 1

    @property
    def is_current_round(self) -> bool:
        return self.round_number == self.current_round

    def round(self, number: int) -> Round | None:
        """The stored round ``number`` (None for a trial without rounds)."""
        for r in self.rounds:
            if r.number == number:
                return r
        return None

    def in_round(self, number: int | None) -> Trial:
        """This trial as round ``number`` ran (None: the current round): its dates,
        budget, rule and arms, so everything that reads one trial reads one round."""
        number = self.current_round if number is None else number
        if not 1 <= number <= self.current_round:
            raise UserError(
                f"'{self.name}' has no round {number}; its rounds are 1 to {self.current_round}"
            )
        if number == self.current_round:
            return self if self.round_number == number else replace(self, round_number=number)
        r = self.round(number)
        assert r is not None
        by_id = {a.id: a for a in self.all_arms}
        arms = tuple(by_id[i] for i in r.arm_ids if i in by_id)
        spec = replace(
            self.spec,
            start=r.start,
            end=r.end,
            budget=r.budget,
            decision_rule=r.decision_rule,
            arms=tuple(a.spec for a in arms),
        )
        return replace(self, spec=spec, arms=arms, round_number=number)

    def round_covering(self, day: date) -> Round | None:
        """The round whose dates cover ``day`` (None: no stored round does)."""
        for r in self.rounds:
            if r.covers(day):
                return r
        return None

    def whole(self) -> Trial:
        """The trial over every round: from round 1's start to the current round's end,
        with every arm it ran (what an import is checked against)."""
        if not self.rounds:
            return self
        spec = replace(
            self.spec,
            start=min(r.start for r in self.rounds),
            end=max(self.spec.end, *(r.end for r in self.rounds)),
            # Shares and the control are each round's; over all rounds they are not one
            # plan (shares of two rounds add up past 100 %), so this view has none.
            arms=tuple(replace(a.spec, budget_share=None, control=False) for a in self.all_arms),
        )
        return replace(self, spec=spec, arms=self.all_arms)

    def arm_round_problem(self, arm_id: int, day: date) -> str | None:
        """Why a row of ``arm_id`` dated ``day`` belongs to no round that ran the arm
        (None: it does)."""
        if not self.rounds:
            return None
        r = self.round_covering(day)
        name = next((a.name for a in self.all_arms if a.id == arm_id), str(arm_id))
        if r is None:
            return (
                f"{day} falls between the trial's rounds ("
                + "; ".join(f"round {x.number}: {x.start} to {x.end}" for x in self.rounds)
                + "); remove the row or change a round's dates"
            )
        if arm_id in r.arm_ids:
            return None
        ran = [x.number for x in self.rounds if arm_id in x.arm_ids]
        where = f"it ran in round {', '.join(map(str, ran))}" if ran else "it runs in no round"
        return (
            f"'{name}' did not run in round {r.number} ({r.start} to {r.end}), which "
            f"covers {day}: {where}. Check the row's date or its arm"
        )

    def arm(self, arm_id: int) -> Arm:
        for a in self.all_arms:
            if a.id == arm_id:
                return a
        raise KeyError(arm_id)


@dataclass(frozen=True)
class TrialSummary:
    """One row of the trials overview."""

    trial: Trial
    days_with_data: int
    spend: float
    last_data_date: date | None

    @property
    def budget_used(self) -> float | None:
        budget = self.trial.spec.budget
        return self.spend / budget if budget > 0 else None
