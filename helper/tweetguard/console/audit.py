"""The audit page: every source's rows, filtered; an export of exactly what the
filter shows; and whether each source's hash chain verifies."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from tweetguard.console.auth import home, login_required, safe_next
from tweetguard.console.chain import read_sources
from tweetguard.console.overview import source_states
from tweetguard.console.rows import row_context
from tweetguard.stores.audit import KINDS, AuditQuery, BrokenSource, export

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
    broken: list[BrokenSource] = []
    try:
        query = query_from(request.args, SHOWN + 1)
        rows, broken = read_sources(home(), query)
    except FilterError as exc:
        error, rows = str(exc), []
    recent, recent_broken = read_sources(home(), AuditQuery(limit=5000))
    devices = sorted({r.device for r in recent})
    context: dict[str, Any] = {
        "rows": [row_context(r) for r in rows[:SHOWN]],
        "more": len(rows) > SHOWN,
        "shown": SHOWN,
        "args": request.args,
        "kinds": KINDS,
        "verdicts": VERDICTS,
        "devices": devices,
        "sources": source_states(),
        "broken": broken or recent_broken,
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
        rows, broken = read_sources(home(), query_from(request.args, None))
    except FilterError as exc:
        return render_template("error.html", title="Export", message=str(exc)), 400
    if broken:
        # An export that silently lacks a source would look complete: refuse.
        message = "Not exported: " + "; ".join(b.problem for b in broken)
        return render_template("error.html", title="Export", message=message), 409
    out = io.StringIO()
    export(rows, fmt, out)
    stamp = date.today().isoformat()
    return Response(
        out.getvalue(),
        mimetype="text/csv" if fmt == "csv" else "application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="tweetguard-audit-{stamp}.{fmt}"'},
    )


@bp.route("/verify", methods=["POST"])
@login_required
def verify_now() -> BaseResponse:
    """Walks every source's whole chain now, instead of at the next interval."""
    states = source_states(full=True)
    bad = [s for s in states if not s.ok]
    if bad:
        flash("Checked every row: " + "; ".join(f"{s.path}: {s.problem}" for s in bad) + ".")
    else:
        flash(f"Checked every row of {len(states)} audit file(s): none altered, missing or moved.")
    back = request.form.get("back")
    return redirect(safe_next(back) if back else url_for("audit.index"))
