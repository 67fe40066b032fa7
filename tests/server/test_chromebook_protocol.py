"""The Chromebook path on the server: POST /api/v1/protocol and the WebSocket,
against the real app over a real database (SQLite and PostgreSQL), checked with
the same Handler the native host uses, against the device's own school only."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.typing import Origin

from tests.server.conftest import Trust, bearer, enrolled
from tweetguard.server import audit, devices, policies, registers
from tweetguard.server.api.ws import WsServer, start_ws
from tweetguard.server.db import tables
from tweetguard.stores.consent import Pupil

ACCOUNT = {"handle": "AlderbrookPri", "user_id": "1600000000000000077"}
# A pupil of Brackenfield only: Alderbrook's devices must not know her.
OTHER_SCHOOL_PUPIL = "Rosalind Quenby-Marsh"
# A pupil of Alderbrook without consent.
OWN_PUPIL = "Thaddeus Ormiston"


def person(first: str, last: str, class_name: str, consent: bool = False) -> dict[str, Any]:
    return registers.person_json(
        Pupil(first_name=first, last_name=last, class_name=class_name, social_media=consent)
    )


@pytest.fixture
def schools(trust: Trust) -> Trust:
    db = trust.db
    for school, handle in ((trust.school_a, "AlderbrookPri"), (trust.school_b, "BrackenJuniors")):
        policies.save_school_layer(
            db,
            school.id,
            f'[school]\nname = "{school.name}"\n\n[[accounts]]\nhandle = "{handle}"\n'
            'visibility = "public"\n',
            by=None,
        )
    registers.apply_people(
        db,
        trust.school_a.id,
        [person("Thaddeus", "Ormiston", "5W"), person("Imogen", "Carrow", "5W", consent=True)],
    )
    registers.apply_people(db, trust.school_b.id, [person("Rosalind", "Quenby-Marsh", "3B")])
    return trust


def chromebook(db: Any, school_id: str, name: str = "cb-library-3") -> tuple[str, str]:
    token = devices.make_token(db, school_id, created_by="test")
    device, credential = devices.enrol(db, token, name=name, kind="extension")
    return device.id, credential


def ask(client: FlaskClient, credential: str, message: dict[str, Any]) -> Any:
    response = client.post("/api/v1/protocol", json=message, headers=bearer(credential))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def chain(db: Any, device_id: str) -> list[dict[str, Any]]:
    rows = tables.audit_rows
    with db.read() as conn:
        found = conn.execute(
            rows.select().where(rows.c.device_id == device_id).order_by(rows.c.seq)
        ).all()
    return [dict(r._mapping) for r in found]


def test_hello_check_override_posted_logout_over_http(schools: Trust, client: FlaskClient) -> None:
    db = schools.db
    device_id, credential = chromebook(db, schools.school_a.id)
    hello = ask(client, credential, {"id": 1, "type": "hello", "extension_version": "0.1.0"})
    assert hello["ok"] and hello["protocol"] == 1
    assert hello["school"] == "Alderbrook Primary"
    assert hello["policy"]["register"]["pupils"] == 2
    assert hello["audit"]["ok"] and hello["audit"]["shared"]
    assert hello["websocket"].endswith("/api/v1/ws")

    text = f"Well done to {OWN_PUPIL} for the science fair!"
    held = ask(client, credential, {"id": 2, "type": "check", "text": text, "account": ACCOUNT})
    assert held["verdict"] == "block"
    assert "names.full-name" in [f["rule"] for f in held["findings"]]
    clean = ask(
        client,
        credential,
        {"id": 3, "type": "check", "text": "Sports day moves to Friday.", "account": ACCOUNT},
    )
    assert clean["verdict"] == "allow", clean  # the trap: a clean post is not held
    refused = ask(
        client,
        credential,
        {
            "id": 4,
            "type": "override",
            "text": text,
            "rules": ["names.full-name"],
            "reason": "trying",
            "account": ACCOUNT,
        },
    )
    assert refused["ok"] is False and refused["error"]["code"] == "override_not_allowed"
    posted = ask(
        client,
        credential,
        {"id": 5, "type": "posted", "account": ACCOUNT, "texts": ["Sports day moves to Friday."]},
    )
    assert posted == {"id": 5, "ok": True, "recorded": True}
    out = ask(
        client,
        credential,
        {"id": 6, "type": "logout", "reason": "after-post", "account": ACCOUNT},
    )
    assert out["recorded"] is True

    rows = chain(db, device_id)
    assert [r["kind"] for r in rows] == ["check", "check", "post", "logout"]
    assert {r["source"] for r in rows} == {"shared"}
    assert rows[0]["verdict"] == "block" and rows[0]["text"] is None  # hashes, not text
    assert rows[0]["account"] == "alderbrookpri"
    # The server's own rows chain like any device's and verify.
    assert [r["seq"] for r in rows] == [1, 2, 3, 4]
    assert all(rows[i]["prev_hash"] == rows[i - 1]["hash"] for i in range(1, len(rows)))
    assert audit.heads(db, device_id)["shared"]["last_seq"] == 4


def test_a_pupil_of_another_school_is_not_this_schools(schools: Trust, client: FlaskClient) -> None:
    db = schools.db
    _, in_a = chromebook(db, schools.school_a.id, "cb-a")
    _, in_b = chromebook(db, schools.school_b.id, "cb-b")
    text = f"Congratulations {OTHER_SCHOOL_PUPIL} on the poetry prize"
    from_a = ask(client, in_a, {"id": 1, "type": "check", "text": text, "account": ACCOUNT})
    assert "names.full-name" not in [f["rule"] for f in from_a["findings"]]
    account_b = {"handle": "BrackenJuniors", "user_id": "1600000000000000088"}
    from_b = ask(client, in_b, {"id": 1, "type": "check", "text": text, "account": account_b})
    assert from_b["verdict"] == "block"
    assert "names.full-name" in [f["rule"] for f in from_b["findings"]]


def test_a_register_change_reaches_the_next_check(schools: Trust, client: FlaskClient) -> None:
    db = schools.db
    _, credential = chromebook(db, schools.school_a.id)
    text = "A huge well done to Perpetua Langridge-Voss in 5W"
    before = ask(client, credential, {"id": 1, "type": "check", "text": text, "account": ACCOUNT})
    assert "names.full-name" not in [f["rule"] for f in before["findings"]]
    registers.apply_people(
        db,
        schools.school_a.id,
        [
            person("Thaddeus", "Ormiston", "5W"),
            person("Imogen", "Carrow", "5W", consent=True),
            person("Perpetua", "Langridge-Voss", "5W"),
        ],
    )
    after = ask(client, credential, {"id": 2, "type": "check", "text": text, "account": ACCOUNT})
    assert "names.full-name" in [f["rule"] for f in after["findings"]]


def test_helpers_and_removed_devices_are_refused(schools: Trust, client: FlaskClient) -> None:
    db = schools.db
    _, helper = enrolled(db, schools.school_a.id)
    message = {"id": 1, "type": "hello"}
    as_helper = client.post("/api/v1/protocol", json=message, headers=bearer(helper))
    assert as_helper.status_code == 403
    assert as_helper.get_json()["error"]["code"] == "forbidden"
    device_id, credential = chromebook(db, schools.school_a.id)
    assert (
        client.post("/api/v1/protocol", json=message, headers=bearer(credential)).status_code == 200
    )
    assert devices.revoke(db, schools.school_a.id, device_id)
    removed = client.post("/api/v1/protocol", json=message, headers=bearer(credential))
    assert removed.status_code == 401
    assert removed.get_json()["error"]["code"] == "device_unknown"
    nobody = client.post("/api/v1/protocol", json=message)
    assert nobody.status_code == 401


def test_cors_answers_extension_origins_only(schools: Trust, client: FlaskClient) -> None:
    _, credential = chromebook(schools.db, schools.school_a.id)
    for origin in (
        "chrome-extension://kcenecofiljhmpdkjpenlicjgmahkgic",
        "moz-extension://5f0c3a1e-7b7d-4d4e-9a51-1c2b3d4e5f60",
    ):
        preflight = client.options(
            "/api/v1/protocol",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == origin
        assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
        real = client.post(
            "/api/v1/protocol",
            json={"id": 1, "type": "hello"},
            headers={**bearer(credential), "Origin": origin},
        )
        assert real.headers["Access-Control-Allow-Origin"] == origin
    # The trap: a web page's origin gets no CORS answer, preflight or not.
    page = "https://evil.example"
    preflight = client.options(
        "/api/v1/protocol", headers={"Origin": page, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers
    real = client.post(
        "/api/v1/protocol",
        json={"id": 1, "type": "hello"},
        headers={**bearer(credential), "Origin": page},
    )
    assert "Access-Control-Allow-Origin" not in real.headers
    # The server's own pages are not the device API: no CORS there at all.
    other = client.get(
        "/", headers={"Origin": "chrome-extension://kcenecofiljhmpdkjpenlicjgmahkgic"}
    )
    assert "Access-Control-Allow-Origin" not in other.headers


# --- the WebSocket ------------------------------------------------------------------


@pytest.fixture
def ws(app: Flask) -> Iterator[WsServer]:
    server = start_ws(app, "127.0.0.1", 0)
    yield server
    server.close()


def ws_url(server: WsServer) -> str:
    return f"ws://127.0.0.1:{server.port}/api/v1/ws"


def recv_json(connection: Any) -> Any:
    return json.loads(connection.recv(timeout=20))


def test_websocket_speaks_the_protocol(schools: Trust, ws: WsServer) -> None:
    db = schools.db
    device_id, credential = chromebook(db, schools.school_a.id)
    with connect(ws_url(ws)) as connection:
        connection.send(json.dumps({"type": "auth", "credential": credential}))
        assert recv_json(connection) == {"type": "auth", "ok": True, "device_id": device_id}
        connection.send(json.dumps({"id": "h", "type": "hello"}))
        assert recv_json(connection)["school"] == "Alderbrook Primary"
        text = f"Lovely singing from {OWN_PUPIL} today"
        connection.send(json.dumps({"id": 7, "type": "check", "text": text, "account": ACCOUNT}))
        reply = recv_json(connection)
        assert reply["id"] == 7 and reply["verdict"] == "block"
        connection.send(json.dumps({"id": 8, "type": "check", "text": "Lovely singing today"}))
        assert recv_json(connection)["verdict"] == "allow"
        connection.send("{not json")
        assert recv_json(connection)["error"]["code"] == "bad_json"
    assert [r["kind"] for r in chain(db, device_id)] == ["check", "check"]


def test_websocket_photo_chunks_and_progress(schools: Trust, ws: WsServer) -> None:
    """A photo in two chunks on one connection: the first is acknowledged, the last
    answered with the report (the Handler's photo work, on the connection's worker)."""
    import base64
    import hashlib

    from tests.photos import jpeg, scene

    data = jpeg(scene())
    digest = hashlib.sha256(data).hexdigest()
    half = len(data) // 2
    _, credential = chromebook(schools.db, schools.school_a.id)
    with connect(ws_url(ws), max_size=None) as connection:
        connection.send(json.dumps({"type": "auth", "credential": credential}))
        recv_json(connection)
        for number, (offset, chunk) in enumerate(((0, data[:half]), (half, data[half:]))):
            connection.send(
                json.dumps(
                    {
                        "id": f"put{number}",
                        "type": "media_put",
                        "sha256": digest,
                        "mime": "image/jpeg",
                        "name": "harvest.jpg",
                        "kind": "image",
                        "size": len(data),
                        "offset": offset,
                        "data": base64.b64encode(chunk).decode(),
                    }
                )
            )
        first = recv_json(connection)
        assert first == {"id": "put0", "ok": True, "received": half}
        while True:
            frame = recv_json(connection)
            if frame.get("type") == "progress":
                assert frame["for"] == "put1"
                continue
            break
        assert frame["id"] == "put1" and frame["photo"]["sha256"] == digest


@pytest.mark.parametrize(
    "first",
    [
        {"type": "hello", "id": 1},
        {"type": "auth", "credential": "d_nobody.secret"},
        "helper",
    ],
)
def test_websocket_refuses_without_a_chromebook_credential(
    schools: Trust, ws: WsServer, first: Any
) -> None:
    if first == "helper":
        _, credential = enrolled(schools.db, schools.school_a.id)
        first = {"type": "auth", "credential": credential}
    with connect(ws_url(ws)) as connection:
        connection.send(json.dumps(first))
        with pytest.raises(ConnectionClosed) as closed:
            connection.recv(timeout=20)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_websocket_closes_a_device_removed_meanwhile(schools: Trust, ws: WsServer) -> None:
    db = schools.db
    device_id, credential = chromebook(db, schools.school_a.id)
    with connect(ws_url(ws)) as connection:
        connection.send(json.dumps({"type": "auth", "credential": credential}))
        recv_json(connection)
        assert devices.revoke(db, schools.school_a.id, device_id)
        connection.send(json.dumps({"id": 1, "type": "check", "text": "Hello"}))
        with pytest.raises(ConnectionClosed) as closed:
            connection.recv(timeout=20)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_websocket_refuses_web_pages_and_other_paths(schools: Trust, ws: WsServer) -> None:
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as page:
        connect(ws_url(ws), origin=Origin("https://evil.example"))
    assert page.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as other:
        connect(f"ws://127.0.0.1:{ws.port}/feed")
    assert other.value.response.status_code == 404
    with connect(
        ws_url(ws),
        origin=Origin("chrome-extension://kcenecofiljhmpdkjpenlicjgmahkgic"),
    ) as ok:
        ok.send(json.dumps({"type": "auth", "credential": "x"}))
        with pytest.raises(ConnectionClosed):
            ok.recv(timeout=20)


def test_websocket_over_tls(schools: Trust, app: Flask, tmp_path: Path) -> None:
    from tests.e2e.fixture_server import make_certificate

    cert, key = make_certificate(tmp_path)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server = start_ws(app, "127.0.0.1", 0, server_context)
    try:
        client_context = ssl.create_default_context(cafile=str(cert))
        client_context.check_hostname = False
        _, credential = chromebook(schools.db, schools.school_a.id)
        with connect(f"wss://127.0.0.1:{server.port}/api/v1/ws", ssl=client_context) as c:
            c.send(json.dumps({"type": "auth", "credential": credential}))
            assert recv_json(c)["ok"] is True
    finally:
        server.close()


def test_school_folder_built_once_across_threads(schools: Trust, app: Flask) -> None:
    """Many threads at once for one school (each with its own Checker: a register
    connection belongs to its thread) build its folder once, and every check sees
    the register (no half-written folder is ever read)."""
    from tweetguard.server.api.protocol import service

    svc = service(app)
    results: list[str] = []

    def one() -> None:
        _, checker = svc.homes.checker(schools.school_a.id)
        results.append(checker.check(f"Well done {OWN_PUPIL}").verdict)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["block"] * 8
    folders = [
        p for p in (svc.homes.root).rglob("*") if p.is_dir() and p.parent.parent == svc.homes.root
    ]
    assert len(folders) == 1


def test_a_policy_change_reaches_the_next_check(schools: Trust, client: FlaskClient) -> None:
    db = schools.db
    _, credential = chromebook(db, schools.school_a.id)
    text = f"Three cheers for {OWN_PUPIL}"
    message = {"id": 1, "type": "check", "text": text, "account": ACCOUNT}

    def full_name(reply: Any) -> str:
        return str(next(f["severity"] for f in reply["findings"] if f["rule"] == "names.full-name"))

    assert full_name(ask(client, credential, message)) == "block"
    policies.save_school_layer(
        db,
        schools.school_a.id,
        '[school]\nname = "Alderbrook Primary"\n\n[[accounts]]\nhandle = "AlderbrookPri"\n'
        'visibility = "public"\n\n[rules."names.full-name"]\nseverity = "warn"\n',
        by=None,
    )
    assert full_name(ask(client, credential, message)) == "warn"
    # The trap: the other school's policy is its own, unchanged.
    _, in_b = chromebook(db, schools.school_b.id, "cb-b")
    hello_b = ask(client, in_b, {"id": 2, "type": "hello"})
    assert hello_b["school"] == "Brackenfield Juniors"
