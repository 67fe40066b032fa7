"""The device API (docs/server-api.md): what enrolled machines and Chromebooks call.

`sync` is enrolment, policy, register, audit and status; `protocol` (and `ws`)
carry the native protocol for devices without a helper. Every error has the one
shape `{"error": {"code", "message"}}`, made by `error()` here.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException

MAX_BODY = 8 * 1024 * 1024
POLL_SECONDS = 180
UNKNOWN_DEVICE = "this machine is not enrolled, or was removed: ask IT to enrol it again"


def error(status: int, code: str, message: str, **extra: Any) -> tuple[Response, int]:
    body: dict[str, Any] = {"code": code, "message": message}
    body.update(extra)
    return jsonify({"error": body}), status


def http_error(exc: HTTPException) -> tuple[Response, int]:
    """An HTTP error under /api/ in the API's one shape."""
    status = exc.code or 500
    if status == 413:
        return error(
            413, "too_large", "the request is larger than 8 MiB; send fewer audit rows per batch"
        )
    if status == 404:
        return error(404, "not_found", f"no API call {request.path}; see docs/server-api.md")
    if status == 405:
        return error(405, "method_not_allowed", f"{request.method} is not a call of {request.path}")
    code = "bad_request" if status < 500 else "server_error"
    return error(status, code, exc.description or "")
