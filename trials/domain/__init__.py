"""The trial registry's vocabulary: trials, arms, decision rules and daily results.

Everything here is a frozen dataclass that checks itself on construction. A spec that
breaks a rule raises :class:`TrialValidationError` carrying *every* problem found, each
tied to the field a marketer typed it in, so a form can show the reason beside the field
and a CLI can list them all at once.

The names below are the package's public API (``from trials.domain import Trial``); each
lives in a module by concept:

* ``errors``: :class:`UserError`, :class:`Problem`, :class:`TrialValidationError`;
* ``enums``: the choices a trial makes (metric, status, attribution, results source);
* ``rules``: the pre-registered :class:`DecisionRule`;
* ``spec``: a trial as planned (:class:`ArmSpec`, :class:`TrialSpec` and its ``build``),
  with ``coerce`` (loose values to types) and ``validation`` (checks per field);
* ``trial``: a trial as stored (:class:`Arm`, :class:`Trial`, :class:`TrialSummary`);
* ``results``: daily numbers (:class:`DailyResult`, :class:`ResultRow`, :class:`ArmTotals`);
* ``orders``: the shop's own orders (:class:`OrderRow`, :class:`OrderStatus`);
* ``limits``: the largest texts and numbers the registry stores, the same on every
  database, and the checks that apply them.

Amendments, imports, verdicts, the crediting of own orders and accounts (users,
workspaces, roles: ``trials.domain.accounts``) have their own modules, imported by name.
"""

from trials.domain.enums import (
    AttributionRule,
    PrimaryMetric,
    ResultsChoice,
    ResultSource,
    TrialStatus,
)
from trials.domain.errors import Problem, TrialValidationError, UserError
from trials.domain.orders import OrderRow, OrderStatus
from trials.domain.results import (
    ArmTotals,
    DailyResult,
    ResultRow,
    arm_key,
    merge_segments,
    segment_key,
)
from trials.domain.rules import DecisionRule
from trials.domain.spec import TRIAL_FIELDS as TRIAL_FIELDS
from trials.domain.spec import ArmSpec, TrialSpec
from trials.domain.trial import Arm, Trial, TrialSummary

__all__ = [
    "Arm",
    "ArmSpec",
    "ArmTotals",
    "AttributionRule",
    "DailyResult",
    "DecisionRule",
    "OrderRow",
    "OrderStatus",
    "PrimaryMetric",
    "Problem",
    "ResultRow",
    "ResultSource",
    "ResultsChoice",
    "Trial",
    "TrialSpec",
    "TrialStatus",
    "TrialSummary",
    "TrialValidationError",
    "UserError",
    "arm_key",
    "merge_segments",
    "segment_key",
]
