"""`tweetguard accounts add|list|remove`: the X accounts approved for posting here."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tweetguard.cli.exits import EX_CANTCREAT, EX_CONFIG, EX_DATAERR, fail


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


def run(args: argparse.Namespace, home: Path) -> int:
    return cmd_accounts(args, home)


def cmd_accounts(args: argparse.Namespace, home: Path) -> int:
    from tweetguard.stores.home import policy_path
    from tweetguard.stores.policy import PolicyError, load_policy
    from tweetguard.stores.policy_edit import add_account, remove_account

    path = policy_path(home)
    try:
        if args.accounts_command == "add":
            new = add_account(path, args.handle, args.user_id, args.visibility)
            verb = "Approved" if new else "Updated"
            print(f"{verb} @{args.handle.lstrip('@')} ({args.visibility}) in {path}.")
            return 0
        if args.accounts_command == "remove":
            if remove_account(path, args.handle):
                print(f"Removed @{args.handle.lstrip('@')} from {path}.")
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
