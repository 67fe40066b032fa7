"""The HTTP calls of docs/server-api.md, and nothing else.

The standard library's urllib, so the helper needs no HTTP package of its own.
Every call has a timeout (a school network that drops packets must not hang the
sync thread for ever), TLS is checked against the system's certificates or a CA
file IT names, redirects are refused (they would carry the credential to another
address), and every failure becomes one of three errors with a one-line message:
`Unreachable` (no answer we can use: no route, refused connection, timeout, an
untrusted certificate, a server error), `Refused` (the server answered no, with
its error code), `BadReply` (an answer that is not what the API says).
"""

from __future__ import annotations

import functools
import json
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from http.client import HTTPException
from pathlib import Path
from typing import Any

from tweetguard import __version__
from tweetguard.loopback import is_loopback

API = "/api/v1"
TIMEOUT_SECONDS = 15.0
# The biggest answer read: a full register of a very large school is a few MB.
MAX_REPLY_BYTES = 32 * 1024 * 1024
# docs/server-api.md: at most this many audit rows in one push.
MAX_AUDIT_BATCH = 1000


class SyncError(Exception):
    """Something stopped a call; `str()` is one line for people."""


class Unreachable(SyncError):
    """No usable answer: the device keeps working offline on its last good copy."""


class Refused(SyncError):
    """The server answered with an error (docs/server-api.md's `error` object)."""

    def __init__(self, status: int, code: str, message: str, body: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.body = dict(body)


class BadReply(SyncError):
    """An answer that is not what the API says (another program on that address?)."""


@dataclass(frozen=True)
class PolicyReply:
    version: str
    toml: str


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


def check_url(url: str) -> str:
    """The server's base address without a trailing slash, or ValueError in one line.

    Plain http is accepted only for this machine (a server on loopback, for tests
    and trying it out): anywhere else the credential and pupils' names would cross
    the network in the clear.
    """
    parsed = urllib.parse.urlsplit(url.strip())
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        raise ValueError(f"{url!r} is not a server address; give it as https://SERVER")
    if parsed.query or parsed.fragment or parsed.username or parsed.password:
        raise ValueError(f"{url!r} has more than a server address; give it as https://SERVER")
    if parsed.scheme == "http" and not is_loopback(parsed.hostname):
        raise ValueError(
            f"{url} is not encrypted: use https:// (plain http only for a server on this machine)"
        )
    return urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, parsed.path.rstrip("/"), "", ""))


@functools.lru_cache(maxsize=8)
def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """One context per CA file for the process: reading the system's certificates
    costs about 0.2 s, and a context may serve many connections and threads."""
    if ca_file is None:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=ca_file)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx is then raised as an HTTPError and said plainly


