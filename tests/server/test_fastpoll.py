"""The device polls answered before Flask (server/fastpoll.py): the same status,
headers and body as Flask's own answer, the device's call noted the same way, and
everything else (an unknown or removed device, an extension, a changed version, a
browser's call) still answered by Flask."""

from __future__ import annotations

from flask import Flask, request
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.server.conftest import Trust, bearer, enrolled
from tweetguard.server import cache, devices, policies, registers
from tweetguard.server.fastpoll import FastPolls
from tweetguard.stores.consent import Pupil


def same(a: TestResponse, b: TestResponse) -> None:
    assert (a.status, a.data) == (b.status, b.data)
    assert sorted((k, v) for k, v in a.headers.items() if k != "Date") == sorted(
        (k, v) for k, v in b.headers.items() if k != "Date"
    )


def test_a_poll_with_nothing_new_is_answered_as_flask_would_without_entering_it(
    app: Flask, trust: Trust
) -> None:
    fast = app.wsgi_app
    assert isinstance(fast, FastPolls)
    entered: list[str] = []
    app.before_request(lambda: entered.append(request.path))
    client: FlaskClient = app.test_client()
    device_id, credential = enrolled(trust.db, trust.school_a.id, "library-pc-2")
    device = bearer(credential, "0.9.4")

    first = client.get("/api/v1/policy", headers=device)
    assert first.status_code == 200
    poll = {**device, "If-None-Match": first.headers["ETag"]}
    by_flask = client.get("/api/v1/policy", headers=poll)  # learns Flask's headers
    assert by_flask.status_code == 304 and fast.answered == 0
    entered.clear()
    by_middleware = client.get("/api/v1/policy", headers=poll)
    assert fast.answered == 1 and entered == []
    same(by_flask, by_middleware)

    revision = registers.apply_people(
        trust.db,
        trust.school_a.id,
        [registers.person_json(Pupil("Ottoline", "Achebe-Marsh", class_name="3P"))],
    )
    assert revision > 0
    flask_unchanged = client.get(f"/api/v1/register?since={revision}", headers=device)
    entered.clear()
    fast_unchanged = client.get(f"/api/v1/register?since={revision}", headers=device)
    assert entered == [] and fast.answered == 2
    same(flask_unchanged, fast_unchanged)
    assert fast_unchanged.get_json() == {"revision": revision, "full": False, "changes": []}
    # The trap: an older revision is Flask's (the register since it, with the pupil).
    older = client.get(f"/api/v1/register?since={revision - 1}", headers=device)
    assert entered[-1:] == ["/api/v1/register"] and "Ottoline" in older.get_data(as_text=True)

    policies.save_school_layer(
        trust.db, trust.school_a.id, '[posting]\nsupport_contact = "Mr Abernethy"\n', by=None
    )
    # The policy changed: 200 with the new text (the trap: not a 304), sent from the
    # encoded body kept for the school (the first 200 taught its headers).
    entered.clear()
    changed = client.get("/api/v1/policy", headers=poll)
    assert changed.status_code == 200 and "Mr Abernethy" in changed.get_json()["toml"]
    assert entered == [] and fast.bodies == 1

    # The middleware's poll is noted as Flask's is: last seen, helper and policy version.
    cache.seen_buffer(trust.db).flush()
    info = {d.id: d for d in devices.devices_of(trust.db, [trust.school_a.id])}[device_id]
    assert info.last_seen and info.helper_version == "0.9.4"


