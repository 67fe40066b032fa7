"""The console's live feed: new audit rows pushed to open overview pages.

A second transport beside native messaging. It serves WebSocket connections on
127.0.0.1 only, with the `websockets` library in an asyncio loop of its own
thread, so the WSGI server beside it is untouched.

Who may connect: a page of the console itself. The browser sends the console's
session cookie on the handshake (same host, other port); `authorize` (given by
the console, which alone knows its session format) says whether it belongs to a
live sign-in, and the Origin header must be exactly the console's origin. Anything
else is refused with 403 before the connection opens, so another site open in the
same browser, which would also send the cookie, gets nothing. The sign-in is
asked again before every poll and send (cheap: a signature and a dict lookup), so
a page signed out elsewhere is closed with 4401 before it gets another row.

What it sends: every audit source (`audit_sources`: the shared audit and any
per-user ones) is polled a few times a second for rows after the last one sent
(the writers are other processes; SQLite in WAL mode lets them write while this
reads). Each message is {"type": "rows", "rows": [AuditRow.to_json(), ...]}.
The page may first send {"after": {"<source>": seq, ...}}, the last rows it was
rendered with, so rows written between the page load and the connection are not
lost. A source that cannot be read (a damaged per-user file) is skipped, said
once in the log, and tried again at each poll; the pages name it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import ssl
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tweetguard.stores.audit import AuditError, AuditLog, AuditQuery, audit_sources

log = logging.getLogger("tweetguard.feed")

POLL_SECONDS = 0.1  # a new row reaches the page within this (plus the browser's own time)
DISCOVER_SECONDS = (
    0.5  # how often new audit sources (a first audit, a new per-user file) are looked for
)
HELLO_SECONDS = 2.0  # how long a new connection may take to say where its page stopped
LOCAL = "127.0.0.1"

Authorize = Callable[[str | None], bool]


class FeedServer:
    """A WebSocket server in an asyncio loop of its own thread, admitting only pages
    of one origin with a live sign-in; `start` returns once it listens. The school
    console's feed and the server's (server/feed.py) are this with their own
    `_connection` and sign-in question (`_admits`)."""

    def __init__(
        self,
        *,
        origin: str,
        cookie_name: str,
        host: str = LOCAL,
        port: int = 0,
        reuse_port: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.origin = origin
        self.cookie_name = cookie_name
        self.host = host
        self.port = port
        self.reuse_port = reuse_port
        self.tls = tls
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> int:
        self._thread = threading.Thread(target=self._run, name="tweetguard-feed", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        if not self._ready.is_set():
            raise RuntimeError("the live feed did not start within 10 s")
        return self.port

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start(), or logged once running
            if not self._ready.is_set():
                self._error = exc
                self._ready.set()
            else:
                log.exception("the live feed stopped")

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server: Server
        async with serve(
            self._connection,
            self.host,
            self.port,
            process_request=self._check_handshake,
            server_header=None,
            reuse_port=self.reuse_port,
            ssl=self.tls,
        ) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    # --- the handshake ----------------------------------------------------------

    def _check_handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        origin = request.headers.get("Origin")
        if origin != self.origin:
            log.warning("live feed refused a connection from origin %r", origin)
            return refuse(
                connection,
                f"the live feed accepts only the console's own pages ({self.origin}), "
                f"not {origin or 'a client without an Origin'}",
            )
        if not self._admits(self._session_cookie(request.headers)):
            return refuse(connection, "sign in to the console first; the feed follows the sign-in")
        return None

    def _session_cookie(self, headers: Headers) -> str | None:
        return session_cookie(headers, self.cookie_name)

    def _admits(self, cookie: str | None) -> bool:
        raise NotImplementedError

    async def _connection(self, connection: ServerConnection) -> None:
        raise NotImplementedError


class LiveFeed(FeedServer):
    """The feed server for one data folder, on 127.0.0.1."""

    def __init__(
        self,
        home: Path,
        *,
        origin: str,
        cookie_name: str,
        authorize: Authorize,
        port: int = 0,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        super().__init__(origin=origin, cookie_name=cookie_name, port=port)
        self.home = home
        self.authorize = authorize
        self.poll_seconds = poll_seconds

    @property
    def url(self) -> str:
        return f"ws://{LOCAL}:{self.port}/"

    def _admits(self, cookie: str | None) -> bool:
        return self.authorize(cookie)

    # --- one open page ------------------------------------------------------------

    async def _connection(self, connection: ServerConnection) -> None:
        cookie = self._session_cookie(connection.request.headers) if connection.request else None
        cursors = await self._hello(connection)
        watcher = _Watcher(self.home, cursors)
        try:
            await asyncio.to_thread(watcher.discover)
            while True:
                # The sign-in is asked again before every send (a signature check
                # and a dict lookup): a page signed out elsewhere gets no more rows.
                if not self.authorize(cookie):
                    await connection.close(4401, "signed out")
                    return
                rows = await asyncio.to_thread(watcher.poll)
                if rows and not self.authorize(cookie):
                    await connection.close(4401, "signed out")
                    return
                if rows:
                    await connection.send(json.dumps({"type": "rows", "rows": rows}))
                with contextlib.suppress(TimeoutError):
                    # Wakes early when the page goes away (recv raises ConnectionClosed).
                    await asyncio.wait_for(_ignore_messages(connection), self.poll_seconds)
        except ConnectionClosed:
            pass
        finally:
            watcher.close()

    async def _hello(self, connection: ServerConnection) -> dict[str, int] | None:
        try:
            first = await asyncio.wait_for(connection.recv(), HELLO_SECONDS)
        except TimeoutError:
            return None
        try:
            data = json.loads(first)
            after = data.get("after") if isinstance(data, dict) else None
        except (ValueError, TypeError):
            return None
        if not isinstance(after, dict):
            return None
        return {str(k): int(v) for k, v in after.items() if isinstance(v, int)}


async def _ignore_messages(connection: ServerConnection) -> None:
    while True:
        await connection.recv()


def refuse(connection: ServerConnection, why: str) -> Response:
    """The handshake's 403, in one line (the server's feed refuses the same way)."""
    return connection.respond(HTTPStatus.FORBIDDEN, f"tweetguard live feed: {why}\n")


def session_cookie(headers: Headers, name: str) -> str | None:
    """The cookie `name` from a handshake's Cookie headers; a malformed header is skipped."""
    for header in headers.get_all("Cookie"):
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            continue
        if name in jar:
            return jar[name].value
    return None


