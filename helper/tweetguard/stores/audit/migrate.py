"""The old events.jsonl moved into the shared audit, once, without losing a row.

The file is first renamed to a name of its own (`events.jsonl.<id>.migrating`): an
old helper still running after the upgrade opens events.jsonl afresh for each row,
so a row it writes later lands in a new events.jsonl (migrated at the next open)
rather than in a file that is being read. The rows and a marker (the content's
SHA-256) are written in one transaction, then the file is renamed `.migrated`: a
migration cut short anywhere is finished at the next open, and a file whose marker
is already there is only renamed, so no row is migrated twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from tweetguard.stores.audit.log import AuditLog
from tweetguard.stores.audit.model import KINDS, format_time, handle, now, sha256_text

EVENTS_FILE = "events.jsonl"
CLAIMED_SUFFIX = ".migrating"
_OLD_MARKER_KEY = "migrated:" + EVENTS_FILE  # one marker per data folder, before .migrating


def pending(home: Path) -> list[Path]:
    """events.jsonl and any claimed file a migration cut short left behind."""
    found = sorted(home.glob(f"{EVENTS_FILE}.*{CLAIMED_SUFFIX}"))
    events = home / EVENTS_FILE
    return [events, *found] if events.exists() else found


def _keep_overrides(home: Path) -> bool:
    """Whether migrated overrides keep their text: the policy's [audit] keep_text."""
    from tweetguard.stores.policy import PolicyError, load_policy

    try:
        return load_policy(home / "policy.toml").audit.keeps("override")
    except PolicyError:  # an unreadable policy: keep the hash only
        return False


def migrate_pending(log: AuditLog, home: Path) -> int:
    """Claims events.jsonl (renamed first) and migrates every claimed file; how many
    rows were added. A cheap stat when there is nothing to do."""
    events = home / EVENTS_FILE
    claimed = sorted(home.glob(f"{EVENTS_FILE}.*{CLAIMED_SUFFIX}"))
    if events.exists():
        mine = home / f"{EVENTS_FILE}.{os.getpid()}-{uuid.uuid4().hex[:8]}{CLAIMED_SUFFIX}"
        with contextlib.suppress(FileNotFoundError):  # another process claimed it first
            os.replace(events, mine)
            claimed.append(mine)
    if not claimed:
        return 0
    keep = _keep_overrides(home)
    return sum(migrate_events(log, path, keep_override_text=keep) for path in claimed)


def migrate_events(log: AuditLog, events: Path, *, keep_override_text: bool) -> int:
    """Moves one file's rows into the audit, then renames it `.migrated`.

    The rows and a marker (the file's SHA-256) are written in one transaction, so a
    migration cut short either happened fully or not at all; a second run that finds
    the marker only renames. Returns how many rows were added."""
    try:
        data = events.read_bytes()
    except FileNotFoundError:  # migrated and renamed by another process meanwhile
        return 0
    marker = hashlib.sha256(data).hexdigest()
    added = 0
    renamed = _renamed(events)
    with log._write() as conn:
        done = conn.execute(
            "SELECT 1 FROM meta WHERE key = ? OR (key = ? AND value = ?)",
            ("migrated:" + marker, _OLD_MARKER_KEY, marker),
        ).fetchone()
        if not done:
            for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
                if not line.strip():
                    continue
                log._insert(conn, **_migrated_fields(line, number, keep_override_text))
                added += 1
            log._insert(
                conn,
                at=now(),
                kind="migrated",
                account=None,
                account_id=None,
                verdict=None,
                rules=(),
                text_sha256=marker,
                text=None,
                detail={"from": EVENTS_FILE, "rows": added, "renamed_to": renamed.name},
                outside=False,
            )
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                ("migrated:" + marker, events.name),
            )
    with contextlib.suppress(FileNotFoundError):
        os.replace(events, renamed)
    return added


def _renamed(events: Path) -> Path:
    base = events.parent / (EVENTS_FILE + ".migrated")
    target = base
    number = 1
    while target.exists():
        number += 1
        target = base.with_name(f"{base.name}.{number}")
    return target


def _migrated_time(value: object) -> str:
    try:
        return format_time(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return now()


def _migrated_fields(line: str, number: int, keep_override_text: bool) -> dict[str, Any]:
    note = f"migrated from {EVENTS_FILE} line {number}; device and user are the migrating machine's"
    try:
        record = json.loads(line)
        if not isinstance(record, dict):
            raise ValueError("not an object")
    except ValueError:
        # Never lose a row: an unreadable line is kept as its hash.
        return {
            "at": now(),
            "kind": "migrated",
            "account": None,
            "account_id": None,
            "verdict": None,
            "rules": (),
            "text_sha256": sha256_text(line),
            "text": None,
            "detail": {"migration": note, "unreadable_line": True},
            "outside": False,
        }
    kind = str(record.pop("event", "migrated"))
    if kind not in KINDS:
        record["event"] = kind
        kind = "migrated"
    at = _migrated_time(record.pop("at", None))
    account = record.pop("handle", None)
    user_id = record.pop("user_id", None)
    rules = record.pop("rules", None) or ()
    text = record.pop("text", None)
    digest = record.pop("text_sha256", None)
    if isinstance(text, str):
        digest = sha256_text(text)
    detail: dict[str, Any] = json.loads(json.dumps(record, default=str))
    detail["migration"] = note
    return {
        "at": at,
        "kind": kind,
        "account": handle(account) if isinstance(account, str) else None,
        "account_id": str(user_id) if user_id is not None else None,
        "verdict": None,
        "rules": tuple(str(r) for r in rules) if isinstance(rules, list) else (),
        "text_sha256": digest if isinstance(digest, str) else None,
        "text": text
        if (keep_override_text and kind == "override" and isinstance(text, str))
        else None,
        "detail": detail,
        "outside": False,
    }
