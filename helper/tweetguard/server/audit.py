"""Every device's audit on the server: its hash chains, verified on each push.

A device pushes the rows of one source ("shared" or "user:<login>") in seq order.
Each row's hash is recomputed with the audit store's own function and must link to
the last row accepted from that device and source, so an altered, missing or
reordered row is refused whole, and the refusal kept as a gap the dashboard shows.
A retry of rows already accepted (same seq, same hash) changes nothing. Rows the
server writes itself (the Chromebook path) are chained the same way by `append`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tweetguard.server import notify
from tweetguard.server.db import Database
from tweetguard.server.db.tables import audit_gaps, audit_heads, audit_rows, devices
from tweetguard.stores.audit.model import (
    COLUMNS,
    KINDS,
    AuditQuery,
    AuditRow,
    bound,
    hashed_fields,
    now,
    row_hash,
)

MAX_ROWS = 1000
MAX_SOURCE = 160


class AuditRefused(ValueError):
    """The push is not a list of audit rows; the message says what is wrong."""


class ChainBroken(Exception):
    """A row is altered, missing or out of order; nothing of the batch was kept."""

    def __init__(self, message: str, expected_seq: int, expected_prev: str) -> None:
        super().__init__(message)
        self.expected_seq = expected_seq
        self.expected_prev = expected_prev


def valid_source(source: object) -> bool:
    return isinstance(source, str) and (
        source == "shared"
        or (source.startswith("user:") and 5 < len(source) <= MAX_SOURCE and source.isprintable())
    )


def parse_row(data: object, source: str) -> AuditRow:
    """An AuditRow from its JSON, each field checked for type (a wrong one is a
    refused push, not a stored surprise)."""
    if not isinstance(data, Mapping):
        raise AuditRefused("each audit row must be a JSON object")
    missing = [c for c in COLUMNS if c not in data]
    if missing:
        raise AuditRefused(f"an audit row lacks {', '.join(missing)}")

    def text(name: str, optional: bool = False) -> Any:
        value = data[name]
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise AuditRefused(f"audit row field {name} must be text")
        return value

    seq = data["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise AuditRefused("audit row field seq must be a whole number from 1")
    rules = data["rules"]
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        raise AuditRefused("audit row field rules must be a list of text")
    detail = data["detail"]
    if not isinstance(detail, dict):
        raise AuditRefused("audit row field detail must be an object")
    if not isinstance(data["outside"], bool):
        raise AuditRefused("audit row field outside must be true or false")
    return AuditRow(
        seq=seq,
        at=text("at"),
        kind=text("kind"),
        device=text("device"),
        user=text("user"),
        account=text("account", True),
        account_id=text("account_id", True),
        verdict=text("verdict", True),
        rules=tuple(rules),
        text_sha256=text("text_sha256", True),
        text=text("text", True),
        detail=detail,
        outside=data["outside"],
        prev_hash=text("prev_hash"),
        hash=text("hash"),
        source=source,
    )


def _values(row: AuditRow, device_id: str, school_id: str, received: str) -> dict[str, Any]:
    return {
        "device_id": device_id,
        "source": row.source,
        "seq": row.seq,
        "school_id": school_id,
        "at": row.at,
        "kind": row.kind,
        "device": row.device,
        "user": row.user,
        "account": row.account,
        "account_id": row.account_id,
        "verdict": row.verdict,
        "rules": json.dumps(list(row.rules)),
        "text_sha256": row.text_sha256,
        "text": row.text,
        "detail": json.dumps(row.detail, sort_keys=True, ensure_ascii=False),
        "outside": row.outside,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
        "received_at": received,
    }


def _head(conn: Connection, device_id: str, source: str) -> tuple[int, str, bool]:
    """(last seq, last hash, whether a head row exists), locked for this transaction."""
    row = conn.execute(
        select(audit_heads.c.last_seq, audit_heads.c.last_hash)
        .where(audit_heads.c.device_id == device_id, audit_heads.c.source == source)
        .with_for_update()
    ).first()
    return (int(row.last_seq), str(row.last_hash), True) if row else (0, "", False)


def _set_head(
    conn: Connection, device_id: str, source: str, seq: int, hashed: str, exists: bool
) -> None:
    values = {"last_seq": seq, "last_hash": hashed, "updated_at": now()}
    if exists:
        conn.execute(
            update(audit_heads)
            .where(audit_heads.c.device_id == device_id, audit_heads.c.source == source)
            .values(**values)
        )
    else:
        conn.execute(insert(audit_heads).values(device_id=device_id, source=source, **values))


def _school_of(conn: Connection, device_id: str) -> str:
    return str(
        conn.execute(select(devices.c.school_id).where(devices.c.id == device_id)).scalar_one()
    )


def accept(
    db: Database,
    device_id: str,
    source: str,
    rows: list[dict[str, Any]],
    *,
    school_id: str | None = None,
) -> dict[str, Any]:
    """Checks and keeps a batch; the body of the 200. Raises ChainBroken (after
    recording the gap) or AuditRefused (a malformed push). `school_id` is the
    device's when the caller already has it (the API's authenticated device),
    which saves a query."""
    if not valid_source(source):
        raise AuditRefused('source must be "shared" or "user:<login>"')
    if not isinstance(rows, list) or len(rows) > MAX_ROWS:
        raise AuditRefused(f"rows must be a list of at most {MAX_ROWS} audit rows")
    parsed = [parse_row(r, source) for r in rows]
    # Each row's hash is computed once, here, outside the transaction.
    intact = [row_hash(r.prev_hash, hashed_fields(r)) == r.hash for r in parsed]
    for attempt in range(3):
        try:
            with db.write() as conn:
                school = school_id or _school_of(conn, device_id)
                kept = _keep_fast(conn, device_id, source, parsed, intact, school)
                if kept is None:
                    kept = _keep(conn, device_id, source, parsed, intact, school)
                fresh, last_seq, last_hash = kept
                if fresh:
                    # Sent with the rows' own COMMIT (PostgreSQL's NOTIFY is
                    # transactional): no second transaction, and never announced
                    # without the rows.
                    notify.notify(
                        conn,
                        "tweetguard_audit",
                        json.dumps(
                            {
                                "school_id": school,
                                "device_id": device_id,
                                "source": source,
                                "last_seq": last_seq,
                            }
                        ),
                    )
            break
        except ChainBroken as exc:
            got = parsed[0].seq if parsed else None
            _record_gap(db, device_id, source, exc, got)
            raise
        except IntegrityError:
            # Two pushes of one device's first rows at once (PostgreSQL: no head row
            # to lock yet): the loser retries, and finds the winner's rows.
            if attempt == 2:
                raise
    return {"accepted": len(parsed), "last_seq": last_seq, "last_hash": last_hash}


# Built once: the statement of every push (building it costs more than running it).
_MOVE_HEAD = (
    update(audit_heads)
    .where(
        audit_heads.c.device_id == bindparam("h_device"),
        audit_heads.c.source == bindparam("h_source"),
        audit_heads.c.last_seq == bindparam("h_old_seq"),
        audit_heads.c.last_hash == bindparam("h_old_hash"),
    )
    .values(
        last_seq=bindparam("h_seq"), last_hash=bindparam("h_hash"), updated_at=bindparam("h_at")
    )
)


def _keep_fast(
    conn: Connection,
    device_id: str,
    source: str,
    parsed: list[AuditRow],
    intact: list[bool],
    school_id: str,
) -> tuple[int, int, str] | None:
    """The usual push, in two statements: every row intact, in seq order and linked
    to the one before, and the first linking to the chain's head, which one
    conditional UPDATE both checks and moves (locking it as SELECT ... FOR UPDATE
    did). None when that is not so: `_keep` then judges the batch row by row,
    exactly as always (a first push, a retry, or a batch it refuses)."""
    if not parsed or not all(intact):
        return None
    first = parsed[0]
    for before, row in pairwise(parsed):
        if row.seq != before.seq + 1 or row.prev_hash != before.hash:
            return None
    last = parsed[-1]
    moved = conn.execute(
        _MOVE_HEAD,
        {
            "h_device": device_id,
            "h_source": source,
            "h_old_seq": first.seq - 1,
            "h_old_hash": first.prev_hash,
            "h_seq": last.seq,
            "h_hash": last.hash,
            "h_at": now(),
        },
    )
    if moved.rowcount != 1:
        return None
    received = now()
    conn.execute(insert(audit_rows), [_values(r, device_id, school_id, received) for r in parsed])
    return len(parsed), last.seq, last.hash


def _keep(
    conn: Connection,
    device_id: str,
    source: str,
    parsed: list[AuditRow],
    intact: list[bool],
    school_id: str,
) -> tuple[int, int, str]:
    """Checks the batch against the chain and inserts its new rows in the caller's
    transaction; (rows new, last seq, last hash)."""
    last_seq, last_hash, exists = _head(conn, device_id, source)
    expected_seq, expected_prev = last_seq + 1, last_hash
    fresh: list[AuditRow] = []
    for row, whole in zip(parsed, intact, strict=True):
        if not whole:
            raise ChainBroken(
                f"row {row.seq} was altered after it was written (its hash does not match)",
                last_seq + 1,
                last_hash,
            )
        if row.seq < expected_seq and not fresh:
            kept = conn.execute(
                select(audit_rows.c.hash).where(
                    audit_rows.c.device_id == device_id,
                    audit_rows.c.source == source,
                    audit_rows.c.seq == row.seq,
                )
            ).scalar()
            if kept == row.hash:
                continue  # a retry of a row already accepted
            raise ChainBroken(
                f"row {row.seq} differs from the row {row.seq} accepted before",
                last_seq + 1,
                last_hash,
            )
        if row.seq != expected_seq:
            what = "missing" if row.seq > expected_seq else "out of order"
            raise ChainBroken(
                f"expected row {expected_seq}, got row {row.seq} (rows {what})",
                last_seq + 1,
                last_hash,
            )
        if row.prev_hash != expected_prev:
            raise ChainBroken(
                f"row {row.seq} does not link to row {row.seq - 1} (a row was changed or removed)",
                last_seq + 1,
                last_hash,
            )
        fresh.append(row)
        expected_seq, expected_prev = row.seq + 1, row.hash
    if fresh:
        received = now()
        conn.execute(
            insert(audit_rows), [_values(r, device_id, school_id, received) for r in fresh]
        )
        _set_head(conn, device_id, source, expected_seq - 1, expected_prev, exists)
    return len(fresh), expected_seq - 1, expected_prev


def _record_gap(
    db: Database, device_id: str, source: str, exc: ChainBroken, got: int | None
) -> None:
    """Keeps the refusal for the dashboard, once: a device retrying the same batch
    every few minutes does not fill the page."""
    with db.write() as conn:
        last = conn.execute(
            select(audit_gaps.c.expected_seq, audit_gaps.c.got_seq, audit_gaps.c.problem)
            .where(audit_gaps.c.device_id == device_id, audit_gaps.c.source == source)
            .order_by(audit_gaps.c.id.desc())
            .limit(1)
        ).first()
        if last is not None and (last.expected_seq, last.got_seq, last.problem) == (
            exc.expected_seq,
            got,
            str(exc),
        ):
            return
        conn.execute(
            insert(audit_gaps).values(
                device_id=device_id,
                source=source,
                school_id=_school_of(conn, device_id),
                at=now(),
                expected_seq=exc.expected_seq,
                expected_prev=exc.expected_prev,
                got_seq=got,
                problem=str(exc),
            )
        )


def append(db: Database, device_id: str, source: str, kind: str, **fields: Any) -> dict[str, Any]:
    """A row the server writes for a device itself (a Chromebook's check, post or
    override), chained after the device's last row of `source`; its JSON."""
    if kind not in KINDS:
        raise AuditRefused(f"unknown audit kind {kind!r}; use one of {', '.join(KINDS)}")
    if not valid_source(source):
        raise AuditRefused('source must be "shared" or "user:<login>"')
    with db.write() as conn:
        device = conn.execute(
            select(devices.c.school_id, devices.c.name).where(devices.c.id == device_id)
        ).one()
        last_seq, last_hash, exists = _head(conn, device_id, source)
        row = AuditRow(
            seq=last_seq + 1,
            at=fields.get("at") or now(),
            kind=kind,
            device=fields.get("device") or str(device.name),
            user=fields.get("user") or "",
            account=fields.get("account"),
            account_id=fields.get("account_id"),
            verdict=fields.get("verdict"),
            rules=tuple(fields.get("rules") or ()),
            text_sha256=fields.get("text_sha256"),
            text=fields.get("text"),
            detail=dict(fields.get("detail") or {}),
            outside=bool(fields.get("outside", False)),
            prev_hash=last_hash,
            hash="",
            source=source,
        )
        row = replace(row, hash=row_hash(last_hash, hashed_fields(row)))
        conn.execute(
            insert(audit_rows).values(**_values(row, device_id, str(device.school_id), now()))
        )
        _set_head(conn, device_id, source, row.seq, row.hash, exists)
    db.notify(
        "tweetguard_audit",
        json.dumps(
            {
                "school_id": str(device.school_id),
                "device_id": device_id,
                "source": source,
                "last_seq": row.seq,
            }
        ),
    )
    data = row.to_json()
    return data


