"""Answers one decoded request with one reply object; never raises.

Both faces use it: the native host for the browser, and `tweetguard check --json`
so scripts see exactly the replies the extension sees.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import Any

from tweetguard import __version__
from tweetguard.checks.engine import Checker
from tweetguard.protocol.errors import ErrorCode, ProtocolError
from tweetguard.protocol.messages import (
    MAX_FINDINGS,
    PROTOCOL_VERSION,
    CheckRequest,
    HelloRequest,
    RequestId,
    error_reply,
    parse_request,
    read_id,
)
from tweetguard.stores.policy import PolicyError

log = logging.getLogger("tweetguard.protocol")


class Handler:
    def __init__(self, checker: Checker, *, origin_allowed: bool = True) -> None:
        self.checker = checker
        self.origin_allowed = origin_allowed

    def handle_payload(self, payload: bytes) -> dict[str, Any]:
        try:
            message = json.loads(payload)
        except (ValueError, RecursionError) as exc:
            error = ProtocolError(ErrorCode.BAD_JSON, f"not JSON: {exc}"[:300])
            log.info("frame of %d bytes answered with bad_json: %s", len(payload), error.detail)
            return error_reply(None, error)
        return self.handle(message)

    def handle(self, message: object) -> dict[str, Any]:
        request_id = read_id(message)
        try:
            if not self.origin_allowed:
                raise ProtocolError(ErrorCode.FORBIDDEN_ORIGIN)
            request = parse_request(message)
            if isinstance(request, HelloRequest):
                return self._hello(request)
            return self._check(request)
        except ProtocolError as exc:
            log.info("request %r answered with %s: %s", request_id, exc.code.code, exc.detail)
            return error_reply(request_id, exc)
        except PolicyError as exc:
            log.warning("policy invalid: %s", exc)
            return error_reply(request_id, ProtocolError(ErrorCode.POLICY_INVALID, str(exc)))
        except sqlite3.Error as exc:
            log.error("consent register unreadable: %s", exc)
            return error_reply(request_id, ProtocolError(ErrorCode.REGISTER_UNAVAILABLE, str(exc)))
        except Exception:
            log.exception("request %r failed", request_id)
            return error_reply(request_id, ProtocolError(ErrorCode.INTERNAL))

    def _hello(self, request: HelloRequest) -> dict[str, Any]:
        reply: dict[str, Any] = {
            "id": request.id,
            "ok": True,
            "protocol": PROTOCOL_VERSION,
            "helper_version": __version__,
        }
        policy = self.checker.policy()
        register = self.checker.register_summary()
        reply["school"] = policy.school
        reply["policy"] = {
            **policy.summary(),
            "register": {"pupils": register.pupils, "imported_at": register.imported_at},
        }
        reply["settings"] = policy.posting.to_json()
        return reply

    def _check(self, request: CheckRequest) -> dict[str, Any]:
        account = request.account
        report = self.checker.check(
            request.text,
            has_media=bool(request.media),
            account=(account.handle, account.user_id) if account else None,
        )
        findings = report.findings_json()
        reply: dict[str, Any] = {
            "id": request.id,
            "ok": True,
            "verdict": report.verdict,
            "findings": findings[:MAX_FINDINGS],
            "length": report.length_json(),
        }
        if len(findings) > MAX_FINDINGS:
            reply["findings_total"] = len(findings)
        return reply


def reply_for_oversize(request_id: RequestId | None, size: int) -> dict[str, Any]:
    return error_reply(
        request_id, ProtocolError(ErrorCode.REPLY_TOO_LARGE, f"reply would be {size} bytes")
    )
