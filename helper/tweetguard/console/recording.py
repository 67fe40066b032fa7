"""The console's own audit rows: every change it saves is recorded, by "console"."""

from __future__ import annotations

from typing import Any

from flask import flash

from tweetguard.console.auth import home
from tweetguard.stores.audit import AuditError, open_audit


def record(kind: str, what: str, **detail: Any) -> None:
    """Appends a row for a saved change. The change itself is already saved, so a
    failure here is said on the page (with what to do) rather than undoing it."""
    try:
        log = open_audit(home())
        try:
            log.append(kind, detail={"what": what, "by": "console", **detail})
        finally:
            log.close()
    except AuditError as exc:
        flash(f"The change was saved but could not be recorded in the audit: {exc}")
