"""Audit pushes: every row's hash recomputed, the chain checked, gaps recorded."""

from __future__ import annotations

import copy
from pathlib import Path

from flask.testing import FlaskClient

from tests.server.audit_rows import chain
from tests.server.conftest import Trust, bearer, enrolled
from tweetguard.server import audit
from tweetguard.stores.audit import AuditQuery


def test_a_chain_is_accepted_in_batches_and_a_retry_changes_nothing(
    trust: Trust, client: FlaskClient, tmp_path: Path
) -> None:
    device_id, credential = enrolled(trust.db, trust.school_a.id)
    rows = chain(tmp_path / "device", 7)
    first = client.post(
        "/api/v1/audit", json={"source": "shared", "rows": rows[:4]}, headers=bearer(credential)
    )
    assert first.status_code == 200
    assert first.get_json() == {"accepted": 4, "last_seq": 4, "last_hash": rows[3]["hash"]}
    # A retry of an accepted batch, and one overlapping it: accepted, nothing doubled.
    for batch in (rows[:4], rows[2:]):
        reply = client.post(
            "/api/v1/audit", json={"source": "shared", "rows": batch}, headers=bearer(credential)
        )
        assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["last_seq"] == 7
    status = client.get("/api/v1/status", headers=bearer(credential)).get_json()
    assert status["audit"] == {"shared": {"last_seq": 7, "last_hash": rows[6]["hash"]}}
    kept = audit.rows(trust.db, trust.school_a.id)
    assert [r.seq for r in kept] == [7, 6, 5, 4, 3, 2, 1]
    assert kept[0].text_sha256 == rows[6]["text_sha256"]
    assert audit.gaps(trust.db, [trust.school_a.id]) == []
    # The school's other device and school B see none of it.
    assert audit.rows(trust.db, trust.school_b.id) == []
    assert len(audit.rows(trust.db, trust.school_a.id, AuditQuery(verdict="warn"))) == 3
    assert device_id in kept[0].source


def test_a_tampered_row_is_refused_with_409_and_the_gap_recorded(
    trust: Trust, client: FlaskClient, tmp_path: Path
) -> None:
    device_id, credential = enrolled(trust.db, trust.school_a.id)
    rows = chain(tmp_path / "device", 5)
    assert (
        client.post(
            "/api/v1/audit", json={"source": "shared", "rows": rows[:2]}, headers=bearer(credential)
        ).status_code
        == 200
    )
    tampered = copy.deepcopy(rows[2:])
    tampered[1]["verdict"] = "ok" if tampered[1]["verdict"] != "ok" else "warn"
    reply = client.post(
        "/api/v1/audit", json={"source": "shared", "rows": tampered}, headers=bearer(credential)
    )
    assert reply.status_code == 409
    error = reply.get_json()["error"]
    assert error["code"] == "audit_chain_broken"
    assert error["expected_seq"] == 3 and error["expected_prev"] == rows[1]["hash"]
    assert "row 4 was altered" in error["message"]
    # Nothing of the batch kept (row 3 was fine, but the batch is refused whole).
    assert [r.seq for r in audit.rows(trust.db, trust.school_a.id)] == [2, 1]
    (gap,) = audit.gaps(trust.db, [trust.school_a.id])
    assert gap.device_id == device_id and gap.expected_seq == 3
    # The same refused batch again is not a second gap.
    client.post(
        "/api/v1/audit", json={"source": "shared", "rows": tampered}, headers=bearer(credential)
    )
    assert len(audit.gaps(trust.db, [trust.school_a.id])) == 1
    # The genuine rows still go in afterwards (trap: the refusal did not poison the chain).
    good = client.post(
        "/api/v1/audit", json={"source": "shared", "rows": rows[2:]}, headers=bearer(credential)
    )
    assert good.status_code == 200 and good.get_json()["last_seq"] == 5


