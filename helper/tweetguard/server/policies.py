"""Layered policy: the trust's defaults and locks under each school's own layer.

The trust layer is a policy.toml fragment plus a list of locked keys ("rules",
"posting.allow_block_override", "rules.links.external"): what is locked is the
trust's alone. A school's layer adds to it: its accounts, places, lexicon and
allowlists join the trust's (an entry with the same handle or id replaces the
trust's), its other settings win unless locked. A layer setting a locked key is
refused in one line. Before either layer is saved, every affected school's
effective policy is loaded by `stores.policy` exactly as a helper will load it,
so no school is ever left with a policy its devices would refuse.

The version a device sees is "<trust layer version>.<school layer version>": a
change to either layer changes it, and it is read in one small query.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from typing import Any

import tomlkit
from sqlalchemy import Connection, select

from tweetguard.server import locking
from tweetguard.server.db import Database
from tweetguard.server.db.tables import school_policies, schools, trust_policies
from tweetguard.stores.audit.model import now
from tweetguard.stores.policy import PolicyError, parse_policy

# Lists of tables whose entries have a key: the school's entry with the same key
# replaces the trust's.
KEYED_LISTS = {"accounts": "handle", "lexicon": "id"}


class PolicyRefused(ValueError):
    """A layer cannot be saved; the message says what is wrong and how to fix it."""


def parse_layer(text: str, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyRefused(f"{what} is not valid TOML: {exc}") from None


def clean_locks(locks: Iterable[str]) -> list[str]:
    found: list[str] = []
    for lock in locks:
        lock = lock.strip().strip(".")
        if lock and lock not in found:
            found.append(lock)
    return found


def _leaves(data: dict[str, Any], prefix: str = "") -> Iterable[str]:
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from _leaves(value, path + ".")
        else:
            yield path


def locked_keys(school_layer: dict[str, Any], locks: Iterable[str]) -> list[str]:
    """The school layer's settings a trust lock covers."""
    hits: list[str] = []
    for leaf in _leaves(school_layer):
        for lock in locks:
            if leaf == lock or leaf.startswith(lock + ".") or lock.startswith(leaf + "."):
                hits.append(leaf)
                break
    return hits


def list_key(value: str) -> str:
    """What makes two entries of a keyed list the same: "@Handle" and "handle" are
    one account (also for whoever edits a layer's entries, e.g. verify)."""
    return value.strip().lstrip("@").casefold()


def _key(entry: Any, field: str) -> str | None:
    if isinstance(entry, dict) and isinstance(entry.get(field), str):
        return list_key(str(entry[field]))
    return None


def _merge_list(name: str, base: list[Any], extra: list[Any]) -> list[Any]:
    field = KEYED_LISTS.get(name)
    if field is not None:
        replaced = {_key(e, field) for e in extra} - {None}
        kept = [e for e in base if _key(e, field) not in replaced]
        return kept + list(extra)
    merged = list(base)
    merged += [e for e in extra if e not in merged]
    return merged


def merge(trust_layer: dict[str, Any], school_layer: dict[str, Any]) -> dict[str, Any]:
    """The trust's settings with the school's added or put over them (locks are
    checked before, by `locked_keys`)."""
    result: dict[str, Any] = dict(trust_layer)
    for key, value in school_layer.items():
        base = result.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            result[key] = merge(base, value)
        elif isinstance(base, list) and isinstance(value, list):
            result[key] = _merge_list(key, base, value)
        else:
            result[key] = value
    return result


def effective_data(
    trust_layer: dict[str, Any], locks: list[str], school_layer: dict[str, Any], school_name: str
) -> dict[str, Any]:
    hits = locked_keys(school_layer, locks)
    if hits:
        raise PolicyRefused(
            f"{', '.join(hits)} {'is' if len(hits) == 1 else 'are'} locked by the trust; "
            "remove it from the school's layer or ask the trust admin to unlock it"
        )
    data = merge(trust_layer, school_layer)
    school_table = dict(data.get("school") or {})
    school_table.setdefault("name", school_name)
    data["school"] = school_table
    return data


def render(data: dict[str, Any], what: str) -> str:
    """The effective policy as policy.toml text, loaded once to prove a helper can."""
    text = tomlkit.dumps(data)
    try:
        parse_policy(tomllib.loads(text), what)
    except PolicyError as exc:
        raise PolicyRefused(f"{exc}; fix the layer and save again") from None
    return text


def _trust_layer(conn: Connection, trust_id: str) -> tuple[str, list[str], int]:
    row = conn.execute(
        select(trust_policies.c.toml, trust_policies.c.locks, trust_policies.c.version).where(
            trust_policies.c.trust_id == trust_id
        )
    ).first()
    if row is None:
        return "", [], 0
    return str(row.toml), list(json.loads(row.locks)), int(row.version)


def _school_layer(conn: Connection, school_id: str) -> tuple[str, int]:
    row = conn.execute(
        select(school_policies.c.toml, school_policies.c.version).where(
            school_policies.c.school_id == school_id
        )
    ).first()
    return (str(row.toml), int(row.version)) if row else ("", 0)


def layers(db: Database, school_id: str) -> tuple[str, list[str], str]:
    """(trust layer text, locks, school layer text) for the editor."""
    with db.read() as conn:
        trust_id = _trust_of(conn, school_id)
        trust_text, locks, _ = _trust_layer(conn, trust_id)
        school_text, _ = _school_layer(conn, school_id)
    return trust_text, locks, school_text


