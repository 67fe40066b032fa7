"""What an audit row is, and the pure rules every part of the store shares: the
column list (one list, used by the table, the reader and the export), the hash, the
time format, and the mapping from a check's verdict to the audit's."""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

try:
    import pwd
except ImportError:  # Windows: no password database; file names stand in for owners
    pwd = None  # type: ignore[assignment]

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

VERDICTS = ("ok", "warn", "block")

# The table's columns in order; the export adds "source" in front. One list, so a new
# column cannot reach the table without reaching the export.
COLUMNS = (
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
# The columns the hash covers: all but the chain's own.
HASHED = COLUMNS[:-2]


class AuditError(Exception):
    """The audit file cannot be opened, read or written; the message says why and what to do."""


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
        data: dict[str, Any] = {"source": self.source}
        data.update({column: getattr(self, column) for column in COLUMNS})
        data["rules"] = list(self.rules)
        return data


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


def audit_verdict(check_verdict: str | None) -> str | None:
    """The checks say "allow" for a post with no problems; the audit says "ok". One
    mapping, so the helper's rows and the sweep's rows agree."""
    if check_verdict == "allow":
        return "ok"
    return check_verdict


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


def bound(value: datetime | date, *, end: bool) -> str:
    """A query bound as stored text; a date means that day's start (or the next's)."""
    if isinstance(value, datetime):
        return format_time(value)
    day = value + timedelta(days=1) if end else value
    return format_time(datetime.combine(day, time(0), tzinfo=UTC))


def canonical(fields: Mapping[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash and the canonical JSON of the row's own fields."""
    return hashlib.sha256((prev_hash + canonical(fields)).encode("utf-8")).hexdigest()


def hashed_fields(row: AuditRow) -> dict[str, Any]:
    fields = {column: getattr(row, column) for column in HASHED}
    fields["rules"] = list(row.rules)
    return fields


def handle(account: str | None) -> str | None:
    if account is None:
        return None
    cleaned = account.strip().lstrip("@").lower()
    return cleaned or None


def device() -> str:
    return socket.gethostname()


def current_user() -> str:
    """The OS login of this process. The password database first: $USER and $LOGNAME
    are inherited (a host started through setpriv or sudo keeps the caller's), and a
    per-user audit file is named, and checked against its owner, by this name."""
    if pwd is not None and hasattr(os, "getuid"):
        try:
            return pwd.getpwuid(os.getuid()).pw_name
        except KeyError:
            pass
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container without passwd entry): the uid
        return f"uid{os.getuid()}" if hasattr(os, "getuid") else "user"


def owner_name(uid: int) -> str:
    """A file owner's login, or uid<N> when the password database does not know it."""
    if pwd is not None:
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            pass
    return f"uid{uid}"