def heads(db: Database, device_id: str) -> dict[str, dict[str, Any]]:
    """Where each of the device's chains ends: the status call's "audit"."""
    with db.read() as conn:
        rows = conn.execute(
            select(audit_heads.c.source, audit_heads.c.last_seq, audit_heads.c.last_hash).where(
                audit_heads.c.device_id == device_id
            )
        ).all()
    return {r.source: {"last_seq": int(r.last_seq), "last_hash": r.last_hash} for r in rows}


@dataclass(frozen=True)
class Gap:
    device_id: str
    source: str
    at: str
    expected_seq: int
    got_seq: int | None
    problem: str


def gaps(db: Database, school_ids: list[str], limit: int = 200) -> list[Gap]:
    if not school_ids:
        return []
    with db.read() as conn:
        rows = conn.execute(
            select(audit_gaps)
            .where(audit_gaps.c.school_id.in_(school_ids))
            .order_by(audit_gaps.c.id.desc())
            .limit(limit)
        ).all()
    return [Gap(r.device_id, r.source, r.at, r.expected_seq, r.got_seq, r.problem) for r in rows]


def gap_counts(db: Database, school_ids: list[str]) -> dict[str, int]:
    """Refused pushes per device."""
    return _gaps_per(db, school_ids, audit_gaps.c.device_id)


