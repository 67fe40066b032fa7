"""`tweetguard doctor`: one line per link between browser and helper, with the fix.

Exit 0 when everything is ok or only warned about, 1 when anything failed, so IT
scripts and fleet tools can act on it; `--json` gives them every check by id.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tweetguard.cli.exits import EX_USAGE, fail

EXIT_HEALTHY, EXIT_BROKEN = 0, 1
DEFAULT_TIMEOUT = 10.0
# Where the page explaining every check is, in order: the .deb's copy, then a
# checkout's (a school machine has no source tree).
DOC_PLACES = (
    Path("/usr/share/doc/tweetguard/doctor.md"),
    Path(__file__).resolve().parents[3] / "docs" / "doctor.md",
)
_WORD = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}


def add(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "doctor",
        help="check every link between the browsers and the helper; one line each, with the fix",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON for fleet tools")
    p.add_argument(
        "--browser",
        action="append",
        metavar="NAME",
        help="check this browser only (repeatable; default: those installed or with a manifest)",
    )
    p.add_argument(
        "--extension-id",
        action="append",
        metavar="ID",
        help="the id the manifests must allow: a Chromium id (32 letters a-p) or a Firefox "
        "add-on id (default: the ids install-host recorded, else tweetguard's own)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="how long to wait for each host's answer and for the server "
        f"(default: {DEFAULT_TIMEOUT:g})",
    )


def run(args: argparse.Namespace, home: Path) -> int:
    from tweetguard.doctor import FAIL, Context
    from tweetguard.doctor import run as run_checks
    from tweetguard.install.browsers import BROWSERS
    from tweetguard.install.ids import check_chrome_id, check_firefox_id

    unknown = [b for b in args.browser or [] if b not in BROWSERS]
    if unknown:
        return fail(
            EX_USAGE,
            f"unknown browser(s) {', '.join(unknown)}; choose from {', '.join(BROWSERS)}",
        )
    chrome_ids: list[str] = []
    firefox_ids: list[str] = []
    for value in args.extension_id or []:
        try:
            chrome_ids.append(check_chrome_id(value))
        except ValueError as chrome_error:
            try:
                firefox_ids.append(check_firefox_id(value))
            except ValueError:
                return fail(
                    EX_USAGE,
                    f"{value!r} is neither a Chromium extension id (32 letters a-p) nor a "
                    f"Firefox add-on id (name@domain or {{GUID}}); {_tail(chrome_error)}",
                )
    timeout = DEFAULT_TIMEOUT if args.timeout is None else args.timeout
    if not 0 < timeout < float("inf"):
        return fail(EX_USAGE, f"--timeout {args.timeout:g}: give a number of seconds above 0")
    ctx = Context(
        home=home,
        browsers=list(dict.fromkeys(args.browser)) if args.browser else None,
        chrome_ids=chrome_ids,
        firefox_ids=firefox_ids,
        hello_timeout=timeout,
        server_timeout=timeout,
    )
    outcomes = []
    for outcome in run_checks(ctx):
        outcomes.append(outcome)
        if not args.json:
            line = f"{_WORD[outcome.status]} {outcome.title}: {outcome.message}"
            if outcome.status != "ok" and outcome.fix:
                line += f" — fix: {outcome.fix}"
            print(line, flush=True)
    broken = any(o.status == FAIL for o in outcomes)
    if args.json:
        json.dump(
            {"ok": not broken, "checks": [o.to_json() for o in outcomes]},
            sys.stdout,
            indent=1,
            ensure_ascii=False,
        )
        print()
    else:
        failed = sum(o.status == FAIL for o in outcomes)
        warned = sum(o.status == "warn" for o in outcomes)
        print(
            f"{failed} failed, {warned} warning{'s' * (warned != 1)}, "
            f"{len(outcomes) - failed - warned} ok (details: {doc_pointer()})"
        )
    return EXIT_BROKEN if broken else EXIT_HEALTHY


def doc_pointer(places: tuple[Path, ...] = DOC_PLACES) -> str:
    """The first copy of docs/doctor.md this machine has, or where to find one."""
    for place in places:
        if place.is_file():
            return str(place)
    return "docs/doctor.md in tweetguard's source"


def _tail(error: Exception) -> str:
    """The part of ids.py's message that says where to find the right id."""
    text = str(error)
    return text[text.find("(") + 1 : text.rfind(")")] if "(" in text else text
