"""Enrolment and device credentials.

A one-time code (one machine, 24 hours by default, used once) or a school's
enrolment token (many managed Chromebooks, until revoked) buys a device its
credential `<device_id>.<secret>`. The server keeps SHA-256 hashes only, of codes,
tokens and secrets: a copy of the database enrols nothing and impersonates no one.
`authenticate` is one primary-key lookup, as every device request makes it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, select, update

from tweetguard.server.db import Database, new_id
from tweetguard.server.db.tables import devices, enrol_codes, enrol_tokens, schools
from tweetguard.stores.audit.model import format_time, now

KINDS = ("helper", "extension")
# last_seen is written at most this often per device: a poll every few minutes
# from 150,000 devices must not be a write each.
SEEN_EVERY = timedelta(seconds=60)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed by hand


class EnrolRefused(Exception):
    """The code or token cannot enrol this device; the message says which and what to do."""


@dataclass(frozen=True)
class Device:
    id: str
    school_id: str
    kind: str
    name: str
    revoked: bool
    last_seen: str | None = None
    helper_version: str | None = None
    policy_version: str | None = None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _normal_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def make_code(db: Database, school_id: str, *, created_by: str, hours: float = 24) -> str:
    """A one-time code for one machine, shown once: XXXX-XXXX-XXXX (60 bits)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    moment = datetime.now(UTC)
    with db.write() as conn:
        conn.execute(
            enrol_codes.insert().values(
                code_hash=digest(raw),
                school_id=school_id,
                created_by=created_by,
                created_at=format_time(moment),
                expires_at=format_time(moment + timedelta(hours=hours)),
            )
        )
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def make_token(db: Database, school_id: str, *, created_by: str) -> str:
    """A school's enrolment token for managed Chromebooks, shown once."""
    token = "tgs_" + secrets.token_urlsafe(32)
    with db.write() as conn:
        conn.execute(
            enrol_tokens.insert().values(
                id=new_id("k"),
                token_hash=digest(token),
                school_id=school_id,
                created_by=created_by,
                created_at=now(),
            )
        )
    return token


@dataclass(frozen=True)
class TokenInfo:
    id: str
    created_at: str
    created_by: str
    revoked_at: str | None


def tokens(db: Database, school_id: str) -> list[TokenInfo]:
    with db.read() as conn:
        rows = conn.execute(
            select(enrol_tokens)
            .where(enrol_tokens.c.school_id == school_id)
            .order_by(enrol_tokens.c.created_at)
        ).all()
    return [TokenInfo(r.id, r.created_at, r.created_by, r.revoked_at) for r in rows]


def revoke_token(db: Database, school_id: str, token_id: str) -> bool:
    with db.write() as conn:
        done = conn.execute(
            update(enrol_tokens)
            .where(
                enrol_tokens.c.id == token_id,
                enrol_tokens.c.school_id == school_id,
                enrol_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=now())
        )
    return done.rowcount > 0


def enrol(db: Database, code: str, *, name: str, kind: str) -> tuple[Device, str]:
    """Spends a code (or uses a token) and makes the device; (device, credential).
    The code is marked used in the same transaction the device is made in, so two
    machines racing with one code cannot both enrol."""
    if kind not in KINDS:
        raise EnrolRefused(f"unknown device kind {kind!r}; use helper or extension")
    name = (name or "").strip()[:200] or "unnamed device"
    device_id = new_id("d")
    secret = secrets.token_urlsafe(32)
    stamp = now()
    with db.write() as conn:
        if code.startswith("tgs_"):
            found = conn.execute(
                select(enrol_tokens.c.school_id, enrol_tokens.c.revoked_at).where(
                    enrol_tokens.c.token_hash == digest(code)
                )
            ).first()
            if found is None:
                raise EnrolRefused(
                    "this enrolment token is not known to the server; "
                    "copy the school's current token from the server's Devices page"
                )
            if found.revoked_at is not None:
                raise EnrolRefused(
                    "this enrolment token was revoked; push the school's new token "
                    "from the Google Admin console"
                )
            if kind != "extension":
                raise EnrolRefused(
                    "a school's enrolment token enrols Chromebooks only; "
                    "enrol this machine with a one-time code from the Devices page"
                )
            school_id, via = str(found.school_id), "token"
        else:
            hashed = digest(_normal_code(code))
            found = conn.execute(
                select(enrol_codes).where(enrol_codes.c.code_hash == hashed)
            ).first()
            if found is None:
                raise EnrolRefused(
                    "this enrolment code is not known to the server; "
                    "check it, or make a new one on the server's Devices page"
                )
            if found.used_at is not None:
                raise EnrolRefused(
                    "this enrolment code was already used; make a new one on the Devices page"
                )
            if found.expires_at <= stamp:
                raise EnrolRefused(
                    "this enrolment code has expired; make a new one on the Devices page"
                )
            used = conn.execute(
                update(enrol_codes)
                .where(enrol_codes.c.code_hash == hashed, enrol_codes.c.used_at.is_(None))
                .values(used_at=stamp, device_id=device_id)
            )
            if used.rowcount != 1:
                raise EnrolRefused(
                    "this enrolment code was already used; make a new one on the Devices page"
                )
            school_id, via = str(found.school_id), "code"
        conn.execute(
            devices.insert().values(
                id=device_id,
                school_id=school_id,
                kind=kind,
                name=name,
                secret_hash=digest(secret),
                enrolled_at=stamp,
                enrolled_with=via,
                revoked=False,
            )
        )
    return Device(device_id, school_id, kind, name, False), f"{device_id}.{secret}"


