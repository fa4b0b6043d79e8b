"""Accounts and workspaces from the command line, and every boundary tried through it:
another workspace's trials, a viewer's writes, unknown and disabled accounts, and a
database with no account at all."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from tests.conftest import ROOT
from tests.trials.cli.test_cli import TRIAL_JSON, run, write
from trials.cli.main import _parser
from trials.storage.engine import connect, database_url

FILES = ROOT / "tests" / "trials" / "files"
DEMO = "WeChat vs Weibo launch"
PASSWORD = "seven-blue-kites-over-hangzhou"
NO_ACCOUNTS = "there are no accounts yet. Create the first administrator with `python -m " + (
    "trials user add NAME --admin --password-stdin`"
)


def dump() -> dict[str, list[tuple]]:
    """Every row of every table of TRIALS_DB."""
    engine = connect(database_url())
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        out = {
            table.name: sorted((tuple(r) for r in conn.execute(select(table))), key=repr)
            for table in meta.sorted_tables
        }
    engine.dispose()
    return out


def stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def leaf_commands() -> list[tuple[list[str], object]]:
    """Every command of the CLI (``user add`` …) with its parser."""
    found = []

    def walk(parser, path):
        subs = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
        if not subs:
            found.append((path, parser))
        for action in subs:
            for name, child in action.choices.items():
                walk(child, [*path, name])

    walk(_parser(), [])
    return found


def minimal_argv(path: list[str], parser) -> list[str]:
    """The command with a placeholder for everything it requires."""
    argv = list(path)
    for action in parser._actions:
        if action.option_strings and not action.required:
            continue
        if action.dest in ("help",):
            continue
        value = str(action.choices[0]) if action.choices else "1"
        if not action.option_strings:
            argv.append(value)
        elif action.nargs == 0:
            argv.append(action.option_strings[0])
        else:
            argv += [action.option_strings[0], value]
    return argv


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A new database with no account, and no TRIALS_USER."""
    monkeypatch.setenv("TRIALS_DB", str(tmp_path / "fresh.sqlite3"))
    monkeypatch.delenv("TRIALS_USER")


# -- no account yet ------------------------------------------------------------------------


def test_with_no_account_every_command_says_how_to_make_the_first_one(capsys, fresh):
    exempt = {("demo",), ("migrate",), ("user", "add")}
    commands = leaf_commands()
    assert len(commands) >= 30
    for path, parser in commands:
        if tuple(path) in exempt:
            continue
        for extra in ([], ["--as", "someone"]):
            code, _out, err = run(capsys, *minimal_argv(path, parser), *extra)
            assert code == 1, (path, err)
            assert err.startswith("error: " + NO_ACCOUNTS), (path, err)
            assert "Traceback" not in err
    code, _, err = run(capsys, "user", "add", "ann", "--password-stdin")
    assert code == 1 and "the first one must be a site administrator" in err
    assert dump()["users"] == []


def test_the_first_administrator_from_standard_input(capsys, fresh, monkeypatch):
    stdin(monkeypatch, "short\n")
    code, out, err = run(capsys, "user", "add", "ann", "--admin", "--password-stdin")
    assert code == 1 and "the password is 5 characters long; use at least 12" in err
    stdin(monkeypatch, "")
    code, out, err = run(capsys, "user", "add", "ann", "--admin", "--password-stdin")
    assert code == 1 and "standard input is empty" in err
    assert dump()["users"] == []
    stdin(monkeypatch, PASSWORD + "\n")
    code, out, err = run(capsys, "user", "add", "Ann", "--admin", "--password-stdin")
    assert (code, err) == (0, "")
    assert out.startswith("added the first site administrator 'Ann', admin of workspace")
    assert PASSWORD not in out
    [row] = [r for r in dump()["users"]]
    assert PASSWORD not in repr(row)
    assert any(str(v).startswith("$argon2id$") for v in row)
    # Now an account is needed: TRIALS_USER unset, the operating-system user is not one.
    code, _, err = run(capsys, "list")
    assert code == 1 and "no account named" in err and "(the operating-system user)" in err
    assert run(capsys, "list", "--as", "ann")[0] == 0  # names ignore case
    stdin(monkeypatch, PASSWORD + "\n")
    code, _, err = run(capsys, "user", "add", "bob", "--admin", "--password-stdin")
    assert code == 1 and "no account named" in err  # only a site administrator adds more


