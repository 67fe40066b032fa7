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
    check.add_argument(
        "--photo",
        action="append",
        default=[],
        metavar="FILE",
        help="an attached photo (repeat for more)",
    )
    check.add_argument(
        "--pictured",
        action="append",
        default=[],
        metavar="NAME",
        help="who is in the photos, as the register names them (repeat for more)",
    )
    check.add_argument(
        "--nobody-identifiable",
        action="store_true",
        help="the photos' faces cannot be recognised (backs of heads, far away)",
    )


def run(args: argparse.Namespace, home: Path) -> int:
    from tweetguard.checks.engine import Checker
    from tweetguard.protocol.handlers import Handler

    if not home.is_dir():
        print(f"tweetguard: note: the data folder {home} does not exist", file=sys.stderr)
    # A check from a terminal is not a post: it is not recorded in the audit.
    handler = Handler(Checker(home), record=False)
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
    elif args.photo:
        text = ""
    else:
        return fail(
            EX_USAGE,
            "give the post with --text T, --text-file F, --batch FILE.jsonl or - for stdin",
        )
    request: dict[str, Any] = {"id": 1, "type": "check", "text": text}
    if args.account or args.user_id:
        request["account"] = {"handle": args.account, "user_id": args.user_id}
    if args.pictured and not args.photo:
        return fail(EX_USAGE, "--pictured needs --photo")
    if args.photo:
        media = _media(handler, args)
        if isinstance(media, int):
            return media
        request["media"] = media
    reply = handler.handle(request)
    if args.json:
        print(json.dumps(reply, ensure_ascii=False))
    else:
        _print_human(reply)
    return _exit_for(reply)


def _media(handler: Any, args: argparse.Namespace) -> list[dict[str, Any]] | int:
    """The --photo files as media items, with --pictured resolved against the register."""
    import base64

    from tweetguard.protocol.messages import MAX_MEDIA

    if len(args.photo) > MAX_MEDIA:
        return fail(EX_USAGE, f"at most {MAX_MEDIA} photos in one post")
    refs = []
    for name in args.pictured:
        people = handler.checker.people().search(name, 50)
        wanted = " ".join(name.casefold().split())
        exact = [p for p in people if p.name.casefold() == wanted]
        chosen = exact or people
        if len(chosen) != 1:
            if not chosen:
                return fail(EX_USAGE, f"--pictured {name!r}: no one in the register by that name")
            names = "; ".join(f"{p.name} ({p.group})" for p in chosen[:8])
            return fail(
                EX_USAGE, f"--pictured {name!r} could be: {names}. Add the class or surname"
            )
        refs.append(chosen[0].ref)
    media = []
    for file in args.photo:
        path = Path(file)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return fail(EX_NOINPUT, f"no such file: {path}")
        except OSError as exc:
            return fail(EX_NOINPUT, f"cannot read {path}: {exc.strerror}")
        item: dict[str, Any] = {
            "name": path.name,
            "data": base64.b64encode(data).decode("ascii"),
            "pictured": refs,
            "nobody_identifiable": args.nobody_identifiable,
        }
        media.append(item)
    return media


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
    for index, photo in enumerate(reply.get("photos") or []):
        if photo is None:
            continue
        details = [f"{photo['faces']} face(s)"] if photo.get("width") else ["not readable"]
        gps = photo["metadata"]["gps"]
        if gps:
            details.append(f"GPS {gps['lat']:.5f}, {gps['lon']:.5f}")
        details += [f"{f['name']}: {f['value']}" for f in photo["metadata"]["fields"]]
        print(f"  photo {index + 1} ({photo['name']}): " + "; ".join(details))
        for number, box in enumerate(photo["boxes"], start=1):
            print(f"         face {number}: {box[0]},{box[1]} to {box[2]},{box[3]}")
    for finding in findings:
        where = f"photo {finding['media'] + 1}: " if "media" in finding else ""
        print(f"  {_MARK[finding['severity']]} {finding['rule']}: {where}{finding['message']}")
        fix = finding.get("fix")
        if fix and "media" in finding and "field" not in finding:
            remedy = {
                "clean": "tweetguard photo clean FILE -o COPY",
                "blur": "tweetguard photo blur FILE -o COPY",
                "pictured": "--pictured NAME (or --nobody-identifiable)",
            }.get(fix)
            if remedy:
                print(f"         fix: {remedy}")
        elif fix:
            print(f"         fix: replace with “{fix}”")
