"""The audit page: every source's rows, filtered; an export of exactly what the
filter shows; and whether each source's hash chain verifies."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import Blueprint, Response, render_template, request

from tweetguard.console.auth import home, login_required
from tweetguard.console.overview import source_states
from tweetguard.console.rows import row_context
from tweetguard.stores.audit import KINDS, AuditQuery, export, merged_rows

bp = Blueprint("audit", __name__)

SHOWN = 500
VERDICTS = ("ok", "warn", "block")


class FilterError(ValueError):
    pass


def query_from(args: Any, limit: int | None) -> AuditQuery:
    def text(name: str) -> str | None:
        value = str(args.get(name, "")).strip()
        return value or None

    def day(name: str) -> date | None:
        value = text(name)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise FilterError(f"{name} {value!r} is not a date; use YYYY-MM-DD") from None

    since, until = day("since"), day("until")
    if since and until and until < since:
        raise FilterError("the end date is before the start date; swap them")
    account = text("account")
    outside = text("outside")
    return AuditQuery(
        since=since,
        until=until,  # a date: up to the end of that day
        account=account.removeprefix("@").lower() if account else None,
        rule=text("rule"),
        verdict=text("verdict"),
        device=text("device"),
        kind=text("kind"),
        outside=True if outside == "yes" else False if outside == "no" else None,
        limit=limit,
    )


@bp.route("/")
@login_required
def index() -> tuple[str, int]:
    error = None
    try:
        query = query_from(request.args, SHOWN + 1)
        rows = merged_rows(home(), query)
    except FilterError as exc:
        error, rows = str(exc), []
    devices = sorted({r.device for r in merged_rows(home(), AuditQuery(limit=5000))})
    context: dict[str, Any] = {
        "rows": [row_context(r) for r in rows[:SHOWN]],
        "more": len(rows) > SHOWN,
        "shown": SHOWN,
        "args": request.args,
        "kinds": KINDS,
        "verdicts": VERDICTS,
        "devices": devices,
        "sources": source_states(),
        "error": error,
        "export_query": {k: v for k, v in request.args.items() if v and k != "format"},
    }
    return render_template("audit.html", **context), 400 if error else 200


@bp.route("/export")
@login_required
def download() -> Response | tuple[str, int]:
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "jsonl"):
        return render_template(
            "error.html", title="Export", message=f"{fmt!r} is not csv or jsonl; choose one."
        ), 400
    try:
        rows = merged_rows(home(), query_from(request.args, None))
    except FilterError as exc:
        return render_template("error.html", title="Export", message=str(exc)), 400
    out = io.StringIO()
    export(rows, fmt, out)
    stamp = date.today().isoformat()
    return Response(
        out.getvalue(),
        mimetype="text/csv" if fmt == "csv" else "application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="tweetguard-audit-{stamp}.{fmt}"'},
    )