def test_demo_makes_a_local_administrator_once_and_says_how_to_sign_in(capsys, fresh):
    code, out, err = run(capsys, "demo", "--if-empty", "--today", "2026-11-22")
    assert code == 0, err
    first, note, *loaded = out.splitlines()
    assert first.startswith("Sign in as demo with password ")
    assert first.endswith("; change it with python -m trials user passwd demo --password-stdin")
    password = first.removeprefix("Sign in as demo with password ").split(";")[0]
    assert len(password) >= 24 and "readable by you only" in note
    assert loaded and all(line.startswith("loaded demo trial") for line in loaded)
    path = Path(os.environ["TRIALS_DATA_DIR"]) / "first-sign-in.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and password in path.read_text()
    code, out, _ = run(capsys, "demo", "--if-empty")
    assert code == 0 and out.splitlines()[0] == first  # the same hint again
    assert "no demo data loaded" in out
    code, out, _ = run(capsys, "show", DEMO, "--json", "--as", "demo")
    assert json.loads(out)["created_by"] == "demo"


def test_changing_the_demo_password_retires_the_hint(capsys, fresh, monkeypatch):
    run(capsys, "demo")
    path = Path(os.environ["TRIALS_DATA_DIR"]) / "first-sign-in.txt"
    stdin(monkeypatch, "my own passphrase here\n")
    code, out, err = run(capsys, "user", "passwd", "demo", "--password-stdin")  # as demo
    assert (code, out.strip()) == (0, "password of 'demo' changed by demo"), err
    code, out, err = run(capsys, "demo", "--if-empty")
    assert code == 0 and "Sign in" not in out and not path.exists()
    assert "note: no demo trials loaded" in err  # no account to act as; not a failure


# -- who is acting -------------------------------------------------------------------------


def test_as_and_workspace_go_before_or_after_the_command(capsys, add_account, tmp_path):
    add_account("ann", "editor")
    run(capsys, "demo")
    for argv in (
        ["--as", "ann", "show", DEMO, "--json"],
        ["show", DEMO, "--json", "--as", "ann"],
        ["--as", "tester", "show", DEMO, "--json", "--as", "ann"],  # the later one wins
        ["--workspace", "default", "--as", "ann", "show", DEMO, "--json"],
        ["show", DEMO, "--workspace", "Default", "--json", "--as", "ann"],
    ):
        code, out, err = run(capsys, *argv)
        assert code == 0, (argv, err)
    path = write(tmp_path, "t.json", TRIAL_JSON)
    code, out, _ = run(capsys, "create", "--from-file", path, "--json", "--as", "ann")
    assert json.loads(out)["created_by"] == "ann"


def test_an_unknown_or_disabled_account_is_refused_everywhere(capsys, add_account, monkeypatch):
    run(capsys, "demo")
    before = dump()
    for argv in (["list"], ["show", DEMO], ["user", "list"], ["workspace", "list"]):
        code, _, err = run(capsys, *argv, "--as", "zed")
        assert code == 1 and err.startswith("error: no account named 'zed' (from --as)"), argv
    monkeypatch.setenv("TRIALS_USER", "zed")
    code, _, err = run(capsys, "list")
    assert code == 1 and "no account named 'zed' (from TRIALS_USER)" in err
    monkeypatch.setenv("TRIALS_USER", "tester")
    add_account("ann", "editor")
    assert run(capsys, "user", "disable", "ann")[0] == 0
    for argv in (["list"], ["show", DEMO], ["archive", DEMO], ["workspace", "list"]):
        code, _, err = run(capsys, *argv, "--as", "ann")
        assert code == 1 and "the account 'ann' is disabled" in err, argv
    after = dump()
    assert {
        k: v for k, v in after.items() if k not in ("users", "memberships", "account_events")
    } == {k: v for k, v in before.items() if k not in ("users", "memberships", "account_events")}
    code, _, err = run(capsys, "user", "disable", "tester")
    assert code == 1 and "the only enabled site administrator" in err


# -- another workspace ---------------------------------------------------------------------


@pytest.fixture
def two_teams(capsys, add_account, tmp_path):
    """tester's Default workspace with the demo and a trial with imports; olga, an editor
    of the workspace "Other" only, with a trial of her own."""
    run(capsys, "demo", "--today", "2026-11-22")
    sept = TRIAL_JSON | {
        "name": "September social",
        "start": "2026-09-01",
        "end": "2026-09-28",
        "arms": [
            {"channel": "WeChat", "creative": "Video A", "control": True},
            {"channel": "Weibo", "creative": "Image B"},
        ],
    }
    assert run(capsys, "create", "--from-file", write(tmp_path, "s.json", sept))[0] == 0
    assert run(capsys, "import", "September social", str(FILES / "google_ads_report.csv"))[0] == 0
    assert run(capsys, "workspace", "add", "Other")[0] == 0
    add_account("olga", "editor", workspace="Other")
    olga_trial = TRIAL_JSON | {"name": "Olga's test"}
    code, _out, err = run(
        capsys, "create", "--from-file", write(tmp_path, "o.json", olga_trial), "--as", "olga"
    )
    assert code == 0, err
    listed = json.loads(run(capsys, "list", "--json")[1])
    return {t["name"]: t["id"] for t in listed}


