"""`tweetguard server run` starts the pages' live feed: a signed-in page hears a row a
device pushes within a second, on either backend, with its default workers (one on
SQLite, whose feed hears only its own process; two on PostgreSQL)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from tests.conftest import run_cli
from tests.server.pg import free_port
from tests.server.test_fanout import PASSWORD, Server, bearer, chained_row, sign_in
from tweetguard.server.serve import default_workers, feed_address


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
    port, feed = free_port(), free_port()
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tweetguard", "--home", str(home), "server", "run",
             "--database", database_url, "--bind", f"127.0.0.1:{port}", "--ws-port", "0",
             "--feed-port", str(feed)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    server = Server(port, feed, process, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                with socket.create_connection(("127.0.0.1", feed), 0.2):
                    if server.request("GET", "/login")[0] == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"the server did not start: {log.read_text()}"
            time.sleep(0.05)
        status, _, body = server.request(
            "POST",
            "/api/v1/enrol",
            json.dumps({"code": code, "name": "kestrel-hall-pc", "kind": "helper"}).encode(),
            {"Content-Type": "application/json", "X-Tweetguard-Helper": "live"},
        )
        assert status == 201, body
        yield server, json.loads(body)["credential"]
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
