"""POST /api/v1/protocol: a Chromebook's post checked by the school's server.

A Chromebook cannot run the helper, so its extension sends the server the very
request it would send the native host (docs/protocol.md) and gets the very reply:
the same `protocol.handlers.Handler`, over a `Checker` reading the device's school's
policy and register (materialised by `school_home`), with every audit row the
Handler writes going to this device's chain in the server's database
(`ServerAudit`, the Recorder's sink) instead of a file on a machine. A Chromebook
has no helper pushing audit rows of its own, so its one chain is "shared", written
by the server alone.

Who may ask: an enrolled, unrevoked device of kind "extension". A helper answers
its own checks on its machine, so a helper's credential is refused here (403).

Photos: the Handler keeps a device's photos in memory (its MediaStore), so the
chunks of one photo must reach one process. The WebSocket (ws.py) gives that for
free: one connection is one process. Over HTTP the handler of a device is kept in
this process for a while (HANDLERS), which works with one server process; behind
a load balancer with several, photos need the WebSocket (the extension uses it
whenever it can open) or sticky sessions (docs/server.md).

CORS: the extension's service worker calls this with fetch from its own origin
(chrome-extension://… or moz-extension://…), and a manifest host permission for a
school's server is not something the extension can know in advance; so /api/v1/
answers those origins (and only those) with Access-Control-Allow-Origin, preflight
included. The credential, not the origin, is what lets a caller in.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from tweetguard.checks.engine import Checker
from tweetguard.protocol.handlers import Deferred, Handler, Reply
from tweetguard.protocol.recording import AuditSink
from tweetguard.server import audit, cache, devices
from tweetguard.server.api import UNKNOWN_DEVICE, error
from tweetguard.server.db import Database, tables
from tweetguard.server.school_home import SchoolHomes
from tweetguard.stores.audit import AuditError, sha256_text

log = logging.getLogger("tweetguard.server.protocol")

SOURCE = "shared"  # a Chromebook's one chain, written by the server
HANDLERS = 16  # devices whose Handler (and photos: up to 128 MiB each) HTTP keeps here
EXTENSION_ORIGIN = re.compile(r"^(chrome-extension|moz-extension)://[A-Za-z0-9_-]{1,64}$")
CORS_HEADERS = "Authorization, Content-Type, X-Tweetguard-Helper"

NOT_EXTENSION = (
    "this device has the tweetguard helper, which checks posts on the machine itself: "
    "only Chromebooks (enrolled as kind extension) send their posts to the server"
)


class ServerAudit:
    """The Recorder's sink for one device: rows go to the device's chain."""

    def __init__(self, db: Database, device: devices.Device, server_name: str) -> None:
        self.db = db
        self.device = device
        self.server_name = server_name

    def append(
        self,
        kind: str,
        *,
        account: str | None = None,
        account_id: str | None = None,
        verdict: str | None = None,
        rules: Sequence[str] = (),
        text: str | None = None,
        keep_text: bool = False,
        detail: Mapping[str, Any] | None = None,
        text_sha256: str | None = None,
    ) -> object:
        digest = sha256_text(text) if text is not None else text_sha256
        try:
            return audit.append(
                self.db,
                self.device.id,
                SOURCE,
                kind,
                account=account.lstrip("@").lower() if account else None,
                account_id=str(account_id) if account_id is not None else None,
                verdict=verdict,
                rules=[str(r) for r in rules],
                text_sha256=digest,
                text=text if keep_text else None,
                detail=json.loads(json.dumps(dict(detail or {}), default=str)),
                user="chromebook",
            )
        except SQLAlchemyError as exc:
            raise AuditError(f"the server's database could not be written ({exc})") from None

    def checked_since(self, text_sha256: str, account: str | None, since: str) -> bool:
        rows = tables.audit_rows
        query = (
            select(rows.c.seq)
            .where(
                rows.c.device_id == self.device.id,
                rows.c.source == SOURCE,
                rows.c.kind == "check",
                rows.c.at >= since,
                rows.c.text_sha256 == text_sha256,
            )
            .limit(1)
        )
        if account:
            query = query.where(rows.c.account == account.lstrip("@").lower())
        try:
            with self.db.read() as conn:
                return conn.execute(query).first() is not None
        except SQLAlchemyError as exc:
            raise AuditError(f"the server's database could not be read ({exc})") from None

    def status(self) -> dict[str, Any]:
        return {
            "shared": True,
            "ok": True,
            "note": f"Recording to the school's audit on its server {self.server_name}.",
        }


class ProtocolService:
    """Answers protocol requests for extension devices; one per process."""

    def __init__(self, db: Database, data_dir: Path) -> None:
        self.db = db
        self.homes = SchoolHomes(db, data_dir)
        self._handlers: OrderedDict[str, Handler] = OrderedDict()
        self._guard = threading.Lock()

    def device(
        self, credential: str | None, *, version: str | None = None, cached: bool = False
    ) -> tuple[devices.Device | None, str]:
        """The device behind a credential, or why it may not ask (a one-line reason).
        Noted as seen (in this process's batch, server/cache.py) for the dashboard.
        `cached`: from this process's memory, forgotten when a device is removed
        (the WebSocket asks before every request)."""
        if not credential:
            return None, UNKNOWN_DEVICE
        given = credential

        def load() -> devices.Device | None:
            return devices.authenticate(self.db, given)

        found = cache.for_database(self.db).device(given, load) if cached else load()
        if not isinstance(found, devices.Device) or found.revoked:
            return None, UNKNOWN_DEVICE
        if found.kind != "extension":
            return None, NOT_EXTENSION
        cache.seen_buffer(self.db).note(found.id, helper_version=version)
        return found, ""

    def handler(self, device: devices.Device, server_name: str) -> Handler:
        """Over HTTP, this process's Handler for the device (its photos kept between
        requests), on the school's current Checker."""
        with self._guard:
            held = self._handlers.get(device.id)
        fresh = (
            self.refreshed(held, device, server_name)
            if held is not None
            else self.new_handler(device, server_name)
        )
        with self._guard:
            self._handlers[device.id] = fresh
            self._handlers.move_to_end(device.id)
            while len(self._handlers) > HANDLERS:
                self._handlers.popitem(last=False)
        return fresh

    def new_handler(
        self, device: devices.Device, server_name: str, checker: Checker | None = None
    ) -> Handler:
        if checker is None:
            _, checker = self.homes.checker(device.school_id)
        sink: AuditSink = ServerAudit(self.db, device, server_name)
        return Handler(checker, audit_sink=sink)

    def refreshed(self, handler: Handler, device: devices.Device, server_name: str) -> Handler:
        """The handler, on the school's current Checker: when the policy or register
        moved on, a new Handler that keeps the device's photos."""
        _, checker = self.homes.checker(device.school_id)
        if handler.checker is checker:
            return handler
        fresh = self.new_handler(device, server_name, checker=checker)
        fresh.media = handler.media
        return fresh

    def answer(self, handler: Handler, payload: bytes) -> Reply | Deferred:
        """One request's reply, or its photo work for the caller to run. `handler`
        comes from this thread (`handler`, `refreshed`): its Checker is this thread's."""
        return handler.start_payload(payload)