class _Watcher:
    """The audit sources one page follows and the last row it was sent of each.

    `cursors` is what the page said it already shows (source -> seq); None means
    it said nothing, and then the feed starts from the rows that exist now. A
    source that turns up later is new, so all its rows are sent."""

    def __init__(self, home: Path, cursors: dict[str, int] | None) -> None:
        self.home = home
        self.given = cursors
        self.logs: dict[Path, AuditLog] = {}
        self.after: dict[Path, int] = {}
        self.broken: set[Path] = set()
        self._first = True
        self._next_discovery = 0.0

    def discover(self) -> None:
        self._next_discovery = time.monotonic() + DISCOVER_SECONDS
        for source in audit_sources(self.home):
            if source.path in self.logs:
                source.close()
                continue
            self.logs[source.path] = source
            if self.given is not None:
                start = self.given.get(source.source, 0)
            elif self._first:
                start = _last_seq(source)
            else:
                start = 0
            self.after[source.path] = start
        self._first = False

    def poll(self) -> list[dict[str, Any]]:
        if time.monotonic() >= self._next_discovery:
            self.discover()
        found: list[dict[str, Any]] = []
        for path, source in self.logs.items():
            try:
                rows = source.rows(AuditQuery(after_seq=self.after[path]))
            except _READ_ERRORS as exc:
                # A damaged source is skipped (the pages name it); the others go on.
                if path not in self.broken:
                    log.warning("live feed skips %s, it cannot be read: %s", path, exc)
                self.broken.add(path)
                continue
            self.broken.discard(path)
            if rows:
                self.after[path] = rows[-1].seq
                found.extend(r.to_json() for r in rows)
        found.sort(key=lambda r: (r["at"], r["source"], r["seq"]))
        return found

    def close(self) -> None:
        for source in self.logs.values():
            source.close()


# What reading a damaged audit file can raise (as console/chain.py).
_READ_ERRORS = (AuditError, sqlite3.Error, ValueError, TypeError, KeyError)


def _last_seq(source: AuditLog) -> int:
    try:
        return source.last_seq()
    except _READ_ERRORS:
        return 0
