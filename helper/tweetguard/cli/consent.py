"""`tweetguard consent import|list`: the consent register.

An import reads the whole file before anything changes, says how it read it
(encoding, separator, which header became which column), counts what it found
and what it skipped, shows what would change against the register in use, and
only then replaces the register, in one transaction. A file that would remove
most of the register is refused unless IT says --force: that is what a broken or
partial export looks like.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tweetguard.cli import faces
from tweetguard.cli.exits import (
    EX_CANTCREAT,
    EX_CONFIG,
    EX_DATAERR,
    EX_IOERR,
    EX_NOINPUT,
    fail,
)

if TYPE_CHECKING:
    from collections import Counter

    from tweetguard.stores.consent import Pupil
    from tweetguard.stores.register_import import Changes, ImportResult

# Problem lines shown before "... and N more" (--show-all lists every one).
SHOWN_PROBLEMS = 20
# Names listed per kind of change.
SHOWN_CHANGES = 10
# An import that removes more than this share of a register this size needs --force.
SHRINK_SHARE = 0.5
SHRINK_MIN = 20


def add(sub: Any, parser_class: type) -> None:
    consent = sub.add_parser("consent", help="manage the consent register")
    consent_sub = consent.add_subparsers(
        dest="consent_command", required=True, parser_class=parser_class
    )
    imp = consent_sub.add_parser(
        "import", help="replace the register with an MIS export (CSV or .xlsx)"
    )
    imp.add_argument("file", metavar="FILE")
    imp.add_argument(
        "--map",
        metavar="HEADER=COLUMN,...",
        help='name the file\'s columns, e.g. "Legal Surname=last_name,Known As=preferred_name"',
    )
    imp.add_argument(
        "--encoding", metavar="CODEC", help="read a CSV in this encoding (e.g. cp1250)"
    )
    imp.add_argument(
        "--dry-run", action="store_true", help="show what would change; change nothing"
    )
    imp.add_argument(
        "--strict", action="store_true", help="refuse the whole file if any row has a problem"
    )
    imp.add_argument(
        "--force",
        action="store_true",
        help="import even if the file would remove most of the register",
    )
    imp.add_argument("--show-all", action="store_true", help="list every problem line")
    imp.add_argument(
        "--staff",
        action="store_true",
        help="the file lists staff and their photo consent (replaces the staff only)",
    )
    consent_sub.add_parser("list", help="list the pupils in the register")
    faces.add(consent_sub, parser_class)  # enrol, forget, faces: face matching (cli/faces.py)


def run(args: argparse.Namespace, home: Path) -> int:
    if args.consent_command in faces.COMMANDS:
        return faces.run(args, home)
    if args.consent_command == "import":
        return cmd_import(args, home)
    return cmd_list(home)


def cmd_import(args: argparse.Namespace, home: Path) -> int:
    from tweetguard.stores.consent import ConsentRegister, RegisterUnwritable, is_corrupt
    from tweetguard.stores.home import policy_path, register_path
    from tweetguard.stores.policy import PolicyError, load_policy
    from tweetguard.stores.register_import import (
        ImportRefused,
        compare,
        parse_mapping,
        read_register,
    )

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return fail(EX_NOINPUT, f"no such file: {path}")
    except IsADirectoryError:
        return fail(EX_NOINPUT, f"{path} is a folder; give the register file")
    except OSError as exc:
        return fail(EX_NOINPUT, f"cannot read {path}: {exc.strerror}")
    try:
        saved = load_policy(policy_path(home)).register_columns
    except PolicyError as exc:
        return fail(EX_CONFIG, f"{exc}; fix it (`tweetguard policy check`) before importing")
    try:
        given = parse_mapping(args.map) if args.map else {}
        result = read_register(
            data,
            mapping={**saved, **given},
            required_headers=list(given),
            encoding=args.encoding,
        )
    except ImportRefused as exc:
        return fail(EX_DATAERR, f"{path}: import refused, the register is unchanged: {exc}")
    today = date.today()
    _report(path, result, today)
    _problem_lines(path, result, show_all=args.show_all)
    register = ConsentRegister(register_path(home))
    damaged = False
    moved_to: Path | None = None
    try:
        try:
            current = register.staff() if args.staff else list(register.pupils())
        except sqlite3.Error as exc:
            if not is_corrupt(exc):
                return fail(EX_IOERR, f"cannot read the register in use {register.path}: {exc}")
            current, damaged = [], True
            print(f"The register in use ({register.path}) is damaged and cannot be read ({exc}).")
        changes = compare(current, result.pupils, today)
        _report_changes(changes)
        if args.strict and result.problems:
            return fail(
                EX_DATAERR,
                f"{path}: import refused (--strict): {len(result.problems)} problem(s); "
                "the register is unchanged",
            )
        removed = len(changes.removed)
        if args.staff and damaged:
            return fail(
                EX_DATAERR,
                "the register in use is damaged: import the pupils first, then the staff",
            )
        if args.staff and not args.dry_run:
            # Staff are a short list beside the pupils: no name index, no shrink guard.
            register.replace_staff(result.pupils, source=str(path.absolute()))
            print(f"Imported {len(result.pupils):,} member(s) of staff into {register.path}.")
            _record_import(home, "staff import", path, changes, len(result.pupils))
            return 1 if result.problems else 0
        if (
            not args.force
            and changes.before >= SHRINK_MIN
            and removed > SHRINK_SHARE * changes.before
        ):
            return fail(
                EX_DATAERR,
                f"{path}: import refused: it would remove {removed:,} of the "
                f"{changes.before:,} pupils in the register. A partial or broken export looks "
                "like this; if it is right (a new school year, a new MIS), run it again with "
                "--force. The register is unchanged.",
            )
        if args.dry_run:
            print("Dry run: the register was not changed.")
            return 1 if result.problems else 0
        derived = _derived(result.pupils)
        source = str(path.absolute())
        if damaged:
            # Only now, with the new register about to be written, is the old one moved.
            moved_to = register.set_aside()
            print(f"It was moved aside to {moved_to}; this import replaces it.")
        try:
            summary = register.replace(result.pupils, source=source, derived=derived)
        except sqlite3.DatabaseError as exc:
            if not is_corrupt(exc):
                raise
            # Damage that reading did not reach: keep the file for IT, write afresh.
            print(f"The register in use is damaged ({exc}); moved aside to {register.set_aside()}.")
            summary = register.replace(result.pupils, source=source, derived=derived)
    except RegisterUnwritable as exc:
        if moved_to is not None:
            return fail(
                EX_CANTCREAT,
                f"{exc}; the damaged register was moved aside and no new one could be "
                "written, so posts are held until an import succeeds",
            )
        return fail(EX_CANTCREAT, f"{exc}; the register is unchanged")
    finally:
        register.close()
    print(f"Imported {summary.pupils:,} pupil(s) into {register.path}.")
    _record_import(home, "import", path, changes, summary.pupils)
    # 1, not 65: the register did load; the listed rows need IT's attention.
    return 1 if result.problems else 0


def _record_import(home: Path, what: str, path: Path, changes: Changes, people: int) -> None:
    """The register's change in the audit: counts only, never the names."""
    from tweetguard.cli.audit import record

    record(
        home,
        "register",
        {
            "what": what,
            "file": path.name,
            "people": people,
            "added": len(changes.added),
            "removed": len(changes.removed),
            "withdrawn": len(changes.withdrawn),
            "given": len(changes.given),
        },
    )