def trust_layer(db: Database, trust_id: str) -> tuple[str, list[str], int]:
    with db.read() as conn:
        return _trust_layer(conn, trust_id)


def _trust_of(conn: Connection, school_id: str) -> str:
    row = conn.execute(select(schools.c.trust_id).where(schools.c.id == school_id)).first()
    if row is None:
        raise PolicyRefused(f"no school {school_id}; it may have been removed")
    return str(row.trust_id)


def _version(trust_version: int, school_version: int) -> str:
    return f"{trust_version}.{school_version}"


def effective(db: Database, school_id: str) -> tuple[str, str]:
    """(version, policy.toml text) of the school's effective policy."""
    with db.read() as conn:
        row = conn.execute(
            select(schools.c.trust_id, schools.c.name).where(schools.c.id == school_id)
        ).one()
        trust_text, locks, trust_version = _trust_layer(conn, str(row.trust_id))
        school_text, school_version = _school_layer(conn, school_id)
    data = effective_data(
        parse_layer(trust_text, "the trust's layer"),
        locks,
        parse_layer(school_text, "the school's layer"),
        str(row.name),
    )
    return _version(trust_version, school_version), tomlkit.dumps(data)


def policy_version(db: Database, school_id: str) -> str:
    """The version alone: one indexed query, what every poll costs at most."""
    with db.read() as conn:
        row = conn.execute(
            select(trust_policies.c.version, school_policies.c.version.label("school_version"))
            .select_from(schools)
            .outerjoin(trust_policies, trust_policies.c.trust_id == schools.c.trust_id)
            .outerjoin(school_policies, school_policies.c.school_id == schools.c.id)
            .where(schools.c.id == school_id)
        ).one()
    return _version(int(row.version or 0), int(row.school_version or 0))


def versions(db: Database, school_ids: list[str]) -> dict[str, str]:
    """Every listed school's policy version in one query (the trust's overview)."""
    if not school_ids:
        return {}
    with db.read() as conn:
        rows = conn.execute(
            select(
                schools.c.id,
                trust_policies.c.version,
                school_policies.c.version.label("school_version"),
            )
            .select_from(schools)
            .outerjoin(trust_policies, trust_policies.c.trust_id == schools.c.trust_id)
            .outerjoin(school_policies, school_policies.c.school_id == schools.c.id)
            .where(schools.c.id.in_(school_ids))
        ).all()
    return {str(r.id): _version(int(r.version or 0), int(r.school_version or 0)) for r in rows}


def save_trust_layer(
    db: Database, trust_id: str, text: str, locks: Iterable[str], *, by: str | None
) -> int:
    """Saves the trust's defaults and locks after every school's effective policy
    under them loads; returns the new trust layer version."""
    layer = parse_layer(text, "the trust's layer")
    lock_list = clean_locks(locks)
    with db.write() as conn:
        _lock_layers(conn, trust_id)
        for row in conn.execute(
            select(schools.c.id, schools.c.name).where(schools.c.trust_id == trust_id)
        ).all():
            school_text, _ = _school_layer(conn, str(row.id))
            try:
                data = effective_data(
                    layer, lock_list, parse_layer(school_text, "the school's layer"), row.name
                )
            except PolicyRefused as exc:
                raise PolicyRefused(f"{row.name}: {exc}") from None
            render(data, f"{row.name}'s effective policy")
        render(effective_data(layer, lock_list, {}, "a new school"), "the trust's layer")
        _, _, version = _trust_layer(conn, trust_id)
        values = {
            "toml": text,
            "locks": json.dumps(lock_list),
            "version": version + 1,
            "updated_at": now(),
            "updated_by": by,
        }
        conn.execute(
            trust_policies.update().where(trust_policies.c.trust_id == trust_id).values(**values)
        )
    db.notify("tweetguard_policy", f"trust:{trust_id}")
    return version + 1


def save_school_layer(db: Database, school_id: str, text: str, *, by: str | None) -> int:
    """Saves a school's own layer after its effective policy loads; returns the new
    school layer version."""
    layer = parse_layer(text, "the school's layer")
    with db.write() as conn:
        row = conn.execute(
            select(schools.c.trust_id, schools.c.name).where(schools.c.id == school_id)
        ).one()
        _lock_layers(conn, str(row.trust_id), school_id)
        trust_text, locks, _ = _trust_layer(conn, str(row.trust_id))
        data = effective_data(parse_layer(trust_text, "the trust's layer"), locks, layer, row.name)
        render(data, f"{row.name}'s effective policy")
        _, version = _school_layer(conn, school_id)
        values = {"toml": text, "version": version + 1, "updated_at": now(), "updated_by": by}
        conn.execute(
            school_policies.update()
            .where(school_policies.c.school_id == school_id)
            .values(**values)
        )
    db.notify("tweetguard_policy", school_id)
    return version + 1


def _lock_layers(conn: Connection, trust_id: str, school_id: str | None = None) -> None:
    """Takes the trust's layer row, then the school's, until the save commits.
    Every save takes the trust's first, so two saves of one layer cannot both
    become the same next version, and a school save and a trust save cannot each
    check the locks against the other's old layer."""
    stamp = now()
    locking.lock(
        conn,
        trust_policies,
        trust_policies.c.trust_id,
        trust_id,
        {"toml": "", "locks": "[]", "version": 0, "updated_at": stamp},
    )
    if school_id is not None:
        locking.lock(
            conn,
            school_policies,
            school_policies.c.school_id,
            school_id,
            {"toml": "", "version": 0, "updated_at": stamp},
        )
