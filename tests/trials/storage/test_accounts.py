"""Accounts, workspaces and memberships as stored (SQLite and PostgreSQL), and migration
0005 that adds them."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, select, update

from tests.conftest import make_spec
from trials.domain.accounts import AccountError, Role
from trials.storage import schema
from trials.storage.accounts import AccountRepository, FirstAccountTaken
from trials.storage.engine import connect, downgrade, migrate
from trials.storage.store import TrialStore


@pytest.fixture
def repo(engine) -> AccountRepository:
    return AccountRepository(engine, actor="root")


def test_a_user_is_stored_with_who_added_them(repo):
    assert not repo.has_users()
    ann = repo.add_user(
        " Ann ", email="Ann@Example.com", password_hash="$argon2id$x", is_admin=True
    )
    assert (ann.name, ann.email, ann.is_admin, ann.has_password, ann.disabled) == (
        "Ann",
        "ann@example.com",
        True,
        True,
        False,
    )
    assert ann.created_by == "root" and ann.created_at.tzinfo is not None
    assert repo.has_users()
    assert (
        repo.user("ANN") == ann == repo.user_by_id(ann.id) == repo.user_by_email("ANN@example.com")
    )
    assert repo.credentials("ann") == (ann, "$argon2id$x")
    assert repo.user("nobody") is None and repo.credentials("") is None
    assert repo.user_by_email("not an email") is None


def test_names_and_emails_are_unique_ignoring_case(repo):
    repo.add_user("Ann", email="ann@example.com")
    with pytest.raises(AccountError, match="an account named 'Ann' exists already"):
        repo.add_user("ANN")
    with pytest.raises(AccountError, match="belongs to 'Ann' already"):
        repo.add_user("Bob", email="ANN@example.com")
    with pytest.raises(AccountError, match="the user name is 121 characters long"):
        repo.add_user("b" * 121)
    assert [u.name for u in repo.users()] == ["Ann"]


def test_the_first_account_is_made_only_while_there_is_none(repo):
    first = repo.add_user("root", is_admin=True, first=True, workspace_role=(1, Role.ADMIN))
    assert repo.membership(first.id, 1).role is Role.ADMIN
    with pytest.raises(FirstAccountTaken, match="accounts exist already"):
        repo.add_user("second", is_admin=True, first=True)
    assert len(repo.users()) == 1


def test_workspaces_get_new_ids_and_unique_names(repo, engine):
    # PostgreSQL: 0001 inserted Default with an explicit id; 0005 moves the sequence on.
    ann = repo.add_user("Ann", is_admin=True)
    team = repo.add_workspace("Growth team", admin_user_id=ann.id)
    assert team.id == 2 and team.name == "Growth team"
    assert repo.workspace("growth TEAM") == team == repo.workspace(2)
    assert repo.workspace("nope") is None and repo.workspace(99) is None
    assert repo.membership(ann.id, team.id).role is Role.ADMIN
    with pytest.raises(AccountError, match="a workspace named 'Growth team' exists already"):
        repo.add_workspace("GROWTH team")
    with pytest.raises(AccountError, match="a workspace named 'Default' exists already"):
        repo.add_workspace("default")
    with engine.connect() as conn:
        assert (
            conn.scalar(
                select(schema.workspaces.c.created_by).where(schema.workspaces.c.id == team.id)
            )
            == "root"
        )


def test_grant_changes_a_role_and_revoke_removes_it(repo):
    ann = repo.add_user("Ann")
    bob = repo.add_user("Bob")
    repo.grant(1, ann.id, Role.ADMIN)
    assert repo.grant(1, bob.id, Role.VIEWER).role is Role.VIEWER
    assert repo.grant(1, bob.id, Role.EDITOR).role is Role.EDITOR
    assert [(m.user.name, m.role) for m in repo.members(1)] == [
        ("Ann", Role.ADMIN),
        ("Bob", Role.EDITOR),
    ]
    assert [m.workspace.name for m in repo.memberships_of(bob.id)] == ["Default"]
    removed = repo.revoke(1, bob.id)
    assert removed.role is Role.EDITOR and repo.membership(bob.id, 1) is None
    with pytest.raises(AccountError, match="Bob is not a member of workspace 'Default'"):
        repo.revoke(1, bob.id)


def test_a_workspace_keeps_an_enabled_admin(repo):
    ann = repo.add_user("Ann")
    bob = repo.add_user("Bob")
    repo.grant(1, ann.id, Role.ADMIN)
    with pytest.raises(AccountError, match="Ann is the only admin of workspace 'Default'"):
        repo.revoke(1, ann.id)
    with pytest.raises(AccountError, match="cannot be made viewer"):
        repo.grant(1, ann.id, Role.VIEWER)
    repo.grant(1, bob.id, Role.ADMIN)
    repo.set_disabled(bob.id, True)  # a disabled admin does not count
    with pytest.raises(AccountError, match="only admin"):
        repo.revoke(1, ann.id)
    repo.set_disabled(bob.id, False)
    repo.revoke(1, ann.id)
    assert [m.user.name for m in repo.members(1)] == ["Bob"]


def test_the_last_enabled_site_administrator_cannot_be_disabled(repo):
    root = repo.add_user("root", is_admin=True)
    with pytest.raises(AccountError, match="'root' is the only enabled site administrator"):
        repo.set_disabled(root.id, True)
    other = repo.add_user("other", is_admin=True)
    assert repo.set_disabled(root.id, True).disabled
    with pytest.raises(AccountError, match="only enabled site administrator"):
        repo.set_disabled(other.id, True)
    assert not repo.set_disabled(root.id, False).disabled


def test_every_change_is_in_the_account_log(repo):
    ann = repo.add_user("Ann", password_hash="$argon2id$x")
    repo.grant(1, ann.id, Role.EDITOR)
    repo.set_password_hash(ann.id, "$argon2id$y")
    repo.set_password_hash(ann.id, "$argon2id$z", rehash=True)  # not a change by anyone
    repo.add_user("root", is_admin=True)
    repo.set_disabled(ann.id, True)
    repo.add_workspace("Team")
    events = [(e.action, e.user, e.workspace, e.created_by) for e in repo.events()]
    assert events == [
        ("workspace added", None, "Team", "root"),
        ("user disabled", "Ann", None, "root"),
        ("user added", "root", None, "root"),
        ("password set", "Ann", None, "root"),
        ("role granted", "Ann", "Default", "root"),
        ("user added", "Ann", None, "root"),
    ]
    assert repo.events()[-1].details == {"email": None, "site_admin": False, "password": True}
    assert repo.credentials("ann")[1] == "$argon2id$z"


def test_a_repository_without_an_actor_only_reads(engine):
    reader = AccountRepository(engine)
    assert reader.users() == []
    with pytest.raises(ValueError, match="needs an actor"):
        reader.add_user("Ann")


def test_the_store_rechecks_the_role_of_an_account_inside_every_write(repo, engine):
    ann = repo.add_user("Ann")
    repo.grant(1, ann.id, Role.EDITOR)
    store = TrialStore(
        engine, actor="Ann", role=Role.EDITOR, user_id=ann.id, workspace_name="Default"
    )
    trial = store.create_trial(make_spec())
    repo.grant(1, ann.id, Role.VIEWER)
    with pytest.raises(Exception, match="Ann is a viewer in workspace") as caught:
        store.archive(trial.id)
    assert type(caught.value).__name__ == "PermissionDenied"
    repo.grant(1, ann.id, Role.EDITOR)
    root = repo.add_user("root", is_admin=True)
    repo.grant(1, root.id, Role.ADMIN)
    repo.set_disabled(ann.id, True)
    with pytest.raises(Exception, match="Ann has no role in workspace 'Default' and cannot"):
        store.archive(trial.id)
    assert store.get_trial(trial.id).spec.status == trial.spec.status


def test_upgrading_from_0003_keeps_trials_and_adds_accounts(db_url):
    engine = connect(db_url, migrate_schema=False)
    migrate(engine, "0003")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO trials (id, workspace_id, name, hypothesis, primary_metric, "
            "break_even_roas, currency, start_date, end_date, budget_micros, status, "
            "decision_rule, is_demo, created_at, created_by, updated_at, updated_by) VALUES "
            "(1, 1, 'Old', '', 'roas', 2.0, 'CNY', '2026-09-01', '2026-09-30', 0, 'running', "
            "'{}', false, '2026-09-01 00:00:00', 'a', '2026-09-01 00:00:00', 'a')"
        )
        conn.exec_driver_sql(
            "INSERT INTO arms (id, trial_id, position, channel, creative, is_control) VALUES "
            "(1, 1, 0, 'WeChat', 'A', true), (2, 1, 1, 'Weibo', 'B', false)"
        )
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"users", "memberships", "account_events"} <= tables
    with engine.connect() as conn:
        assert conn.execute(select(schema.workspaces.c.name_key)).scalars().all() == ["default"]
    repo = AccountRepository(engine, actor="root")
    assert repo.workspace("DEFAULT").id == 1
    assert repo.add_workspace("Second").id == 2
    assert TrialStore(engine).get_trial("Old").id == 1
    downgrade(engine, "0003")
    tables = set(inspect(engine).get_table_names())
    assert not {"users", "memberships", "account_events"} & tables
    assert "name_key" not in {c["name"] for c in inspect(engine).get_columns("workspaces")}
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM trials").scalar() == 1
        assert conn.exec_driver_sql("SELECT count(*) FROM workspaces").scalar() == 2
    migrate(engine)
    assert AccountRepository(engine).workspace("second").id == 2
    engine.dispose()


def test_an_unknown_role_is_refused_by_the_database(repo, engine):
    ann = repo.add_user("Ann")
    repo.grant(1, ann.id, Role.VIEWER)
    with pytest.raises(Exception, match=r"(?i)check"), engine.begin() as conn:
        conn.execute(
            update(schema.memberships)
            .where(schema.memberships.c.user_id == ann.id)
            .values(role="owner", updated_at=datetime.now(UTC))
        )
    assert repo.membership(ann.id, 1).role is Role.VIEWER
