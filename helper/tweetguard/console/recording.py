"""The console's own audit rows: every change it saves is recorded, by "console"."""

from __future__ import annotations

from typing import Any

from flask import flash

from tweetguard.console.auth import home
from tweetguard.stores.audit import record_change


def record(kind: str, what: str, **detail: Any) -> None:
    """Appends a row for a saved change. The change itself is already saved, so a
    failure here is said on the page (with what to do) rather than undoing it."""
    if record_change(home(), kind, by="console", detail={"what": what, **detail}) is None:
        flash(
            "The change was saved but could not be recorded in the audit; "
            "run `tweetguard audit status` to see why."
        )
