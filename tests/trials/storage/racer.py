"""One racing writer for ``test_racing.py``, run as its own process:

    python -m tests.trials.storage.racer URL TRIAL UNDO FIRST_DECISION I
    python -m tests.trials.storage.racer start CLI-ARGUMENTS…

It does what racer ``I`` does (see ``role``) through the same calls the CLI makes, the
way the CLI reports it: prints "ready", waits for a line on stdin (so all racers start
together), then prints its outcome as JSON on stdout and exits 0, or prints
"error: MESSAGE" on stderr and exits 1 for a refusal. Anything else escapes as Python
prints it (a traceback), which the test counts.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta

from trials.analysis.importing import commit_import, preview_import
from trials.domain import ResultRow, UserError
from trials.domain.imports import UtmRule
from trials.domain.verdicts import DecisionRecord
from trials.storage.engine import connect
from trials.storage.store import TrialStore

START = date(2026, 9, 1)
IMPORTERS = range(0, 40)  # days 1-10, four racers a day; one in four brings other numbers
EDITORS = range(40, 60)  # one cell each of days 11-20; every fifth deletes its row
UNDOERS = range(60, 80)  # all undo the same import (days 21-22)
DECIDERS = range(80, 100)  # a decision each
CORRECTORS = range(100, 105)  # a correction of the first decision each
WRONG_CORRECTORS = range(105, 110)  # a correction of a decision that does not exist
TOO_BIG = range(110, 115)  # an import with a spend too big to store
RULES = range(115, 120)  # a UTM rule each
RACERS = 120
NO_SUCH_DECISION = 10**6
HEADER = "date,channel,creative,impressions,clicks,conversions,spend,revenue\n"


def import_day(i: int) -> tuple[date, str]:
    """The day racer ``i`` imports and its variant of the numbers ('a' or 'b')."""
    return START + timedelta(days=(i % 40) // 4), "b" if i % 4 == 3 else "a"


def import_numbers(variant: str, arm: int) -> tuple[int, int, int, float, float]:
    if variant == "a":
        return (1000 + arm, 40, 3, 12.5, 60.0)
    return (2000 + arm, 80, 6, 25.0, 120.0)


def edit_cell(i: int) -> tuple[int, date, bool]:
    """The arm (0 or 1), the day racer ``i`` edits, and whether it deletes the row."""
    k = i - EDITORS.start
    return k % 2, START + timedelta(days=10 + k // 2), k % 5 == 4


def edit_numbers(i: int) -> tuple[int, int, int, float, float]:
    return (5000 + i, 100 + i, 7, 30.0 + i, 90.0 + i)


def csv_for(trial, day: date, numbers) -> bytes:
    lines = [HEADER]
    for index, arm in enumerate(trial.arms):
        n = numbers(index)
        lines.append(f"{day},{arm.spec.channel},{arm.spec.creative},{','.join(map(str, n))}\n")
    return "".join(lines).encode()


def role(store: TrialStore, trial_id: int, undo: int, first: int, i: int) -> dict:
    trial = store.get_trial(trial_id)
    if i in IMPORTERS or i in TOO_BIG:
        day, variant = import_day(i)
        if i in TOO_BIG:
            variant = "too big"
            data = csv_for(trial, day, lambda arm: (10, 1, 0, 10**13, 0))
        else:
            data = csv_for(trial, day, lambda arm: import_numbers(variant, arm))
        preview = preview_import(store, trial, data, f"racer-{i}.csv")
        if not preview.reading.ok:
            raise UserError(str(preview.reading.errors[0]))
        outcome = commit_import(store, trial, preview)
        batch = outcome.batch.id if outcome.batch else None
        return {"role": "import", "day": str(day), "variant": variant, "batch": batch}
    if i in EDITORS:
        arm_index, day, delete = edit_cell(i)
        arm = trial.arms[arm_index]
        if delete:
            outcome = store.commit_results(
                trial.id, [], kind="manual", replace=True, removals=[(arm.id, day)]
            )
        else:
            row = ResultRow(arm.spec.channel, arm.spec.creative, day, *edit_numbers(i))
            outcome = store.commit_results(trial.id, [row], kind="manual", replace=True)
        return {"role": "edit", "batch": outcome.batch.id if outcome.batch else None}
    if i in UNDOERS:
        return {"role": "undo", "batch": store.undo_batch(trial.id, undo).id}
    if i in DECIDERS or i in CORRECTORS or i in WRONG_CORRECTORS:
        corrects = first if i in CORRECTORS else NO_SUCH_DECISION if i in WRONG_CORRECTORS else None
        record = DecisionRecord(note=f"racer {i}", corrects=corrects)
        entry = store.record_decision(trial.id, record, {"racer": i})
        return {"role": "decide", "entry": entry.id}
    if i in RULES:
        rule = UtmRule("wechat", "cpc", f"campaign {i}", "", trial.arms[0].id)
        store.save_utm_rules(trial.id, [rule])
        return {"role": "rule"}
    raise ValueError(f"no role for racer {i}")


def first_start(argv: list[str]) -> int:
    """``racer start ARGS…``: once released, what a first start runs (``make app`` starts
    with ``python -m trials demo --if-empty``): the CLI's own ``main``."""
    from trials.cli import main as cli

    print("ready", flush=True)
    sys.stdin.readline()
    return cli(argv)


def main(argv: list[str]) -> int:
    if argv[0] == "start":
        return first_start(argv[1:])
    url, trial_id, undo, first, i = argv[0], *map(int, argv[1:5])
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        store = TrialStore(connect(url), actor=f"racer {i}")
        outcome = role(store, trial_id, undo, first, i)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(json.dumps(outcome), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
