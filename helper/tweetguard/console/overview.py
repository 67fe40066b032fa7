"""The overview: today at a glance, the latest rows, each device's helper, and
whether the audit can be trusted. static/live.js keeps it current."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, render_template

from tweetguard.console.auth import home, login_required
from tweetguard.console.rows import row_context, shown_time, today_start
from tweetguard.stores.audit import (
    AuditError,
    AuditQuery,
    AuditRow,
    audit_location,
    audit_sources,
    merged_rows,
)
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
    helper_event: str | None = None


@dataclass(frozen=True)
class SourceState:
    source: str
    path: str
    rows: int
    ok: bool
    problem: str
    last_seq: int


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
            event = row.detail.get("event") or row.detail.get("action")
            status.helper_event = str(event) if event else None
    return list(found.values())


def source_states() -> list[SourceState]:
    states = []
    for source in audit_sources(home()):
        try:
            check = source.verify()
            last = source.last_seq()
            states.append(
                SourceState(
                    source.source, str(source.path), check.rows, check.ok, check.problem, last
                )
            )
        except AuditError as exc:
            states.append(SourceState(source.source, str(source.path), 0, False, str(exc), 0))
        finally:
            source.close()
    return states


def secrets_description() -> str:
    try:
        return secret_store(home()).describe()
    except SecretsError as exc:
        return f"unavailable: {exc}"


@bp.route("/")
@login_required
def index() -> str:
    today = merged_rows(home(), AuditQuery(since=today_start()))
    recent = merged_rows(home(), AuditQuery(limit=STATUS_WINDOW))
    sources = source_states()
    cursors = {s.source: s.last_seq for s in sources}
    context: dict[str, Any] = {
        "counts": counts(today),
        "latest": [row_context(r) for r in recent[:LATEST]],
        "devices": device_status(recent),
        "location": audit_location(home()),
        "sources": sources,
        "secrets": secrets_description(),
        "feed_url": current_app.config.get("TWEETGUARD_FEED_URL"),
        "cursors": json.dumps(cursors, sort_keys=True),
        "today_start": today_start().isoformat(),
    }
    return render_template("overview.html", **context)
