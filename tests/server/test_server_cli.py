"""`tweetguard server`: init, schools, users, codes, and the real server process
(gunicorn with TLS) answering over HTTPS on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import run_cli
from tests.server.pg import free_port
from tests.server.tls import self_signed

ADMIN_PASSWORD = b"a long trust admin password\n"


def _cli(
    home: Path, url: str, *args: str, input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return run_cli(home, "server", *args, "--database", url, input=input)


def _call(
    base: str,
    path: str,
    context: ssl.SSLContext,
    body: dict[str, Any] | None = None,
    token: str = "",
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json", "X-Tweetguard-Helper": "test"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_init_school_user_code_from_the_command_line(home: Path, database_url: str) -> None:
    made = _cli(
        home,
        database_url,
        "init",
        "--trust",
        "Fenwick Trust",
        "--admin",
        "ops@fenwick.example",
        input=ADMIN_PASSWORD,
    )
    assert made.returncode == 0, made.stderr
    again = _cli(
        home,
        database_url,
        "init",
        "--trust",
        "Fenwick Trust",
        "--admin",
        "x@fenwick.example",
        input=ADMIN_PASSWORD,
    )
    assert again.returncode != 0 and b"already exists" in again.stderr
    assert _cli(home, database_url, "school", "add", "Fenwick Infants").returncode == 0
    listed = _cli(home, database_url, "school", "list")
    assert b"Fenwick Infants" in listed.stdout
    user = _cli(
        home,
        database_url,
        "user",
        "add",
        "dsl@fenwick.example",
        "--role",
        "safeguarding_lead",
        "--school",
        "Fenwick Infants",
        input=b"another long password\n",
    )
    assert user.returncode == 0, user.stderr
    short = _cli(
        home,
        database_url,
        "user",
        "add",
        "it@fenwick.example",
        "--role",
        "it_lead",
        "--school",
        "Fenwick Infants",
        input=b"short\n",
    )
    assert short.returncode != 0 and b"too short" in short.stderr
    unknown = _cli(home, database_url, "code", "--school", "Nowhere Primary")
    assert unknown.returncode != 0 and b"no school 'Nowhere Primary'" in unknown.stderr
    code = _cli(home, database_url, "code", "--school", "Fenwick Infants")
    assert code.returncode == 0 and len(code.stdout.strip()) == 14
    assert _cli(home, database_url, "migrate").stdout.strip() == b"database schema at 0002"


def test_without_certificates_the_server_refuses_to_bind_beyond_loopback(
    home: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    reply = _cli(home, url, "run", "--bind", "0.0.0.0:8443")
    assert reply.returncode == 78
    assert b"binds loopback only" in reply.stderr


def test_the_real_server_answers_over_https(home: Path, database_url: str, tmp_path: Path) -> None:
    assert (
        _cli(
            home,
            database_url,
            "init",
            "--trust",
            "Ouse Valley Trust",
            "--admin",
            "it@ouse.example",
            input=ADMIN_PASSWORD,
        ).returncode
        == 0
    )
    assert _cli(home, database_url, "school", "add", "Ouse Bridge Primary").returncode == 0
    code = (
        _cli(home, database_url, "code", "--school", "Ouse Bridge Primary").stdout.decode().strip()
    )
    cert, key = self_signed(tmp_path / "tls")
    port, ws_port = free_port(), free_port()
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tweetguard",
            "--home",
            str(home),
            "server",
            "run",
            "--database",
            database_url,
            "--bind",
            f"127.0.0.1:{port}",
            "--certfile",
            str(cert),
            "--keyfile",
            str(key),
            "--workers",
            "2",
            "--ws-port",
            str(ws_port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().decode()
        assert first.strip() == f"tweetguard server: https://127.0.0.1:{port}/"
        context = ssl.create_default_context(cafile=str(cert))
        base = f"https://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        status = 0
        while time.monotonic() < deadline:
            try:
                status, body = _call(base, "/api/v1/status", context)
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, (
                    process.stderr.read().decode() if process.stderr else ""
                )
                time.sleep(0.1)
        assert status == 401 and body["error"]["code"] == "device_unknown"
        status, enrolled = _call(
            base, "/api/v1/enrol", context, {"code": code, "name": "ouse-pc-3", "kind": "helper"}
        )
        assert status == 201, enrolled
        # Several calls over new connections: any worker answers, none keeps state.
        for _ in range(6):
            status, body = _call(base, "/api/v1/status", context, token=enrolled["credential"])
            assert status == 200 and body["school"]["name"] == "Ouse Bridge Primary"
        # The device WebSocket runs beside it, in its own process, with the same certificate.
        while True:
            try:
                with (
                    socket.create_connection(("127.0.0.1", ws_port), timeout=5) as raw,
                    context.wrap_socket(raw, server_hostname="127.0.0.1") as wrapped,
                ):
                    assert wrapped.version()
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "the WebSocket process never listened"
                time.sleep(0.1)
        # Trap: a client that does not trust the certificate is refused by TLS itself.
        try:
            _call(base, "/api/v1/status", ssl.create_default_context())
        except urllib.error.URLError as exc:
            assert isinstance(exc.reason, ssl.SSLCertVerificationError)
        else:
            raise AssertionError("an untrusted certificate was accepted")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_change_made_by_the_command_line_is_announced_to_running_servers(
    home: Path, database_url: str
) -> None:
    """`tweetguard server school add` is a process of its own: the servers' caches and
    feeds must hear of its change (LISTEN on PostgreSQL, the stamp file on SQLite)."""
    from tests.server.test_notify import wait_for
    from tweetguard.server import notify
    from tweetguard.server.db import open_database

    made = _cli(home, database_url, "init", "--trust", "Oakhurst Trust", "--admin",
                "it@oakhurst.example", input=ADMIN_PASSWORD)  # fmt: skip
    assert made.returncode == 0, made.stderr
    db = open_database(database_url)
    try:
        hub = notify.install(db)
        assert hub.wait_live(10)
        heard: list[str] = []
        resets: list[int] = []
        hub.subscribe(notify.POLICY, lambda _channel, payload: heard.append(payload))
        hub.on_reset(lambda: resets.append(1))
        # The trap: a command that changes nothing announces nothing.
        assert _cli(home, database_url, "school", "list").returncode == 0
        hub.check()
        assert not heard and not resets
        assert _cli(home, database_url, "school", "add", "Oakhurst Juniors").returncode == 0
        if db.dialect == "postgresql":
            wait_for(lambda: heard)
            assert heard[0].startswith("trust:")
        else:
            hub.check()
            assert resets
    finally:
        db.dispose()