def gaps_by_school(db: Database, school_ids: list[str]) -> dict[str, int]:
    """Refused pushes per school."""
    return _gaps_per(db, school_ids, audit_gaps.c.school_id)


def _gaps_per(db: Database, school_ids: list[str], column: Any) -> dict[str, int]:
    if not school_ids:
        return {}
    with db.read() as conn:
        rows = conn.execute(
            select(column, func.count())
            .where(audit_gaps.c.school_id.in_(school_ids))
            .group_by(column)
        ).all()
    return {str(r[0]): int(r[1]) for r in rows}


def _row(r: Any, label: str, device: str | None = None) -> AuditRow:
    return AuditRow(
        seq=int(r.seq),
        at=r.at,
        kind=r.kind,
        device=r.device if device is None else device,
        user=r.user,
        account=r.account,
        account_id=r.account_id,
        verdict=r.verdict,
        rules=tuple(json.loads(r.rules)),
        text_sha256=r.text_sha256,
        text=r.text,
        detail=json.loads(r.detail),
        outside=bool(r.outside),
        prev_hash=r.prev_hash,
        hash=r.hash,
        source=label,
    )


def shown_device(registered: str, sent: str) -> str:
    """The machine a row is shown under: the name the school registered for the
    credential that pushed it, never only the name the row carries (a helper may
    write any name into its own rows), with that name beside it when they differ."""
    return registered if sent == registered else f"{registered} (row says {sent})"


