"""The audit step: this machine's audit rows to the server, with their hash chain
(POST /audit), from where the server's copy ends (GET /status's `audit`).

Every audit this user can read is sent (`stores.audit.audit_sources`: the shared
one, each teacher's audit.d file, this user's own fallback), each under its own
source, in seq order and batches of at most 1,000 rows; the server recomputes each
hash and checks each row links to the last it holds. A retry after a lost answer
is safe (the server accepts a row it already holds again).

Where the server's copy of each source ends is kept in the state (`audit_held`)
from each push's answer, so a round asks GET /status only when it must (rounds.py):
at start, after a refusal, or for a source whose end it does not know.

A refusal (409 `audit_chain_broken`: a row altered, missing or out of order) is
said once, in the log and the hello status, and that source is not sent again
while nothing has changed (the same rows here, the same end on the server): a
broken chain stays broken, and sending it every few minutes would only fill the
server's log. A file labelled suspicious (someone else's name on it) is not sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from tweetguard.stores.audit import AuditError, AuditLog, AuditQuery, AuditRow, audit_sources
from tweetguard.stores.audit.location import SUSPICIOUS
from tweetguard.stores.audit.model import hashed_fields, row_hash
from tweetguard.sync.client import MAX_AUDIT_BATCH, Refused, ServerClient
from tweetguard.sync.outcome import PROBLEM, REFUSED, Step
from tweetguard.sync.state import SyncState

log = logging.getLogger("tweetguard.sync")


def push_audit(
    client: ServerClient,
    home: Path,
    state: SyncState,
    server_audit: Mapping[str, Any],
    *,
    batch: int = MAX_AUDIT_BATCH,
) -> tuple[list[Step], SyncState]:
    steps: list[Step] = []
    refused = dict(state.audit_refused)
    held: dict[str, dict[str, Any]] = {}
    for audit in audit_sources(home):
        try:
            step, refusal, end = _push_one(
                client, audit, server_audit.get(audit.source), refused, batch
            )
        finally:
            audit.close()
        steps.append(step)
        if refusal is None:
            refused.pop(audit.source, None)
        else:
            refused[audit.source] = refusal
        if end is not None:
            held[audit.source] = end
    if not steps:
        steps.append(Step("audit", "no audit on this machine yet"))
    return steps, replace(state, audit_refused=refused, audit_held=held)


def unknown_sources(home: Path, state: SyncState) -> list[str]:
    """Sources with rows whose resume point on the server this machine does not know
    (a new teacher's audit file, a first round): GET /status must say it."""
    unknown = []
    for audit in audit_sources(home):
        try:
            if audit.source not in state.audit_held and audit.last_seq() > 0:
                unknown.append(audit.source)
        except AuditError:
            unknown.append(audit.source)
        finally:
            audit.close()
    return unknown


def _push_one(
    client: ServerClient,
    audit: AuditLog,
    remote: object,
    refused: Mapping[str, dict[str, Any]],
    batch: int,
) -> tuple[Step, dict[str, Any] | None, dict[str, Any] | None]:
    """(the step, the refusal if any, where the server's copy ends if known after it)."""
    source = audit.source
    name = f"audit ({source})"
    if SUSPICIOUS in source:
        return Step(name, "not sent: the file's owner does not match its name", PROBLEM), None, None
    held = remote if isinstance(remote, Mapping) else {}
    server_seq = _int(held.get("last_seq"))
    server_hash = str(held.get("last_hash") or "")
    try:
        rows = audit.rows(AuditQuery(after_seq=server_seq))
        local_seq = audit.last_seq()
    except AuditError as exc:
        return Step(name, f"not sent: {exc}", PROBLEM), None, None
    before = refused.get(source)
    if before is not None and _unchanged(before, server_seq, server_hash, rows, local_seq):
        return Step(name, f"still refused: {before.get('note', '')}", REFUSED), before, None
    where = {"server_last_seq": server_seq, "server_last_hash": server_hash}
    if local_seq < server_seq:
        note = (
            f"the server holds rows up to {server_seq} from this source but this machine's "
            f"audit ends at row {local_seq}: the file was replaced or cut short; ask IT to "
            "look at this device's audit on the server"
        )
        log.warning("audit %s: %s", source, note)
        return Step(name, note, REFUSED), {**where, "short": True, "note": note}, None
    if not rows:
        end = {"last_seq": server_seq, "last_hash": server_hash}
        return Step(name, f"nothing new (the server holds up to row {server_seq})"), None, end
    sent = 0
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        try:
            answer = client.push_audit(source, [_wire(row) for row in chunk])
        except Refused as exc:
            if exc.status != 409:
                raise
            upto, problem = _first_bad(chunk, server_hash)
            note = _refusal(problem)
            log.warning("audit %s: %s", source, note)
            line = note if not sent else f"sent {sent} row(s), then {note}"
            refusal = {**where, "upto": upto, "digest": _digest(rows, upto), "note": note}
            if sent:  # the server's end moved with the batches it took
                refusal.update(server_last_seq=server_seq, server_last_hash=server_hash)
            return Step(name, line, REFUSED), refusal, None
        sent += len(chunk)
        server_seq = _int(answer.get("last_seq"))
        server_hash = str(answer.get("last_hash") or "")
    end = {"last_seq": server_seq, "last_hash": server_hash}
    return Step(name, f"sent {sent} row(s); the server holds up to row {server_seq}"), None, end


def _unchanged(
    before: Mapping[str, Any], server_seq: int, server_hash: str, rows: list[AuditRow], local: int
) -> bool:
    """Whether a refusal still stands as it was: the server's end has not moved and
    the rows it refused are the same here (new rows after them change nothing: the
    chain is broken before them). Rows restored from a copy are sent again."""
    if before.get("server_last_seq") != server_seq or before.get("server_last_hash") != server_hash:
        return False
    if before.get("short"):
        return local < server_seq
    upto = before.get("upto")
    return isinstance(upto, int) and before.get("digest") == _digest(rows, upto)


def _digest(rows: list[AuditRow], upto: int) -> str:
    """A fingerprint of the rows up to `upto` as they are stored here, every field."""
    covered = [_wire(row) for row in rows if row.seq <= upto]
    text = json.dumps(covered, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _wire(row: AuditRow) -> dict[str, Any]:
    """The row as the API wants it: `AuditRow.to_json()` without `source`."""
    data = row.to_json()
    data.pop("source", None)
    return data


def _first_bad(chunk: list[AuditRow], prev: str) -> tuple[int, str]:
    """The row the server must have refused, found as it would: the first whose hash
    is not its own content's or that does not link to the row before. (The 409 names
    where the server's chain ends, not which row of the batch broke it.)"""
    for row in chunk:
        if row.prev_hash != prev:
            return row.seq, f"row {row.seq} does not follow the row before it"
        if row_hash(row.prev_hash, hashed_fields(row)) != row.hash:
            return row.seq, f"row {row.seq} was altered after it was written"
        prev = row.hash
    return chunk[-1].seq, f"rows {chunk[0].seq} to {chunk[-1].seq} do not match the server's copy"


def _refusal(problem: str) -> str:
    return (
        f"the server refused this machine's audit ({problem}); the server records the gap: "
        "ask IT to check this device's audit on the server, and run `tweetguard audit "
        "verify` here"
    )


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
