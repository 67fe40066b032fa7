"""The overview: today at a glance, the latest rows, each device's helper, and
whether the audit can be trusted. static/live.js keeps it current."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from flask import Blueprint, current_app, render_template

from tweetguard.console.auth import home, login_required
from tweetguard.console.chain import ChainChecks, SourceState, read_sources
from tweetguard.console.chain import cursors as read_cursors
from tweetguard.console.rows import row_context, row_format, shown_time, today_start
from tweetguard.stores.audit import AuditQuery, AuditRow, audit_location
from tweetguard.stores.secrets import SecretsError, secret_store

bp = Blueprint("overview", __name__)

LATEST = 25
STATUS_WINDOW = 5000  # newest rows read for each device's last activity


@dataclass
class DeviceStatus:
    device: str
    user: str
    last_activity: str
    last_kind: str
    helper_seen: str | None = None
    helper_version: str | None = None


def counts(rows: list[AuditRow]) -> dict[str, int]:
    """Today's numbers: what the cards show and live.js keeps adding to."""
    found = {"check": 0, "hold": 0, "override": 0, "post": 0, "logout": 0}
    for row in rows:
        if row.kind in found:
            found[row.kind] += 1
        if row.kind == "check" and row.verdict == "block":
            found["hold"] += 1
    return found


def device_status(rows: list[AuditRow]) -> list[DeviceStatus]:
    """Per device and login, newest first: the last thing done and the last word
    from the helper itself (its start, with its version)."""
    found: dict[tuple[str, str], DeviceStatus] = {}
    for row in sorted(rows, key=lambda r: r.at, reverse=True):
        key = (row.device, row.user)
        status = found.get(key)
        if status is None:
            status = found[key] = DeviceStatus(row.device, row.user, shown_time(row.at), row.kind)
        if row.kind == "helper" and status.helper_seen is None:
            status.helper_seen = shown_time(row.at)
            version = row.detail.get("helper_version") or row.detail.get("version")
            status.helper_version = str(version) if version else None
    return list(found.values())


def chain_checks() -> ChainChecks:
    return cast(ChainChecks, current_app.extensions["tweetguard_chain"])


def source_states(*, full: bool = False) -> list[SourceState]:
    """Each source's chain: checked since the last page load, walked in full at
    most every few minutes (console/chain.py)."""
    return chain_checks().states(home(), full=full)


def secrets_description() -> str:
    try:
        return secret_store(home()).describe()
    except SecretsError as exc:
        return f"unavailable: {exc}"


@bp.route("/")
@login_required
def index() -> str:
    # The feed's cursors first, then the rows no newer than them: a row written
    # while this page is built is left to the feed, never lost between the two.
    cursors = read_cursors(home())
    today, broken = read_sources(home(), AuditQuery(since=today_start()), cursors)
    recent, _ = read_sources(home(), AuditQuery(limit=STATUS_WINDOW), cursors)
    context: dict[str, Any] = {
        "counts": counts(today),
        "latest": [row_context(r) for r in recent[:LATEST]],
        "devices": device_status(recent),
        "location": audit_location(home()),
        "sources": source_states(),
        "broken": broken,
        "secrets": secrets_description(),
        "feed_url": current_app.config.get("TWEETGUARD_FEED_URL"),
        "cursors": json.dumps(cursors, sort_keys=True),
        "today_start": today_start().isoformat(),
        "row_format": row_format(),
    }
    return render_template("overview.html", **context)
