"""Signing in and opening a workspace: the application layer every page and command uses."""

import os
import stat

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from tests.conftest import make_spec
from trials.analysis import accounts as acc
from trials.domain.accounts import AccountError, PermissionDenied, Role
from trials.storage import schema
from trials.storage.accounts import AccountRepository
from trials.storage.store import TrialNotFound

PASSWORD = "purple-otter-tastes-rain"


@pytest.fixture
def root(engine):
    """The first site administrator (admin of Default), with a password."""
    return acc.add_user(engine, None, "root", password=PASSWORD, is_admin=True)


def _users(engine):
    with engine.connect() as conn:
        return {r.name: r for r in conn.execute(select(schema.users))}


# -- passwords -----------------------------------------------------------------------------


def test_a_password_is_stored_only_as_an_argon2id_hash(engine, root):
    row = _users(engine)["root"]
    assert row.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD not in row.password_hash
    with engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            for r in conn.execute(select(table)):
                assert PASSWORD not in repr(tuple(r)), table.name


def test_authenticate_accepts_the_password_and_nothing_else(engine, root):
    assert acc.authenticate(engine, "root", PASSWORD) == root
    assert acc.authenticate(engine, " ROOT ", PASSWORD) == root  # names ignore case
    assert acc.authenticate(engine, "root", PASSWORD.upper()) is None
    assert acc.authenticate(engine, "root", PASSWORD + " ") is None
    assert acc.authenticate(engine, "root", "") is None
    assert acc.authenticate(engine, "nobody", PASSWORD) is None


def test_every_failed_sign_in_looks_and_costs_the_same(engine, root, monkeypatch):
    acc.add_user(engine, "root", "no-password")  # signs in through the identity provider
    acc.add_user(engine, "root", "gone", password=PASSWORD)
    acc.add_user(engine, "root", "root2", is_admin=True)
    acc.disable_user(engine, "root", "gone")
    hasher = acc._HASHER
    verified = []

    class Counting(PasswordHasher):
        def verify(self, hash, password):
            verified.append(hash)
            return hasher.verify(hash, password)

    monkeypatch.setattr(acc, "_HASHER", Counting())
    attempts = [
        ("root", "wrong password here"),
        ("nobody", PASSWORD),
        ("no-password", PASSWORD),
        ("gone", PASSWORD),
        ("x" * 5000, PASSWORD),
        ("root", "p" * 5000),
        ("", ""),
    ]
    for name, password in attempts:
        verified.clear()
        assert acc.authenticate(engine, name, password) is None, name
        # One Argon2 verification each time, whether or not the account exists.
        assert len(verified) == 1, name
    dummy = acc._dummy_hash()
    assert dummy.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_a_hash_made_with_older_settings_is_renewed_at_sign_in(engine, root):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    AccountRepository(engine, actor="root").set_password_hash(root.id, weak, rehash=True)
    events = len(AccountRepository(engine).events())
    assert acc.authenticate(engine, "root", PASSWORD) == root
    renewed = _users(engine)["root"].password_hash
    assert renewed != weak and renewed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert acc.authenticate(engine, "root", PASSWORD) == root
    assert len(AccountRepository(engine).events()) == events  # not a change by anyone
    assert _users(engine)["root"].updated_by == "tester"  # who made it, unchanged


def test_a_hash_that_cannot_be_renewed_now_does_not_stop_a_sign_in(engine, root, monkeypatch):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    AccountRepository(engine, actor="root").set_password_hash(root.id, weak, rehash=True)

    def read_only(*args, **kwargs):
        raise OperationalError("UPDATE users", {}, Exception("attempt to write a readonly db"))

    monkeypatch.setattr(AccountRepository, "set_password_hash", read_only)
    assert acc.authenticate(engine, "root", PASSWORD) == root
    assert _users(engine)["root"].password_hash == weak


