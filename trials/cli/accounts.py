"""``python -m trials user …`` and ``workspace …``: accounts, workspaces and roles.

* ``user add NAME [--admin] [--email EMAIL] [--password-stdin]``: the first account
  (with no account yet, no ``--as`` needed) must be ``--admin``; after that a site
  administrator adds accounts. The password is read from one line of standard input (or
  typed twice, unseen, at a terminal); it is never printed or stored in clear.
* ``user list``, ``user disable NAME``, ``user enable NAME``, ``user log``: site
  administrators.
* ``user passwd NAME --password-stdin``: one's own password (``--as`` defaults to NAME
  here), or anyone's for a site administrator.
* ``workspace add NAME`` (site administrators; the creator becomes its admin),
  ``workspace list``, ``workspace members NAME``, ``workspace grant NAME USER --role
  viewer|editor|admin`` and ``workspace revoke NAME USER`` (workspace admins and site
  administrators).
"""

from __future__ import annotations

import getpass
import sys

from trials.cli.common import (
    ACCOUNT,
    EXIT_OK,
    OWN,
    CliError,
    acting_name,
    acting_user,
    open_engine,
    print_json,
    print_table,
)
from trials.domain.accounts import MIN_PASSWORD_LENGTH, Role

__all__ = ["add_account_commands", "read_password"]


def add_account_commands(sub) -> None:
    user = sub.add_parser("user", help="accounts: add, list, passwd, disable, enable, log")
    users = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)

    p = users.add_parser(
        "add",
        help="add an account (the first one: --admin, no --as needed)",
        description="The first account must be a site administrator (--admin); it needs "
        "no --as. After that, a site administrator adds accounts (--as ADMIN). Without "
        "--password-stdin the account has no password: it signs in through the identity "
        "provider (by --email) or is named with --as on the command line.",
    )
    p.add_argument("name", metavar="NAME", help="1 to 120 characters; unique ignoring case")
    p.add_argument("--admin", action="store_true", help="a site administrator")
    p.add_argument("--email", metavar="EMAIL", help="for signing in with the identity provider")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help=f"read the password from one line of standard input (at least "
        f"{MIN_PASSWORD_LENGTH} characters)",
    )
    p.add_argument("--json", action="store_true", help="print the account as JSON")
    p.set_defaults(run=_user_add, identity=OWN)

    p = users.add_parser("list", help="every account and its workspaces (site administrators)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_user_list, identity=ACCOUNT)

    p = users.add_parser(
        "passwd",
        help="set a password: your own (--as defaults to NAME), or anyone's as a site "
        "administrator",
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the new password from one line of standard input",
    )
    p.set_defaults(run=_user_passwd, identity=OWN)

    p = users.add_parser(
        "disable", help="stop an account signing in or acting (site administrators)"
    )
    p.add_argument("name", metavar="NAME")
    p.set_defaults(run=_user_disable, identity=ACCOUNT)

    p = users.add_parser("enable", help="let a disabled account back in (site administrators)")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(run=_user_enable, identity=ACCOUNT)

    p = users.add_parser(
        "log", help="who added, changed, granted and revoked what (site administrators)"
    )
    p.add_argument("--limit", type=int, default=50, metavar="N", help="newest N (default 50)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_user_log, identity=ACCOUNT)

    ws = sub.add_parser("workspace", help="workspaces: add, list, members, grant, revoke")
    wss = ws.add_subparsers(dest="workspace_command", metavar="ACTION", required=True)

    p = wss.add_parser("add", help="add a workspace; you become its admin (site administrators)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--json", action="store_true", help="print the workspace as JSON")
    p.set_defaults(run=_workspace_add, identity=ACCOUNT)

    p = wss.add_parser("list", help="your workspaces and your role in each")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_workspace_list, identity=ACCOUNT)

    p = wss.add_parser("members", help="a workspace's members and their roles")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_workspace_members, identity=ACCOUNT)

    p = wss.add_parser(
        "grant",
        help="give USER a role in workspace NAME, or change it (workspace admins)",
        description="viewer: reads trials, results and decisions, exports reports. "
        "editor: also creates trials, imports data, amends, decides, undoes, archives and "
        "deletes. admin: also adds and removes members.",
    )
    p.add_argument("name", metavar="NAME", help="the workspace")
    p.add_argument("user", metavar="USER", help="the account")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.set_defaults(run=_workspace_grant, identity=ACCOUNT)

    p = wss.add_parser("revoke", help="remove USER from workspace NAME (workspace admins)")
    p.add_argument("name", metavar="NAME", help="the workspace")
    p.add_argument("user", metavar="USER", help="the account")
    p.set_defaults(run=_workspace_revoke, identity=ACCOUNT)


def read_password(for_whom: str) -> str:
    """A password from one line of standard input (the line break dropped), or typed
    twice without echo at a terminal. Never printed."""
    stream = sys.stdin
    if stream is None:
        raise CliError("no standard input to read the password from")
    if stream.isatty():
        first = getpass.getpass(f"New password for {for_whom}: ")
        if getpass.getpass("The same again: ") != first:
            raise CliError("the two passwords differ; nothing was changed")
        return first
    line = stream.readline()
    if not line:
        raise CliError(
            "--password-stdin: standard input is empty; give the password on one line, "
            "e.g. python -m trials user passwd NAME --password-stdin < file; nothing was changed"
        )
    return line.removesuffix("\n").removesuffix("\r")


