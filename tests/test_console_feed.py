"""The live feed (transport/websocket.py) over a real loopback socket: who may
connect, and new rows from every audit source arriving in order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.test_console_support import no_keyring, signed_in
from tweetguard.console.security import COOKIE_NAME, feed_authorizer
from tweetguard.stores.audit import AuditLog, open_audit
from tweetguard.transport.websocket import LiveFeed

__all__ = ["no_keyring"]

ORIGIN = "http://127.0.0.1:18740"


@pytest.fixture
def feed(home: Path, no_keyring: None) -> Iterator[tuple[LiveFeed, str]]:
    app, client = signed_in(home)
    cookie = client.get_cookie(COOKIE_NAME)
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
        assert row["source"] == "user:mrs-ferreira" and row["verdict"] == "block"
    shared.close()
    teacher.close()
