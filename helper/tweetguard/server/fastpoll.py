"""The two polls every device makes every few minutes, answered before Flask.

Nearly every call a trust's server gets is "has my school's policy changed?"
(`GET /api/v1/policy` with `If-None-Match`) or "has its register?" (`GET
/api/v1/register?since=<revision>`), and the answer is nearly always "no". The
app answers them from memory (server/cache.py) in ~0.2 ms, but Flask's request
context, session and security hooks around it cost several times that. This
WSGI middleware answers exactly those two cases from the same caches without
entering Flask: the device from its credential, its school's policy version or
register revision, the "last seen" noted in the same batch (cache.SeenBuffer).

After a policy change every device of the school asks once more and gets the new
text (200). That answer is the same bytes for all of them, so it is encoded once
per school and version (`VersionCache.policy_body`, forgotten by the same NOTIFY
as the version) and served from here too: a change's fetches cost what a 304
costs plus the body's bytes, and its reach is bounded by the devices' poll
interval, not by Flask or the database (one read per school per process).

Anything else goes to Flask as before: no credential, an unknown or revoked
device (Flask answers 401), an extension's credential (403), a browser's call (an
Origin header: CORS is Flask's), an error. The headers are Flask's own: the first
answer of each kind (policy 304, policy 200, register 200) in this process goes
through Flask and its headers are kept (they change only with the app's
configuration, read once at start), so a device cannot tell the two paths apart.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, cast
from urllib.parse import parse_qs

from flask import Flask, Response

from tweetguard.server import cache, devices, policies, registers
from tweetguard.server.db import Database

log = logging.getLogger("tweetguard.server.fastpoll")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

POLICY = "/api/v1/policy"
REGISTER = "/api/v1/register"
# The answers whose headers are learnt from Flask: (path, status class).
POLICY_304 = (POLICY, "304")
POLICY_200 = (POLICY, "200")
REGISTER_200 = (REGISTER, "200")
Answer = tuple[tuple[str, str], str, list[tuple[str, str]], bytes]
# Set by the response itself, or per request: never replayed from a learnt answer.
NOT_KEPT = {"content-length", "etag", "date", "server", "set-cookie", "connection"}


class FastPolls:
    """`app.wsgi_app = FastPolls(app, app.wsgi_app)`."""

    def __init__(self, app: Flask, wrapped: WsgiApp) -> None:
        self.app = app
        self.wrapped = wrapped
        self._headers: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._lock = threading.Lock()
        self.answered = 0  # polls answered here (tests, the bench)
        self.bodies = 0  # of which changed policies sent whole

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        kind = _kind(environ)
        if kind is not None:
            try:
                answer = self._answer(kind, environ)
            except Exception:  # Flask says it properly, or logs it
                log.debug("fast poll fell through to Flask", exc_info=True)
                answer = None
            if answer is not None:
                learnt, status, extra, body = answer
                if body:  # a 304 has none, and Flask says no length for it
                    extra = [*extra, ("Content-Length", str(len(body)))]
                start_response(status, [*self._headers[learnt], *extra])
                with self._lock:
                    self.answered += 1
                    if learnt == POLICY_200:
                        self.bodies += 1
                return [body]
            return self.wrapped(environ, self._learning(kind, start_response))
        return self.wrapped(environ, start_response)

    # --- answers ----------------------------------------------------------------------

    def _answer(self, kind: str, environ: Environ) -> Answer | None:
        if not any(learnt[0] == kind for learnt in self._headers):
            return None  # this process has not seen Flask's headers for it yet
        device = self._device(environ)
        if device is None:
            return None
        db = self._db()
        versions = cache.for_database(db)
        helper = environ.get("HTTP_X_TWEETGUARD_HELPER")
        if kind == POLICY:
            version = versions.policy_version(
                device.school_id, lambda: policies.policy_version(db, device.school_id)
            )
            if _etag_matches(environ.get("HTTP_IF_NONE_MATCH", ""), version):
                if POLICY_304 not in self._headers:
                    return None
                cache.seen_buffer(db).note(device.id, helper_version=helper, policy_version=version)
                return POLICY_304, "304 NOT MODIFIED", [("ETag", f'"{version}"')], b""
            if POLICY_200 not in self._headers:
                return None
            body_version, body = versions.policy_body(
                device.school_id, lambda: self._policy_body(db, device.school_id)
            )
            if body_version != version:
                return None  # a change between the two reads: Flask reads both afresh
            cache.seen_buffer(db).note(device.id, helper_version=helper, policy_version=version)
            return POLICY_200, "200 OK", [("ETag", f'"{version}"')], body
        since = _since(environ)
        current = versions.register_revision(
            device.school_id, lambda: registers.revision(db, device.school_id)
        )
        if since is None or since <= 0 or since != current or REGISTER_200 not in self._headers:
            return None
        cache.seen_buffer(db).note(device.id, helper_version=helper)
        return REGISTER_200, "200 OK", [], _unchanged(current)

    def _policy_body(self, db: Database, school_id: str) -> tuple[str, bytes]:
        """The policy route's 200 body, encoded by Flask's own JSON provider (same
        bytes as `jsonify` gives), from the text rendered once per school."""
        version, text = cache.for_database(db).effective_policy(
            school_id, lambda: policies.effective(db, school_id)
        )
        answer = self.app.json.response({"version": version, "toml": text})
        return version, cast(Response, answer).get_data()

    def _device(self, environ: Environ) -> devices.Device | None:
        scheme, _, value = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        given = value.strip()
        if scheme.lower() != "bearer" or not given:
            return None
        db = self._db()
        found = cache.for_database(db).device(given, lambda: devices.authenticate(db, given))
        if not isinstance(found, devices.Device) or found.kind != "helper" or found.revoked:
            return None
        return found

    def _db(self) -> Database:
        db: Database = self.app.extensions["tweetguard_db"]
        return db

    # --- Flask's headers, learnt once ---------------------------------------------------

    def _learning(self, kind: str, start_response: StartResponse) -> StartResponse:
        wanted = [POLICY_304, POLICY_200] if kind == POLICY else [REGISTER_200]
        if all(learnt in self._headers for learnt in wanted):
            return start_response

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            learnt = (kind, status[:3])
            if learnt in wanted and learnt not in self._headers:
                kept = [(k, v) for k, v in headers if k.lower() not in NOT_KEPT]
                if status[:3] == "200" and ("Content-Type", "application/json") not in kept:
                    kept = []  # not the answer we would give: learn from another
                if kept:
                    with self._lock:
                        self._headers.setdefault(learnt, kept)
            return start_response(status, headers, exc_info)

        return start


def _kind(environ: Environ) -> str | None:
    """Which poll this may be; None for anything the middleware never answers."""
    if environ.get("REQUEST_METHOD") != "GET" or "HTTP_ORIGIN" in environ:
        return None
    path = environ.get("PATH_INFO", "")
    if path == POLICY and not environ.get("QUERY_STRING"):
        return POLICY
    if path == REGISTER and environ.get("QUERY_STRING", "").startswith("since="):
        return REGISTER
    return None


def _etag_matches(given: str, version: str) -> bool:
    """As the policy route's own check (server/api/sync.py)."""
    tags = [t.strip().removeprefix("W/") for t in given.split(",")]
    return f'"{version}"' in tags or "*" in tags


def _since(environ: Environ) -> int | None:
    found = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    values = found.get("since", [])
    if len(found) != 1 or len(values) != 1 or not values[0].isdigit():
        return None
    return int(values[0])


def _unchanged(revision: int) -> bytes:
    """Flask's jsonify of the route's own answer: sorted keys, compact, a newline."""
    body = {"changes": [], "full": False, "revision": revision}
    return (json.dumps(body, separators=(",", ":"), sort_keys=True) + "\n").encode()


def install(app: Flask) -> FastPolls:
    fast = FastPolls(app, app.wsgi_app)
    app.wsgi_app = fast  # type: ignore[method-assign]
    return fast
