"""A long push kept in one statement is still judged row by row.

The usual push (every row intact, linked, and following the chain's head) is
kept by one conditional UPDATE of the head and one insert of all its rows; these
tests make sure that shortcut refuses exactly what the row-by-row check refuses,
keeps nothing of a refused batch, and announces only what it kept.
"""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from tests.server.audit_rows import chain
from tests.server.conftest import Trust, bearer, enrolled
from tweetguard.server import audit, notify

LONG = 60


def push(client: FlaskClient, credential: str, rows: list[dict[str, Any]]) -> Any:
    return client.post(
        "/api/v1/audit", json={"source": "shared", "rows": rows}, headers=bearer(credential)
    )


def test_a_long_batch_refuses_a_tampered_missing_or_swapped_middle_row(
    trust: Trust, client: FlaskClient, tmp_path: Path
) -> None:
    device_id, credential = enrolled(trust.db, trust.school_a.id, "library-3")
    rows = chain(tmp_path / "device", LONG, start_text="Reception class nature walk")
    heard: list[dict[str, Any]] = []
    lock = threading.Lock()

    def listen(_channel: str, payload: str) -> None:
        with lock:
            heard.append(json.loads(payload))

    def seqs_heard() -> set[int]:
        with lock:
            return {h["last_seq"] for h in heard if h["device_id"] == device_id}

    stop = notify.hub(trust.db).subscribe(notify.AUDIT, listen)
    try:
        # A first batch, so the chain has a head for the long one to follow.
        assert push(client, credential, rows[:10]).status_code == 200
        assert seqs_heard() == {10}
        rest = rows[10:]

        tampered = copy.deepcopy(rest)
        tampered[25]["detail"] = {"stage": "compose", "n": 999}  # row 36
        reply = push(client, credential, tampered)
        assert reply.status_code == 409
        error = reply.get_json()["error"]
        assert "row 36 was altered" in error["message"]
        assert error["expected_seq"] == 11 and error["expected_prev"] == rows[9]["hash"]

        missing = rest[:20] + rest[21:]  # row 31 left out
        reply = push(client, credential, missing)
        assert reply.status_code == 409
        assert "expected row 31, got row 32 (rows missing)" in reply.get_json()["error"]["message"]

        swapped = [*rest[:30], rest[31], rest[30], *rest[32:]]  # rows 41 and 42
        reply = push(client, credential, swapped)
        assert reply.status_code == 409
        assert "expected row 41, got row 42" in reply.get_json()["error"]["message"]

        # Intact and linked among themselves, but a re-made chain: does not link.
        other = chain(tmp_path / "other", LONG, start_text="Year 6 leavers assembly")
        reply = push(client, credential, other[10:])
        assert reply.status_code == 409
        assert "row 11 does not link to row 10" in reply.get_json()["error"]["message"]
        # Spliced: every row intact and the seqs in order, but row 31 on is the other chain.
        reply = push(client, credential, rest[:20] + other[30:])
        assert reply.status_code == 409
        assert "row 31 does not link to row 30" in reply.get_json()["error"]["message"]

        # Nothing of any refused batch kept or announced; each refusal is a gap.
        assert [r.seq for r in audit.rows(trust.db, trust.school_a.id)] == list(range(10, 0, -1))
        assert audit.heads(trust.db, device_id)["shared"]["last_seq"] == 10
        assert len(audit.gaps(trust.db, [trust.school_a.id])) == 5
        assert seqs_heard() == {10}

        # Trap: the genuine batch goes in whole, in one push, and is announced.
        reply = push(client, credential, rest)
        assert reply.status_code == 200
        assert reply.get_json() == {
            "accepted": LONG - 10,
            "last_seq": LONG,
            "last_hash": rows[-1]["hash"],
        }
        kept = audit.rows(trust.db, trust.school_a.id)
        assert [r.seq for r in kept] == list(range(LONG, 0, -1))
        assert [r.hash for r in reversed(kept)] == [r["hash"] for r in rows]
        assert seqs_heard() == {10, LONG}

        # A replay of kept rows changes nothing and announces nothing new.
        assert push(client, credential, rest).status_code == 200
        assert push(client, credential, rows[5:30]).status_code == 200
        assert len(audit.rows(trust.db, trust.school_a.id)) == LONG
        assert seqs_heard() == {10, LONG}
        # A different row under a kept seq is refused, even after a run of true ones.
        forged = copy.deepcopy(rows[40:])
        forged[-1]["text_sha256"] = "0" * 64
        reply = push(client, credential, forged)
        assert reply.status_code == 409
        assert f"row {LONG} was altered" in reply.get_json()["error"]["message"]
        assert len(audit.gaps(trust.db, [trust.school_a.id])) == 6
    finally:
        stop()


def test_each_device_and_source_has_its_own_head(
    trust: Trust, client: FlaskClient, tmp_path: Path
) -> None:
    """Trap: the one-statement head move matches only this device's chain of this
    source, never another device's head at the same seq and hash."""
    first_id, first = enrolled(trust.db, trust.school_a.id, "office-1")
    second_id, second = enrolled(trust.db, trust.school_a.id, "office-2")
    rows = chain(tmp_path / "device", 6, start_text="Science week volcano")
    # Both devices push the very same rows (a copied audit file): two chains.
    for credential in (first, second):
        assert push(client, credential, rows[:3]).status_code == 200
    assert push(client, first, rows[3:]).status_code == 200
    assert audit.heads(trust.db, first_id)["shared"]["last_seq"] == 6
    assert audit.heads(trust.db, second_id)["shared"]["last_seq"] == 3
    # A user's source of the first device starts its own chain at row 1.
    reply = client.post(
        "/api/v1/audit",
        json={"source": "user:jbloggs", "rows": rows[3:]},
        headers=bearer(first),
    )
    assert reply.status_code == 409
    assert "expected row 1, got row 4" in reply.get_json()["error"]["message"]
    assert push(client, second, rows[3:]).status_code == 200
    assert audit.heads(trust.db, second_id)["shared"]["last_seq"] == 6
