"""The server console's live feed: audit rows pushed to open pages, from any process.

The school console's feed (`transport/websocket.py`) polls the audit files of one
machine. The server has no files: devices push their rows to whichever server
process the load balancer picks, and a page may be served by another. So this
feed is told by `tweetguard_audit` notifications (`server/notify.py`: LISTEN/NOTIFY
on PostgreSQL, in-process on SQLite), each naming the school, device, source and
last seq of an accepted batch, and reads just those rows from the database, for
the pages whose user may read that school. A row pushed through process A reaches
a page on process B as soon as the NOTIFY does (milliseconds), with no polling.

Messages are those of the school console's feed, so the same page script shows
them: {"type": "rows", "rows": [AuditRow.to_json() + school_id, device_id]}, with
`device` the name the audit page shows (`audit.shown_device`: the registered name,
and the row's own beside it when they differ).

Who may connect: as the school console's feed, a page of the console itself (the
Origin header must be the console's origin) whose session cookie `authorize` maps
to the schools its user may read (None: not signed in, refused with 403). The
sign-in (with the user's session epoch, which a sign-out or a password reset
raises) is asked again before every send and every few seconds while no row comes;
a page signed out elsewhere is closed with 4401. If notifications may have been
missed (the listener's connection was lost), each page is caught up from the
database by received time once they flow again, with the rows it already has
skipped by their seq.

One feed per process, on the same port in every process of a host (SO_REUSEPORT:
the kernel spreads pages over them), beside the WSGI server; a reverse proxy routes
the feed's path there (docs/server.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from sqlalchemy import and_, select
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from tweetguard.server import notify
from tweetguard.server.audit import shown_device
from tweetguard.server.db import Database
from tweetguard.server.db.tables import audit_rows, devices
from tweetguard.stores.audit.model import COLUMNS, format_time
from tweetguard.transport.websocket import FeedServer

log = logging.getLogger("tweetguard.server.feed")

# Schools a signed-in page may read, from its session cookie; None: not signed in.
Authorize = Callable[[str | None], Collection[str] | None]
# How often an open page's sign-in is asked again while no row comes (one small
# query per page): a page signed out elsewhere is closed within this.
SESSION_CHECK_SECONDS = 5.0
CATCH_UP_MARGIN = timedelta(seconds=5)  # received times of two processes may differ a little
MAX_ROWS = 1000  # per read; a page shows the newest anyway


class AuditFeed(FeedServer):
    """The feed server of one process; `start` returns once it listens."""

    def __init__(
        self,
        db: Database,
        *,
        origin: str,
        cookie_name: str,
        authorize: Authorize,
        host: str = "127.0.0.1",
        port: int = 0,
        reuse_port: bool = True,
        tls: ssl.SSLContext | None = None,
        session_check_seconds: float = SESSION_CHECK_SECONDS,
    ) -> None:
        super().__init__(
            origin=origin,
            cookie_name=cookie_name,
            host=host,
            port=port,
            reuse_port=reuse_port,
            tls=tls,
        )
        self.db = db
        self.session_check_seconds = session_check_seconds
        self.authorize = authorize
        self.hub = notify.hub(db)
        self._pages: set[_Page] = set()
        self._unsubscribe: list[Callable[[], None]] = []

    def start(self) -> int:
        port = super().start()
        self._unsubscribe = [
            self.hub.subscribe(notify.AUDIT, self._notified),
            self.hub.on_reset(self._missed),
        ]
        return port

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        super().stop()

    # --- notifications (the listener's thread) -------------------------------------

    def _notified(self, channel: str, payload: str) -> None:
        try:
            change = json.loads(payload)
            school = str(change["school_id"])
            key = (str(change["device_id"]), str(change["source"]))
        except (ValueError, KeyError, TypeError):
            log.warning("the live feed ignored a malformed audit notification %r", payload[:200])
            return
        self._tell(lambda page: page.changed(school, key))

    def _missed(self) -> None:
        self._tell(lambda page: page.missed())

    def _tell(self, what: Callable[[_Page], None]) -> None:
        loop = self._loop
        if loop is None:
            return

        def each() -> None:
            for page in list(self._pages):
                what(page)

        with contextlib.suppress(RuntimeError):  # the loop already ended
            loop.call_soon_threadsafe(each)

    # --- serving --------------------------------------------------------------------

    def _admits(self, cookie: str | None) -> bool:
        # A signed-in user who reads no school's audit is admitted and sent nothing.
        return self.authorize(cookie) is not None

    async def _connection(self, connection: ServerConnection) -> None:
        request = connection.request
        cookie = self._session_cookie(request.headers) if request else None
        page = _Page(self, connection, cookie)
        self._pages.add(page)
        try:
            await page.run()
        except ConnectionClosed:
            pass
        finally:
            self._pages.discard(page)


class _Page:
    """One open page: which (device, source) rows it has up to which seq."""

    def __init__(self, feed: AuditFeed, connection: ServerConnection, cookie: str | None) -> None:
        self.feed = feed
        self.connection = connection
        self.cookie = cookie
        self.opened = format_time(datetime.now(UTC) - CATCH_UP_MARGIN)
        self.cursors: dict[tuple[str, str], int] = {}
        self.wanted: set[tuple[str, str]] = set()
        self.catch_up = False
        self.wake = asyncio.Event()

    def changed(self, school: str, key: tuple[str, str]) -> None:
        schools = self.feed.authorize(self.cookie)
        if schools is None or school in schools:  # None: closed at the next turn
            self.wanted.add(key)
            self.wake.set()

    def missed(self) -> None:
        self.catch_up = True
        self.wake.set()

    async def run(self) -> None:
        closed = asyncio.ensure_future(_drain(self.connection))
        try:
            while not closed.done():
                waiting = asyncio.ensure_future(self.wake.wait())
                await asyncio.wait(
                    {waiting, closed},
                    timeout=self.feed.session_check_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                waiting.cancel()
                self.wake.clear()
                if closed.done():
                    return
                schools = await asyncio.to_thread(self.feed.authorize, self.cookie)
                if schools is None:
                    await self.connection.close(4401, "signed out")
                    return
                wanted, self.wanted = self.wanted, set()
                catch_up, self.catch_up = self.catch_up, False
                rows = await asyncio.to_thread(self._read, wanted, catch_up, set(schools))
                if rows:
                    await self.connection.send(json.dumps({"type": "rows", "rows": rows}))
        finally:
            closed.cancel()

    def _read(
        self, wanted: set[tuple[str, str]], catch_up: bool, schools: set[str]
    ) -> list[dict[str, Any]]:
        conditions = []
        for device_id, source in wanted:
            after = self.cursors.get((device_id, source))
            condition = and_(audit_rows.c.device_id == device_id, audit_rows.c.source == source)
            if after is None:  # rows of this chain accepted since the page opened
                condition = and_(condition, audit_rows.c.received_at >= self.opened)
            else:
                condition = and_(condition, audit_rows.c.seq > after)
            conditions.append(condition)
        found: list[dict[str, Any]] = []
        # The device as the audit page names it: the school's registered name.
        shown = select(audit_rows, devices.c.name.label("registered_name")).join(
            devices, devices.c.id == audit_rows.c.device_id
        )
        with self.feed.db.read() as conn:
            for condition in conditions:
                query = shown.where(condition, audit_rows.c.school_id.in_(schools))
                found.extend(self._fresh(conn.execute(query.limit(MAX_ROWS)).all()))
            if catch_up and schools:
                query = shown.where(
                    audit_rows.c.school_id.in_(schools),
                    audit_rows.c.received_at >= self._catch_up_from(),
                )
                found.extend(self._fresh(conn.execute(query.limit(MAX_ROWS)).all()))
        found.sort(key=lambda r: (r["at"], r["source"], r["seq"]))
        return found

    def _catch_up_from(self) -> str:
        # Nothing is known of when the line went down: from when the page opened,
        # or the last minutes, whichever is later.
        recent = format_time(datetime.now(UTC) - timedelta(minutes=10))
        return max(self.opened, recent)

    def _fresh(self, rows: Sequence[Any]) -> list[dict[str, Any]]:
        fresh = []
        for row in sorted(rows, key=lambda r: int(r.seq)):
            key = (str(row.device_id), str(row.source))
            if int(row.seq) <= self.cursors.get(key, 0):
                continue
            self.cursors[key] = int(row.seq)
            fresh.append(_to_json(row))
        return fresh


def _to_json(row: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"source": row.source}
    for column in COLUMNS:
        data[column] = getattr(row, column)
    data["rules"] = json.loads(row.rules) if isinstance(row.rules, str) else list(row.rules)
    data["detail"] = json.loads(row.detail) if isinstance(row.detail, str) else row.detail
    data["outside"] = bool(row.outside)
    data["school_id"] = row.school_id
    data["device_id"] = row.device_id
    data["device"] = shown_device(str(row.registered_name), str(row.device))
    return data


async def _drain(connection: ServerConnection) -> None:
    """Reads (and ignores) what the page sends, so a closed page is noticed at once."""
    with contextlib.suppress(ConnectionClosed):
        while True:
            await connection.recv()


def authorizer(app: Flask) -> Authorize:
    """Session cookie -> the schools whose audit its user may read (server/console/auth.py's
    signed cookie, with the same idle and longest limits); None when not signed in."""
    from tweetguard.server import tenancy
    from tweetguard.server.console.auth import IDLE, LONGEST

    db: Database = app.extensions["tweetguard_db"]
    interface = app.session_interface
    serializer = (
        interface.get_signing_serializer(app)
        if isinstance(interface, SecureCookieSessionInterface)
        else None
    )

    def authorize(cookie: str | None) -> Collection[str] | None:
        if not cookie or serializer is None:
            return None
        try:
            data = serializer.loads(cookie)
        except BadSignature:
            return None
        uid, started, seen = data.get("uid"), data.get("at"), data.get("seen")
        if not isinstance(uid, str) or not isinstance(started, float):
            return None
        moment = datetime.now(UTC).timestamp()
        if not isinstance(seen, float) or moment - seen > IDLE.total_seconds():
            return None
        if moment - started > LONGEST.total_seconds():
            return None
        user = tenancy.get_user(db, uid)
        # A sign-out or a password reset raises the epoch: the cookie's sessions end.
        if user is None or data.get("epoch") != user.session_epoch:
            return None
        return {s for s in user.schools if tenancy.can(user, "audit.read", s)}

    return authorize


def start_feed(
    app: Flask,
    *,
    origin: str,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: ssl.SSLContext | None = None,
    session_check_seconds: float = SESSION_CHECK_SECONDS,
) -> AuditFeed:
    """The feed of this process for the server `app`, answering pages of `origin`
    (wss:// with `tls`, the server's own certificate)."""
    from tweetguard.server.console import COOKIE_NAME

    feed = AuditFeed(
        app.extensions["tweetguard_db"],
        origin=origin,
        cookie_name=COOKIE_NAME,
        authorize=authorizer(app),
        host=host,
        port=port,
        tls=tls,
        session_check_seconds=session_check_seconds,
    )
    feed.start()
    return feed