def test_missing_and_reordered_rows_are_refused(
    trust: Trust, client: FlaskClient, tmp_path: Path
) -> None:
    device_id, credential = enrolled(trust.db, trust.school_a.id)
    rows = chain(tmp_path / "device", 4)
    missing = client.post(
        "/api/v1/audit",
        json={"source": "shared", "rows": [rows[0], rows[2]]},
        headers=bearer(credential),
    )
    assert missing.status_code == 409
    assert "missing" in missing.get_json()["error"]["message"]
    reordered = client.post(
        "/api/v1/audit",
        json={"source": "shared", "rows": [rows[1], rows[0]]},
        headers=bearer(credential),
    )
    assert reordered.status_code == 409
    assert reordered.get_json()["error"]["expected_seq"] == 1
    # A row from another chain (a re-made audit) does not link.
    other = chain(tmp_path / "other", 2, start_text="Harvest festival")
    ok = client.post(
        "/api/v1/audit", json={"source": "shared", "rows": rows[:1]}, headers=bearer(credential)
    )
    assert ok.status_code == 200
    foreign = client.post(
        "/api/v1/audit", json={"source": "shared", "rows": other[1:]}, headers=bearer(credential)
    )
    assert foreign.status_code == 409
    assert "does not link" in foreign.get_json()["error"]["message"]
    assert len(audit.gaps(trust.db, [trust.school_a.id])) == 3
    # The pages' counts: per device and per school; school B (the trap) has none.
    both = [trust.school_a.id, trust.school_b.id]
    assert audit.gap_counts(trust.db, both) == {device_id: 3}
    assert audit.gaps_by_school(trust.db, both) == {trust.school_a.id: 3}
    assert audit.gaps_by_school(trust.db, [trust.school_b.id]) == {}
    # Malformed pushes are 400, not gaps.
    for body in ({"source": "shared", "rows": [{"seq": 1}]}, {"source": "../x", "rows": []}):
        bad = client.post("/api/v1/audit", json=body, headers=bearer(credential))
        assert bad.status_code == 400
    assert len(audit.gaps(trust.db, [trust.school_a.id])) == 3


def test_rows_the_server_writes_are_chained_like_any_other(
    trust: Trust, client: FlaskClient
) -> None:
    device_id, credential = enrolled(trust.db, trust.school_b.id, "chromebook-1")
    first = audit.append(trust.db, device_id, "shared", "check", verdict="ok", text_sha256="ab")
    second = audit.append(trust.db, device_id, "shared", "post", account="brackenfield")
    assert first["seq"] == 1 and first["prev_hash"] == ""
    assert second["prev_hash"] == first["hash"] and first["device"] == "chromebook-1"
    status = client.get("/api/v1/status", headers=bearer(credential)).get_json()
    assert status["audit"]["shared"]["last_hash"] == second["hash"]
    # The rows re-verify with the store's own hash: pushing them back is a retry.
    again = [{k: v for k, v in r.items() if k != "source"} for r in (first, second)]
    reply = client.post(
        "/api/v1/audit", json={"source": "shared", "rows": again}, headers=bearer(credential)
    )
    assert reply.status_code == 200 and reply.get_json()["last_seq"] == 2


def test_the_same_batch_pushed_at_once_from_many_threads_is_kept_once(
    trust: Trust, tmp_path: Path
) -> None:
    """A device retrying while its first push is still in flight: every push gets
    200 and each row is kept once (PostgreSQL has no head row to lock the first time)."""
    from concurrent.futures import ThreadPoolExecutor

    device_id, _ = enrolled(trust.db, trust.school_a.id)
    rows = chain(tmp_path / "device", 20)
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(
            pool.map(lambda n: audit.accept(trust.db, device_id, "shared", rows), range(6))
        )
    assert all(r["last_seq"] == 20 for r in results)
    assert len(audit.rows(trust.db, trust.school_a.id)) == 20
    assert audit.gaps(trust.db, [trust.school_a.id]) == []
