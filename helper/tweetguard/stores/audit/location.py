"""Where this user writes, which files are read, and every source merged.

The shared audit is the data folder's own file. A user who cannot write it writes
`audit.d/<login>.sqlite3` (a folder of mode 1777 that IT creates), else a file in
their own data folder, and says so in one line. audit.d is writable by everyone, so
a file there is trusted only as far as its owner: a file this user does not own is
never written (anyone could have made `audit.d/bob.sqlite3` first), and a reader
labels each file by its owner, marking a file named for somebody else.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tweetguard.stores.audit.log import AuditLog, file_sha256
from tweetguard.stores.audit.migrate import migrate_pending
from tweetguard.stores.audit.model import (
    AuditError,
    AuditQuery,
    AuditRow,
    current_user,
    owner_name,
)

log = logging.getLogger("tweetguard.audit")

AUDIT_FILE = "audit.sqlite3"
PER_USER_DIR = "audit.d"
SUSPICIOUS = "suspicious"


@dataclass(frozen=True)
class AuditLocation:
    path: Path
    shared: bool
    why: str


@dataclass(frozen=True)
class BrokenSource:
    """An audit file that could not be read: skipped by `merged`, shown to people."""

    source: str
    path: Path
    problem: str  # one line: what is wrong with the file and what to do


@dataclass(frozen=True)
class Merged:
    rows: list[AuditRow]
    broken: list[BrokenSource]


def _writable_dir(folder: Path) -> bool:
    """Whether this user could create files in `folder` (or create the folder)."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)


def _writable_file(path: Path) -> bool:
    return not path.exists() or os.access(path, os.W_OK)


def safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".")
    return cleaned or "user"


def _own_fallback(home: Path) -> Path:
    from platformdirs import user_data_dir

    key = hashlib.sha256(str(home.absolute()).encode("utf-8")).hexdigest()[:12]
    return Path(user_data_dir("tweetguard", appauthor=False)) / "audit" / f"{key}.sqlite3"


def _foreign(path: Path) -> str | None:
    """Why this user must not write `path` though the modes allow it: a symlink, or
    a file somebody else owns. None when it is missing or this user's own."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return f"belongs to {owner_name(st.st_uid)}"
    return None


def audit_location(home: Path) -> AuditLocation:
    """Where this user writes, and why, in one plain line: never silently elsewhere."""
    shared = home / AUDIT_FILE
    user = current_user()
    if _writable_dir(home) and _writable_file(shared):
        return AuditLocation(shared, True, f"writing the shared audit {shared}")
    reason = (
        f"the data folder {home} is not writable by {user}"
        if not _writable_dir(home)
        else f"the shared audit {shared} is not writable by {user}"
    )
    per_user_dir = home / PER_USER_DIR
    mine = per_user_dir / f"{safe_name(user)}.sqlite3"
    own = _own_fallback(home)
    if per_user_dir.is_dir() and _writable_dir(per_user_dir) and _writable_file(mine):
        foreign = _foreign(mine)
        if foreign is None:
            return AuditLocation(
                mine,
                False,
                f"{reason}; writing {mine} (the console merges it with the shared audit)",
            )
        return AuditLocation(
            own,
            False,
            f"{reason}, and {mine} {foreign}, not {user}, so it is not used; writing {own} "
            f"on this machine only (ask IT to look at who made {mine} and remove it)",
        )
    return AuditLocation(
        own,
        False,
        f"{reason} and it has no writable {PER_USER_DIR} folder; writing {own} on this "
        f"machine only (ask IT to create {per_user_dir} with mode 1777 so the console sees it)",
    )


def open_audit(home: Path) -> AuditLog:
    """The audit this user writes to (shared, else per-user); an old events.jsonl is
    migrated into the shared one first."""
    location = audit_location(home)
    source = "shared" if location.shared else f"user:{current_user()}"
    audit = AuditLog(location.path, source=source)
    if location.shared:
        migrate_pending(audit, home)
    return audit


def per_user_label(path: Path) -> str:
    """A per-user file's source, by its owner: `user:<owner>`, with a mark when the
    file is named for somebody else (forged, or an account renamed since)."""
    try:
        st = os.lstat(path)
    except OSError:
        return f"user:{path.stem}"
    if not hasattr(os, "getuid"):  # no owners to go by: the file name
        return f"user:{path.stem}"
    owner = owner_name(st.st_uid)
    if stat.S_ISLNK(st.st_mode):
        return f"user:{owner} ({SUSPICIOUS}: {path.name} is a symbolic link)"
    if safe_name(owner) != path.stem:
        return f"user:{owner} ({SUSPICIOUS}: the file is named {path.name})"
    return f"user:{owner}"


def audit_sources(home: Path) -> list[AuditLog]:
    """Every audit readable from here: the shared one, each audit.d file (labelled by
    its owner), and this user's own fallback."""
    found: list[AuditLog] = []
    seen: set[Path] = set()

    def add(path: Path, source: str) -> None:
        key = path.resolve()
        if key in seen or not path.is_file():
            return
        seen.add(key)
        found.append(AuditLog(path, source=source))

    add(home / AUDIT_FILE, "shared")
    per_user = home / PER_USER_DIR
    if per_user.is_dir():
        for path in sorted(per_user.glob("*.sqlite3")):
            add(path, per_user_label(path))
    add(_own_fallback(home), f"user:{current_user()}")
    return found


def merged(home: Path, query: AuditQuery | None = None) -> Merged:
    """Rows of every readable source by time (oldest first; newest first with a
    limit), and the sources skipped because they cannot be read. Any teacher owns
    their own audit.d file, so one damaged file must not hide everybody's rows."""
    query = query or AuditQuery()
    rows: list[AuditRow] = []
    broken: list[BrokenSource] = []
    for audit in audit_sources(home):
        try:
            rows.extend(audit.rows(query))
        except AuditError as exc:
            broken.append(BrokenSource(audit.source, audit.path, str(exc)))
        finally:
            audit.close()
    rows.sort(key=lambda r: (r.at, r.source, r.seq), reverse=query.limit is not None)
    if query.limit is not None:
        rows = rows[: query.limit]
    return Merged(rows, broken)


def merged_rows(home: Path, query: AuditQuery | None = None) -> list[AuditRow]:
    """`merged(...).rows`: for callers that only show rows (unreadable sources skipped)."""
    return merged(home, query).rows


def record_change(
    home: Path,
    kind: str,
    *,
    by: str,
    detail: Mapping[str, Any] | None = None,
    policy_file: Path | None = None,
    account: str | None = None,
    account_id: str | None = None,
) -> AuditRow | None:
    """Records one change made outside the helper (CLI, console, X API) and closes the
    audit again. The change is already made, so an audit that cannot be written is
    logged and answered None for the caller to say, never raised. `policy_file`: the
    change rewrote the policy file, whose new SHA-256 goes into the row, so the
    helper's policy watch knows this content and does not record it a second time."""
    fields: dict[str, Any] = {**(detail or {}), "by": by}
    if policy_file is not None:
        fields["policy_sha256"] = file_sha256(policy_file)[0]
    try:
        audit = open_audit(home)
        try:
            return audit.append(kind, account=account, account_id=account_id, detail=fields)
        finally:
            audit.close()
    except (AuditError, OSError, sqlite3.Error) as exc:
        log.warning("audit row (%s) not written: %s", kind, exc)
        return None
