"""Each school's consent register on the server, by revision.

A device keeps the revision it has and asks for what changed after it: every
change (a person added or altered, a person removed) is stamped with the school's
next revision, and removals are kept as tombstones for KEEP_REVISIONS revisions.
A device further behind than that gets the whole register again. An MIS export is
read by `stores.register_import` (the same reader `tweetguard consent import`
uses) and compared with `compare` for the preview a safeguarding lead sees first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select, update

from tweetguard.server import locking
from tweetguard.server.db import Database, new_id
from tweetguard.server.db.tables import register_people, register_state, register_uploads
from tweetguard.stores.audit.model import format_time, now
from tweetguard.stores.consent import Pupil, person_ref
from tweetguard.stores.register_import import Changes, ImportResult, compare, read_register

KEEP_REVISIONS = 500
UPLOAD_HOURS = 1
ROLES = ("pupil", "staff")
PERSON_FIELDS = (
    "first_name",
    "last_name",
    "preferred_name",
    "preferred_last_name",
    "middle_names",
    "class_name",
    "year_group",
    "pupil_id",
    "social_media",
    "website",
    "press",
    "consent_expires",
)


def person_json(person: Pupil, role: str = "pupil") -> dict[str, Any]:
    """A person as docs/server-api.md writes one."""
    data: dict[str, Any] = {"ref": person_ref(person, role), "role": role}
    for name in PERSON_FIELDS:
        value = getattr(person, name)
        data[name] = value.isoformat() if isinstance(value, date) else value
    return data


def person_from_json(data: dict[str, Any]) -> Pupil:
    expires = data.get("consent_expires")
    return Pupil(
        first_name=str(data["first_name"]),
        last_name=str(data["last_name"]),
        preferred_name=data.get("preferred_name"),
        class_name=data.get("class_name"),
        social_media=bool(data.get("social_media")),
        website=bool(data.get("website")),
        press=bool(data.get("press")),
        consent_expires=date.fromisoformat(expires) if expires else None,
        preferred_last_name=data.get("preferred_last_name"),
        middle_names=data.get("middle_names"),
        year_group=data.get("year_group"),
        pupil_id=data.get("pupil_id"),
    )


def _state(conn: Connection, school_id: str) -> tuple[int, int]:
    row = conn.execute(
        select(register_state.c.revision, register_state.c.kept_from).where(
            register_state.c.school_id == school_id
        )
    ).first()
    return (int(row.revision), int(row.kept_from)) if row else (0, 1)


def revision(db: Database, school_id: str) -> int:
    with db.read() as conn:
        return _state(conn, school_id)[0]


def register_since(db: Database, school_id: str, since: int) -> dict[str, Any]:
    """The body of GET /api/v1/register?since=N: the changes after N, or everything
    when N is 0, ahead of the server, or older than the changes kept."""
    with db.read() as conn:
        current, kept_from = _state(conn, school_id)
        if since <= 0 or since > current or since + 1 < kept_from:
            rows = conn.execute(
                select(register_people.c.fields)
                .where(
                    register_people.c.school_id == school_id, register_people.c.deleted.is_(False)
                )
                .order_by(register_people.c.ref)
            ).all()
            return {
                "revision": current,
                "full": True,
                "people": [json.loads(r.fields) for r in rows],
            }
        rows = conn.execute(
            select(register_people.c.ref, register_people.c.fields, register_people.c.deleted)
            .where(register_people.c.school_id == school_id, register_people.c.revision > since)
            .order_by(register_people.c.revision, register_people.c.ref)
        ).all()
    changes: list[dict[str, Any]] = [
        {"op": "delete", "ref": r.ref}
        if r.deleted
        else {"op": "upsert", "person": json.loads(r.fields)}
        for r in rows
    ]
    return {"revision": current, "full": False, "changes": changes}


def people(db: Database, school_id: str, role: str | None = None) -> list[dict[str, Any]]:
    with db.read() as conn:
        query = select(register_people.c.fields).where(
            register_people.c.school_id == school_id, register_people.c.deleted.is_(False)
        )
        if role is not None:
            query = query.where(register_people.c.role == role)
        rows = conn.execute(query.order_by(register_people.c.ref)).all()
    return [json.loads(r.fields) for r in rows]


def apply_people(
    db: Database,
    school_id: str,
    incoming: list[dict[str, Any]],
    *,
    role: str = "pupil",
    keep_revisions: int = KEEP_REVISIONS,
) -> int:
    """Makes the school's people of `role` exactly `incoming` (person JSON) under one
    new revision; only those that changed get it. Returns the revision (unchanged
    when nothing differs)."""
    wanted = {p["ref"]: p for p in incoming}
    with db.write() as conn:
        # The school's state row, locked: a second apply waits here and builds on
        # this one's revision (two applies must never both become N+1).
        state = locking.lock(
            conn,
            register_state,
            register_state.c.school_id,
            school_id,
            {"revision": 0, "kept_from": 1, "updated_at": now()},
        )
        current, kept_from = int(state.revision), int(state.kept_from)
        rows = conn.execute(
            select(
                register_people.c.ref, register_people.c.fields, register_people.c.deleted
            ).where(register_people.c.school_id == school_id, register_people.c.role == role)
        ).all()
        existing = {r.ref: r for r in rows}
        upserts = [
            p
            for ref, p in wanted.items()
            if ref not in existing or existing[ref].deleted or json.loads(existing[ref].fields) != p
        ]
        deletes = [ref for ref, r in existing.items() if not r.deleted and ref not in wanted]
        if not upserts and not deletes:
            return current
        new = current + 1
        for person in upserts:
            values = {
                "role": role,
                "fields": json.dumps(person, sort_keys=True),
                "revision": new,
                "deleted": False,
            }
            if person["ref"] in existing:
                conn.execute(
                    update(register_people)
                    .where(
                        register_people.c.school_id == school_id,
                        register_people.c.ref == person["ref"],
                    )
                    .values(**values)
                )
            else:
                conn.execute(
                    register_people.insert().values(
                        school_id=school_id, ref=person["ref"], **values
                    )
                )
        if deletes:
            conn.execute(
                update(register_people)
                .where(register_people.c.school_id == school_id, register_people.c.ref.in_(deletes))
                .values(revision=new, deleted=True, fields="{}")
            )
        # Forget tombstones older than the changes kept; devices behind them get all.
        floor = new - keep_revisions
        if floor > kept_from:
            conn.execute(
                delete(register_people).where(
                    register_people.c.school_id == school_id,
                    register_people.c.deleted.is_(True),
                    register_people.c.revision < floor,
                )
            )
            kept_from = floor
        conn.execute(
            update(register_state)
            .where(register_state.c.school_id == school_id)
            .values(revision=new, kept_from=kept_from, updated_at=now())
        )
    db.notify("tweetguard_register", school_id)
    return new


@dataclass
class ImportPreview:
    upload_id: str
    filename: str
    result: ImportResult
    changes: Changes


def _current_pupils(db: Database, school_id: str) -> list[Pupil]:
    return [person_from_json(p) for p in people(db, school_id, "pupil")]


def store_upload(db: Database, school_id: str, filename: str, data: bytes, *, by: str) -> str:
    """Keeps an export between its preview and its apply, in the database so any
    server process can apply it; uploads older than an hour are removed here."""
    upload_id = new_id("r")
    cutoff = format_time(datetime.now(UTC) - timedelta(hours=UPLOAD_HOURS))
    with db.write() as conn:
        conn.execute(delete(register_uploads).where(register_uploads.c.created_at < cutoff))
        conn.execute(
            register_uploads.insert().values(
                id=upload_id,
                school_id=school_id,
                created_by=by,
                created_at=now(),
                filename=filename[:200],
                data=data,
            )
        )
    return upload_id


def preview(
    db: Database, school_id: str, upload_id: str, *, today: date | None = None
) -> ImportPreview | None:
    """What applying the upload would change; None when the upload is gone (applied,
    expired, or of another school). Raises ImportRefused for a file that cannot be
    read whole."""
    with db.read() as conn:
        row = conn.execute(
            select(register_uploads.c.filename, register_uploads.c.data).where(
                register_uploads.c.id == upload_id, register_uploads.c.school_id == school_id
            )
        ).first()
    if row is None:
        return None
    result = read_register(bytes(row.data))
    day = today or datetime.now(UTC).date()
    changes = compare(_current_pupils(db, school_id), result.pupils, day)
    return ImportPreview(upload_id, str(row.filename), result, changes)


def apply_upload(db: Database, school_id: str, upload_id: str) -> int | None:
    """Replaces the school's pupils by the upload's; the new revision, or None when
    the upload is gone."""
    found = preview(db, school_id, upload_id)
    if found is None:
        return None
    new = apply_people(db, school_id, [person_json(p) for p in found.result.pupils])
    with db.write() as conn:
        conn.execute(delete(register_uploads).where(register_uploads.c.id == upload_id))
    return new