def rows(
    db: Database,
    school_id: str,
    query: AuditQuery | None = None,
    *,
    registered_names: bool = False,
) -> list[AuditRow]:
    """The school's rows, newest first, each labelled "<device id>/<source>". The
    device filter is the registered name of the device that pushed the rows. With
    `registered_names` each row's device is `shown_device` (for pages; an export
    keeps the rows exact, so their hashes still verify)."""
    query = query or AuditQuery()
    table = audit_rows
    stmt = (
        select(table, devices.c.name.label("registered_name"))
        .join(devices, devices.c.id == table.c.device_id)
        .where(table.c.school_id == school_id)
    )
    if query.since is not None:
        stmt = stmt.where(table.c.at >= bound(query.since, end=False))
    if query.until is not None:
        stmt = stmt.where(table.c.at < bound(query.until, end=True))
    if query.account:
        stmt = stmt.where(table.c.account == query.account.strip().lstrip("@").lower())
    if query.verdict:
        stmt = stmt.where(table.c.verdict == query.verdict)
    if query.device:
        stmt = stmt.where(devices.c.name == query.device)
    if query.kind:
        stmt = stmt.where(table.c.kind == query.kind)
    if query.outside is not None:
        stmt = stmt.where(table.c.outside.is_(query.outside))
    if query.rule:
        # autoescape: a rule id's "%" or "_" is itself, not a LIKE wildcard.
        stmt = stmt.where(table.c.rules.contains(json.dumps(query.rule), autoescape=True))
    stmt = stmt.order_by(table.c.at.desc(), table.c.seq.desc())
    if query.limit:
        stmt = stmt.limit(query.limit)
    with db.read() as conn:
        found = conn.execute(stmt).all()
    return [
        _row(
            r,
            f"{r.device_id}/{r.source}",
            shown_device(str(r.registered_name), str(r.device)) if registered_names else None,
        )
        for r in found
    ]
