"""How an audit row reads on a console page. static/live.js renders rows that
arrive over the live feed with the same labels and summary keys, which it reads
from the page (`row_format`), so a row looks the same either way and the two
tables are written down once, here."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any

from tweetguard.stores.audit import AuditRow

# The detail keys worth a glance, in the order the first present one is shown.
SUMMARY_KEYS = ("what", "reason", "action", "stage", "event", "url")
KIND_LABELS = {
    "check": "check",
    "override": "override",
    "post": "post",
    "logout": "sign-out",
    "incident": "incident",
    "helper": "helper",
    "policy": "policy change",
    "register": "register change",
    "accounts": "accounts",
    "sweep": "sweep",
    "migrated": "migrated",
}


def summary(row: AuditRow) -> str:
    for key in SUMMARY_KEYS:
        value = row.detail.get(key)
        if value not in (None, ""):
            return str(value)
    return ""


def shown_time(at: str) -> str:
    """ "2026-11-28T09:14:03.512Z" -> "2026-11-28 09:14:03" (UTC, said in the heading)."""
    return at[:19].replace("T", " ")


def today_start() -> datetime:
    """Midnight where the console runs: "today" as the school means it."""
    return datetime.combine(date.today(), time(0)).astimezone(UTC)


def row_context(row: AuditRow) -> dict[str, Any]:
    return {
        "row": row,
        "time": shown_time(row.at),
        "label": KIND_LABELS.get(row.kind, row.kind),
        "summary": summary(row),
    }


def row_format() -> str:
    """KIND_LABELS and SUMMARY_KEYS for static/live.js, as JSON in a
    <script type="application/json"> element (data, so the CSP allows it)."""
    text = json.dumps({"labels": KIND_LABELS, "keys": list(SUMMARY_KEYS)}, sort_keys=True)
    return text.replace("<", "\\u003c")  # never "</script>" inside the element


X_LINK_PREFIXES = ("https://x.com/", "https://twitter.com/")


def x_link(url: object) -> str | None:
    """`url` when it is a link to a post on X, else None. Audit rows come from any
    source (a per-user file is writable by that user), so a detail's "url" is
    only made a link when it cannot be javascript: or another site."""
    if isinstance(url, str) and url.startswith(X_LINK_PREFIXES) and url.isprintable():
        return url
    return None
