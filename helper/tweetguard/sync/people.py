"""A person of the server's register (docs/server-api.md) as the local register's
`Pupil`, and back: one mapping, so a person read from the server and written to
register.sqlite3 keeps the `person_ref` the server gave it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from tweetguard.stores.consent import Pupil, person_ref

ROLES = ("pupil", "staff")
_TEXT = ("preferred_name", "preferred_last_name", "middle_names", "class_name", "year_group")


class PersonInvalid(ValueError):
    """A person the server sent that cannot be a register entry; one line."""


def from_json(data: Mapping[str, Any], line: int = 0) -> tuple[str, Pupil]:
    """(role, the person) or PersonInvalid; `line` is its place in the server's list."""
    if not isinstance(data, Mapping):
        raise PersonInvalid("a person is not an object")
    role = data.get("role", "pupil")
    if role not in ROLES:
        raise PersonInvalid(f"a person has the role {role!r}, not pupil or staff")
    first, last = data.get("first_name"), data.get("last_name")
    if not isinstance(first, str) or not first.strip():
        raise PersonInvalid("a person has no first name")
    if not isinstance(last, str) or not last.strip():
        raise PersonInvalid(f"{first} has no last name")
    texts: dict[str, str | None] = {}
    for key in (*_TEXT, "pupil_id"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise PersonInvalid(f"{key} of {first} {last} is not text")
        texts[key] = value or None
    flags: dict[str, bool] = {}
    for key in ("social_media", "website", "press"):
        value = data.get(key, False)
        if not isinstance(value, bool):
            raise PersonInvalid(f"{key} of {first} {last} is not true or false")
        flags[key] = value
    expires = data.get("consent_expires")
    try:
        expiry = date.fromisoformat(expires) if expires else None
    except (TypeError, ValueError):
        raise PersonInvalid(f"consent_expires of {first} {last} is not a date") from None
    person = Pupil(
        first_name=first.strip(),
        last_name=last.strip(),
        preferred_name=texts["preferred_name"],
        class_name=texts["class_name"],
        social_media=flags["social_media"],
        website=flags["website"],
        press=flags["press"],
        consent_expires=expiry,
        line=line,
        preferred_last_name=texts["preferred_last_name"],
        middle_names=texts["middle_names"],
        year_group=texts["year_group"],
        pupil_id=texts["pupil_id"],
    )
    return str(role), person


def to_json(person: Pupil, role: str = "pupil") -> dict[str, Any]:
    """The API's person object (the server's tests and the load generator build them so)."""
    return {
        "ref": person_ref(person, role),
        "role": role,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "preferred_name": person.preferred_name,
        "preferred_last_name": person.preferred_last_name,
        "middle_names": person.middle_names,
        "class_name": person.class_name,
        "year_group": person.year_group,
        "pupil_id": person.pupil_id,
        "social_media": person.social_media,
        "website": person.website,
        "press": person.press,
        "consent_expires": person.consent_expires.isoformat() if person.consent_expires else None,
    }