def authenticate(db: Database, credential: str) -> Device | None:
    """The device this credential belongs to, or None (unknown, wrong or revoked)."""
    device_id, dot, secret = credential.strip().partition(".")
    if not dot or not device_id.startswith("d_") or not secret or len(credential) > 200:
        return None
    with db.read() as conn:
        row = conn.execute(select(devices).where(devices.c.id == device_id)).first()
    if row is None or row.revoked or not hmac.compare_digest(row.secret_hash, digest(secret)):
        return None
    return Device(
        row.id,
        row.school_id,
        row.kind,
        row.name,
        False,
        row.last_seen,
        row.helper_version,
        row.policy_version,
    )


def seen(
    db: Database,
    device: Device,
    *,
    helper_version: str | None = None,
    policy_version: str | None = None,
) -> None:
    """Notes that the device called, what it runs and, when known, the policy it has.
    Written only when something changed or a minute has passed since the last time."""
    stamp = now()
    cutoff = format_time(datetime.now(UTC) - SEEN_EVERY)
    version = (helper_version or "")[:64] or None
    changed = (version is not None and version != device.helper_version) or (
        policy_version is not None and policy_version != device.policy_version
    )
    if not changed and device.last_seen and device.last_seen > cutoff:
        return
    values: dict[str, str] = {"last_seen": stamp}
    if version is not None:
        values["helper_version"] = version
    if policy_version is not None:
        values["policy_version"] = policy_version[:64]
    with db.write() as conn:
        conn.execute(update(devices).where(devices.c.id == device.id).values(**values))


def revoke(db: Database, school_id: str, device_id: str) -> bool:
    with db.write() as conn:
        done = conn.execute(
            update(devices)
            .where(devices.c.id == device_id, devices.c.school_id == school_id)
            .values(revoked=True)
        )
    if done.rowcount:
        db.notify("tweetguard_device", device_id)
    return done.rowcount > 0


@dataclass(frozen=True)
class DeviceInfo:
    id: str
    school_id: str
    kind: str
    name: str
    enrolled_at: str
    enrolled_with: str
    last_seen: str | None
    helper_version: str | None
    policy_version: str | None
    revoked: bool


def devices_of(db: Database, school_ids: list[str]) -> list[DeviceInfo]:
    if not school_ids:
        return []
    with db.read() as conn:
        rows = conn.execute(
            select(devices)
            .where(devices.c.school_id.in_(school_ids))
            .order_by(devices.c.school_id, devices.c.name)
        ).all()
    return [
        DeviceInfo(
            r.id,
            r.school_id,
            r.kind,
            r.name,
            r.enrolled_at,
            r.enrolled_with,
            r.last_seen,
            r.helper_version,
            r.policy_version,
            bool(r.revoked),
        )
        for r in rows
    ]


def school_and_trust(db: Database, school_id: str) -> tuple[str, str, str]:
    """(school name, trust id, trust name) for the enrol reply."""
    from tweetguard.server.db.tables import trusts

    with db.read() as conn:
        row = conn.execute(
            select(schools.c.name, trusts.c.id, trusts.c.name.label("trust_name"))
            .join(trusts, trusts.c.id == schools.c.trust_id)
            .where(schools.c.id == school_id)
        ).one()
    return str(row.name), str(row.id), str(row.trust_name)


@dataclass(frozen=True)
class SchoolDevices:
    """One school's devices in numbers, for a trust's overview of thousands of them."""

    enrolled: int = 0
    seen_today: int = 0
    # policy version -> devices that last fetched it (revoked devices not counted)
    policies: tuple[tuple[str | None, int], ...] = ()
    last_seen: str | None = None

    def on_version(self, version: str) -> int:
        return sum(count for found, count in self.policies if found == version)


def summary(db: Database, school_ids: list[str]) -> dict[str, SchoolDevices]:
    """Per school: devices enrolled, seen in the last 24 hours, and by policy
    version; one grouped query whatever the number of devices."""
    if not school_ids:
        return {}
    cutoff = format_time(datetime.now(UTC) - timedelta(hours=24))
    with db.read() as conn:
        rows = conn.execute(
            select(
                devices.c.school_id,
                devices.c.policy_version,
                func.count(),
                func.sum(case((devices.c.last_seen > cutoff, 1), else_=0)),
                func.max(devices.c.last_seen),
            )
            .where(devices.c.school_id.in_(school_ids), devices.c.revoked.is_(False))
            .group_by(devices.c.school_id, devices.c.policy_version)
        ).all()
    found: dict[str, SchoolDevices] = {}
    for school_id, version, count, seen, last in rows:
        before = found.get(school_id, SchoolDevices())
        latest = max(filter(None, (before.last_seen, last)), default=None)
        found[school_id] = SchoolDevices(
            before.enrolled + int(count),
            before.seen_today + int(seen or 0),
            (*before.policies, (version, int(count))),
            latest,
        )
    return found
