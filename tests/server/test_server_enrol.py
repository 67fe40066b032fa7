"""Enrolment and device credentials through the real device API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import update

from tests.server.conftest import Trust, bearer, enrolled
from tweetguard.server import devices
from tweetguard.server.db.tables import devices as devices_table
from tweetguard.server.db.tables import enrol_codes
from tweetguard.stores.audit.model import format_time


def test_a_code_enrols_one_machine_once(trust: Trust, client: FlaskClient) -> None:
    code = devices.make_code(trust.db, trust.school_a.id, created_by=trust.it_a.id)
    first = client.post("/api/v1/enrol", json={"code": code, "name": "office-pc", "kind": "helper"})
    assert first.status_code == 201
    body = first.get_json()
    assert body["school"] == {"id": trust.school_a.id, "name": "Alderbrook Primary"}
    assert body["trust"]["name"] == "Riverside Learning Trust"
    assert body["credential"].startswith(body["device_id"] + ".")
    assert body["poll_seconds"] > 0
    # The same code again: refused, saying it was used.
    again = client.post("/api/v1/enrol", json={"code": code, "name": "other", "kind": "helper"})
    assert again.status_code == 403
    assert again.get_json()["error"]["code"] == "enrol_refused"
    assert "already used" in again.get_json()["error"]["message"]
    # The credential works; typed in lower case with spaces the code is still the code
    # (trap: a reformatted code is not "unknown").
    status = client.get("/api/v1/status", headers=bearer(body["credential"]))
    assert status.status_code == 200
    assert status.get_json()["device_id"] == body["device_id"]
    other = devices.make_code(trust.db, trust.school_a.id, created_by=trust.it_a.id)
    typed = other.lower().replace("-", " ")
    assert client.post("/api/v1/enrol", json={"code": typed, "name": "x"}).status_code == 201


def test_expired_and_unknown_codes_are_refused_with_what_to_do(
    trust: Trust, client: FlaskClient
) -> None:
    code = devices.make_code(trust.db, trust.school_a.id, created_by="t")
    with trust.db.write() as conn:
        conn.execute(
            update(enrol_codes).values(
                expires_at=format_time(datetime.now(UTC) - timedelta(minutes=1))
            )
        )
    expired = client.post("/api/v1/enrol", json={"code": code, "name": "pc", "kind": "helper"})
    assert expired.status_code == 403
    assert "expired" in expired.get_json()["error"]["message"]
    unknown = client.post("/api/v1/enrol", json={"code": "ABCD-EFGH-JKLM", "kind": "helper"})
    assert unknown.status_code == 403
    assert "not known" in unknown.get_json()["error"]["message"]
    assert client.post("/api/v1/enrol", data="not json").status_code == 400


def test_a_school_token_enrols_many_chromebooks_until_revoked(
    trust: Trust, client: FlaskClient
) -> None:
    token = devices.make_token(trust.db, trust.school_b.id, created_by=trust.admin.id)
    ids = set()
    for number in range(3):
        reply = client.post(
            "/api/v1/enrol", json={"code": token, "name": f"cb-{number}", "kind": "extension"}
        )
        assert reply.status_code == 201
        assert reply.get_json()["school"]["id"] == trust.school_b.id
        ids.add(reply.get_json()["device_id"])
    assert len(ids) == 3
    # A helper may not use the token (trap for the check above: the same token works).
    helper = client.post("/api/v1/enrol", json={"code": token, "name": "pc", "kind": "helper"})
    assert helper.status_code == 403
    assert "Chromebooks only" in helper.get_json()["error"]["message"]
    (info,) = devices.tokens(trust.db, trust.school_b.id)
    assert devices.revoke_token(trust.db, trust.school_b.id, info.id)
    revoked = client.post("/api/v1/enrol", json={"code": token, "name": "cb", "kind": "extension"})
    assert revoked.status_code == 403
    assert "revoked" in revoked.get_json()["error"]["message"]


def test_a_revoked_or_wrong_credential_is_401(trust: Trust, client: FlaskClient) -> None:
    device_id, credential = enrolled(trust.db, trust.school_a.id)
    assert client.get("/api/v1/status", headers=bearer(credential)).status_code == 200
    wrong = credential[:-2] + ("AA" if not credential.endswith("AA") else "BB")
    for headers in (bearer(wrong), {}, {"Authorization": "Basic abc"}, bearer("d_nothing.x")):
        reply = client.get("/api/v1/policy", headers=headers)
        assert reply.status_code == 401
        assert reply.get_json()["error"] == {
            "code": "device_unknown",
            "message": "this machine is not enrolled, or was removed: ask IT to enrol it again",
        }
    assert devices.revoke(trust.db, trust.school_a.id, device_id)
    assert client.get("/api/v1/status", headers=bearer(credential)).status_code == 401
    # Revoking through another school's id does nothing (trap: it is not a no-op by accident).
    other_id, other = enrolled(trust.db, trust.school_b.id, "b-pc")
    assert not devices.revoke(trust.db, trust.school_a.id, other_id)
    assert client.get("/api/v1/status", headers=bearer(other)).status_code == 200


def test_helper_version_and_last_seen_are_noted_at_most_once_a_minute(
    trust: Trust, client: FlaskClient
) -> None:
    device_id, credential = enrolled(trust.db, trust.school_a.id)
    client.get("/api/v1/status", headers=bearer(credential, "1.2.0"))
    (info,) = devices.devices_of(trust.db, [trust.school_a.id])
    assert info.helper_version == "1.2.0" and info.last_seen
    first_seen = info.last_seen
    client.get("/api/v1/status", headers=bearer(credential, "1.2.0"))
    (info,) = devices.devices_of(trust.db, [trust.school_a.id])
    assert info.last_seen == first_seen  # within the minute: not written again
    client.get("/api/v1/status", headers=bearer(credential, "1.3.0"))
    (info,) = devices.devices_of(trust.db, [trust.school_a.id])
    assert info.helper_version == "1.3.0"  # a new version is written at once
    with trust.db.write() as conn:
        conn.execute(
            update(devices_table)
            .where(devices_table.c.id == device_id)
            .values(last_seen=format_time(datetime.now(UTC) - timedelta(minutes=5)))
        )
    client.get("/api/v1/status", headers=bearer(credential, "1.3.0"))
    (info,) = devices.devices_of(trust.db, [trust.school_a.id])
    assert info.last_seen and info.last_seen > format_time(datetime.now(UTC) - timedelta(minutes=1))


def test_api_errors_have_the_one_shape(trust: Trust, client: FlaskClient) -> None:
    _, credential = enrolled(trust.db, trust.school_a.id)
    missing = client.get("/api/v1/nothing-here", headers=bearer(credential))
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    huge = client.post(
        "/api/v1/audit",
        data=b"x" * (8 * 1024 * 1024 + 1),
        headers={**bearer(credential), "Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    assert huge.get_json()["error"]["code"] == "too_large"