def test_anything_not_cheap_still_goes_to_flask(app: Flask, trust: Trust) -> None:
    fast = app.wsgi_app
    assert isinstance(fast, FastPolls)
    client = app.test_client()
    device_id, credential = enrolled(trust.db, trust.school_a.id, "music-room-1")
    device = bearer(credential)
    etag = client.get("/api/v1/policy", headers=device).headers["ETag"]
    poll = {**device, "If-None-Match": etag}
    assert client.get("/api/v1/policy", headers=poll).status_code == 304  # learns
    assert client.get("/api/v1/policy", headers=poll).status_code == 304
    answered = fast.answered
    assert answered == 1

    # A browser's call (CORS is Flask's), a wrong credential, no credential.
    client.get("/api/v1/policy", headers={**poll, "Origin": "https://elsewhere.example"})
    wrong = client.get("/api/v1/policy", headers={**poll, "Authorization": "Bearer d_x.nope"})
    assert wrong.status_code == 401
    bare = client.get("/api/v1/policy", headers={"If-None-Match": etag})
    assert bare.status_code == 401
    # A removed device is refused at once, though its credential was in memory.
    assert devices.revoke(trust.db, trust.school_a.id, device_id)
    assert client.get("/api/v1/policy", headers=poll).status_code == 401
    # An extension's credential is never answered here.
    code = devices.make_code(trust.db, trust.school_a.id, created_by="test")
    _, chromebook = devices.enrol(trust.db, code, name="cb-14", kind="extension")
    client.get("/api/v1/policy", headers={**bearer(chromebook), "If-None-Match": etag})
    assert fast.answered == answered


def test_a_changed_policy_is_sent_from_one_encoding_per_school_as_flask_sends_it(
    app: Flask, trust: Trust
) -> None:
    fast = app.wsgi_app
    assert isinstance(fast, FastPolls)
    entered: list[str] = []
    app.before_request(lambda: entered.append(request.path))
    client = app.test_client()
    _, first_credential = enrolled(trust.db, trust.school_a.id, "art-room-3")
    _, second_credential = enrolled(trust.db, trust.school_a.id, "art-room-4")
    _, other_credential = enrolled(trust.db, trust.school_b.id, "hall-laptop-1")
    first, second, other = (
        bearer(c) for c in (first_credential, second_credential, other_credential)
    )
    old_tag = client.get("/api/v1/policy", headers=first).headers["ETag"]  # Flask's, learnt

    policies.save_school_layer(
        trust.db, trust.school_a.id, '[posting]\nsupport_contact = "Ms Okonkwo-Baird"\n', by=None
    )
    versions = cache.for_database(trust.db)
    renders = versions.effective.misses
    entered.clear()
    sent = [
        client.get("/api/v1/policy", headers={**device, "If-None-Match": old_tag})
        for device in (first, second, first)
    ]
    assert entered == [] and fast.bodies == 3
    assert {r.data for r in sent} == {sent[0].data} and "Ms Okonkwo-Baird" in sent[0].text
    assert versions.effective.misses == renders + 1  # read once for the school
    # The same answer Flask gives (body, status, headers): asked with a browser's
    # Origin, which the middleware never answers.
    by_flask = client.get(
        "/api/v1/policy",
        headers={**second, "If-None-Match": old_tag, "Origin": "https://x.example"},
    )
    assert entered == ["/api/v1/policy"]
    assert (by_flask.status, by_flask.data, by_flask.headers["ETag"]) == (
        sent[0].status,
        sent[0].data,
        sent[0].headers["ETag"],
    )
    for name in ("Content-Type", "Content-Length", "Cache-Control"):
        assert by_flask.headers.get(name) == sent[0].headers.get(name)

    # The trap: the other school's devices keep their own school's policy (unchanged:
    # 304 for the tag they hold), and its text, asked whole, is not this school's.
    kept = client.get("/api/v1/policy", headers={**other, "If-None-Match": old_tag})
    assert kept.status_code == 304
    theirs = client.get("/api/v1/policy", headers=other)
    assert theirs.status_code == 200 and "Okonkwo-Baird" not in theirs.text

    # A second change is noticed (the kept body is forgotten by its notification).
    policies.save_school_layer(
        trust.db, trust.school_a.id, '[posting]\nsupport_contact = "Mr Villanueva"\n', by=None
    )
    again = client.get(
        "/api/v1/policy", headers={**first, "If-None-Match": sent[0].headers["ETag"]}
    )
    assert again.status_code == 200 and "Mr Villanueva" in again.text
    assert again.headers["ETag"] != sent[0].headers["ETag"]
    # ... and the new tag is answered 304 from memory.
    current = {**first, "If-None-Match": again.headers["ETag"]}
    assert client.get("/api/v1/policy", headers=current).status_code == 304
