"""Reading the audit sources for a page, and whether each one's hash chain holds.

Two jobs that share one worry: a source may be damaged. The store's `merged`
skips a damaged file (a per-user audit its owner could have edited, a truncated
copy) and says why in one line, which the pages show, instead of the page
going down with it.

The chain check: `AuditLog.verify` walks every row, 2.4 s at 100k rows, far too
slow for each page load. `ChainChecks` keeps, per audit file, the last row it
vouched for (seq and hash); a page load checks only the rows written since
(each one's own hash and its link to the one before), and the full walk runs
again at most every FULL_SECONDS, or when the admin presses "Verify now". The
page says when the last full walk ran; `tweetguard audit verify` always walks
everything.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tweetguard.stores.audit import (
    AuditError,
    AuditLog,
    AuditQuery,
    AuditRow,
    BrokenSource,
    audit_sources,
    merged,
    row_hash,
)

FULL_SECONDS = 300.0  # the longest a page relies on the incremental check alone

# What reading a damaged audit file can raise: the store's own error, SQLite's,
# and a row whose JSON columns no longer parse.
READ_ERRORS = (AuditError, sqlite3.Error, ValueError, TypeError, KeyError)


@dataclass(frozen=True)
class SourceState:
    source: str
    path: str
    rows: int
    ok: bool
    problem: str
    full_at: str | None  # when the whole chain was last walked (UTC, for people)


def broken_problem(exc: BaseException) -> str:
    """One line for a read that failed: the store's own words when it has them."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"cannot be read ({text})"


def read_sources(
    home: Path, query: AuditQuery, upto: dict[str, int] | None = None
) -> tuple[list[AuditRow], list[BrokenSource]]:
    """Rows of every readable source by time (newest first when limited), and the
    sources the store skipped as damaged (each with its one-line problem, which
    names the file and row and says to run `tweetguard audit verify`). `upto`
    (source -> seq) leaves out rows written after a page took its live-feed
    cursors, so the feed, not the page, shows them."""
    found = merged(home, query)
    rows = found.rows
    if upto is not None:
        rows = [r for r in rows if r.seq <= upto.get(r.source, 0)]
    return rows, found.broken


def cursors(home: Path) -> dict[str, int]:
    """Each source's last row now: taken BEFORE a page reads its rows, so a row
    written while the page is built is either shown or sent by the feed."""
    found: dict[str, int] = {}
    for log in audit_sources(home):
        try:
            found[log.source] = log.last_seq()
        except READ_ERRORS:
            found[log.source] = 0
        finally:
            log.close()
    return found


@dataclass
class _Known:
    seq: int  # the last row vouched for
    hash: str
    full_mono: float  # when the full walk ran (clock), and for people:
    full_at: str
    ok: bool = True
    problem: str = ""


def _fields(row: AuditRow) -> dict[str, Any]:
    fields = row.to_json()
    for key in ("source", "prev_hash", "hash"):
        fields.pop(key)
    return fields


def check_after(rows: list[AuditRow], seq: int, prev_hash: str) -> str | None:
    """The first problem in rows that follow row `seq` (whose hash is `prev_hash`),
    in the words `tweetguard audit verify` uses; None when they link up."""
    expected = seq + 1
    for row in rows:
        if row.seq != expected:
            return (
                f"row {expected} is missing"
                if row.seq > expected
                else f"row {row.seq} is out of place"
            )
        if row_hash(row.prev_hash, _fields(row)) != row.hash:
            return f"row {row.seq} was altered"
        if row.prev_hash != prev_hash:
            return f"row {row.seq - 1} was altered (its hash no longer links to row {row.seq})"
        prev_hash = row.hash
        expected += 1
    return None


class ChainChecks:
    """Per audit file, what the console last verified; one per app."""

    def __init__(
        self, full_seconds: float = FULL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.full_seconds = full_seconds
        self.clock = clock
        self.full_walks = 0  # how many full walks ran (tests read it)
        self._known: dict[Path, _Known] = {}
        self._lock = threading.Lock()

    def states(self, home: Path, *, full: bool = False) -> list[SourceState]:
        found = []
        for log in audit_sources(home):
            try:
                found.append(self._state(log, full=full))
            finally:
                log.close()
        return found

    def _state(self, log: AuditLog, *, full: bool) -> SourceState:
        with self._lock:
            known = self._known.get(log.path)
        due = known is None or full or self.clock() - known.full_mono >= self.full_seconds
        if not due and known is not None and known.ok:
            try:
                rows = log.rows(AuditQuery(after_seq=known.seq))
            except READ_ERRORS:
                rows, due = [], True
            else:
                if check_after(rows, known.seq, known.hash) is not None:
                    due = True  # the full walk names the problem exactly
                elif rows:
                    known = _Known(rows[-1].seq, rows[-1].hash, known.full_mono, known.full_at)
                    with self._lock:
                        self._known[log.path] = known
        if due:
            known = self._walk(log)
        assert known is not None
        return SourceState(
            log.source, str(log.path), known.seq, known.ok, known.problem, known.full_at
        )

    def _walk(self, log: AuditLog) -> _Known:
        self.full_walks += 1
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        mono = self.clock()
        try:
            verdict = log.verify()
            last = (
                log.rows(AuditQuery(after_seq=verdict.rows - 1, limit=None)) if verdict.rows else []
            )
        except READ_ERRORS as exc:
            known = _Known(0, "", mono, stamp, ok=False, problem=broken_problem(exc))
        else:
            head = next((r for r in last if r.seq == verdict.rows), None)
            if verdict.ok:
                known = _Known(verdict.rows, head.hash if head else "", mono, stamp)
            else:
                known = _Known(verdict.rows, "", mono, stamp, ok=False, problem=verdict.problem)
        with self._lock:
            self._known[log.path] = known
        return known
