"""Enrolment, policy, register, audit and status: docs/server-api.md, exactly.

Nothing is kept between requests but what server/cache.py keeps honest by
LISTEN/NOTIFY (the device of a credential, the school's policy version and
register revision), so any server process can answer any device, and a poll
with nothing new costs no query.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, current_app, g, jsonify, request

from tweetguard.server import audit, cache, devices, policies, registers
from tweetguard.server.api import POLL_SECONDS, UNKNOWN_DEVICE, error
from tweetguard.server.db import Database
from tweetguard.stores.audit.model import now

bp = Blueprint("api_sync", __name__, url_prefix="/api/v1")
F = TypeVar("F", bound=Callable[..., Any])
Reply = Response | tuple[Response, int]


def db() -> Database:
    return cast(Database, current_app.extensions["tweetguard_db"])


def device() -> devices.Device:
    return cast(devices.Device, g.device)


def credential() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def device_required(view: F, *, polling: bool = False) -> F:
    """A call with a live device credential; the device is g.device. Its helper
    version and last_seen are noted (at most once a minute when unchanged)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        given = credential()
        found: Any = None
        if given and polling:
            found = cache.for_database(db()).device(
                given, lambda: devices.authenticate(db(), given)
            )
        elif given:
            found = devices.authenticate(db(), given)
        if found is None:
            return error(401, "device_unknown", UNKNOWN_DEVICE)
        g.device = found
        g.helper_version = request.headers.get("X-Tweetguard-Helper")
        return view(*args, **kwargs)

    return cast(F, wrapped)


HELPER_ONLY = (
    "only an enrolled tweetguard helper may call this; a Chromebook's checks run on the "
    "server (POST /api/v1/protocol or the WebSocket)"
)


def helper_only(view: F) -> F:
    """The school's register and policy text and a device's own audit chain are for
    helpers only: an extension's credential comes from the school's enrolment token,
    which sits in the Chromebook's managed policy where anyone at that Chromebook can
    read it, and the server runs a Chromebook's checks and writes its chain itself."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if device().kind != "helper":
            return error(403, "forbidden", HELPER_ONLY)
        return view(*args, **kwargs)

    return cast(F, wrapped)


def polling_device_required(view: F) -> F:
    """device_required for the calls every device makes every few minutes (policy,
    register): the device comes from this process's memory and a call with nothing
    new is noted in the next batch (server/cache.py), so it costs no query."""
    return device_required(view, polling=True)


def _noted(policy_version: str | None = None) -> None:
    cache.seen_buffer(db()).note(
        device().id, helper_version=g.get("helper_version"), policy_version=policy_version
    )


def _seen(policy_version: str | None = None) -> None:
    devices.seen(
        db(), device(), helper_version=g.get("helper_version"), policy_version=policy_version
    )


def _json_body() -> dict[str, Any] | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


@bp.post("/enrol")
def enrol() -> Reply:
    body = _json_body()
    if body is None or not isinstance(body.get("code"), str):
        return error(
            400, "bad_request", 'send {"code": "...", "name": "...", "kind": "helper"} as JSON'
        )
    name = body.get("name") if isinstance(body.get("name"), str) else ""
    kind = body.get("kind", "helper")
    try:
        made, secret = devices.enrol(db(), body["code"], name=str(name), kind=str(kind))
    except devices.EnrolRefused as exc:
        return error(403, "enrol_refused", str(exc))
    school_name, trust_id, trust_name = devices.school_and_trust(db(), made.school_id)
    reply = {
        "device_id": made.id,
        "credential": secret,
        "school": {"id": made.school_id, "name": school_name},
        "trust": {"id": trust_id, "name": trust_name},
        "poll_seconds": POLL_SECONDS,
    }
    return jsonify(reply), 201


def _etag_matches(version: str) -> bool:
    given = request.headers.get("If-None-Match", "")
    tags = [t.strip().removeprefix("W/") for t in given.split(",")]
    return f'"{version}"' in tags or "*" in tags


@bp.get("/policy")
@polling_device_required
@helper_only
def policy() -> Reply:
    school_id = device().school_id
    version = cache.for_database(db()).policy_version(
        school_id, lambda: policies.policy_version(db(), school_id)
    )
    if _etag_matches(version):
        _noted(policy_version=version)
        response = Response(status=304)
        response.headers["ETag"] = f'"{version}"'
        return response
    version, text = cache.for_database(db()).effective_policy(
        school_id, lambda: policies.effective(db(), school_id)
    )
    _seen(policy_version=version)
    response = jsonify({"version": version, "toml": text})
    response.headers["ETag"] = f'"{version}"'
    return response


@bp.get("/register")
@polling_device_required
@helper_only
def register() -> Reply:
    raw = request.args.get("since", "0") or "0"
    try:
        since = int(raw)
    except ValueError:
        return error(400, "bad_request", "since must be a whole number (the revision you have)")
    school_id = device().school_id
    current = cache.for_database(db()).register_revision(
        school_id, lambda: registers.revision(db(), school_id)
    )
    if since > 0 and since == current:  # nothing new: the common poll, from memory
        _noted()
        return jsonify({"revision": current, "full": False, "changes": []})
    _seen()
    return jsonify(registers.register_since(db(), school_id, max(since, 0)))


@bp.post("/audit")
@polling_device_required
@helper_only
def push_audit() -> Reply:
    """Every helper pushes every 15 minutes (167 a second for 150,000 devices), so
    this is a polling call: its device comes from memory (a revocation is heard by
    NOTIFY, as for polls), its last call is noted in the next batch, and the rows
    are checked and kept in one transaction (server/audit.py `accept`)."""
    body = _json_body()
    if body is None:
        return error(400, "bad_request", 'send {"source": "...", "rows": [...]} as JSON')
    _noted()
    try:
        source: Any = body.get("source")
        rows: Any = body.get("rows")
        result = audit.accept(db(), device().id, source, rows, school_id=device().school_id)
    except audit.AuditRefused as exc:
        return error(400, "bad_request", str(exc))
    except audit.ChainBroken as exc:
        return error(
            409,
            "audit_chain_broken",
            f"{exc}; the server kept none of this batch: check the machine's audit "
            "with `tweetguard audit verify` and tell the safeguarding lead",
            expected_seq=exc.expected_seq,
            expected_prev=exc.expected_prev,
        )
    return jsonify(result)


@bp.get("/status")
@device_required
def status() -> Reply:
    here = device()
    _seen()
    school_name, _, _ = devices.school_and_trust(db(), here.school_id)
    return jsonify(
        {
            "device_id": here.id,
            "school": {"id": here.school_id, "name": school_name},
            "policy_version": policies.policy_version(db(), here.school_id),
            "register_revision": registers.revision(db(), here.school_id),
            "audit": audit.heads(db(), here.id),
            "server_time": now(),
            "poll_seconds": POLL_SECONDS,
        }
    )
