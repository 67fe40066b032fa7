"""Runs the server under gunicorn: N worker processes of a few threads each, TLS
from the certificate files given, and the device WebSocket in a process of its own.

Without certificate files the server binds loopback only: TLS then belongs to a
reverse proxy in front (nginx, Caddy, a load balancer) that forwards to it, and
says X-Forwarded-Proto (gunicorn trusts it from 127.0.0.1). Devices and browsers
never speak plain HTTP to the server across a network.

Each worker builds its app after the fork (no preload), so no database connection
is shared between processes. The WebSocket (server/api/ws.py) needs one process
to hold each connection, so it runs in a child process beside gunicorn on the port
after the HTTP one, with the same certificate; the hello reply names it.

The pages' live feed (server/feed.py) runs in EVERY worker, on one port (the HTTP
port + 2, SO_REUSEPORT: the kernel spreads pages over the workers), each told of
every push by LISTEN/NOTIFY. On SQLite there is no LISTEN and a worker's feed hears
only its own process's pushes, so a SQLite server runs one worker by default.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from tweetguard.loopback import is_loopback

DEFAULT_TLS_BIND = "0.0.0.0:8443"
DEFAULT_LOOPBACK_BIND = "127.0.0.1:8780"
THREADS = 4
SQLITE_WORKERS = 1  # the feed of a SQLite server hears only its own process
POSTGRESQL_WORKERS = 2


def default_workers(database_url: str) -> int:
    return SQLITE_WORKERS if database_url.startswith("sqlite") else POSTGRESQL_WORKERS


def feed_address(public_url: str, feed_port: int) -> tuple[str, str]:
    """(the pages' origin, the feed's ws:// or wss:// URL) for the pages at `public_url`."""
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServeError(
            f"--public-url {public_url!r} is not an http(s) address; "
            "e.g. https://tweetguard.school.example:8443"
        )
    origin = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    scheme = "wss" if parts.scheme == "https" else "ws"
    return origin, f"{scheme}://{host}:{feed_port}/"


class ServeError(Exception):
    """The server cannot start as asked; the message says what to change."""


def split_bind(bind: str) -> tuple[str, int]:
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit():
        raise ServeError(f"--bind {bind!r} is not HOST:PORT; e.g. 0.0.0.0:8443")
    return host.strip("[]") or "0.0.0.0", int(port)


def check_tls(bind: str, certfile: str | None, keyfile: str | None) -> None:
    if bool(certfile) != bool(keyfile):
        raise ServeError("give both --certfile and --keyfile, or neither (TLS at a reverse proxy)")
    if certfile is None and not is_loopback(split_bind(bind)[0]):
        raise ServeError(
            f"without --certfile/--keyfile the server binds loopback only, not {bind}: "
            "give the certificate files, or bind 127.0.0.1 behind a reverse proxy doing TLS"
        )
    if certfile and keyfile:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
        except (OSError, ssl.SSLError) as exc:
            raise ServeError(
                f"cannot use the certificate {certfile} with the key {keyfile} ({exc}); "
                "check both are PEM files of one pair"
            ) from None


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any], load: Any) -> None:
        self._options = options
        self._load = load
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._load()  # type: ignore[no-any-return]


def run(
    database_url: str,
    data_dir: Path,
    *,
    bind: str | None = None,
    certfile: str | None = None,
    keyfile: str | None = None,
    workers: int | None = None,
    ws_port: int | None = None,
    feed_port: int | None = None,
    public_url: str | None = None,
) -> int:
    """Serves until SIGTERM or Ctrl-C; gunicorn's exit status."""
    bind = bind or (DEFAULT_TLS_BIND if certfile else DEFAULT_LOOPBACK_BIND)
    check_tls(bind, certfile, keyfile)
    host, port = split_bind(bind)
    ws = port + 1 if ws_port is None else ws_port
    feed = port + 2 if feed_port is None else feed_port
    scheme = "https" if certfile else "http"
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    shown_host = f"[{shown}]" if ":" in shown else shown
    origin, feed_url = feed_address(public_url or f"{scheme}://{shown_host}:{port}", feed)
    workers = default_workers(database_url) if workers is None else workers
    print(f"tweetguard server: {scheme}://{shown}:{port}/", flush=True)
    if not certfile:
        print(
            "no certificate given: serving plain HTTP on loopback for a reverse proxy that "
            "does TLS (docs/server.md)",
            flush=True,
        )
    _session_key(data_dir)
    child = _start_ws(database_url, data_dir, host, ws, certfile, keyfile) if ws else None

    def load() -> Flask:
        from tweetguard.server.app import create_server_app

        app = create_server_app(database_url, data_dir=data_dir)
        if ws:
            app.config["TWEETGUARD_WS_PORT"] = ws
        if feed:
            _start_feed(app, origin, feed_url, host, feed, certfile, keyfile)
        return app

    options: dict[str, Any] = {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": max(1, workers),
        "worker_class": "gthread",
        "threads": THREADS,
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 30,
        "preload_app": False,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "tweetguard-server",
        "limit_request_line": 8190,
    }
    if certfile and keyfile:
        options.update(certfile=certfile, keyfile=keyfile)
    try:
        _Gunicorn(options, load).run()
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        if child is not None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0


def _start_feed(
    app: Flask,
    origin: str,
    feed_url: str,
    host: str,
    port: int,
    certfile: str | None,
    keyfile: str | None,
) -> None:
    """This worker's live feed (after the fork: each worker has its own, on one port);
    the pages' CSP then names it (console.security reads TWEETGUARD_FEED_URL)."""
    from tweetguard.server.feed import start_feed

    context = None
    if certfile and keyfile:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
    try:
        start_feed(app, origin=origin, host=host, port=port, tls=context)
    except OSError as exc:
        # The pages still work, reloaded by hand; they say the feed is not running.
        print(
            f"tweetguard server: no live feed on port {port} ({exc}); "
            "free that port or pick another with --feed-port",
            file=sys.stderr,
            flush=True,
        )
        return
    app.config["TWEETGUARD_FEED_URL"] = feed_url


def _session_key(data_dir: Path) -> None:
    """Made once here, before the workers start, so they all sign sessions with one key."""
    from tweetguard.console.security import SESSION_SECRET
    from tweetguard.stores.secrets import get_or_create_secret

    get_or_create_secret(data_dir, SESSION_SECRET)


def _start_ws(
    database_url: str,
    data_dir: Path,
    host: str,
    port: int,
    certfile: str | None,
    keyfile: str | None,
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "tweetguard.server.serve",
        database_url,
        str(data_dir),
        host,
        str(port),
        certfile or "",
        keyfile or "",
    ]
    return subprocess.Popen(command, env={**os.environ, "TWEETGUARD_WS_CHILD": "1"})


def _ws_main(argv: list[str]) -> int:
    """The WebSocket process: the device WebSocket until SIGTERM."""
    from tweetguard.server.api.ws import start_ws
    from tweetguard.server.app import create_server_app

    database_url, data_dir, host, port, certfile, keyfile = argv
    context = None
    if certfile:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
    app = create_server_app(database_url, data_dir=Path(data_dir))
    server = start_ws(app, host, int(port), context)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(_ws_main(sys.argv[1:]))
