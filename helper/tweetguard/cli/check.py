"""`tweetguard check`: one post, a file, stdin or a batch, through the browser's own handler."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tweetguard.cli.exits import (
    ERROR_EXIT,
    EX_DATAERR,
    EX_NOINPUT,
    EX_USAGE,
    EXIT_ALLOW,
    VERDICT_EXIT,
    fail,
)


def add(sub: Any) -> None:
    check = sub.add_parser("check", help="check a post and print the findings")
    source = check.add_mutually_exclusive_group()
    source.add_argument("--text", metavar="T", help="the post text")
    source.add_argument("--text-file", metavar="F", help="read the post text from a file")
    source.add_argument(
        "--batch", metavar="FILE.jsonl", help='one {"text": ...} object per line (needs --json)'
    )
    source.add_argument(
        "stdin", nargs="?", choices=["-"], help="read the post text from standard input"
    )
    check.add_argument("--account", metavar="HANDLE", help="the X account that would post it")
    check.add_argument("--user-id", metavar="ID", help="that account's numeric X id")
    check.add_argument("--json", action="store_true", help="print the protocol's reply object")


def run(args: argparse.Namespace, home: Path) -> int:
    from tweetguard.checks.engine import Checker
    from tweetguard.protocol.handlers import Handler

    if not home.is_dir():
        print(f"tweetguard: note: the data folder {home} does not exist", file=sys.stderr)
    handler = Handler(Checker(home))
    if args.batch:
        if not args.json:
            return fail(EX_USAGE, "--batch needs --json")
        return _check_batch(handler, Path(args.batch), account=args.account, user_id=args.user_id)
    if args.text is not None:
        text = args.text
    elif args.text_file is not None:
        try:
            text = Path(args.text_file).read_text(encoding="utf-8")
        except FileNotFoundError:
            return fail(EX_NOINPUT, f"no such file: {args.text_file}")
        except (OSError, UnicodeDecodeError) as exc:
            return fail(EX_DATAERR, f"cannot read {args.text_file} as UTF-8 text: {exc}")
    elif args.stdin == "-":
        try:
            text = sys.stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            return fail(EX_DATAERR, f"standard input is not UTF-8 text: {exc}")
    else:
        return fail(
            EX_USAGE,
            "give the post with --text T, --text-file F, --batch FILE.jsonl or - for stdin",
        )
    request: dict[str, Any] = {"id": 1, "type": "check", "text": text}
    if args.account or args.user_id:
        request["account"] = {"handle": args.account, "user_id": args.user_id}
    reply = handler.handle(request)
    if args.json:
        print(json.dumps(reply, ensure_ascii=False))
    else:
        _print_human(reply)
    return _exit_for(reply)


def _exit_for(reply: dict[str, Any]) -> int:
    if reply.get("ok"):
        return VERDICT_EXIT[reply["verdict"]]
    return ERROR_EXIT.get(reply["error"]["code"], EX_DATAERR)


def _check_batch(handler: Any, path: Path, *, account: str | None, user_id: str | None) -> int:
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return fail(EX_NOINPUT, f"no such file: {path}")
    except OSError as exc:
        return fail(EX_NOINPUT, f"cannot read {path}: {exc.strerror}")
    worst = EXIT_ALLOW
    error_exit: int | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except (ValueError, RecursionError):
            item = None
        if isinstance(item, dict):
            request = {"id": number, **item, "type": "check"}
            if (account or user_id) and "account" not in item:
                request["account"] = {"handle": account, "user_id": user_id}
            reply = handler.handle(request)
        else:
            reply = handler.handle_payload(line) if item is None else handler.handle(item)
            reply["id"] = number
        if reply.get("ok"):
            worst = max(worst, VERDICT_EXIT[reply["verdict"]])
        else:
            # A broken register or policy is the same exit as for one check (74, 78);
            # anything else wrong with a line is 65.
            code = ERROR_EXIT.get(reply["error"]["code"], EX_DATAERR)
            error_exit = code if error_exit is None else max(error_exit, code)
            print(
                f"tweetguard: line {number}: "
                + (reply["error"].get("detail") or reply["error"]["message"]),
                file=sys.stderr,
            )
        print(json.dumps(reply, ensure_ascii=False), flush=False)
    sys.stdout.flush()
    return error_exit if error_exit is not None else worst


_MARK = {"block": "BLOCK", "warn": "WARN ", "info": "INFO "}


def _print_human(reply: dict[str, Any]) -> None:
    if not reply.get("ok"):
        error = reply["error"]
        print(f"HELD: {error['message']}")
        if error.get("detail"):
            print(f"  ({error['detail']})")
        return
    length = reply["length"]
    findings = reply["findings"]
    print(
        f"{reply['verdict'].upper()}: {len(findings)} finding(s), "
        f"length {length['weighted']}/{length['max']}"
    )
    for finding in findings:
        print(f"  {_MARK[finding['severity']]} {finding['rule']}: {finding['message']}")
        if finding.get("fix"):
            print(f"         fix: replace with “{finding['fix']}”")