def test_set_password_is_ones_own_or_a_site_administrators(engine, root):
    acc.add_user(engine, "root", "ann", password=PASSWORD)
    acc.add_user(engine, "root", "bob", password=PASSWORD)
    acc.set_password(engine, "ann", "ann", "a brand new passphrase")
    assert acc.authenticate(engine, "ann", "a brand new passphrase") is not None
    assert acc.authenticate(engine, "ann", PASSWORD) is None
    before = _users(engine)["bob"].password_hash
    with pytest.raises(PermissionDenied, match="ann is not a site administrator and cannot set"):
        acc.set_password(engine, "ann", "bob", "another passphrase!")
    with pytest.raises(AccountError, match="the password is 5 characters long"):
        acc.set_password(engine, "root", "bob", "short")
    assert _users(engine)["bob"].password_hash == before
    acc.set_password(engine, "root", "bob", "reset by the admin")
    assert acc.authenticate(engine, "bob", "reset by the admin") is not None


# -- signing in with the identity provider -------------------------------------------------


def test_an_identity_maps_to_the_account_with_that_verified_email(engine, root):
    ann = acc.add_user(engine, "root", "ann", email="Ann@Example.com")
    assert acc.user_for_identity(engine, "ann@example.com", True) == ann
    assert acc.user_for_identity(engine, "ANN@example.com", "true") == ann
    assert acc.user_for_identity(engine, "ann@example.com", False) is None
    assert acc.user_for_identity(engine, "ann@example.com", None) is None
    assert acc.user_for_identity(engine, "ann@example.com", "yes") is None
    assert acc.user_for_identity(engine, "bob@example.com", True) is None  # never created
    assert acc.user_for_identity(engine, None, True) is None
    assert len(AccountRepository(engine).users()) == 2
    acc.disable_user(engine, "root", "ann")
    assert acc.user_for_identity(engine, "ann@example.com", True) is None


# -- accounts and workspaces ---------------------------------------------------------------


def test_nothing_opens_before_the_first_account(engine):
    assert not acc.has_accounts(engine)
    with pytest.raises(acc.NoAccounts, match="user add NAME --admin --password-stdin"):
        acc.open_workspace(engine, "tester")
    with pytest.raises(AccountError, match="the first account must be a site administrator"):
        acc.add_user(engine, None, "ann", password=PASSWORD)
    assert not acc.has_accounts(engine)


def test_the_first_administrator_then_only_site_administrators_add_accounts(engine, root):
    assert root.is_admin and root.created_by == "tester"  # who ran the command
    assert acc.open_workspace(engine, "root").role is Role.ADMIN
    with pytest.raises(AccountError, match="say which site administrator"):
        acc.add_user(engine, None, "ann", password=PASSWORD)
    ann = acc.add_user(engine, "root", "ann", password=PASSWORD)
    assert ann.created_by == "root" and not ann.is_admin
    with pytest.raises(PermissionDenied, match="ann is not a site administrator and cannot add"):
        acc.add_user(engine, "ann", "bob", password=PASSWORD)
    with pytest.raises(AccountError, match="at least 12"):
        acc.add_user(engine, "root", "bob", password="too short")
    assert [u.name for u in AccountRepository(engine).users()] == ["ann", "root"]


def test_open_workspace_binds_the_user_their_role_and_their_workspace(engine, root):
    acc.add_user(engine, "root", "ann")
    acc.grant(engine, "root", "Default", "ann", "viewer")
    store = acc.open_workspace(engine, "ANN")
    assert (store.actor, store.role, store.workspace_id, store.workspace_name) == (
        "ann",
        Role.VIEWER,
        1,
        "Default",
    )
    assert store.membership.role is Role.VIEWER and not store.can_write
    with pytest.raises(PermissionDenied, match="ann is a viewer in workspace 'Default'"):
        store.create_trial(make_spec())
    editor = acc.open_workspace(engine, "root")
    trial = editor.create_trial(make_spec())
    assert trial.created_by == "root"
    assert store.get_trial(trial.id).id == trial.id  # viewers read


