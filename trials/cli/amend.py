"""``python -m trials amend``: change a trial's pre-registered decision rule, with a reason.

Every amendment is recorded (who, when, before and after, why) and shown by ``show``.
"""

from __future__ import annotations

import json

from trials.cli.common import EXIT_OK, open_store
from trials.domain import DecisionRule, TrialValidationError, UserError

__all__ = ["add_amend_commands"]


# Flag -> the decision-rule setting it changes, and how its value is read.
FLAGS = {
    "--min-days": ("min_days", "whole"),
    "--min-conversions": ("min_conversions_per_arm", "whole"),
    "--probability": ("probability_threshold", "share"),
    "--expected-loss": ("expected_loss_threshold", "share"),
}


def add_amend_commands(sub) -> None:
    p = sub.add_parser(
        "amend",
        help="change a trial's decision rule, with a reason (recorded and shown by show)",
        description="Once a trial has data its decision rule is locked: changing it is an "
        "amendment, recorded with who, when, the values before and after, and the reason. "
        "Probabilities and losses take 0.8 or 80%.",
    )
    p.add_argument("trial", metavar="TRIAL", help="the trial's name or id")
    p.add_argument("--min-days", metavar="N", help="minimum days of data per arm")
    p.add_argument("--min-conversions", metavar="N", help="minimum conversions per arm")
    p.add_argument("--probability", metavar="P", help="probability to act, e.g. 0.9 or 90%%")
    p.add_argument(
        "--expected-loss", metavar="L", help="largest acceptable expected loss, e.g. 0.01 or 1%%"
    )
    p.add_argument("--reason", required=True, metavar="TEXT", help="why the rule changes")
    p.add_argument("--json", action="store_true", help="print the amendment as JSON")
    p.set_defaults(run=_amend)


def _amend(args) -> int:
    from trials.domain.amendments import describe_changes
    from trials.reports.contract import amendment_dict

    given = {
        flag: getattr(args, flag[2:].replace("-", "_"))
        for flag in FLAGS
        if getattr(args, flag[2:].replace("-", "_")) is not None
    }
    if not given:
        raise UserError(f"nothing to amend: give one or more of {', '.join(FLAGS)}")
    reason = args.reason.strip()
    if not reason:
        raise UserError("--reason is empty: say why the pre-registered rule changes")
    changes = {FLAGS[flag][0]: _value(flag, text) for flag, text in given.items()}

    store = open_store()
    trial = store.get_trial(args.trial)
    try:
        rule = DecisionRule.from_dict(trial.spec.decision_rule.as_dict() | changes)
    except TrialValidationError as e:
        raise UserError("; ".join(_flag_message(p.field, p.message) for p in e.problems)) from e
    if rule == trial.spec.decision_rule:
        raise UserError(f"'{trial.name}'s decision rule already has these values; nothing to amend")
    before = [a.id for a in store.amendments(trial.id)]
    updated = store.update_trial(
        trial.id,
        trial.spec.with_changes(decision_rule=rule),
        [a.id for a in trial.arms],
        reason=reason,
    )
    amendment = next(a for a in reversed(store.amendments(trial.id)) if a.id not in before)
    if args.json:
        data = amendment_dict(amendment) | {"rule_version": updated.rule_version}
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return EXIT_OK
    print(
        f"amended '{updated.name}' (rule version {updated.rule_version}): "
        f"{'; '.join(describe_changes(amendment.before, amendment.after))}; "
        f"by {amendment.created_by}: {amendment.reason}"
    )
    return EXIT_OK


def _value(flag: str, text: str) -> int | float:
    kind = FLAGS[flag][1]
    text = text.strip()
    try:
        if kind == "whole":
            return int(text)
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        wanted = "a whole number" if kind == "whole" else "a number or a percentage"
        raise UserError(f"{flag}: {text!r} is not {wanted}") from None


def _flag_message(field: str, message: str) -> str:
    setting = field.removeprefix("decision_rule.")
    flag = next((f for f, (name, _) in FLAGS.items() if name == setting), field)
    return f"{flag}: {message}"
