"""The device API (docs/server-api.md): what enrolled machines and Chromebooks call.

`sync` is enrolment, policy, register, audit and status; `protocol` (and `ws`)
carry the native protocol for devices without a helper. Every error has the one
shape `{"error": {"code", "message"}}`, made by `error()` here.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

MAX_BODY = 8 * 1024 * 1024
POLL_SECONDS = 180
UNKNOWN_DEVICE = "this machine is not enrolled, or was removed: ask IT to enrol it again"


def error(status: int, code: str, message: str, **extra: Any) -> tuple[Response, int]:
    body: dict[str, Any] = {"code": code, "message": message}
    body.update(extra)
    return jsonify({"error": body}), status