def _derived(pupils: list[Pupil]) -> dict[str, bytes]:
    """What the checks keep beside the register, built once here rather than by
    every helper that starts."""
    from tweetguard.checks.name_index import NameIndex

    return {NameIndex.STORED_AS: NameIndex(pupils).dump()}


def _report(path: Path, result: ImportResult, today: date) -> None:
    with_consent = result.with_consent(today)
    print(f"Read {path.name}: {result.description}.")
    print(f"Columns: {result.layout}.")
    if result.ignored:
        print(f"Not used: {', '.join(result.ignored)}.")
    if result.ignored_sheets:
        sheets = ", ".join(f"“{s}”" for s in result.ignored_sheets)
        print(f"Sheets with no register header, not read: {sheets}.")
    print(
        f"{result.rows:,} row(s): {len(result.pupils):,} pupil(s), {with_consent:,} with social "
        f"media consent today and {len(result.pupils) - with_consent:,} without."
    )
    skipped = result.skipped_by_reason()
    if skipped:
        total = sum(skipped.values())
        print(f"Skipped {total:,} row(s): {_counts(skipped)}.")
    loaded = result.loaded_with_problems()
    if loaded:
        print(f"Loaded with problems: {_counts(loaded)}.")


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{count:,} {reason}" for reason, count in counter.most_common())


