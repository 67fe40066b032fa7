"""The live feed (transport/websocket.py) over a real loopback socket: who may
connect, and new rows from every audit source arriving in order."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.test_console_support import no_keyring, signed_in, token
from tweetguard.console.security import COOKIE_NAME, feed_authorizer
from tweetguard.stores.audit import AuditLog, open_audit
from tweetguard.transport.websocket import LiveFeed

__all__ = ["no_keyring"]

ORIGIN = "http://127.0.0.1:18740"


@pytest.fixture
def console(home: Path, no_keyring: None) -> tuple[Flask, FlaskClient]:
    return signed_in(home)


@pytest.fixture
def feed(home: Path, console: tuple[Flask, FlaskClient]) -> Iterator[tuple[LiveFeed, str]]:
    app, client = console
    cookie = client.get_cookie(COOKIE_NAME, domain="127.0.0.1")
    assert cookie is not None
    server = LiveFeed(home, origin=ORIGIN, cookie_name=COOKIE_NAME, authorize=feed_authorizer(app))
    server.start()
    yield server, f"{COOKIE_NAME}={cookie.value}"
    server.stop()


def _refused(url: str, **kwargs: object) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=5, **kwargs).close()  # type: ignore[arg-type]
    return refused.value


def test_only_the_consoles_signed_in_pages_may_connect(feed: tuple[LiveFeed, str]) -> None:
    server, cookie = feed
    other = _refused(
        server.url, origin="http://127.0.0.1:9999", additional_headers={"Cookie": cookie}
    )
    assert other.response.status_code == 403
    assert b"only the console's own pages" in other.response.body
    lookalike = _refused(
        server.url, origin=ORIGIN + ".evil.example", additional_headers={"Cookie": cookie}
    )
    assert lookalike.response.status_code == 403
    anonymous = _refused(server.url, origin=ORIGIN)
    assert anonymous.response.status_code == 403 and b"sign in" in anonymous.response.body
    forged = _refused(server.url, origin=ORIGIN, additional_headers={"Cookie": cookie[:-3] + "abc"})
    assert forged.response.status_code == 403
    # False-alarm trap: the right origin with the live cookie is let in.
    with connect(server.url, origin=ORIGIN, additional_headers={"Cookie": cookie}) as socket:
        socket.send(json.dumps({"after": {}}))


def _next_rows(socket: ClientConnection) -> list[dict[str, object]]:
    message = json.loads(socket.recv(timeout=5))
    assert message["type"] == "rows"
    rows: list[dict[str, object]] = message["rows"]
    return rows


def test_new_rows_from_every_source_arrive(home: Path, feed: tuple[LiveFeed, str]) -> None:
    server, cookie = feed
    shared = open_audit(home)
    shared.append("check", account="CedarGroveSch", verdict="ok")
    (home / "audit.d").mkdir()
    teacher = AuditLog(home / "audit.d" / "mrs-ferreira.sqlite3", source="user:mrs-ferreira")
    with connect(server.url, origin=ORIGIN, additional_headers={"Cookie": cookie}) as socket:
        socket.send(json.dumps({"after": {"shared": 1}}))  # the page shows row 1 already
        shared.append("override", account="CedarGroveSch", detail={"reason": "staff photo"})
        (row,) = _next_rows(socket)
        assert row["kind"] == "override" and row["seq"] == 2 and row["source"] == "shared"
        teacher.append("check", account="CedarGroveSch", verdict="block", rules=["names.full-name"])
        (row,) = _next_rows(socket)
        assert row["source"] != "shared" and row["verdict"] == "block"
    shared.close()
    teacher.close()


def test_signing_out_ends_the_feed_before_the_next_row(
    home: Path, feed: tuple[LiveFeed, str], console: tuple[Flask, FlaskClient]
) -> None:
    server, cookie = feed
    _app, client = console
    log = open_audit(home)
    with connect(server.url, origin=ORIGIN, additional_headers={"Cookie": cookie}) as socket:
        socket.send(json.dumps({"after": {}}))
        # False-alarm trap: signed in, a row arrives.
        log.append("check", account="HazelmereSch", verdict="ok")
        (row,) = _next_rows(socket)
        assert row["account"] == "hazelmeresch"
        client.post("/logout", data={"csrf_token": token(client, "/")})
        log.append("override", account="HazelmereSch", detail={"reason": "signed out already"})
        with pytest.raises(ConnectionClosed) as closed:
            message = socket.recv(timeout=5)
            pytest.fail(f"a row reached a signed-out page: {message}")
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    log.close()


def test_a_damaged_source_is_skipped_and_the_others_still_arrive(
    home: Path, feed: tuple[LiveFeed, str]
) -> None:
    server, cookie = feed
    shared = open_audit(home)
    (home / "audit.d").mkdir()
    teacher = AuditLog(home / "audit.d" / "mr-okafor.sqlite3", source="user:mr-okafor")
    teacher.append("check", account="HazelmereSch", verdict="ok")
    teacher.close()
    with sqlite3.connect(home / "audit.d" / "mr-okafor.sqlite3") as conn:
        conn.execute("UPDATE rows SET rules = '[broken' WHERE seq = 1")
    with connect(server.url, origin=ORIGIN, additional_headers={"Cookie": cookie}) as socket:
        socket.send(json.dumps({"after": {"user:mr-okafor": 0}}))
        shared.append("check", account="HazelmereSch", verdict="warn")
        (row,) = _next_rows(socket)
        assert row["source"] == "shared" and row["verdict"] == "warn"
        shared.append("post", account="HazelmereSch")
        (row,) = _next_rows(socket)
        assert row["kind"] == "post"
    shared.close()
