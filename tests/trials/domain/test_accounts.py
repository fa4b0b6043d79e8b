"""Roles, names, emails and passwords: the rules accounts and workspaces follow."""

import pytest

from trials.domain import UserError
from trials.domain.accounts import (
    MAX_NAME_LENGTH,
    MIN_PASSWORD_LENGTH,
    AccountError,
    Action,
    Membership,
    PermissionDenied,
    Role,
    User,
    Workspace,
    check_new_password,
    clean_email,
    clean_name,
    name_key,
)


def test_roles_are_ordered_and_each_allows_what_the_one_below_does():
    assert [r.rank for r in (Role.VIEWER, Role.EDITOR, Role.ADMIN)] == [0, 1, 2]
    assert Role.ADMIN.at_least(Role.EDITOR) and Role.EDITOR.at_least("viewer")
    assert not Role.VIEWER.at_least(Role.EDITOR)
    assert Role.VIEWER.actions == (Action.READ,)
    assert Role.EDITOR.actions == (Action.READ, Action.WRITE)
    assert Role.ADMIN.actions == (Action.READ, Action.WRITE, Action.MANAGE_MEMBERS)
    for lower, higher in ((Role.VIEWER, Role.EDITOR), (Role.EDITOR, Role.ADMIN)):
        assert set(lower.actions) < set(higher.actions)


def test_a_role_is_read_in_any_case_and_a_wrong_one_names_the_choices():
    assert Role.parse(" Editor ") is Role.EDITOR
    with pytest.raises(AccountError, match="'owner' is not a role; choose one of viewer, editor"):
        Role.parse("owner")


def test_a_disabled_member_can_do_nothing():
    user = User(id=1, name="ann")
    member = Membership(user, Workspace(1, "Default"), Role.EDITOR)
    assert member.can(Action.WRITE) and not member.can(Action.MANAGE_MEMBERS)
    gone = Membership(User(id=1, name="ann", disabled=True), Workspace(1, "Default"), Role.ADMIN)
    assert not gone.can(Action.READ)


def test_permission_denied_names_the_user_role_and_what_was_refused():
    e = PermissionDenied("ann", Role.VIEWER, "import data", workspace="Growth")
    assert isinstance(e, UserError)
    assert str(e) == (
        "ann is a viewer in workspace 'Growth' and cannot import data; nothing was changed"
    )
    assert (e.user, e.role, e.refused) == ("ann", Role.VIEWER, "import data")
    assert str(PermissionDenied("ann", Role.ADMIN, "x")).startswith("ann is an admin and")
    site = PermissionDenied("ann", None, "add accounts", standing="is not a site administrator")
    assert str(site).startswith("ann is not a site administrator and cannot add accounts")


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("  Ann Lee ", "Ann Lee"),
        ("王小明", "王小明"),
        ("o'brien-2", "o'brien-2"),
        ("x" * 120, "x" * 120),
    ],
)
def test_good_names_are_trimmed(text, cleaned):
    assert clean_name(text, "user name") == cleaned


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the user name is empty; give 1 to 120 characters"),
        ("   ", "the user name is empty"),
        ("x" * (MAX_NAME_LENGTH + 1), "the user name is 121 characters long; the most is 120"),
        ("ann\nlee", r"control character \(U\+000A, character 4\)"),
        ("ann\u202eeel", r"U\+202E"),  # right-to-left override: displays reversed
        ("a\u200bnn", r"U\+200B"),  # zero-width space: looks like "ann"
        (None, "the user name must be text"),
    ],
)
def test_bad_names_are_refused_with_a_reason(text, message):
    with pytest.raises(AccountError, match=message):
        clean_name(text, "user name")


def test_names_are_the_same_ignoring_case_and_width():
    assert name_key("Ann") == name_key("aNN") == name_key(" ANN ") == name_key("ＡＮＮ")
    assert name_key("Straße") == name_key("STRASSE")
    assert name_key("ann") != name_key("anne")


def test_emails_are_lower_cased_and_checked():
    assert clean_email("  Ann@Example.COM ") == "ann@example.com"
    assert clean_email("") is None and clean_email(None) is None
    for bad in ("ann", "ann@", "@example.com", "ann@localhost", "a nn@example.com", "a@b."):
        with pytest.raises(AccountError, match="is not an email address"):
            clean_email(bad)


def test_passwords_need_twelve_characters_and_are_never_repeated_in_messages():
    assert check_new_password("a" * MIN_PASSWORD_LENGTH) == "a" * 12
    for bad, message in (
        ("", "the password is empty"),
        ("short-pw", "the password is 8 characters long; use at least 12"),
        (" " * 12, "only spaces"),
        ("p" * 1025, "the most is 1024"),
    ):
        with pytest.raises(AccountError, match=message) as caught:
            check_new_password(bad)
        if bad.strip():
            assert bad not in str(caught.value)
    with pytest.raises(AccountError, match="empty"):
        check_new_password(None)
