"""One audit file: appending to the hash chain, reading it back, verifying it.

Writers are several processes at once (one host per browser profile, the CLI, the
console): every append is one `BEGIN IMMEDIATE` transaction that reads the head and
writes the next row, so the chain never forks. An append is durable against the
process being killed once it returns (the WAL commit is in the OS's hands);
synchronous=NORMAL trades the last commits on a power cut for a check that never
waits on fsync (figures in docs/audit.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from tweetguard.stores.audit.model import (
    COLUMNS,
    KINDS,
    VERDICTS,
    AuditError,
    AuditQuery,
    AuditRow,
    Verification,
    bound,
    canonical,
    handle,
    hashed_fields,
    now,
    row_hash,
    sha256_text,
)

log = logging.getLogger("tweetguard.audit")

BUSY_TIMEOUT_SECONDS = 10.0
# NORMAL in WAL mode: a commit is safe from the process being killed, not from a
# power cut (docs/audit.md has the measured difference).
SYNCHRONOUS = "NORMAL"
# SQLite's own checkpoint runs inside the commit that crosses its threshold and
# fsyncs: the slowest appends by far. Writers turn it off and copy the WAL back on a
# thread of their own every CHECKPOINT_EVERY appends of this process (about 3 MiB of
# WAL: a row commits three 4 KiB pages; one append in 250 then pays the WAL's final
# truncation, a few ms, which stays out of the p99: figures in docs/audit.md).
# Counting appends, not the WAL's size: the WAL file never shrinks below its
# high-water mark by itself, so its size says nothing about what is left to copy.
CHECKPOINT_EVERY = 250
# A WAL that starts over is cut back to this (journal_size_limit).
WAL_SIZE_LIMIT = 1 << 20

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    device TEXT NOT NULL,
    user TEXT NOT NULL,
    account TEXT,
    account_id TEXT,
    verdict TEXT,
    rules TEXT NOT NULL,
    text_sha256 TEXT,
    text TEXT,
    detail TEXT NOT NULL,
    outside INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rows_at ON rows (at);
CREATE TABLE IF NOT EXISTS head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_SELECT = f"SELECT {', '.join(COLUMNS)} FROM rows"

# One checkpoint thread per file per process, however many AuditLogs share the file.
_checkpointing: dict[str, threading.Lock] = {}
_checkpointing_guard = threading.Lock()


def _checkpoint_lock(path: Path) -> threading.Lock:
    with _checkpointing_guard:
        return _checkpointing.setdefault(str(path.absolute()), threading.Lock())


def _identity() -> tuple[str, str]:
    """Device and user, looked up on the package at each append: scripts that stage
    other devices (tests/e2e/screenshot_console.py) replace them there."""
    package: Any = sys.modules["tweetguard.stores.audit"]
    return str(package._device()), str(package._user())


def _access_problem(exc: sqlite3.Error) -> bool:
    """Busy, locked or unwritable (fixed by waiting or by file modes), as opposed to a
    file that is damaged or not an audit at all."""
    text = str(exc).lower()
    return any(word in text for word in ("locked", "busy", "unable to open", "readonly"))


class AuditLog:
    """One audit file. Opened lazily; safe to share between threads of one process."""

    def __init__(self, path: Path, *, source: str = "") -> None:
        self.path = Path(path)
        self.source = source
        self._conn: sqlite3.Connection | None = None
        self._readonly = False
        self._lock = threading.RLock()
        self._since_checkpoint = 0
        self.checkpoints = 0  # checkpoint threads started by this object (the bench reads it)
        self._checkpoint_thread: threading.Thread | None = None
        self._copied = threading.Event()  # the thread's checkpoint is done: truncate next

    # --- connection ---------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
            conn.execute("PRAGMA wal_autocheckpoint=0")
            conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            if _access_problem(exc):
                raise AuditError(
                    f"the audit {self.path} cannot be opened ({exc}); check the folder is "
                    "writable by this user, or run `tweetguard audit status`"
                ) from None
            raise AuditError(
                f"the audit {self.path} cannot be read ({exc}): it is damaged or not a "
                "tweetguard audit; move it aside or restore it from a copy"
            ) from None
        except (OSError, sqlite3.Error) as exc:
            raise AuditError(
                f"the audit {self.path} cannot be opened ({exc}); check the folder is "
                "writable by this user, or run `tweetguard audit status`"
            ) from None
        self._conn = conn
        return conn

    def _connect_for_reading(self) -> sqlite3.Connection | None:
        """A connection that can read: a file this user cannot write (another
        teacher's, or the shared one under a root install) is opened read-only."""
        if self._conn is not None:
            return self._conn
        if not self.path.exists():
            return None
        if os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK | os.X_OK):
            return self._connect()
        for mode in ("ro", "ro&immutable=1"):
            try:
                conn = sqlite3.connect(
                    f"file:{self.path}?mode={mode}",
                    uri=True,
                    timeout=BUSY_TIMEOUT_SECONDS,
                    isolation_level=None,
                    check_same_thread=False,
                )
                conn.execute("SELECT count(*) FROM rows").fetchone()
            except sqlite3.Error:
                continue
            self._conn = conn
            self._readonly = True
            return conn
        raise AuditError(
            f"the audit {self.path} cannot be read by this user (or is not an audit); "
            "ask IT to make it readable, or move it aside"
        )

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the write lock is taken before the head is read."""
        with self._lock:
            conn = self._connect()
            if self._readonly:
                raise AuditError(f"the audit {self.path} is open read-only here")
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise AuditError(
                    f"the audit {self.path} is busy or unwritable ({exc}); "
                    "run `tweetguard audit status`"
                ) from None
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise AuditError(f"the audit {self.path} could not be written ({exc})") from None

    # --- writing ------------------------------------------------------------

    def append(
        self,
        kind: str,
        *,
        account: str | None = None,
        account_id: str | None = None,
        verdict: str | None = None,
        rules: Sequence[str] = (),
        text: str | None = None,
        keep_text: bool = False,
        detail: Mapping[str, Any] | None = None,
        outside: bool = False,
        text_sha256: str | None = None,
        at: str | None = None,
    ) -> AuditRow:
        """Adds one row; durable against SIGKILL when it returns. `text` is hashed and
        kept only with keep_text; `text_sha256` is for a hash computed elsewhere."""
        if kind not in KINDS:
            raise ValueError(f"unknown audit kind {kind!r}; one of {', '.join(KINDS)}")
        if verdict is not None and verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {verdict!r}; one of {', '.join(VERDICTS)}")
        digest = sha256_text(text) if text is not None else text_sha256
        # Through JSON once, so what is hashed is exactly what is read back.
        clean_detail: dict[str, Any] = json.loads(json.dumps(dict(detail or {}), default=str))
        try:
            with self._write() as conn:
                row = self._insert(
                    conn,
                    at=at or now(),
                    kind=kind,
                    account=handle(account),
                    account_id=str(account_id) if account_id is not None else None,
                    verdict=verdict,
                    rules=tuple(str(r) for r in rules),
                    text_sha256=digest,
                    text=text if keep_text else None,
                    detail=clean_detail,
                    outside=bool(outside),
                )
        except sqlite3.Error as exc:
            raise AuditError(f"the audit {self.path} could not be written ({exc})") from None
        self._maybe_checkpoint()
        return row

    def _maybe_checkpoint(self) -> None:
        """Every CHECKPOINT_EVERY appends, copies the WAL back on a thread, off the
        append's path; never two threads for one file at once. The thread's PASSIVE
        checkpoint blocks no one but cannot let the WAL start over while rows keep
        coming; so the first append after it finishes truncates the WAL itself, which
        by then has only the few rows written meanwhile left to copy."""
        if self._copied.is_set():
            self._copied.clear()
            self._truncate()
        self._since_checkpoint += 1
        if self._since_checkpoint < CHECKPOINT_EVERY:
            return
        lock = _checkpoint_lock(self.path)
        if not lock.acquire(blocking=False):
            return
        self._since_checkpoint = 0
        self.checkpoints += 1
        thread = threading.Thread(
            target=self._checkpoint, args=(lock,), name="audit-checkpoint", daemon=True
        )
        self._checkpoint_thread = thread
        thread.start()

    def _checkpoint(self, lock: threading.Lock) -> None:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS)
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                conn.close()
            self._copied.set()
        except sqlite3.Error as exc:
            log.debug("audit checkpoint of %s skipped: %s", self.path, exc)  # the next one tries
        finally:
            lock.release()

    def _truncate(self) -> None:
        with self._lock:
            conn = self._conn
            if conn is None or self._readonly:
                return
            try:
                # Not waiting: a busy file (another writer, a reader) is left for next time.
                conn.execute("PRAGMA busy_timeout=0")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                log.debug("audit WAL of %s not truncated: %s", self.path, exc)
            finally:
                conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")

    def wait_checkpoint(self, timeout: float | None = None) -> None:
        """Waits for this object's last checkpoint thread (tests and the bench)."""
        thread = self._checkpoint_thread
        if thread is not None:
            thread.join(timeout)

    def _insert(self, conn: sqlite3.Connection, **fields: Any) -> AuditRow:
        head = conn.execute("SELECT seq, hash FROM head WHERE id = 1").fetchone()
        last_seq, prev_hash = (int(head[0]), str(head[1])) if head else (0, "")
        device, user = _identity()
        row = AuditRow(
            seq=last_seq + 1,
            device=device,
            user=user,
            prev_hash=prev_hash,
            hash="",
            source=self.source,
            **fields,
        )
        row = replace(row, hash=row_hash(prev_hash, hashed_fields(row)))
        values = {column: getattr(row, column) for column in COLUMNS}
        values["rules"] = json.dumps(list(row.rules), ensure_ascii=False)
        values["detail"] = canonical(row.detail)
        values["outside"] = int(row.outside)
        conn.execute(
            f"INSERT INTO rows ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            tuple(values[column] for column in COLUMNS),
        )
        conn.execute(
            "INSERT INTO head (id, seq, hash) VALUES (1, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            (row.seq, row.hash),
        )
        return row

    # --- reading ------------------------------------------------------------

    def rows(self, query: AuditQuery | None = None) -> list[AuditRow]:
        """Oldest first; newest first when the query has a limit. A row that cannot
        be read is an AuditError naming the file and the row."""
        query = query or AuditQuery()
        where: list[str] = []
        params: list[Any] = []
        if query.since is not None:
            where.append("at >= ?")
            params.append(bound(query.since, end=False))
        if query.until is not None:
            where.append("at < ?")
            params.append(bound(query.until, end=True))
        if query.account is not None:
            where.append("account = ?")
            params.append(handle(query.account))
        if query.rule is not None:
            where.append("EXISTS (SELECT 1 FROM json_each(rows.rules) WHERE value = ?)")
            params.append(query.rule)
        for column, value in (
            ("verdict", query.verdict),
            ("device", query.device),
            ("kind", query.kind),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if query.outside is not None:
            where.append("outside = ?")
            params.append(int(query.outside))
        if query.after_seq is not None:
            where.append("seq > ?")
            params.append(query.after_seq)
        sql = _SELECT
        if where:
            sql += " WHERE " + " AND ".join(where)
        if query.limit is not None:
            sql += " ORDER BY seq DESC LIMIT ?"
            params.append(query.limit)
        else:
            sql += " ORDER BY seq"
        with self._lock:
            conn = self._connect_for_reading()
            if conn is None:
                return []
            found = self._fetch(conn, sql, params)
        return [self._row(r) for r in found]

    def _fetch(self, conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """One read; a file that is not an audit (another `rows` table, a damaged
        page) becomes an AuditError naming it, so a reader can skip that file."""
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise AuditError(
                f"the audit {self.path} cannot be read ({exc}); run `tweetguard audit verify` "
                "and restore it from a copy, or move it aside"
            ) from None

    def _row(self, r: Sequence[Any]) -> AuditRow:
        """One row decoded; one bad cell (edited JSON, a wrong type) is an AuditError
        naming the file and the row, not a crash of every reader."""
        try:
            return self._decode(r)
        except (ValueError, TypeError, KeyError) as exc:
            raise AuditError(
                f"the audit {self.path} has an unreadable row {r[0]!r} ({exc}); "
                "run `tweetguard audit verify` and restore the file from a copy"
            ) from None

    def _decode(self, r: Sequence[Any]) -> AuditRow:
        rules = json.loads(r[8])
        detail = json.loads(r[11])
        if not isinstance(rules, list) or not isinstance(detail, dict):
            raise TypeError("rules must be a JSON list and detail a JSON object")
        return AuditRow(
            seq=int(r[0]),
            at=r[1],
            kind=r[2],
            device=r[3],
            user=r[4],
            account=r[5],
            account_id=r[6],
            verdict=r[7],
            rules=tuple(str(rule) for rule in rules),
            text_sha256=r[9],
            text=r[10],
            detail=detail,
            outside=bool(r[12]),
            prev_hash=r[13],
            hash=r[14],
            source=self.source,
        )

    def last_seq(self) -> int:
        with self._lock:
            conn = self._connect_for_reading()
            if conn is None:
                return 0
            found = self._fetch(conn, "SELECT seq FROM head WHERE id = 1")
        try:
            return int(found[0][0]) if found else 0
        except (ValueError, TypeError):
            raise AuditError(
                f"the audit {self.path} has an unreadable head record; "
                "run `tweetguard audit verify` and restore the file from a copy"
            ) from None

    def count(self) -> int:
        with self._lock:
            conn = self._connect_for_reading()
            if conn is None:
                return 0
            ((n,),) = self._fetch(conn, "SELECT count(*) FROM rows")
        return int(n)

    def checked_since(self, text_sha256: str, account: str | None, since: str) -> bool:
        """Whether a `check` row of this text (and account) was written at or after
        `since`: a second check of the same post is then not counted again."""
        sql = "SELECT 1 FROM rows WHERE at >= ? AND kind = 'check' AND text_sha256 = ?"
        params: list[Any] = [since, text_sha256]
        if handle(account) is not None:
            sql += " AND account = ?"
            params.append(handle(account))
        with self._lock:
            conn = self._connect_for_reading()
            if conn is None:
                return False
            return bool(self._fetch(conn, sql + " LIMIT 1", params))

    def verify(self) -> Verification:
        """Walks the chain; the first altered, missing or reordered row, in one line,
        an unreadable row included (named by its own seq, not row 1)."""
        try:
            with self._lock:
                conn = self._connect_for_reading()
                if conn is None:
                    return Verification(True, 0, None, "no audit file yet")
                raw = self._fetch(conn, _SELECT + " ORDER BY seq")
                heads = self._fetch(conn, "SELECT seq, hash FROM head WHERE id = 1")
        except AuditError as exc:
            return Verification(False, 0, None, str(exc))
        rows: list[AuditRow] = []
        for r in raw:
            try:
                rows.append(self._decode(r))
            except (ValueError, TypeError, KeyError) as exc:
                # The chain up to here decides whether an earlier row is the first bad one.
                before = verify_chain(rows, None, partial=True)
                if not before.ok:
                    return replace(before, rows=len(raw))
                seq = _seq_of(r, len(rows) + 1)
                return Verification(
                    False, len(raw), seq, f"row {seq} was altered (it cannot be read: {exc})"
                )
        head = heads[0] if heads else None
        try:
            return verify_chain(rows, head)
        except (ValueError, TypeError) as exc:
            return Verification(False, len(rows), None, f"the head record cannot be read: {exc}")


def _seq_of(r: Sequence[Any], fallback: int) -> int:
    try:
        return int(r[0])
    except (ValueError, TypeError):
        return fallback


def verify_chain(
    rows: list[AuditRow], head: Sequence[Any] | None, *, partial: bool = False
) -> Verification:
    """The chain walk; `partial` checks only the rows given (no head record yet)."""
    position = {row.hash: row.seq for row in rows}
    prev_hash = ""
    expected = 1

    def bad(seq: int, problem: str) -> Verification:
        return Verification(False, len(rows), seq, problem)

    for row in rows:
        if row.seq != expected:
            if row.seq > expected:
                gap = (
                    f"row {expected} is missing"
                    if row.seq == expected + 1
                    else f"rows {expected} to {row.seq - 1} are missing"
                )
                return bad(expected, gap)
            return bad(row.seq, f"row {row.seq} is out of place")
        own = row_hash(row.prev_hash, hashed_fields(row)) == row.hash
        linked = row.prev_hash == prev_hash
        if not linked or not own:
            belongs = position.get(row.prev_hash)
            if row.prev_hash and belongs is not None and belongs != row.seq - 1:
                return bad(
                    row.seq,
                    f"row {row.seq} is out of order (its content was written as row {belongs + 1})",
                )
            if not own:
                return bad(row.seq, f"row {row.seq} was altered")
            return bad(
                row.seq - 1,
                f"row {row.seq - 1} was altered (its hash no longer links to row {row.seq})",
            )
        prev_hash = row.hash
        expected += 1
    last = expected - 1
    if partial:
        return Verification(True, len(rows), None, f"ok: {len(rows)} rows")
    if head is None:
        if rows:
            return bad(last, "the head record is missing, so the end of the log cannot be checked")
        return Verification(True, 0, None, "empty: no rows yet")
    head_seq, head_hash = int(head[0]), str(head[1])
    if head_seq > last:
        return bad(
            last + 1,
            f"rows after {last} are missing (the log had reached row {head_seq})",
        )
    if head_seq < last:
        return bad(head_seq + 1, f"rows after {head_seq} were added outside tweetguard")
    if head_hash != prev_hash:
        return bad(last, f"row {last} was altered (it does not match the head record)")
    return Verification(True, len(rows), None, f"ok: {len(rows)} rows, chain intact")


def last_policy_sha(log: AuditLog) -> str | None:
    """The policy content last recorded in this audit: a `policy` row's sha256, or
    any row that changed the policy file and carries its `policy_sha256`
    (record_change: `accounts add`), so that edit is not recorded twice."""
    with log._lock:
        conn = log._connect_for_reading()
        if conn is None:
            return None
        found = log._fetch(
            conn,
            "SELECT sha FROM (SELECT seq, coalesce(json_extract(detail, '$.policy_sha256'), "
            "CASE WHEN kind = 'policy' THEN json_extract(detail, '$.sha256') END) AS sha "
            "FROM rows WHERE (kind = 'policy' OR instr(detail, '\"policy_sha256\"') > 0) "
            "AND json_valid(detail)) WHERE sha IS NOT NULL "
            "ORDER BY seq DESC LIMIT 1",
        )
    return str(found[0][0]) if found else None


def file_sha256(path: Path) -> tuple[str, int, bool]:
    """The policy file's SHA-256, size and whether it exists (a missing file hashes as empty)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return hashlib.sha256(b"").hexdigest(), 0, False
    return hashlib.sha256(data).hexdigest(), len(data), True


def note_policy(log: AuditLog, policy_file: Path, *, by: str) -> AuditRow | None:
    """Records the policy file when its content differs from the last recorded one,
    so a hand edit is in the audit too. Returns the row written, if any."""
    digest, size, present = file_sha256(policy_file)
    if last_policy_sha(log) == digest:
        return None
    what = "policy file content" if present else "no policy file"
    return log.append(
        "policy",
        detail={"what": what, "sha256": digest, "size": size, "by": by, "path": str(policy_file)},
    )