def test_another_workspaces_trials_are_not_found_by_id_or_name(capsys, two_teams, tmp_path):
    sept = two_teams["September social"]
    batch = json.loads(run(capsys, "imports", "September social", "--json")[1])[0]["import"]
    trial_file = write(tmp_path, "t.json", TRIAL_JSON)
    report = tmp_path / "report.html"
    before = dump()
    for ref in (str(sept), "September social", "september SOCIAL"):
        for argv in (
            ["show", ref],
            ["show", ref, "--json"],
            ["analyze", ref, "--method", "exact", "--json"],
            ["import", ref, str(FILES / "google_ads_report.csv")],
            ["import", ref, str(FILES / "google_ads_report.csv"), "--dry-run"],
            ["orders", ref, str(FILES / "own_orders.csv"), "--accept-effect"],
            ["imports", ref],
            ["undo", ref, str(batch)],
            ["decide", ref, "--note", "x"],
            ["decisions", ref],
            ["report", ref, "--format", "html", "-o", str(report)],
            ["amend", ref, "--min-days", "3", "--reason", "x"],
            ["archive", ref],
            ["delete", ref],
            ["utm", ref],
            ["utm", ref, "--source", "x", "--arm", "WeChat/Video A"],
            ["reconcile", ref],
            ["set", ref, "--attribution", "split"],
        ):
            code, out, err = run(capsys, *argv, "--as", "olga")
            assert code == 1, argv
            # The same words as for a trial that does not exist anywhere.
            assert err.startswith(f"error: no trial '{ref}' in this workspace"), (argv, err)
            assert "September" not in out
    listed = json.loads(run(capsys, "list", "--json", "--as", "olga")[1])
    assert [t["name"] for t in listed] == ["Olga's test"]
    code, _, err = run(capsys, "list", "--as", "olga", "--workspace", "Default")
    assert code == 1 and "olga is not a member of a workspace named 'Default'" in err
    assert run(capsys, "delete", "--all-demo", "--as", "olga")[0] == 0  # hers: none
    assert not report.exists()
    assert run(capsys, "create", "--from-file", trial_file, "--as", "olga")[0] == 0
    after = dump()
    for table in ("daily_results", "import_batches", "decisions", "amendments", "orders"):
        assert after[table] == before[table], table
    # Her own workspace is hers to use; tester's Default is untouched by her.
    assert len(after["trials"]) == len(before["trials"]) + 1


def test_the_plan_from_the_workspace_reads_only_ones_own_trials(capsys, two_teams):
    argv = ["plan", "--from-workspace", "--lift", "0.3", "--arms", "2", "--daily-budget", "500"]
    code, _, err = run(capsys, *argv, "--simulations", "20", "--as", "olga")
    assert code == 1 and "no finished trial in the workspace yet" in err


# -- viewers -------------------------------------------------------------------------------


def test_a_viewer_reads_but_every_write_is_refused(capsys, add_account, tmp_path):
    run(capsys, "demo", "--today", "2026-11-22")
    add_account("vera", "viewer")
    batch = json.loads(run(capsys, "imports", DEMO, "--json")[1])[0]["import"]
    before = dump()
    for argv in (
        ["create", "--from-file", write(tmp_path, "t.json", TRIAL_JSON)],
        ["import", DEMO, str(FILES / "google_ads_report.csv")],
        ["orders", DEMO, str(FILES / "own_orders.csv"), "--accept-effect"],
        ["undo", DEMO, str(batch)],
        ["decide", DEMO, "--keep-testing", "WeChat/Moments video", "--note", "wait"],
        ["amend", DEMO, "--min-days", "3", "--reason", "x"],
        ["archive", DEMO],
        ["delete", DEMO],
        ["delete", "--all-demo"],
        ["utm", DEMO, "--source", "x", "--arm", "WeChat/Moments video"],
        ["set", DEMO, "--attribution", "split"],
        ["demo"],
    ):
        code, _out, err = run(capsys, *argv, "--as", "vera")
        assert code == 1, argv
        assert err.startswith("error: vera is a viewer in workspace 'Default' and cannot "), (
            argv,
            err,
        )
        assert "nothing was changed" in err and "Traceback" not in err
    assert dump() == before
    for argv in (
        ["list"],
        ["show", DEMO],
        ["imports", DEMO],
        ["decisions", DEMO],
        ["reconcile", DEMO],
        ["utm", DEMO],
        ["analyze", DEMO, "--method", "exact"],
        ["import", DEMO, str(FILES / "google_ads_report.csv"), "--dry-run"],
        ["workspace", "list"],
        ["workspace", "members", "Default"],
    ):
        code, _out, err = run(capsys, *argv, "--as", "vera")
        assert code in (0, 1) and "viewer" not in err, (argv, err)
        if argv[0] != "import":
            assert code == 0, (argv, err)
    assert dump() == before
    code, _, err = run(
        capsys, "workspace", "grant", "Default", "vera", "--role", "admin", "--as", "vera"
    )
    assert code == 1 and "vera is a viewer in workspace 'Default' and cannot add or remove" in err
    assert dump() == before


