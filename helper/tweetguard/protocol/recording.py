"""The helper's side of the audit: what it records, and what it does when it cannot.

Decided here once for every request: an override, a post or an incident whose row
cannot be written is answered with `audit_unavailable` (an override is then refused);
a check and a sign-out are still answered, because a broken disk must not stop every
post or undo a sign-out, and the hello reply and the host log say the audit is failing.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from tweetguard.protocol.errors import ErrorCode, ProtocolError
from tweetguard.protocol.messages import Account
from tweetguard.stores.audit import (
    AuditError,
    AuditLocation,
    AuditLog,
    audit_location,
    audit_verdict,
    format_time,
    note_policy,
    open_audit,
    sha256_text,
)
from tweetguard.stores.home import policy_path
from tweetguard.stores.policy import AuditSettings, Policy, PolicyError

log = logging.getLogger("tweetguard.audit")

_FAILURES = (AuditError, OSError, sqlite3.Error)
# A network guard check this soon after a check of the same text is the same post.
RECHECK_WINDOW = timedelta(minutes=10)


class AuditSink(Protocol):
    """Where rows go instead of this machine's audit file: the server answering a
    Chromebook writes them to that device's chain in its database. It takes the same
    fields as `AuditLog.append` and answers the same recent-check question; `status`
    is the hello reply's `audit` object. A failure raises any of AuditError, OSError
    or sqlite3.Error (or is a bug, which `try_append` logs)."""

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
    ) -> object: ...

    def checked_since(self, text_sha256: str, account: str | None, since: str) -> bool: ...

    def status(self) -> dict[str, Any]: ...


class Recorder:
    def __init__(
        self,
        home: Path,
        *,
        enabled: bool = True,
        policy: Callable[[], Policy] | None = None,
        sink: AuditSink | None = None,
    ) -> None:
        """`sink` replaces the data folder's audit (the server's Chromebook path); the
        policy file is then the server's copy, recorded by the server, not watched here."""
        self.home = home
        self.enabled = enabled
        self._policy = policy
        self._sink = sink
        self._log: AuditLog | None = None
        self._location: AuditLocation | None = None
        self.failure: str | None = None
        self._policy_stamp: tuple[int, int] | bool | None = False  # False: never looked

    def _audit(self) -> AuditLog | AuditSink:
        return self._sink if self._sink is not None else self._file()

    def _file(self) -> AuditLog:
        if self._log is None:
            self._location = audit_location(self.home)
            self._log = open_audit(self.home)
        return self._log

    def open(self) -> None:
        """Opens the audit at the host's hello, so an old events.jsonl is migrated
        when the helper starts, not inside the teacher's first check at posting."""
        if not self.enabled or self._log is not None or self._sink is not None:
            return
        try:
            self._audit()
        except _FAILURES as exc:
            self._failed("helper", exc)

    def checked_recently(self, text: str, account: Account | None) -> bool:
        """Whether this post's text (for this account) has a `check` row from the last
        RECHECK_WINDOW: the network guard's check of a post the composer already
        checked is then not a second check. A failure answers False (recorded again)."""
        if not self.enabled:
            return False
        since = format_time(datetime.now(UTC) - RECHECK_WINDOW)
        try:
            return self._audit().checked_since(
                sha256_text(text), account.handle if account else None, since
            )
        except _FAILURES:
            return False

    def keeps(self, kind: str) -> bool:
        """Whether the policy's [audit] keep_text keeps this kind's text."""
        try:
            settings = self._policy().audit if self._policy else AuditSettings()
        except PolicyError:
            return False
        return settings.keeps(kind)

    def append(
        self,
        kind: str,
        *,
        account: Account | None = None,
        verdict: str | None = None,
        rules: Sequence[str] = (),
        text: str | None = None,
        keep_text: bool = False,
        text_sha256: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Writes the row, or raises audit_unavailable."""
        if not self.enabled:
            return
        try:
            self._audit().append(
                kind,
                account=account.handle if account else None,
                account_id=account.user_id if account else None,
                verdict=audit_verdict(verdict),
                rules=rules,
                text=text,
                keep_text=keep_text,
                text_sha256=text_sha256,
                detail=detail,
            )
        except _FAILURES as exc:
            self._failed(kind, exc)
            raise ProtocolError(ErrorCode.AUDIT_UNAVAILABLE, str(exc)[:300]) from None
        if self.failure is not None:
            log.warning("the audit is writable again")
            self.failure = None

    def try_append(self, kind: str, **fields: Any) -> bool:
        """Writes the row if it can; whether it did. Never raises."""
        try:
            self.append(kind, **fields)
        except ProtocolError:
            return False
        except Exception as exc:  # a bug must not cost the teacher the check's answer
            log.exception("audit row (%s) not written", kind)
            self.failure = f"{type(exc).__name__}: {exc}"
            return False
        return True

    def _failed(self, kind: str, exc: BaseException) -> None:
        self.failure = str(exc) or type(exc).__name__
        log.error("audit row (%s) not written: %s", kind, self.failure)

    def watch_policy(self) -> None:
        """Records the policy file when it has changed since it was last recorded: a
        stat per call, a read and hash only when the file's stamp moves."""
        if not self.enabled or self._sink is not None:
            return
        path = policy_path(self.home)
        try:
            st = os.stat(path)
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if stamp == self._policy_stamp:
            return
        try:
            note_policy(self._file(), path, by="helper")
        except _FAILURES as exc:
            self._failed("policy", exc)
            return
        self._policy_stamp = stamp

    def status(self) -> dict[str, Any]:
        """For the hello reply: whether this is the shared audit, and one line."""
        if not self.enabled:
            return {"shared": False, "ok": True, "note": "this check is not recorded"}
        if self._sink is not None:
            if self.failure is not None:
                return {
                    **self._sink.status(),
                    "ok": False,
                    "note": f"The school's server cannot record this ({self.failure}); "
                    "ask IT to look at the server's log.",
                }
            return self._sink.status()
        location = self._location or audit_location(self.home)
        if self.failure is not None:
            return {
                "shared": location.shared,
                "ok": False,
                "note": f"The audit log cannot be written ({self.failure}); "
                "ask IT to run `tweetguard audit status`.",
            }
        note = (
            "Recording to the school's shared audit log."
            if location.shared
            else f"Not the school's shared audit log: {location.why}."
        )
        return {"shared": location.shared, "ok": True, "note": note}

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