def test_the_default_workspace_then_the_only_one_then_a_choice(engine, root):
    acc.add_user(engine, "root", "ann")
    with pytest.raises(AccountError, match="ann is not a member of any workspace yet"):
        acc.open_workspace(engine, "ann")
    acc.add_workspace(engine, "root", "Growth")
    acc.add_workspace(engine, "root", "Brand")
    acc.grant(engine, "root", "growth", "ann", "editor")
    assert acc.open_workspace(engine, "ann").workspace_name == "Growth"  # their only one
    acc.grant(engine, "root", "Brand", "ann", "viewer")
    with pytest.raises(AccountError, match="several workspaces; name one") as caught:
        acc.open_workspace(engine, "ann")
    assert "'Growth' (editor), 'Brand' (viewer)" in str(caught.value)
    assert acc.open_workspace(engine, "ann", "BRAND").role is Role.VIEWER
    assert acc.open_workspace(engine, "ann", 2).workspace_name == "Growth"
    acc.grant(engine, "root", "Default", "ann", "viewer")
    assert acc.open_workspace(engine, "ann").workspace_name == "Default"
    assert [m.workspace.name for m in acc.workspaces_of(engine, "ann")] == [
        "Default",
        "Growth",
        "Brand",
    ]
    assert acc.default_workspace(acc.workspaces_of(engine, "ann")).workspace.id == 1


def test_a_workspace_one_is_not_in_reads_the_same_as_one_that_does_not_exist(engine, root):
    acc.add_user(engine, "root", "ann")
    acc.add_user(engine, "root", "root2", is_admin=True)
    acc.add_workspace(engine, "root2", "Secret project")  # root2 is its admin; root is not
    acc.grant(engine, "root", "Default", "ann", "editor")
    messages = []
    for name in ("Secret project", "No such thing"):
        with pytest.raises(AccountError) as caught:
            acc.open_workspace(engine, "ann", name)
        messages.append(str(caught.value).replace(name, "NAME"))
    assert messages[0] == messages[1]
    assert messages[0] == (
        "ann is not a member of a workspace named 'NAME'; theirs: 'Default' (editor)"
    )
    # Site administrators do not see trials of workspaces they hold no role in either.
    with pytest.raises(AccountError, match="root is not a member"):
        acc.open_workspace(engine, "root", "Secret project")


def test_trials_of_another_workspace_are_not_found(engine, root):
    acc.add_workspace(engine, "root", "Other")
    theirs = acc.open_workspace(engine, "root", "Other").create_trial(make_spec(name="Theirs"))
    mine = acc.open_workspace(engine, "root", "Default")
    for ref in (theirs.id, "Theirs"):
        with pytest.raises(TrialNotFound, match="no trial"):
            mine.get_trial(ref)


def test_unknown_and_disabled_accounts_cannot_act(engine, root):
    acc.add_user(engine, "root", "ann")
    acc.grant(engine, "root", "Default", "ann", "editor")
    with pytest.raises(AccountError, match="no account named 'zed' \\(from --as\\)"):
        acc.acting_user(engine, "zed", named_by="from --as")
    store = acc.open_workspace(engine, "ann")
    acc.disable_user(engine, "root", "ann")
    with pytest.raises(AccountError, match="the account 'ann' is disabled"):
        acc.open_workspace(engine, "ann")
    assert acc.authenticate(engine, "ann", PASSWORD) is None
    with pytest.raises(PermissionDenied, match="ann has no role in workspace 'Default'"):
        store.create_trial(make_spec())  # a store opened before is refused too
    acc.enable_user(engine, "root", "ann")
    assert acc.open_workspace(engine, "ann").create_trial(make_spec()).created_by == "ann"
    with pytest.raises(PermissionDenied, match="cannot disable accounts"):
        acc.disable_user(engine, "ann", "root")


def test_revoking_a_role_closes_the_workspace_at_once(engine, root):
    acc.add_user(engine, "root", "ann")
    acc.grant(engine, "root", "Default", "ann", "editor")
    store = acc.open_workspace(engine, "ann")
    trial = store.create_trial(make_spec())
    acc.revoke(engine, "root", "Default", "ann")
    with pytest.raises(PermissionDenied, match="ann has no role in workspace 'Default'"):
        store.archive(trial.id)
    with pytest.raises(AccountError, match="not a member of any workspace"):
        acc.open_workspace(engine, "ann")


