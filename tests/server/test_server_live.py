"""`tweetguard server run` starts the pages' live feed: a signed-in page hears a row a
device pushes within a second, on either backend, with its default workers (one on
SQLite, whose feed hears only its own process; two on PostgreSQL)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from tests.conftest import run_cli
from tests.server.conftest import Trust
from tests.server.running import server_run
from tests.server.test_fanout import PASSWORD, Server, bearer, chained_row, sign_in
from tweetguard.server import audit, tenancy
from tweetguard.server.console import COOKIE_NAME
from tweetguard.server.feed import start_feed
from tweetguard.server.serve import default_workers, feed_address

ORIGIN = "http://127.0.0.1"


@pytest.fixture
def served(home: Path, database_url: str, tmp_path: Path) -> Iterator[tuple[Server, str]]:
    def cli(*args: str, input: bytes | None = None) -> bytes:
        done = run_cli(home, "server", *args, "--database", database_url, input=input)
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("init", "--trust", "Kestrel Vale Trust", "--admin", "it@kestrel.example",
        input=PASSWORD.encode() + b"\n")  # fmt: skip
    cli("school", "add", "Kestrel Vale Primary")
    code = cli("code", "--school", "Kestrel Vale Primary").decode().strip()
    with server_run(home, database_url, tmp_path / "server.log") as server:
        status, _, body = server.request(
            "POST",
            "/api/v1/enrol",
            json.dumps({"code": code, "name": "kestrel-hall-pc", "kind": "helper"}).encode(),
            {"Content-Type": "application/json", "X-Tweetguard-Helper": "live"},
        )
        assert status == 201, body
        yield server, json.loads(body)["credential"]


def test_a_signed_in_page_hears_a_device_push_within_a_second(
    served: tuple[Server, str],
) -> None:
    server, credential = served
    origin = f"http://127.0.0.1:{server.port}"
    cookie = sign_in(server, "it@kestrel.example")
    status, headers, page = server.request("GET", "/", headers={"Cookie": cookie})
    assert status == 200
    feed_url = f"ws://127.0.0.1:{server.feed}/"
    assert f'data-feed="{feed_url}"'.encode() in page
    assert f"connect-src 'self' {feed_url};" in headers["content-security-policy"]
    script = re.search(rb'<script src="([^"]+/live\.js)"', page)
    assert script, "the overview does not load the live feed's script"
    status, _, js = server.request("GET", script.group(1).decode())
    assert status == 200 and b"new WebSocket(root.dataset.feed)" in js

    with connect(
        feed_url,
        origin=Origin(origin),
        additional_headers={"Cookie": cookie},
        open_timeout=5,
    ) as feed:
        row = chained_row(1, "", "Kestrel Vale's orchestra played at the spring fair")
        sent = time.monotonic()
        pushed = server.request(
            "POST",
            "/api/v1/audit",
            json.dumps({"source": "shared", "rows": [row]}).encode(),
            {**bearer(credential), "Content-Type": "application/json"},
        )
        assert pushed[0] == 200, pushed[2]
        message = json.loads(feed.recv(timeout=1.0))
        assert time.monotonic() - sent < 1.0
        assert [(r["seq"], r["hash"]) for r in message["rows"]] == [(1, row["hash"])]

    # The trap: the same cookie from another site's page is refused.
    with pytest.raises(InvalidStatus) as refused:
        connect(
            feed_url,
            origin=Origin("http://elsewhere.example"),
            additional_headers={"Cookie": cookie},
            open_timeout=5,
        )
    assert refused.value.response.status_code == 403


def test_workers_and_the_feed_address_by_default() -> None:
    assert default_workers("sqlite:////srv/tweetguard/server.sqlite3") == 1
    assert default_workers("postgresql+psycopg://tg@db.example/tweetguard") == 2
    assert feed_address("https://tweetguard.kestrel.example:8443", 8445) == (
        "https://tweetguard.kestrel.example:8443",
        "wss://tweetguard.kestrel.example:8445/",
    )
    assert feed_address("http://127.0.0.1:8780", 8782)[1] == "ws://127.0.0.1:8782/"


def test_a_feed_opened_before_sign_out_or_a_password_reset_is_closed(
    app: Flask, trust: Trust
) -> None:
    """The feed asks for the cookie's session epoch as every page does, and asks
    again while no row comes, so a page signed out elsewhere hears no more rows."""
    from tests.server.conftest import enrolled
    from tests.server.test_server_roles import signed_in

    feed = start_feed(app, origin=ORIGIN, session_check_seconds=0.1)
    url = f"ws://127.0.0.1:{feed.port}/"

    def cookie_of(who: FlaskClient) -> str:
        cookie = who.get_cookie(COOKIE_NAME)
        assert cookie is not None
        return f"{COOKIE_NAME}={cookie.value}"

    def opened(cookie: str) -> ClientConnection:
        return connect(
            url, origin=Origin(ORIGIN), additional_headers={"Cookie": cookie}, open_timeout=5
        )

    try:
        dsl_client = signed_in(app, trust.safeguarding_a.email)
        admin_client = signed_in(app, trust.admin.email)
        reset_client = signed_in(app, trust.safeguarding_b.email)
        dsl_cookie = cookie_of(dsl_client)
        with (
            opened(dsl_cookie) as dsl,
            opened(cookie_of(admin_client)) as admin,
            opened(cookie_of(reset_client)) as b,
        ):
            assert dsl_client.post("/logout").status_code == 302  # the sign-out route itself
            # A password reset ends the user's sessions as `server user reset-password` does.
            tenancy.end_sessions(trust.db, trust.safeguarding_b.id)
            for ended in (dsl, b):
                with pytest.raises(ConnectionClosed) as closed:
                    ended.recv(timeout=10)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
            # Trap: a session still signed in keeps hearing rows.
            device_id, _ = enrolled(trust.db, trust.school_a.id, "alder-hall-pc")
            audit.append(
                trust.db, device_id, "shared", "check", verdict="ok", account="alderbrookpri"
            )
            message = json.loads(admin.recv(timeout=10))
            assert [r["device"] for r in message["rows"]] == ["alder-hall-pc"]
        # And a signed-out cookie cannot open the feed again.
        with pytest.raises(InvalidStatus) as refused:
            opened(dsl_cookie)
        assert refused.value.response.status_code == 403
    finally:
        feed.stop()