def service(app: Flask) -> ProtocolService:
    found: ProtocolService | None = app.extensions.get("tweetguard_protocol")
    if found is None:
        found = ProtocolService(
            app.extensions["tweetguard_db"], Path(app.config["TWEETGUARD_DATA_DIR"])
        )
        app.extensions["tweetguard_protocol"] = found
    return found


def bearer(header: str | None) -> str | None:
    if header and header.startswith("Bearer "):
        return header[len("Bearer ") :].strip() or None
    return None


def protocol_view() -> Response | tuple[Response, int]:
    svc = service(current_app)
    device, why = svc.device(
        bearer(request.headers.get("Authorization")),
        version=request.headers.get("X-Tweetguard-Helper"),
    )
    if device is None:
        if why == NOT_EXTENSION:
            return error(403, "forbidden", why)
        return error(401, "device_unknown", why)
    handler = svc.handler(device, request.host)
    reply = svc.answer(handler, request.get_data(cache=False))
    if isinstance(reply, Deferred):
        reply = reply.run()  # no progress frames over HTTP (the WebSocket has them)
    if reply.get("ok") and "protocol" in reply:  # hello: where the WebSocket is
        reply["websocket"] = websocket_url()
    return Response(json.dumps(reply), status=200, mimetype="application/json")


def websocket_url() -> str:
    """Where this server's WebSocket is: its own port when `start_ws` runs beside the
    WSGI server, else this host's /api/v1/ws (a reverse proxy routing it)."""
    configured = current_app.config.get("TWEETGUARD_WS_URL")
    if configured:
        return str(configured)
    scheme = "wss" if request.is_secure else "ws"
    port = current_app.config.get("TWEETGUARD_WS_PORT")
    if port:
        host = request.host
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return f"{scheme}://{hostname}:{port}/api/v1/ws"
    return f"{scheme}://{request.host}/api/v1/ws"


def allowed_origin(origin: str | None) -> str | None:
    return origin if origin and EXTENSION_ORIGIN.match(origin) else None


def _preflight() -> Response | tuple[Response, int] | None:
    if request.method != "OPTIONS" or not request.path.startswith("/api/v1/"):
        return None
    if allowed_origin(request.headers.get("Origin")) is None:
        return error(
            403, "forbidden", "only the tweetguard extension may call the device API from a browser"
        )
    return Response(status=204)


def _cors(response: Response) -> Response:
    if not request.path.startswith("/api/v1/"):
        return response
    origin = allowed_origin(request.headers.get("Origin"))
    response.vary.add("Origin")
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Expose-Headers"] = "ETag"
        response.headers["Access-Control-Max-Age"] = "600"
    return response


def register(app: Flask) -> None:
    """Adds POST /api/v1/protocol and CORS for the extension's origins to `app`."""
    app.add_url_rule("/api/v1/protocol", "api_protocol", protocol_view, methods=["POST"])
    app.before_request(_preflight)
    app.after_request(_cors)
    csrf = app.extensions.get("csrf")
    if csrf is not None:  # a device's bearer credential is not a browser session
        csrf.exempt(protocol_view)
