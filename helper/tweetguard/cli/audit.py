"""`tweetguard audit verify|export|status`: the audit log from a terminal.

`verify` walks every audit readable from here (the shared one, each teacher's file in
audit.d, this user's own fallback) and names the first bad row of each; `export`
writes them merged by time as CSV or JSON lines; `status` says, one line each, where
this user writes and why, and each source's rows and chain.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from contextlib import nullcontext
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from tweetguard.cli.exits import EX_CANTCREAT, EX_DATAERR, EX_USAGE, fail


def add(sub: Any, parser_class: type) -> None:
    audit = sub.add_parser("audit", help="verify, export or describe the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, parser_class=parser_class)
    audit_sub.add_parser(
        "verify", help="check every audit's hash chain; names the first bad row of each"
    )
    export = audit_sub.add_parser("export", help="write the audit rows of a period")
    export.add_argument(
        "--since", required=True, metavar="DATE", help="first day (YYYY-MM-DD) or time, inclusive"
    )
    export.add_argument(
        "--until", metavar="DATE", help="last day (YYYY-MM-DD), inclusive; or a time, exclusive"
    )
    export.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    audit_sub.add_parser("status", help="where this user's audit rows go, and each audit's state")


def run(args: argparse.Namespace, home: Path) -> int:
    if args.audit_command == "verify":
        return cmd_verify(home)
    if args.audit_command == "export":
        return cmd_export(args, home)
    return cmd_status(home)


def cmd_verify(home: Path) -> int:
    from tweetguard.stores.audit import audit_sources

    sources = audit_sources(home)
    if not sources:
        print(f"No audit yet under {home}: nothing to verify.")
        return 0
    bad = 0
    for log in sources:
        result = log.verify()
        log.close()
        print(f"{log.source} ({log.path}): {result.problem}")
        bad += not result.ok
    if bad:
        return fail(
            EX_DATAERR,
            f"{bad} audit file(s) failed verification; compare with an exported or off-machine "
            "copy to see what changed",
        )
    return 0


def parse_when(value: str) -> date | datetime:
    """A day (YYYY-MM-DD) or an ISO time; a time without a zone is taken as UTC."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date; give YYYY-MM-DD (or a time like 2026-11-28T09:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_export(args: argparse.Namespace, home: Path) -> int:
    from tweetguard.stores.audit import AuditQuery, export, merged_rows

    try:
        since = parse_when(args.since)
        until = parse_when(args.until) if args.until else None
    except ValueError as exc:
        return fail(EX_USAGE, str(exc))
    rows = merged_rows(home, AuditQuery(since=since, until=until))
    target: Any = nullcontext(sys.stdout)
    if args.output:
        try:
            target = open(args.output, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            return fail(EX_CANTCREAT, f"cannot write {args.output}: {exc.strerror}")
    with target as out:
        count = export(rows, args.format, out)
    where = args.output or "stdout"
    print(f"Exported {count:,} audit row(s) to {where}.", file=sys.stderr)
    return 0


def cmd_status(home: Path) -> int:
    from tweetguard.stores.audit import audit_location, audit_sources, current_user
    from tweetguard.stores.audit.migrate import pending

    location = audit_location(home)
    print(f"{'ok' if location.shared else 'note'}: this user ({current_user()}): {location.why}")
    for waiting in pending(home):
        print(
            f"note: {waiting} is not migrated yet; it moves into the audit the next "
            "time the helper or a command opens it with write access to the data folder"
        )
    sources = audit_sources(home)
    if not sources:
        print(f"note: no audit yet under {home}; the first check at posting creates it")
        return 0
    bad = 0
    for log in sources:
        result = log.verify()
        rows = log.count() if result.ok else result.rows
        log.close()
        word = "ok" if result.ok else "FAIL"
        print(f"{word}: {log.source} {log.path}: {rows:,} row(s); {result.problem}")
        bad += not result.ok
    return EX_DATAERR if bad else 0


def record(
    home: Path,
    kind: str,
    detail: Mapping[str, Any],
    *,
    account: str | None = None,
    account_id: str | None = None,
    policy_file: Path | None = None,
    stream: TextIO | None = None,
) -> bool:
    """Records a change made from the command line. The change is made either way;
    a row that cannot be written is said on stderr, never silently dropped."""
    from tweetguard.stores.audit import record_change

    row = record_change(
        home,
        kind,
        by="cli",
        detail=detail,
        policy_file=policy_file,
        account=account,
        account_id=account_id,
    )
    if row is None:
        print(
            "tweetguard: note: the change was made but not recorded in the audit; "
            "run `tweetguard audit status` to see why",
            file=stream or sys.stderr,
        )
        return False
    return True
