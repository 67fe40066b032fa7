"""`tweetguard accounts add|list|remove|credentials|verify|sweep`: the X accounts approved
for posting here, and what X's API says about them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tweetguard.cli.exits import (
    EX_CANTCREAT,
    EX_CONFIG,
    EX_DATAERR,
    EX_TEMPFAIL,
    EX_UNAVAILABLE,
    EX_USAGE,
    fail,
)


def add(sub: Any, parser_class: type) -> None:
    accounts = sub.add_parser("accounts", help="the X accounts approved for posting here")
    accounts_sub = accounts.add_subparsers(
        dest="accounts_command", required=True, parser_class=parser_class
    )
    add = accounts_sub.add_parser("add", help="approve an account (or update one)")
    add.add_argument("handle", metavar="HANDLE")
    add.add_argument(
        "--user-id", metavar="ID", help="X's numeric id for the account (survives renames)"
    )
    add.add_argument("--visibility", choices=["public", "protected"], default="public")
    accounts_sub.add_parser("list", help="list the approved accounts")
    remove = accounts_sub.add_parser("remove", help="withdraw an account's approval")
    remove.add_argument("handle", metavar="HANDLE")
    add_x_api(accounts_sub)


def run(args: argparse.Namespace, home: Path) -> int:
    if args.accounts_command in X_API_COMMANDS:
        return run_x_api(args, home)
    return cmd_accounts(args, home)


def cmd_accounts(args: argparse.Namespace, home: Path) -> int:
    from tweetguard.cli.audit import record
    from tweetguard.stores.home import policy_path
    from tweetguard.stores.policy import PolicyError, load_policy
    from tweetguard.stores.policy_edit import add_account, remove_account

    path = policy_path(home)
    try:
        if args.accounts_command == "add":
            new = add_account(path, args.handle, args.user_id, args.visibility)
            verb = "Approved" if new else "Updated"
            print(f"{verb} @{args.handle.lstrip('@')} ({args.visibility}) in {path}.")
            record(
                home,
                "accounts",
                {"what": "approved" if new else "updated", "visibility": args.visibility},
                account=args.handle,
                account_id=args.user_id,
                policy_file=path,  # so the helper's policy watch does not record it again
            )
            return 0
        if args.accounts_command == "remove":
            if remove_account(path, args.handle):
                print(f"Removed @{args.handle.lstrip('@')} from {path}.")
                record(home, "accounts", {"what": "removed"}, account=args.handle, policy_file=path)
                return 0
            return fail(EX_DATAERR, f"@{args.handle.lstrip('@')} is not an approved account")
        policy = load_policy(path)
    except PolicyError as exc:
        return fail(EX_CONFIG, str(exc))
    except OSError as exc:
        return fail(
            EX_CANTCREAT,
            f"cannot write {exc.filename or path}: {exc.strerror}; run as the user who owns "
            "the data folder (IT: sudo), or choose another with --home",
        )
    if not policy.accounts:
        print("No account is approved yet, so every post is held. Add one with:")
        print("  tweetguard accounts add HANDLE --user-id ID --visibility public")
        return 0
    for account in policy.accounts:
        user_id = account.user_id or "(no user id)"
        print(f"@{account.handle}\t{user_id}\t{account.visibility}")
    return 0


# --- credentials, verify, sweep: the X API (tweetguard.xapi) -------------------------

X_API_COMMANDS = ("credentials", "verify", "sweep")


def add_x_api(accounts_sub: Any) -> None:
    creds = accounts_sub.add_parser(
        "credentials",
        help="store, show or delete the school's X API credentials (never shown again)",
        description="Secret values are read from standard input or a hidden prompt, "
        "never from the command line (where other users and the shell history see them).",
    )
    kind = creds.add_mutually_exclusive_group(required=True)
    kind.add_argument(
        "--bearer-token", action="store_true", help="store an app-only bearer token (read-only)"
    )
    kind.add_argument(
        "--oauth1",
        action="store_true",
        help="store OAuth 1.0a keys: consumer key, consumer secret, access token, access "
        "token secret (one a line on stdin)",
    )
    kind.add_argument(
        "--oauth2-user", action="store_true", help="store an OAuth 2.0 user access token"
    )
    kind.add_argument("--show", action="store_true", help="say what kind is stored, and where")
    kind.add_argument("--delete", action="store_true", help="delete the stored credentials")
    verify = accounts_sub.add_parser(
        "verify",
        help="look the approved accounts up on X: ids, renames, look-alikes, protection, profile",
    )
    verify.add_argument("--json", action="store_true", help="print the results as JSON")
    _max_wait(verify)
    sweep = accounts_sub.add_parser(
        "sweep",
        help="check the approved accounts' recent posts, and audit those made without tweetguard",
    )
    sweep.add_argument(
        "--since",
        metavar="DATE",
        help="read posts from this day (YYYY-MM-DD) instead of since the last sweep",
    )
    sweep.add_argument("--json", action="store_true", help="print the results as JSON")
    sweep.add_argument(
        "--wait",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="wait this long for another sweep of this data folder to finish (default 10)",
    )
    _max_wait(sweep)


def _max_wait(parser: Any) -> None:
    parser.add_argument(
        "--max-wait",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="wait out X's rate limit when it resets within this time (default 60)",
    )


def run_x_api(args: argparse.Namespace, home: Path) -> int:
    from tweetguard.stores.audit import AuditError
    from tweetguard.stores.secrets import SecretsError
    from tweetguard.xapi.client import RateLimited, XApiError
    from tweetguard.xapi.credentials import CredentialsError

    try:
        if args.accounts_command == "credentials":
            return _credentials(args, home)
        if args.accounts_command == "verify":
            return _verify(args, home)
        return _sweep(args, home)
    except CredentialsError as exc:
        return fail(EX_CONFIG, str(exc))
    except SecretsError as exc:
        return fail(EX_CANTCREAT, f"{exc}; fix the keyring, or see docs/x-api.md")
    except RateLimited as exc:
        return fail(EX_TEMPFAIL, str(exc))
    except XApiError as exc:
        return fail(EX_UNAVAILABLE, str(exc))
    except AuditError as exc:
        return fail(EX_CANTCREAT, str(exc))


def _credentials(args: argparse.Namespace, home: Path) -> int:
    from tweetguard.xapi import credentials

    if args.show:
        print(credentials.stored(home).describe())
        return 0
    if args.delete:
        if not credentials.delete(home):
            print("No X API credentials were stored; nothing deleted.")
            return 0
        print("Deleted the X API credentials; verify and sweep need new ones.")
        return _record_credentials(home, "credentials-deleted", None)
    kind = "bearer" if args.bearer_token else "oauth1" if args.oauth1 else "oauth2-user"
    values = _read_values(credentials.FIELDS[kind])
    if values is None:
        return fail(
            EX_USAGE,
            "no secret was given; pipe it in (one value a line) or run in a terminal to be asked",
        )
    new = credentials.make(kind, values)
    where = credentials.save(home, new)
    print(f"Stored {credentials.LABELS[kind]} in {where.store.describe()}.")
    print("Check them with `tweetguard accounts verify`.")
    return _record_credentials(home, "credentials-stored", new.kind)


def _record_credentials(home: Path, action: str, kind: str | None) -> int:
    """The change is made either way; an audit that cannot record it is said."""
    from tweetguard.stores.audit import AuditError
    from tweetguard.xapi import credentials

    try:
        credentials.record(home, action, kind=kind)
    except AuditError as exc:
        return fail(EX_CANTCREAT, f"done, but the audit could not record it: {exc}")
    return 0


def _read_values(fields: tuple[str, ...]) -> dict[str, str] | None:
    """Secrets from stdin (one a line) or a hidden prompt: never argv."""
    import getpass
    import sys

    if sys.stdin.isatty():
        return {f: getpass.getpass(f"{f.replace('_', ' ').capitalize()}: ") for f in fields}
    lines = [line.strip() for line in sys.stdin.read().splitlines() if line.strip()]
    if not lines:
        return None
    return {f: lines[i] if i < len(lines) else "" for i, f in enumerate(fields)}


def _client(args: argparse.Namespace, home: Path) -> Any:
    from tweetguard.xapi.client import XClient
    from tweetguard.xapi.credentials import require

    return XClient(require(home), max_wait=args.max_wait)


def _verify(args: argparse.Namespace, home: Path) -> int:
    import json

    from tweetguard.stores.policy import PolicyError
    from tweetguard.xapi.accounts import verify

    client = _client(args, home)
    try:
        result = verify(home, client, by="cli")
    except PolicyError as exc:
        return fail(EX_CONFIG, str(exc))
    if args.json:
        out = {"ok": result.ok, "accounts": [a.to_json() for a in result.accounts]}
        print(json.dumps(out, ensure_ascii=False))
    elif not result.accounts:
        print("No account is approved yet; add one with `tweetguard accounts add HANDLE`.")
    for report in result.accounts if not args.json else []:
        user = report.user
        shown = f"id {report.user_id}" if report.user_id else "no id"
        if report.resolved:
            shown += " (stored now)"
        state = ("protected" if user.protected else "public") if user else "unknown"
        print(f"@{report.handle}\t{shown}\ton X: {state}\tpolicy: {report.visibility}")
        for line in report.notes:
            print(f"  note: {line}")
        for line in report.problems:
            print(f"  PROBLEM: {line}")
        for item in report.profile:
            print(f"  {'advice' if item.rule.advice else 'profile'}: {item.message}")
            print(f"      fix: {item.fix}")
        if report.ok:
            print("  ok: the account and its profile are as the guidance asks")
    if not result.accounts:
        return 1
    return 0 if result.ok else 1


def _sweep(args: argparse.Namespace, home: Path) -> int:
    import json
    import sys
    from datetime import date

    from tweetguard.cli.exits import VERDICT_EXIT
    from tweetguard.stores.policy import PolicyError
    from tweetguard.xapi.sweep import SweepBusy, SweepError, sweep

    since = None
    if args.since:
        try:
            since = date.fromisoformat(args.since)
        except ValueError:
            return fail(EX_USAGE, f"--since {args.since!r} is not a date; write it as YYYY-MM-DD")
    client = _client(args, home)
    try:
        result = sweep(home, client, since=since, wait=max(args.wait, 0.0))
    except SweepBusy as exc:
        return fail(EX_TEMPFAIL, str(exc))
    except (SweepError, PolicyError) as exc:
        return fail(EX_CONFIG, str(exc))
    for note in result.notes:
        print(f"tweetguard: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    for account in result.accounts if not args.json else []:
        if account.problem:
            print(f"@{account.handle}: {account.problem}")
            continue
        print(
            f"@{account.handle}: {account.read} post(s) read, {account.through_tweetguard} "
            f"sent through tweetguard, {account.already_seen} swept before, "
            f"{len(account.posts)} new from outside tweetguard"
        )
        for post in account.posts:
            mark = {"ok": "ok   ", "warn": "WARN ", "block": "BLOCK"}[post.verdict]
            print(f"  {mark} {post.url} ({post.created_at})")
            for rule, message in zip(post.rules, post.messages, strict=False):
                print(f"        {rule}: {message}")
            for message in post.messages[len(post.rules) :]:  # notes about the reading
                print(f"        note: {message}")
    worst = max(
        (p.verdict for p in result.flagged), key=["ok", "warn", "block"].index, default="ok"
    )
    problems = any(a.problem for a in result.accounts)
    code = VERDICT_EXIT["allow" if worst == "ok" else worst]
    return max(code, 1) if problems else code