def _user_add(args) -> int:
    from trials.analysis.accounts import add_user, has_accounts, workspaces_of
    from trials.reports.contract import user_dict

    engine = open_engine()
    first = not has_accounts(engine)
    actor = None
    if not first:
        actor = acting_user().name
    elif not args.admin:
        raise CliError(
            "there are no accounts yet, and the first one must be a site administrator: "
            f"python -m trials user add {args.name} --admin --password-stdin; nothing was added"
        )
    password = read_password(args.name) if args.password_stdin else None
    user = add_user(
        engine, actor, args.name, password=password, email=args.email, is_admin=args.admin
    )
    if args.json:
        print_json(user_dict(user, workspaces_of(engine, user.name)))
        return EXIT_OK
    kind = "site administrator" if user.is_admin else "account"
    if first:
        print(
            f"added the first site administrator '{user.name}', admin of workspace "
            f"'Default'. Add others with: python -m trials user add NAME --as "
            f"'{user.name}' --password-stdin"
        )
    else:
        print(
            f"added {kind} '{user.name}'; give it a role with: python -m trials workspace "
            f"grant WORKSPACE '{user.name}' --role viewer|editor|admin"
        )
    if password is None:
        how = "through the identity provider (by its email)" if user.email else "only as --as"
        print(f"'{user.name}' has no password: it signs in {how}")
    return EXIT_OK


def _user_list(args) -> int:
    from trials.analysis.accounts import list_users
    from trials.reports.contract import user_dict

    rows = [user_dict(u, ms) for u, ms in list_users(open_engine(), acting_user().name)]
    if args.json:
        print_json(rows)
        return EXIT_OK
    print_table(
        ["name", "email", "site admin", "password", "status", "workspaces"],
        [
            [
                r["name"],
                r["email"] or "-",
                "yes" if r["site_admin"] else "",
                "yes" if r["has_password"] else "no",
                "disabled" if r["disabled"] else "enabled",
                ", ".join(f"{w['name']} ({w['role']})" for w in r["workspaces"]) or "-",
            ]
            for r in rows
        ],
    )
    return EXIT_OK


def _user_passwd(args) -> int:
    from trials.analysis.accounts import set_password

    engine = open_engine()
    # One's own password by default; --as names someone else (a site administrator).
    me = acting_user(default=args.name)
    password = read_password(args.name)
    user = set_password(engine, me.name, args.name, password)
    print(f"password of '{user.name}' changed by {me.name}")
    return EXIT_OK


def _user_disable(args) -> int:
    from trials.analysis.accounts import disable_user

    user = disable_user(open_engine(), acting_user().name, args.name)
    print(f"disabled '{user.name}': it can no longer sign in or act; its name stays on its work")
    return EXIT_OK


def _user_enable(args) -> int:
    from trials.analysis.accounts import enable_user

    user = enable_user(open_engine(), acting_user().name, args.name)
    print(f"enabled '{user.name}'")
    return EXIT_OK


def _user_log(args) -> int:
    from trials.analysis.accounts import account_log
    from trials.reports.contract import account_event_dict

    if args.limit < 1:
        raise CliError("--limit: give a whole number of at least 1")
    events = [
        account_event_dict(e)
        for e in account_log(open_engine(), acting_user().name, limit=args.limit)
    ]
    if args.json:
        print_json(events)
        return EXIT_OK
    for e in events:
        what = e["action"]
        if e["user"]:
            what += f" {e['user']}"
        if e["workspace"]:
            what += f" in '{e['workspace']}'" if e["user"] else f" '{e['workspace']}'"
        role = e["details"].get("role")
        if role:
            what += f" ({role})"
        print(f"{e['created_at'][:19].replace('T', ' ')}  {e['created_by']}: {what}")
    return EXIT_OK


def _workspace_add(args) -> int:
    from trials.analysis.accounts import add_workspace
    from trials.reports.contract import workspace_dict

    workspace = add_workspace(open_engine(), acting_user().name, args.name)
    if args.json:
        print_json(workspace_dict(workspace, Role.ADMIN))
        return EXIT_OK
    print(
        f"added workspace '{workspace.name}' (you are its admin); add members with: "
        f"python -m trials workspace grant '{workspace.name}' USER --role viewer|editor|admin"
    )
    return EXIT_OK


def _workspace_list(args) -> int:
    from trials.analysis.accounts import list_workspaces
    from trials.reports.contract import workspace_dict

    rows = [workspace_dict(w, r) for w, r in list_workspaces(open_engine(), acting_user().name)]
    if args.json:
        print_json(rows)
        return EXIT_OK
    if not rows:
        name, _ = acting_name()
        print(f"{name} is not a member of any workspace yet")
        return EXIT_OK
    print_table(
        ["id", "workspace", "your role"],
        [[r["id"], r["name"], r["role"] or "- (site administrator)"] for r in rows],
    )
    return EXIT_OK


def _workspace_members(args) -> int:
    from trials.analysis.accounts import members
    from trials.reports.contract import member_dict

    rows = [member_dict(m) for m in members(open_engine(), acting_user().name, args.name)]
    if args.json:
        print_json(rows)
        return EXIT_OK
    print_table(
        ["member", "role", "status"],
        [[r["user"], r["role"], "disabled" if r["disabled"] else ""] for r in rows],
    )
    return EXIT_OK


def _workspace_grant(args) -> int:
    from trials.analysis.accounts import grant

    m = grant(open_engine(), acting_user().name, args.name, args.user, args.role)
    print(f"{m.user.name} is now {_article(m.role.value)} {m.role.value} in '{m.workspace.name}'")
    return EXIT_OK


def _workspace_revoke(args) -> int:
    from trials.analysis.accounts import revoke

    m = revoke(open_engine(), acting_user().name, args.name, args.user)
    print(f"removed {m.user.name} ({m.role.value}) from '{m.workspace.name}'")
    return EXIT_OK


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
