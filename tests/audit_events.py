"""The audit's rows as flat dicts, for tests that only ask what was recorded.

The row's kind is "event" and its detail's fields sit beside the row's own (the
shape events.jsonl had), so a test reads `e["reason"]` or `e["what"]` directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tweetguard.stores.audit import AuditLog

RECORDED = ("override", "logout", "incident", "post")


def events(home: Path, *kinds: str) -> list[dict[str, Any]]:
    path = home / "audit.sqlite3"
    if not path.exists():
        return []
    log = AuditLog(path)
    try:
        rows = log.rows()
    finally:
        log.close()
    return [
        {
            **row.detail,
            "event": row.kind,
            "at": row.at,
            "handle": row.account,
            "user_id": row.account_id,
            "rules": list(row.rules),
            "text_sha256": row.text_sha256,
            "text": row.text,
        }
        for row in rows
        if row.kind in (kinds or RECORDED)
    ]
