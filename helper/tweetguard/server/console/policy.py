"""Policy layers as TOML text: the trust's defaults and locks (trust admins), a
school's own layer (IT leads and trust admins). Nothing is saved that would leave
any affected school with an effective policy its devices would refuse."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from tweetguard.server import policies, tenancy
from tweetguard.server.console.auth import allowed, db, user

bp = Blueprint("server_policy", __name__)


@bp.get("/trust/policy")
@allowed("trust.admin")
def trust_policy(
    error: str | None = None, text: str | None = None, locks: str | None = None
) -> str:
    saved_text, saved_locks, version = policies.trust_layer(db(), user().trust_id)
    return render_template(
        "policy_trust.html",
        text=saved_text if text is None else text,
        locks="\n".join(saved_locks) if locks is None else locks,
        version=version,
        error=error,
    )


@bp.post("/trust/policy")
@allowed("trust.admin")
def save_trust_policy() -> BaseResponse | tuple[str, int]:
    text = request.form.get("toml", "")
    locks = request.form.get("locks", "")
    try:
        policies.save_trust_layer(db(), user().trust_id, text, locks.splitlines(), by=user().id)
    except policies.PolicyRefused as exc:
        return trust_policy(error=f"Not saved: {exc}", text=text, locks=locks), 400
    flash("The trust's layer is saved; every school's devices get it at their next poll.")
    return redirect(url_for("server_policy.trust_policy"))


def _school_page(school_id: str, error: str | None = None, text: str | None = None) -> str:
    trust_text, locks, school_text = policies.layers(db(), school_id)
    try:
        version, effective = policies.effective(db(), school_id)
    except policies.PolicyRefused as exc:
        version, effective = "?", f"# cannot be built: {exc}"
    return render_template(
        "policy_school.html",
        school=tenancy.school(db(), school_id),
        text=school_text if text is None else text,
        trust_text=trust_text,
        locks=locks,
        version=version,
        effective=effective,
        error=error,
    )


@bp.get("/schools/<school_id>/policy")
@allowed("policy.edit")
def school_policy(school_id: str) -> str:
    return _school_page(school_id)


@bp.post("/schools/<school_id>/policy")
@allowed("policy.edit")
def save_school_policy(school_id: str) -> BaseResponse | tuple[str, int]:
    text = request.form.get("toml", "")
    try:
        policies.save_school_layer(db(), school_id, text, by=user().id)
    except policies.PolicyRefused as exc:
        return _school_page(school_id, error=f"Not saved: {exc}", text=text), 400
    flash("The school's layer is saved; its devices get it at their next poll.")
    return redirect(url_for("server_policy.school_policy", school_id=school_id))
