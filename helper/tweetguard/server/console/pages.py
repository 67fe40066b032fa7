"""The trust overview, schools, users and devices (codes, tokens, revocation)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from tweetguard.server import audit, devices, policies, tenancy
from tweetguard.server.console.auth import allowed, db, user

bp = Blueprint("server_pages", __name__)


@dataclass
class DeviceRow:
    info: devices.DeviceInfo
    chains: dict[str, dict[str, object]]
    gaps: int
    current_policy: bool


def _visible_schools() -> list[tenancy.School]:
    me = user()
    return [s for s in tenancy.schools_of(db(), me.trust_id) if s.id in me.schools]


def _device_rows(school_ids: list[str]) -> dict[str, list[DeviceRow]]:
    versions = policies.versions(db(), school_ids)
    gap_counts = audit.gap_counts(db(), school_ids)
    rows: dict[str, list[DeviceRow]] = defaultdict(list)
    for info in devices.devices_of(db(), school_ids):
        rows[info.school_id].append(
            DeviceRow(
                info,
                dict(audit.heads(db(), info.id)),
                gap_counts.get(info.id, 0),
                info.policy_version == versions[info.school_id],
            )
        )
    return rows


@bp.get("/")
@allowed("trust.overview")
def overview() -> str:
    """Each school in numbers (a trust may have thousands of devices); a school's
    page lists its devices one by one."""
    schools = _visible_schools()
    ids = [s.id for s in schools]
    # Schools whose rows the live feed sends this user (server/feed.py asks the same).
    readable = {s.id: s.name for s in schools if tenancy.can(user(), "audit.read", s.id)}
    return render_template(
        "overview.html",
        readable=readable,
        trust=tenancy.trust(db(), user().trust_id),
        schools=schools,
        summary=devices.summary(db(), ids),
        versions=policies.versions(db(), ids),
        gap_counts=audit.gaps_by_school(db(), ids),
        gaps=audit.gaps(db(), ids, limit=20),
        empty=devices.SchoolDevices(),
    )


@bp.post("/schools")
@allowed("trust.admin")
def add_school() -> BaseResponse:
    try:
        made = tenancy.add_school(db(), user().trust_id, request.form.get("name", ""))
    except tenancy.TenancyError as exc:
        flash(f"School not added: {exc}.")
    else:
        flash(f"Added {made.name}. Make its devices' enrolment codes on its page.")
    return redirect(url_for("server_pages.overview"))


@bp.get("/schools/<school_id>")
@allowed("school.view")
def school(school_id: str) -> str:
    found = tenancy.school(db(), school_id)
    return render_template(
        "school.html",
        school=found,
        devices=_device_rows([school_id]).get(school_id, []),
        tokens=devices.tokens(db(), school_id),
        version=policies.policy_version(db(), school_id),
        gaps=audit.gaps(db(), [school_id], limit=50),
        shown=None,
    )


def _shown(school_id: str, what: str, value: str) -> str:
    """A code or token, on a page of its own: shown once, never stored readable."""
    return render_template(
        "secret.html", school=tenancy.school(db(), school_id), what=what, value=value
    )


@bp.post("/schools/<school_id>/codes")
@allowed("devices.manage")
def make_code(school_id: str) -> str:
    code = devices.make_code(db(), school_id, created_by=user().id)
    return _shown(school_id, "code", code)


@bp.post("/schools/<school_id>/tokens")
@allowed("devices.manage")
def make_token(school_id: str) -> str:
    token = devices.make_token(db(), school_id, created_by=user().id)
    return _shown(school_id, "token", token)


@bp.post("/schools/<school_id>/tokens/<token_id>/revoke")
@allowed("devices.manage")
def revoke_token(school_id: str, token_id: str) -> BaseResponse:
    if devices.revoke_token(db(), school_id, token_id):
        flash("Token revoked: Chromebooks can no longer enrol with it; enrolled ones keep working.")
    else:
        flash("That token was already revoked or is not this school's.")
    return redirect(url_for("server_pages.school", school_id=school_id))


@bp.post("/schools/<school_id>/devices/<device_id>/revoke")
@allowed("devices.manage")
def revoke_device(school_id: str, device_id: str) -> BaseResponse:
    if devices.revoke(db(), school_id, device_id):
        flash("Device removed: its credential no longer works. Enrol it again with a new code.")
    else:
        flash("No such device in this school.")
    return redirect(url_for("server_pages.school", school_id=school_id))


@bp.get("/users")
@allowed("trust.admin")
def users() -> str:
    me = user()
    return render_template(
        "users.html",
        users=tenancy.users_of(db(), me.trust_id),
        schools=tenancy.schools_of(db(), me.trust_id),
        roles=tenancy.ROLES,
        error=None,
    )


@bp.post("/users")
@allowed("trust.admin")
def add_user() -> BaseResponse | tuple[str, int]:
    me = user()
    form = request.form
    try:
        made = tenancy.add_user(
            db(),
            me.trust_id,
            form.get("email", ""),
            form.get("password", ""),
            form.get("role", ""),
            form.getlist("schools"),
            name=form.get("name", ""),
        )
    except tenancy.TenancyError as exc:
        return render_template(
            "users.html",
            users=tenancy.users_of(db(), me.trust_id),
            schools=tenancy.schools_of(db(), me.trust_id),
            roles=tenancy.ROLES,
            error=f"User not added: {exc}.",
        ), 400
    flash(f"Added {made.email} as {tenancy.ROLE_NAMES[made.role]}.")
    return redirect(url_for("server_pages.users"))