def test_workspace_admins_manage_their_members_and_nobody_elses(engine, root):
    for name in ("ann", "bob", "cat"):
        acc.add_user(engine, "root", name)
    acc.add_workspace(engine, "root", "Growth")
    acc.add_workspace(engine, "root", "Brand")
    acc.grant(engine, "root", "Growth", "ann", "admin")
    acc.grant(engine, "root", "Growth", "bob", "editor")
    acc.grant(engine, "ann", "Growth", "cat", "viewer")
    assert [(m.user.name, m.role.value) for m in acc.members(engine, "bob", "Growth")] == [
        ("ann", "admin"),
        ("bob", "editor"),
        ("cat", "viewer"),
        ("root", "admin"),
    ]
    with pytest.raises(PermissionDenied, match="bob is an editor in workspace 'Growth' and "):
        acc.grant(engine, "bob", "Growth", "cat", "editor")
    with pytest.raises(PermissionDenied, match="cannot add or remove members"):
        acc.revoke(engine, "bob", "Growth", "cat")
    with pytest.raises(AccountError, match="ann is not a member of a workspace named 'Brand'"):
        acc.grant(engine, "ann", "Brand", "cat", "editor")
    with pytest.raises(AccountError, match="ann is not a member of a workspace named 'Brand'"):
        acc.members(engine, "ann", "Brand")
    with pytest.raises(AccountError, match="'owner' is not a role"):
        acc.grant(engine, "ann", "Growth", "cat", "owner")
    with pytest.raises(AccountError, match="no account named 'dan'"):
        acc.grant(engine, "ann", "Growth", "dan", "viewer")
    acc.revoke(engine, "ann", "Growth", "cat")
    assert [m.user.name for m in acc.members(engine, "root", "Growth")] == ["ann", "bob", "root"]
    assert [(w.name, r) for w, r in acc.list_workspaces(engine, "bob")] == [("Growth", Role.EDITOR)]
    assert [(w.name, r) for w, r in acc.list_workspaces(engine, "root")] == [
        ("Default", Role.ADMIN),
        ("Growth", Role.ADMIN),
        ("Brand", Role.ADMIN),
    ]
    acc.disable_user(engine, "root", "cat")
    with pytest.raises(AccountError, match="the account 'cat' is disabled; enable it first"):
        acc.grant(engine, "ann", "Growth", "cat", "viewer")
    with pytest.raises(PermissionDenied, match="cannot list accounts"):
        acc.list_users(engine, "ann")
    with pytest.raises(PermissionDenied, match="cannot add workspaces"):
        acc.add_workspace(engine, "ann", "Mine")
    log = acc.account_log(engine, "root")
    assert (log[0].action, log[0].user, log[0].created_by) == ("user disabled", "cat", "root")


# -- the local demo administrator ----------------------------------------------------------


def test_the_demo_administrator_is_made_once_with_a_private_password_file(engine, tmp_path):
    folder = tmp_path / "data"
    made = acc.ensure_demo_admin(engine, folder, "db-1")
    assert made.created and made.name == "demo" and len(made.password) >= 24
    path = folder / "first-sign-in.txt"
    assert made.path == path and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text("utf-8")
    assert f"password: {made.password}\n" in text and "database: db-1\n" in text
    assert made.hint == (
        f"Sign in as demo with password {made.password}; change it with "
        "python -m trials user passwd demo --password-stdin"
    )
    demo = acc.authenticate(engine, "demo", made.password)
    assert demo.is_admin and acc.open_workspace(engine, "demo").role is Role.ADMIN
    again = acc.ensure_demo_admin(engine, folder, "db-1")
    assert (again.password, again.created) == (made.password, False)
    assert acc.ensure_demo_admin(engine, folder, "another database") is None
    assert path.exists()  # not ours to judge
    acc.set_password(engine, "demo", "demo", "my own passphrase")
    assert acc.ensure_demo_admin(engine, folder, "db-1") is None
    assert not path.exists()  # stale: removed
    assert [u.name for u in AccountRepository(engine).users()] == ["demo"]


def test_no_demo_administrator_once_accounts_exist(engine, root, tmp_path):
    assert acc.ensure_demo_admin(engine, tmp_path, "db") is None
    assert not (tmp_path / "first-sign-in.txt").exists()
    assert [u.name for u in AccountRepository(engine).users()] == ["root"]