def _problem_lines(path: Path, result: ImportResult, *, show_all: bool) -> None:
    problems = sorted(result.problems, key=lambda p: (p.sheet or "", p.line))
    if not problems:
        return
    shown = problems if show_all else problems[:SHOWN_PROBLEMS]
    sys.stdout.flush()
    for problem in shown:
        where = f"{path}[{problem.sheet}]" if problem.sheet else str(path)
        print(f"{where}:{problem.line}: {problem.message}", file=sys.stderr)
    if len(shown) < len(problems):
        print(
            f"... and {len(problems) - len(shown):,} more problem line(s); "
            "--show-all lists every one",
            file=sys.stderr,
        )
    sys.stderr.flush()


def _report_changes(changes: Changes) -> None:
    if not changes.before:
        print("No register was in use here before.")
        return
    if not changes.any:
        print(f"Against the register in use ({changes.before:,} pupils): no changes.")
        return
    print(
        f"Against the register in use ({changes.before:,} pupils): "
        f"{len(changes.added):,} added, {len(changes.removed):,} removed, "
        f"social media consent withdrawn for {len(changes.withdrawn):,} "
        f"and given for {len(changes.given):,}."
    )
    for label, pupils in (
        ("removed", changes.removed),
        ("added", changes.added),
        ("consent withdrawn", changes.withdrawn),
        ("consent given", changes.given),
    ):
        if pupils:
            names = ", ".join(_who(p) for p in pupils[:SHOWN_CHANGES])
            more = (
                f" and {len(pupils) - SHOWN_CHANGES:,} more" if len(pupils) > SHOWN_CHANGES else ""
            )
            print(f"  {label}: {names}{more}")


def _who(pupil: Pupil) -> str:
    group = f" ({pupil.group})" if pupil.group else ""
    return f"{pupil.first_name} {pupil.last_name}{group}"


def _consent_line(person: Pupil) -> str:
    social = "yes" if person.social_media else "no"
    expiry = f" until {person.consent_expires}" if person.consent_expires else ""
    return f"social media: {social}{expiry}"


def cmd_list(home: Path) -> int:
    from tweetguard.stores.consent import ConsentRegister
    from tweetguard.stores.home import register_path

    register = ConsentRegister(register_path(home))
    if not register.path.exists():
        return fail(
            EX_NOINPUT,
            f"no consent register in {home}; import one with `tweetguard consent import FILE`",
        )
    try:
        summary = register.summary()
        for p in register.pupils():
            name = f"{p.first_name} {p.last_name}" + (
                f" ({p.preferred_name})" if p.preferred_name else ""
            )
            print(f"{name}\t{p.group or '-'}\t{_consent_line(p)}")
        staff = register.staff()
        for p in staff:
            print(f"{p.first_name} {p.last_name}\tstaff\t{_consent_line(p)}")
    except sqlite3.Error as exc:
        return fail(
            EX_IOERR,
            f"the consent register {register.path} cannot be read ({exc}); import the register "
            "again: the import keeps the damaged file aside",
        )
    finally:
        register.close()
    print(
        f"{summary.pupils:,} pupil(s), {len(staff):,} member(s) of staff; "
        f"imported {summary.imported_at or 'never'} "
        f"from {summary.source or '-'}",
        file=sys.stderr,
    )
    return 0
