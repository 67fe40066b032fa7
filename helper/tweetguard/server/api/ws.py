"""The device WebSocket (/api/v1/ws): the native protocol over one connection.

The Chromebook's extension keeps one connection to the school's server, as it
would keep one native port to a helper: requests and replies are the protocol's
JSON objects (docs/protocol.md), one per text message, matched by `id`, with the
photo worker's progress frames. Browsers cannot set headers on a WebSocket, so the
credential is the first message, `{"type": "auth", "credential": "…"}`; anything
else first, or a credential that is unknown, revoked or a helper's, closes the
connection with 4401. Accepted, the server says `{"type": "auth", "ok": true}`
(a frame without an id, never taken for a reply). The device is looked up again
before every request, so a device removed in the dashboard is closed at its next.

One connection lives in one process, with its own Handler: a photo's chunks all
reach the Handler that assembles them, however many processes serve HTTP. Photo
work runs on the connection's own worker thread, so the checks of the text typed
meanwhile are answered between a photo's chunks, as with the native host.

Served by the `websockets` library's threaded server, in a thread beside the WSGI
server (`start_ws`), on a port of its own; a reverse proxy in front routes
/api/v1/ws there (docs/server.md). The hello reply says where it is (`websocket`).
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from flask import Flask
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from tweetguard.protocol.handlers import Deferred, Reply
from tweetguard.server.api.protocol import ProtocolService, allowed_origin, service
from tweetguard.server.db import Database

log = logging.getLogger("tweetguard.server.ws")

PATH = "/api/v1/ws"
AUTH_SECONDS = 10.0  # how long a new connection may take to send its credential
MAX_MESSAGE = 8 * 1024 * 1024  # as the HTTP API: a photo chunk is 1 MiB before base64
UNAUTHORISED = 4401


@dataclass
class WsServer:
    """A running WebSocket server; `close` stops it and waits for its thread."""

    server: Server
    thread: threading.Thread
    host: str
    port: int

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


def start_ws(
    app_or_db: Flask | Database,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None = None,
    *,
    data_dir: Path | None = None,
) -> WsServer:
    """Serves /api/v1/ws on host:port (0: any free port) in a daemon thread and
    returns once it listens. Given the Flask app, the hello replies it serves name
    this port (app.config["TWEETGUARD_WS_PORT"]), set before gunicorn forks."""
    if isinstance(app_or_db, Flask):
        svc = service(app_or_db)
    else:
        if data_dir is None:
            raise ValueError("start_ws needs data_dir when given a Database, not the app")
        svc = ProtocolService(app_or_db, data_dir)

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?", 1)[0] != PATH:
            return connection.respond(HTTPStatus.NOT_FOUND, f"only {PATH} is served here\n")
        origin = request.headers.get("Origin")
        if origin is not None and allowed_origin(origin) is None:
            return connection.respond(
                HTTPStatus.FORBIDDEN, "only the tweetguard extension may connect from a browser\n"
            )
        return None

    server = serve(
        lambda connection: _connection(svc, connection),
        host,
        port,
        ssl=ssl_context,
        process_request=process_request,
        max_size=MAX_MESSAGE,
        compression=None,
    )
    bound = server.socket.getsockname()[1]
    thread = threading.Thread(target=server.serve_forever, name="tweetguard-ws", daemon=True)
    thread.start()
    if isinstance(app_or_db, Flask):
        app_or_db.config["TWEETGUARD_WS_PORT"] = bound
    log.info("device WebSocket on %s:%d%s", host, bound, PATH)
    return WsServer(server, thread, host, bound)


def _connection(svc: ProtocolService, connection: ServerConnection) -> None:
    try:
        first = connection.recv(timeout=AUTH_SECONDS)
    except (TimeoutError, ConnectionClosed):
        connection.close(UNAUTHORISED, "send the device credential first")
        return
    credential, version = _credential(first)
    device, why = svc.device(credential, version=version)
    if device is None:
        connection.close(UNAUTHORISED, why[:120])
        return
    host = (connection.request.headers.get("Host") if connection.request else None) or "server"
    handler = svc.new_handler(device, host)
    sending = threading.Lock()

    def send(frame: Reply) -> None:
        try:
            with sending:
                connection.send(json.dumps(frame))
        except ConnectionClosed:
            pass  # the browser went away; its next connection asks again

    send({"type": "auth", "ok": True, "device_id": device.id})
    log.info("device %s connected over the WebSocket", device.id)
    photos = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tweetguard-ws-photo")
    try:
        for message in connection:
            payload = message.encode("utf-8") if isinstance(message, str) else message
            current, why = svc.device(credential, cached=True)
            if current is None:
                connection.close(UNAUTHORISED, why[:120])
                return
            handler = svc.refreshed(handler, device, host)
            reply = svc.answer(handler, payload)
            if isinstance(reply, Deferred):
                reply.notify = send
                photos.submit(_run_and_send, reply, send)
            else:
                send(reply)
    except ConnectionClosed:
        pass
    finally:
        photos.shutdown(wait=False, cancel_futures=True)


def _run_and_send(work: Deferred, send: Callable[[Reply], None]) -> None:
    send(work.run())


def _credential(message: str | bytes) -> tuple[str | None, str | None]:
    """The credential (and the extension's version, if said) of the auth message."""
    try:
        parsed: Any = json.loads(message)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(parsed, dict) or parsed.get("type") != "auth":
        return None, None
    credential = parsed.get("credential")
    version = parsed.get("version")
    return (
        credential if isinstance(credential, str) and credential else None,
        version if isinstance(version, str) else None,
    )
