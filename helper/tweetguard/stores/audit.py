"""The tamper-evident audit log: what was checked, overridden, posted and changed.

One SQLite file in WAL mode. Each row carries the hash of the one before it, and a
one-row `head` table (last seq, last hash) is updated in the same transaction, so an
edited, deleted, reordered or cut-off row is found by `verify()`. What the chain
cannot catch (a rewrite of the whole file with a consistent head) is said in
docs/audit.md: the answer there is a copy kept elsewhere.

Writers are several processes at once (one host per browser profile, the CLI, the
console): every append is one `BEGIN IMMEDIATE` transaction that reads the head and
writes the next row, so the chain never forks. An append is durable against the
process being killed once it returns (the WAL commit is in the OS's hands);
synchronous=NORMAL trades the last commits on a power cut for a check that never
waits on fsync (figures in docs/audit.md).

Readers: `merged(home, query) -> Merged(rows, broken)` reads every source; a file
that cannot be read (a damaged cell, another `rows` table, not SQLite at all) is
skipped and listed in `broken` as `BrokenSource(source, path, problem)` with a
one-line problem, so a page can show the other rows and say which file is broken.
`merged_rows(home, query)` is `merged(...).rows`. `AuditLog.rows()` and
`last_seq()` raise AuditError naming the file and row; `verify()` names the first
bad row, an unreadable one included.
"""

from __future__ import annotations

import contextlib
import csv
import getpass
import hashlib
import json
import os
import socket
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO

KINDS = (
    "check",
    "override",
    "post",
    "logout",
    "incident",
    "helper",
    "policy",
    "register",
    "accounts",
    "sweep",
    "migrated",
)

AUDIT_FILE = "audit.sqlite3"
PER_USER_DIR = "audit.d"
EVENTS_FILE = "events.jsonl"
BUSY_TIMEOUT_SECONDS = 10.0
# NORMAL in WAL mode: a commit is safe from the process being killed, not from a
# power cut (docs/audit.md has the measured difference).
SYNCHRONOUS = "NORMAL"
# SQLite's own checkpoint runs inside the commit that crosses its threshold and
# fsyncs: the slowest appends by far. Writers turn it off and copy the WAL back on a
# thread of their own once it has grown past this size.
CHECKPOINT_BYTES = 1 << 20

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

_COLUMNS = (
    "seq",
    "at",
    "kind",
    "device",
    "user",
    "account",
    "account_id",
    "verdict",
    "rules",
    "text_sha256",
    "text",
    "detail",
    "outside",
    "prev_hash",
    "hash",
)


class AuditError(Exception):
    """The audit file cannot be opened or written; the message says why and what to do."""


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: str
    kind: str
    device: str
    user: str
    account: str | None
    account_id: str | None
    verdict: str | None
    rules: tuple[str, ...]
    text_sha256: str | None
    text: str | None
    detail: dict[str, Any]
    outside: bool
    prev_hash: str
    hash: str
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "seq": self.seq,
            "at": self.at,
            "kind": self.kind,
            "device": self.device,
            "user": self.user,
            "account": self.account,
            "account_id": self.account_id,
            "verdict": self.verdict,
            "rules": list(self.rules),
            "text_sha256": self.text_sha256,
            "text": self.text,
            "detail": self.detail,
            "outside": self.outside,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class AuditQuery:
    since: datetime | date | None = None
    until: datetime | date | None = None
    account: str | None = None
    rule: str | None = None
    verdict: str | None = None
    device: str | None = None
    kind: str | None = None
    outside: bool | None = None
    after_seq: int | None = None
    limit: int | None = None


@dataclass(frozen=True)
class Verification:
    ok: bool
    rows: int
    first_bad: int | None
    problem: str


@dataclass(frozen=True)
class AuditLocation:
    path: Path
    shared: bool
    why: str


