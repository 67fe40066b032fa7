"""A school's audit: rows from every device, filtered and exported, with the
chains' state and the pushes the server refused."""

from __future__ import annotations

import io

from flask import Blueprint, Response, render_template, request

from tweetguard.console.audit import FilterError, query_from
from tweetguard.server import audit, devices, tenancy
from tweetguard.server.console.auth import allowed, db
from tweetguard.stores.audit import KINDS, export
from tweetguard.stores.audit.model import VERDICTS

bp = Blueprint("server_audit", __name__)
PAGE_ROWS = 500


@bp.get("/schools/<school_id>/audit")
@allowed("audit.read")
def index(school_id: str) -> tuple[str, int]:
    error, rows = None, []
    try:
        rows = audit.rows(
            db(), school_id, query_from(request.args, PAGE_ROWS + 1), registered_names=True
        )
    except FilterError as exc:
        error = str(exc)
    school_devices = devices.devices_of(db(), [school_id])
    return render_template(
        "audit.html",
        school=tenancy.school(db(), school_id),
        rows=rows[:PAGE_ROWS],
        more=len(rows) > PAGE_ROWS,
        args=request.args,
        kinds=KINDS,
        verdicts=VERDICTS,
        device_names=sorted({d.name for d in school_devices}),
        chains={d.id: (d, audit.heads(db(), d.id)) for d in school_devices},
        gaps=audit.gaps(db(), [school_id]),
        error=error,
        export_query={k: v for k, v in request.args.items() if v and k != "format"},
    ), 400 if error else 200


@bp.get("/schools/<school_id>/audit/export")
@allowed("audit.read")
def download(school_id: str) -> Response | tuple[str, int]:
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "jsonl"):
        return render_template(
            "error.html", title="Export refused", message="Choose CSV or JSON lines."
        ), 400
    try:
        rows = audit.rows(db(), school_id, query_from(request.args, None))
    except FilterError as exc:
        return render_template("error.html", title="Export refused", message=str(exc)), 400
    out = io.StringIO()
    export(reversed(rows), fmt, out)
    name = f"audit-{school_id}.{fmt}"
    mimetype = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return Response(
        out.getvalue(),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