class ServerClient:
    """One server, one credential (None until enrolled). Thread-safe: no state
    changes after construction."""

    def __init__(
        self,
        url: str,
        *,
        credential: str | None = None,
        ca_file: Path | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.url = check_url(url)
        self.credential = credential
        self.ca_file = ca_file
        self.timeout = timeout
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=self._tls()), _NoRedirects()
        )

    def _tls(self) -> ssl.SSLContext | None:
        if not self.url.startswith("https:"):
            return None
        try:
            return _tls_context(str(self.ca_file) if self.ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise SyncError(
                f"cannot use the CA file {self.ca_file} ({reason}); give the PEM file IT "
                "issued the server's certificate with"
            ) from None

    # --- the calls -----------------------------------------------------------

    def enrol(self, code: str, *, name: str, kind: str = "helper") -> dict[str, Any]:
        answer = self._call("POST", "/enrol", {"code": code, "name": name, "kind": kind}, (201,))
        body = answer.body
        _require(body, {"device_id": str, "credential": str, "school": dict}, "enrol")
        return body

    def status(self) -> dict[str, Any]:
        body = self._call("GET", "/status").body
        _require(body, {"device_id": str, "school": dict, "audit": dict}, "status")
        return body

    def policy(self, known_version: str | None) -> PolicyReply | None:
        """The school's effective policy; None when it is still `known_version` (304)."""
        headers = {"If-None-Match": f'"{known_version}"'} if known_version else {}
        answer = self._call("GET", "/policy", headers=headers, expect=(200, 304))
        if answer.status == 304:
            return None
        _require(answer.body, {"version": str, "toml": str}, "policy")
        return PolicyReply(answer.body["version"], answer.body["toml"])

    def register(self, since: int) -> dict[str, Any]:
        body = self._call("GET", f"/register?since={int(since)}").body
        _require(body, {"revision": int, "full": bool}, "register")
        wanted = "people" if body["full"] else "changes"
        if not isinstance(body.get(wanted), list):
            raise BadReply(f"{self.url} sent a register without its list of {wanted}")
        return body

    def push_audit(self, source: str, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        if len(rows) > MAX_AUDIT_BATCH:
            raise ValueError(f"at most {MAX_AUDIT_BATCH} audit rows in one push, not {len(rows)}")
        body = self._call("POST", "/audit", {"source": source, "rows": list(rows)}).body
        _require(body, {"accepted": int, "last_seq": int, "last_hash": str}, "audit")
        return body

    # --- the wire --------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        payload: Mapping[str, Any] | None = None,
        expect: Sequence[int] = (200,),
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        request = urllib.request.Request(self.url + API + path, method=method)
        request.add_header("Accept", "application/json")
        request.add_header("X-Tweetguard-Helper", __version__)
        if self.credential is not None:
            request.add_header("Authorization", f"Bearer {self.credential}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        if payload is not None:
            request.data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            request.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status = response.status
                raw = _read(response, self.url)
                reply_headers: Message = response.headers
        except urllib.error.HTTPError as exc:
            status, reply_headers = exc.code, exc.headers
            raw = _read(exc, self.url) if exc.fp is not None else b""
            exc.close()
        except (urllib.error.URLError, OSError, HTTPException) as exc:
            raise Unreachable(f"cannot reach {self.url}: {_why(exc)}") from None
        if status == 304 and 304 in expect:
            return Answer(304, {}, dict(reply_headers.items()))
        body = self._decode(raw, status)
        if status in expect:
            return Answer(status, body, dict(reply_headers.items()))
        error = body.get("error") if isinstance(body, dict) else None
        if status >= 500 or not isinstance(error, dict):
            raise Unreachable(f"{self.url} answered {status} to {method} {API}{path}: try later")
        code = str(error.get("code") or f"http_{status}")
        message = " ".join(str(error.get("message") or f"refused ({status})").split())
        raise Refused(status, code, message, error)

    def _decode(self, raw: bytes, status: int) -> dict[str, Any]:
        try:
            body = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, ValueError):
            if status >= 500:
                return {}
            raise BadReply(
                f"{self.url} did not answer as a tweetguard server (HTTP {status}, not JSON): "
                "check the address"
            ) from None
        if not isinstance(body, dict):
            raise BadReply(f"{self.url} sent JSON that is not an object (HTTP {status})")
        return body


def _read(response: Any, url: str) -> bytes:
    data: bytes = response.read(MAX_REPLY_BYTES + 1)
    if len(data) > MAX_REPLY_BYTES:
        raise BadReply(f"{url} sent more than {MAX_REPLY_BYTES // (1024 * 1024)} MiB in one answer")
    return data


def _require(body: Mapping[str, Any], fields: Mapping[str, type], call: str) -> None:
    for name, kind in fields.items():
        value = body.get(name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise BadReply(f"the server's {call} answer has no valid {name!r}: is it up to date?")


def _why(exc: BaseException) -> str:
    """One line on why a server could not be reached, with what to do where we can tell."""
    reason: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, ssl.SSLCertVerificationError):
        detail = reason.verify_message or reason.reason or "not trusted"
        return (
            f"its certificate is not trusted ({detail}); if the school issued it, "
            "enrol again with --ca-file naming the school's CA file"
        )
    if isinstance(reason, ssl.SSLError):
        return f"the TLS connection failed ({reason.reason or reason})"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "no answer in time (the server or the network is slow or down)"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    if isinstance(reason, socket.gaierror):
        return "the name does not resolve (no network, or a wrong address)"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return " ".join(str(reason).split()) or type(reason).__name__
