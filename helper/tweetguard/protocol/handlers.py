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
    Account,
    CheckRequest,
    HelloRequest,
    LogoutRequest,
    OverrideRequest,
    RequestId,
    error_reply,
    parse_request,
    read_id,
)
from tweetguard.stores.consent import RegisterMissing
from tweetguard.stores.events import EventLog
from tweetguard.stores.home import events_path
from tweetguard.stores.policy import PolicyError

# Findings no teacher can post past, whatever the policy says: the wrong account.
NEVER_OVERRIDDEN = ("accounts.",)

log = logging.getLogger("tweetguard.protocol")


class Handler:
    def __init__(self, checker: Checker, *, origin_allowed: bool = True) -> None:
        self.checker = checker
        self.origin_allowed = origin_allowed
        self.events = EventLog(events_path(checker.home))

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
            if isinstance(request, OverrideRequest):
                return self._override(request)
            if isinstance(request, LogoutRequest):
                return self._logout(request)
            return self._check(request)
        except ProtocolError as exc:
            log.info("request %r answered with %s: %s", request_id, exc.code.code, exc.detail)
            return error_reply(request_id, exc)
        except PolicyError as exc:
            log.warning("policy invalid: %s", exc)
            return error_reply(request_id, ProtocolError(ErrorCode.POLICY_INVALID, str(exc)))
        except (sqlite3.Error, RegisterMissing) as exc:
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
        reply["settings_set"] = sorted(policy.posting_set)
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
        if account is not None:
            approved = not any(f.rule.id.startswith("accounts.") for f in report.findings)
            reply["account"] = {
                "handle": account.handle,
                "approved": approved,
                "visibility": report.visibility,
            }
        return reply

    def _override(self, request: OverrideRequest) -> dict[str, Any]:
        """Records a teacher posting past findings, after checking the policy allows it.

        The text is checked again here: the extension's word that a post only had
        warnings is not trusted, and an override never covers findings it did not name.
        """
        account = request.account
        report = self.checker.check(
            request.text,
            has_media=bool(request.media),
            account=(account.handle, account.user_id),
        )
        posting = self.checker.policy().posting
        overridden = []
        for finding in report.findings:
            severity = (finding.severity or finding.rule.severity).label
            if severity == "info":
                continue
            allowed = (
                posting.allow_block_override if severity == "block" else posting.allow_warn_override
            )
            if (
                finding.rule.id.startswith(NEVER_OVERRIDDEN)
                or finding.rule.id not in request.rules
                or not allowed
            ):
                raise ProtocolError(
                    ErrorCode.OVERRIDE_NOT_ALLOWED,
                    f"{finding.rule.id} ({severity}) cannot be overridden",
                )
            overridden.append(finding.rule.id)
        if not overridden:
            raise ProtocolError(ErrorCode.BAD_FIELD, "nothing in this post needs an override")
        try:
            self.events.append(
                "override",
                rules=sorted(set(overridden)),
                reason=request.reason,
                text=request.text,
                **_account_fields(account),
            )
        except OSError as exc:
            raise ProtocolError(ErrorCode.EVENTS_UNAVAILABLE, str(exc)) from None
        return {"id": request.id, "ok": True, "recorded": True}

    def _logout(self, request: LogoutRequest) -> dict[str, Any]:
        try:
            self.events.append("logout", reason=request.reason, **_account_fields(request.account))
        except OSError as exc:
            raise ProtocolError(ErrorCode.EVENTS_UNAVAILABLE, str(exc)) from None
        return {"id": request.id, "ok": True, "recorded": True}


def _account_fields(account: Account | None) -> dict[str, str | None]:
    if account is None:
        return {"handle": None, "user_id": None}
    return {"handle": account.handle, "user_id": account.user_id}


def reply_for_oversize(request_id: RequestId | None, size: int) -> dict[str, Any]:
    return error_reply(
        request_id, ProtocolError(ErrorCode.REPLY_TOO_LARGE, f"reply would be {size} bytes")
    )