def format_time(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a Z: sorts as text, so SQL compares it."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now() -> str:
    return format_time(datetime.now(UTC))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _bound(value: datetime | date, *, end: bool) -> str:
    if isinstance(value, datetime):
        return format_time(value)
    day = value + timedelta(days=1) if end else value
    return format_time(datetime.combine(day, time(0), tzinfo=UTC))


def _canonical(fields: Mapping[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash and the canonical JSON of the row's own fields."""
    return hashlib.sha256((prev_hash + _canonical(fields)).encode("utf-8")).hexdigest()


def _hashed_fields(row: AuditRow) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": row.at,
        "kind": row.kind,
        "device": row.device,
        "user": row.user,
        "account": row.account,
        "account_id": row.account_id,
        "verdict": row.verdict,
        "rules": list(row.rules),
        "text_sha256": row.text_sha256,
        "text": row.text,
        "detail": row.detail,
        "outside": row.outside,
    }


def _handle(account: str | None) -> str | None:
    if account is None:
        return None
    cleaned = account.strip().lstrip("@").lower()
    return cleaned or None


def _device() -> str:
    return socket.gethostname()


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container without passwd entry): the uid
        return f"uid{os.getuid()}"


current_user = _user


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
        self._checkpointing = threading.Lock()

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
            f"the audit {self.path} cannot be read by this user; ask IT to make it readable"
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
        if verdict not in (None, "ok", "warn", "block"):
            raise ValueError(f"unknown verdict {verdict!r}")
        digest = sha256_text(text) if text is not None else text_sha256
        # Through JSON once, so what is hashed is exactly what is read back.
        clean_detail: dict[str, Any] = json.loads(json.dumps(dict(detail or {}), default=str))
        try:
            with self._write() as conn:
                row = self._insert(
                    conn,
                    at=at or now(),
                    kind=kind,
                    account=_handle(account),
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
        """Copies a grown WAL back into the file on a thread, off the append's path."""
        try:
            size = os.stat(f"{self.path}-wal").st_size
        except OSError:
            return
        if size < CHECKPOINT_BYTES or not self._checkpointing.acquire(blocking=False):
            return
        threading.Thread(target=self._checkpoint, name="audit-checkpoint", daemon=True).start()

    def _checkpoint(self) -> None:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS)
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                conn.close()
        except sqlite3.Error:
            pass  # the next append tries again; the WAL is still whole
        finally:
            self._checkpointing.release()

    def _insert(self, conn: sqlite3.Connection, **fields: Any) -> AuditRow:
        head = conn.execute("SELECT seq, hash FROM head WHERE id = 1").fetchone()
        last_seq, prev_hash = (int(head[0]), str(head[1])) if head else (0, "")
        row = AuditRow(
            seq=last_seq + 1,
            device=_device(),
            user=_user(),
            prev_hash=prev_hash,
            hash="",
            source=self.source,
            **fields,
        )
        row = replace(row, hash=row_hash(prev_hash, _hashed_fields(row)))
        conn.execute(
            f"INSERT INTO rows ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
            (
                row.seq,
                row.at,
                row.kind,
                row.device,
                row.user,
                row.account,
                row.account_id,
                row.verdict,
                json.dumps(list(row.rules), ensure_ascii=False),
                row.text_sha256,
                row.text,
                _canonical(row.detail),
                int(row.outside),
                row.prev_hash,
                row.hash,
            ),
        )
        conn.execute(
            "INSERT INTO head (id, seq, hash) VALUES (1, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            (row.seq, row.hash),
        )
        return row

    # --- reading ------------------------------------------------------------

    def rows(self, query: AuditQuery | None = None) -> list[AuditRow]:
        """Oldest first; newest first when the query has a limit."""
        query = query or AuditQuery()
        where: list[str] = []
        params: list[Any] = []
        if query.since is not None:
            where.append("at >= ?")
            params.append(_bound(query.since, end=False))
        if query.until is not None:
            where.append("at < ?")
            params.append(_bound(query.until, end=True))
        if query.account is not None:
            where.append("account = ?")
            params.append(_handle(query.account))
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
        sql = f"SELECT {', '.join(_COLUMNS)} FROM rows"
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

    def meta(self, key: str) -> str | None:
        with self._lock:
            conn = self._connect_for_reading()
            if conn is None:
                return None
            found = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(found[0]) if found else None

    def verify(self) -> Verification:
        """Walks the chain; the first altered, missing or reordered row, in one line."""
        try:
            with self._lock:
                conn = self._connect_for_reading()
                if conn is None:
                    return Verification(True, 0, None, "no audit file yet")
                raw = self._fetch(conn, f"SELECT {', '.join(_COLUMNS)} FROM rows ORDER BY seq")
                heads = self._fetch(conn, "SELECT seq, hash FROM head WHERE id = 1")
        except AuditError as exc:
            return Verification(False, 0, None, str(exc))
        rows: list[AuditRow] = []
        for r in raw:
            try:
                rows.append(self._decode(r))
            except (ValueError, TypeError, KeyError) as exc:
                # The chain up to here decides whether an earlier row is the first bad one.
                before = _verify(rows, None, partial=True)
                if not before.ok:
                    return replace(before, rows=len(raw))
                seq = _seq_of(r, len(rows) + 1)
                return Verification(
                    False, len(raw), seq, f"row {seq} was altered (it cannot be read: {exc})"
                )
        head = heads[0] if heads else None
        try:
            return _verify(rows, head)
        except (ValueError, TypeError) as exc:
            return Verification(False, len(rows), None, f"the head record cannot be read: {exc}")


def _seq_of(r: Sequence[Any], fallback: int) -> int:
    try:
        return int(r[0])
    except (ValueError, TypeError):
        return fallback


def _verify(
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
        own = row_hash(row.prev_hash, _hashed_fields(row)) == row.hash
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
    """The policy content last recorded in this audit (rows that carry its hash)."""
    with log._lock:
        conn = log._connect_for_reading()
        if conn is None:
            return None
        found = log._fetch(
            conn,
            "SELECT json_extract(detail, '$.sha256') FROM rows WHERE kind = 'policy' "
            "AND json_valid(detail) AND json_extract(detail, '$.sha256') IS NOT NULL "
            "ORDER BY seq DESC LIMIT 1",
        )
    return str(found[0][0]) if found else None


def note_policy(log: AuditLog, policy_file: Path, *, by: str) -> AuditRow | None:
    """Records the policy file when its content differs from the last recorded one,
    so a hand edit is in the audit too. Returns the row written, if any."""
    try:
        data = policy_file.read_bytes()
        present = True
    except FileNotFoundError:
        data, present = b"", False
    digest = hashlib.sha256(data).hexdigest()
    if last_policy_sha(log) == digest:
        return None
    what = "policy file content" if present else "no policy file"
    return log.append(
        "policy",
        detail={
            "what": what,
            "sha256": digest,
            "size": len(data),
            "by": by,
            "path": str(policy_file),
        },
    )


# --- where this user writes ---------------------------------------------------


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


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".")
    return cleaned or "user"


def _own_fallback(home: Path) -> Path:
    from platformdirs import user_data_dir

    key = hashlib.sha256(str(home.absolute()).encode("utf-8")).hexdigest()[:12]
    return Path(user_data_dir("tweetguard", appauthor=False)) / "audit" / f"{key}.sqlite3"


def audit_location(home: Path) -> AuditLocation:
    """Where this user writes, and why, in one plain line: never silently elsewhere."""
    shared = home / AUDIT_FILE
    user = _user()
    if _writable_dir(home) and _writable_file(shared):
        return AuditLocation(shared, True, f"writing the shared audit {shared}")
    reason = (
        f"the data folder {home} is not writable by {user}"
        if not _writable_dir(home)
        else f"the shared audit {shared} is not writable by {user}"
    )
    per_user_dir = home / PER_USER_DIR
    mine = per_user_dir / f"{_safe_name(user)}.sqlite3"
    if per_user_dir.is_dir() and _writable_dir(per_user_dir) and _writable_file(mine):
        return AuditLocation(
            mine, False, f"{reason}; writing {mine} (the console merges it with the shared audit)"
        )
    own = _own_fallback(home)
    return AuditLocation(
        own,
        False,
        f"{reason} and it has no writable {PER_USER_DIR} folder; writing {own} on this "
        f"machine only (ask IT to create {per_user_dir} with mode 1777 so the console sees it)",
    )


def _keep_overrides(home: Path) -> bool:
    """Whether migrated overrides keep their text: the policy's [audit] keep_text."""
    from tweetguard.stores.policy import PolicyError, load_policy

    try:
        return load_policy(home / "policy.toml").audit.keeps("override")
    except PolicyError:  # an unreadable policy: keep the hash only
        return False


def open_audit(home: Path) -> AuditLog:
    """The audit this user writes to (shared, else per-user); old events.jsonl migrated."""
    location = audit_location(home)
    source = "shared" if location.shared else f"user:{_user()}"
    log = AuditLog(location.path, source=source)
    if location.shared and (home / EVENTS_FILE).exists():
        migrate_events(log, home / EVENTS_FILE, keep_override_text=_keep_overrides(home))
    return log


def audit_sources(home: Path) -> list[AuditLog]:
    """Every audit readable from here: the shared one, each audit.d file, and this
    user's own fallback."""
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
            add(path, f"user:{path.stem}")
    add(_own_fallback(home), f"user:{_user()}")
    return found


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


def merged(home: Path, query: AuditQuery | None = None) -> Merged:
    """Rows of every readable source by time (oldest first; newest first with a
    limit), and the sources skipped because they cannot be read. Any teacher owns
    their own audit.d file, so one damaged file must not hide everybody's rows."""
    query = query or AuditQuery()
    rows: list[AuditRow] = []
    broken: list[BrokenSource] = []
    for log in audit_sources(home):
        try:
            rows.extend(log.rows(query))
        except AuditError as exc:
            broken.append(BrokenSource(log.source, log.path, str(exc)))
        finally:
            log.close()
    rows.sort(key=lambda r: (r.at, r.source, r.seq), reverse=query.limit is not None)
    if query.limit is not None:
        rows = rows[: query.limit]
    return Merged(rows, broken)


def merged_rows(home: Path, query: AuditQuery | None = None) -> list[AuditRow]:
    """`merged(...).rows`: for callers that only show rows (unreadable sources skipped)."""
    return merged(home, query).rows


# --- export ---------------------------------------------------------------------

EXPORT_COLUMNS = (
    "source",
    "seq",
    "at",
    "kind",
    "device",
    "user",
    "account",
    "account_id",
    "verdict",
    "rules",
    "text_sha256",
    "text",
    "detail",
    "outside",
    "prev_hash",
    "hash",
)


def export(rows: Iterable[AuditRow], fmt: str, out: TextIO) -> int:
    """Writes rows as "csv" (rules joined with spaces, detail as JSON) or "jsonl"."""
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown export format {fmt!r}; use csv or jsonl")
    count = 0
    writer = csv.writer(out) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        data = row.to_json()
        if writer is not None:
            data["rules"] = " ".join(row.rules)
            data["detail"] = _canonical(row.detail)
            data["outside"] = "yes" if row.outside else "no"
            writer.writerow(["" if data[c] is None else data[c] for c in EXPORT_COLUMNS])
        else:
            out.write(json.dumps(data, ensure_ascii=False, sort_keys=False) + "\n")
        count += 1
    return count


# --- migration from events.jsonl -----------------------------------------------


def _migrated_time(value: object) -> str:
    try:
        return format_time(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return now()


def migrate_events(log: AuditLog, events: Path, *, keep_override_text: bool) -> int:
    """Moves events.jsonl's rows into the audit, then renames the file.

    The rows and a marker (the file's SHA-256) are written in one transaction, so a
    migration cut short either happened fully or not at all; a second run that finds
    the marker only renames. Returns how many rows were added."""
    try:
        data = events.read_bytes()
    except FileNotFoundError:
        return 0
    marker = hashlib.sha256(data).hexdigest()
    added = 0
    with log._write() as conn:
        done = conn.execute(
            "SELECT 1 FROM meta WHERE key = ? AND value = ?", ("migrated:" + EVENTS_FILE, marker)
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
                detail={"from": EVENTS_FILE, "rows": added, "renamed_to": _renamed(events).name},
                outside=False,
            )
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                ("migrated:" + EVENTS_FILE, marker),
            )
    with contextlib.suppress(FileNotFoundError):
        os.replace(events, _renamed(events))
    return added


def _renamed(events: Path) -> Path:
    target = events.with_name(events.name + ".migrated")
    number = 1
    while target.exists():
        number += 1
        target = events.with_name(f"{events.name}.migrated.{number}")
    return target


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
    handle = record.pop("handle", None)
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
        "account": _handle(handle) if isinstance(handle, str) else None,
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


__all__ = [
    "KINDS",
    "AuditError",
    "AuditLocation",
    "AuditLog",
    "AuditQuery",
    "AuditRow",
    "BrokenSource",
    "Merged",
    "Verification",
    "audit_location",
    "audit_sources",
    "export",
    "merged",
    "merged_rows",
    "open_audit",
]
