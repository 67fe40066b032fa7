"""A school's register: who is in it, and an MIS export previewed before it is applied."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from tweetguard.server import registers, tenancy
from tweetguard.server.console.auth import allowed, db, user
from tweetguard.stores.register_import import ImportRefused

bp = Blueprint("server_register", __name__)


@bp.get("/schools/<school_id>/register")
@allowed("register.read")
def index(school_id: str) -> str:
    return render_template(
        "register.html",
        school=tenancy.school(db(), school_id),
        people=registers.people(db(), school_id),
        revision=registers.revision(db(), school_id),
    )


@bp.post("/schools/<school_id>/register/upload")
@allowed("register.edit")
def upload(school_id: str) -> BaseResponse | tuple[str, int]:
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        flash("Choose the MIS export file first (CSV or .xlsx).")
        return redirect(url_for("server_register.index", school_id=school_id))
    upload_id = registers.store_upload(db(), school_id, sent.filename, sent.read(), by=user().id)
    return redirect(url_for("server_register.preview", school_id=school_id, upload=upload_id))


@bp.get("/schools/<school_id>/register/preview")
@allowed("register.edit")
def preview(school_id: str) -> BaseResponse | tuple[str, int] | str:
    upload_id = request.args.get("upload", "")
    school = tenancy.school(db(), school_id)
    try:
        found = registers.preview(db(), school_id, upload_id)
    except ImportRefused as exc:
        return render_template(
            "error.html", title="Export refused", message=f"{exc}. The register is unchanged."
        ), 400
    if found is None:
        flash("That upload has gone (applied, or older than an hour); upload the file again.")
        return redirect(url_for("server_register.index", school_id=school_id))
    return render_template("register_preview.html", school=school, preview=found)


@bp.post("/schools/<school_id>/register/apply")
@allowed("register.edit")
def apply(school_id: str) -> BaseResponse | tuple[str, int]:
    try:
        revision = registers.apply_upload(db(), school_id, request.form.get("upload", ""))
    except ImportRefused as exc:
        return render_template(
            "error.html", title="Export refused", message=f"{exc}. The register is unchanged."
        ), 400
    if revision is None:
        flash("That upload has gone (applied, or older than an hour); upload the file again.")
    else:
        flash(
            f"Register updated (revision {revision}); devices get the changes at their next poll."
        )
    return redirect(url_for("server_register.index", school_id=school_id))