# -- managing accounts ---------------------------------------------------------------------


def test_users_workspaces_and_roles_from_the_command_line(capsys, monkeypatch):
    stdin(monkeypatch, PASSWORD + "\n")
    code, out, err = run(
        capsys, "user", "add", "ann", "--email", "Ann@Example.com", "--password-stdin", "--json"
    )
    assert code == 0, err
    added = json.loads(out)
    assert added["name"] == "ann" and added["email"] == "ann@example.com"
    assert added["has_password"] and not added["site_admin"] and added["workspaces"] == []
    assert PASSWORD not in out
    code, out, _ = run(capsys, "user", "add", "bob")
    assert code == 0 and "'bob' has no password: it signs in only as --as" in out
    assert run(capsys, "workspace", "add", "Growth")[0] == 0
    code, out, _ = run(capsys, "workspace", "grant", "growth", "ann", "--role", "admin")
    assert (code, out.strip()) == (0, "ann is now an admin in 'Growth'")
    # ann, a workspace admin, manages Growth's members and nobody else's.
    code, out, _ = run(
        capsys, "workspace", "grant", "Growth", "bob", "--role", "viewer", "--as", "ann"
    )
    assert (code, out.strip()) == (0, "bob is now a viewer in 'Growth'")
    code, _, err = run(
        capsys, "workspace", "grant", "Default", "bob", "--role", "viewer", "--as", "ann"
    )
    assert code == 1 and "ann is not a member of a workspace named 'Default'" in err
    members = json.loads(run(capsys, "workspace", "members", "Growth", "--json", "--as", "bob")[1])
    assert members == [
        {"user": "ann", "role": "admin", "disabled": False},
        {"user": "bob", "role": "viewer", "disabled": False},
        {"user": "tester", "role": "admin", "disabled": False},
    ]
    assert json.loads(run(capsys, "workspace", "list", "--json", "--as", "bob")[1]) == [
        {"id": 2, "name": "Growth", "role": "viewer"}
    ]
    assert run(capsys, "workspace", "revoke", "Growth", "bob", "--as", "ann")[0] == 0
    code, _, err = run(capsys, "list", "--as", "bob")
    assert code == 1 and "bob is not a member of any workspace yet" in err
    code, _, err = run(capsys, "user", "list", "--as", "ann")
    assert code == 1 and "ann is not a site administrator and cannot list accounts" in err
    users = json.loads(run(capsys, "user", "list", "--json")[1])
    assert [u["name"] for u in users] == ["ann", "bob", "tester"]
    assert all("password" not in json.dumps(u).replace("has_password", "") for u in users)
    # One's own password; someone else's only as a site administrator.
    stdin(monkeypatch, "a new passphrase for ann\n")
    code, _, err = run(capsys, "user", "passwd", "ann", "--password-stdin")
    assert code == 0, err
    stdin(monkeypatch, "a new passphrase for bob\n")
    code, _, err = run(capsys, "user", "passwd", "bob", "--password-stdin", "--as", "ann")
    assert code == 1 and "ann is not a site administrator and cannot set bob's password" in err
    log = json.loads(run(capsys, "user", "log", "--json")[1])
    assert [e["action"] for e in log][:3] == ["password set", "role revoked", "role granted"]
    assert log[0]["created_by"] == "ann" and log[0]["user"] == "ann"
    code, out, _ = run(capsys, "user", "log", "--limit", "2")
    assert len(out.splitlines()) == 2 and "tester: role revoked" not in out


def test_a_password_is_not_echoed_when_refused(capsys, monkeypatch):
    secret = "tooshort"
    stdin(monkeypatch, secret + "\n")
    code, out, err = run(capsys, "user", "add", "ann", "--password-stdin")
    assert code == 1 and secret not in out + err and "8 characters" in err
    assert [r for r in dump()["users"] if "ann" in r] == []
