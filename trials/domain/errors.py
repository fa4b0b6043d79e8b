"""Mistakes a user can fix, each tied to the field it was typed in."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Problem", "TrialValidationError", "UserError"]


class UserError(Exception):
    """A mistake the user can fix; shown as a plain message, never as a traceback."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, tied to the field it came from.

    ``field`` uses dotted paths with list indexes, e.g. ``"end"`` or ``"arms[2].creative"``.
    """

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class TrialValidationError(UserError):
    """Raised with every problem found in a trial or arm specification."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    def for_field(self, name: str) -> list[str]:
        """Messages for one field (exact match), for showing beside that field."""
        return [p.message for p in self.problems if p.field == name]
