"""The register step: the school's consent register from the server, only what
changed since the revision this machine holds (docs/server-api.md, GET /register).

The register on an enrolled machine is its school's, and only its school's: the
first round replaces whatever was imported here, and so does any round after the
local file changed since the last sync (an import or a console edit on this
machine: the server is where the register is edited now), which asks for the
whole register again rather than laying changes over a different one. Changes are
applied to everyone at once and written in one transaction with the name index
the checks read, so a withdrawn consent reaches the next check or none of it does.
A register the server sends that cannot be used leaves the last good one in use.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from tweetguard.stores.audit import record_change
from tweetguard.stores.consent import (
    ConsentRegister,
    Pupil,
    RegisterUnwritable,
    is_corrupt,
    person_ref,
)
from tweetguard.stores.home import register_path
from tweetguard.sync.client import BadReply, ServerClient
from tweetguard.sync.outcome import PROBLEM, Step
from tweetguard.sync.people import PersonInvalid, from_json
from tweetguard.sync.state import Enrolment, SyncState

log = logging.getLogger("tweetguard.sync")

# The register's meta key naming where its people came from: "<school id>:<revision>".
SERVER_KEY = "server_revision"

People = dict[str, tuple[str, Pupil]]  # person ref -> (role, person), in register order


def pull_register(
    client: ServerClient, home: Path, enrolment: Enrolment, state: SyncState
) -> tuple[Step, SyncState]:
    register = ConsentRegister(register_path(home))
    try:
        return _pull(client, home, register, enrolment, state)
    finally:
        register.close()


def _pull(
    client: ServerClient,
    home: Path,
    register: ConsentRegister,
    enrolment: Enrolment,
    state: SyncState,
) -> tuple[Step, SyncState]:
    damaged = False
    local_revision, marker = 0, None
    try:
        local_revision = register.revision()
        marker = register.meta_value(SERVER_KEY)
    except sqlite3.DatabaseError as exc:
        if not is_corrupt(exc):
            return _unreadable(register, exc, state)
        damaged = True
    label = f"{enrolment.school_id}:{state.register_revision}"
    held = state.register_revision > 0 and marker == label
    in_step = held and not damaged and local_revision == state.register_local
    body = client.register(state.register_revision if in_step else 0)
    revision = int(body["revision"])
    if body["full"] and revision == 0 and not body["people"]:
        # The school has no register on the server yet: emptying this machine's would
        # let every pupil's name through. Its own stays until the server has one.
        line = "the school has no register on the server yet; this machine's own stays in use"
        return Step("register", line), state
    if not body["full"] and in_step and not body["changes"]:
        # The poll nearly every round is: nothing read here but the revision.
        line = f"revision {revision}, unchanged"
        return Step("register", line), replace(state, register_revision=revision)
    current: People = {}
    if not damaged:
        try:
            current = _people_of(register)
        except sqlite3.DatabaseError as exc:
            if not is_corrupt(exc):
                return _unreadable(register, exc, state)
            damaged = True
    try:
        if body["full"]:
            people = _everyone(body["people"])
        else:
            if not in_step or damaged:
                raise BadReply("the server sent changes when the whole register was asked for")
            people = _apply(current, body["changes"])
    except (PersonInvalid, BadReply) as exc:
        line = (
            f"the server's register (revision {revision}) cannot be used here ({exc}); "
            f"the last good copy stays in use (revision {state.register_revision})"
        )
        log.warning("register: %s", line)
        return Step("register", line, PROBLEM), state
    pupils = [p for role, p in people.values() if role == "pupil"]
    staff = [p for role, p in people.values() if role == "staff"]
    before = [p for role, p in current.values() if role == "pupil"]
    try:
        if damaged:
            kept = register.set_aside()
            log.warning("register: the damaged register was moved aside to %s", kept)
        summary = register.replace_everyone(
            pupils,
            staff,
            source=f"{enrolment.url} (revision {revision})",
            derived=_derived(pupils),
            meta={SERVER_KEY: f"{enrolment.school_id}:{revision}"},
        )
    except (RegisterUnwritable, sqlite3.Error) as exc:
        line = f"revision {revision} not applied: {exc}; the last good copy stays in use"
        return Step("register", line, PROBLEM), state
    new_state = replace(state, register_revision=revision, register_local=summary.revision)
    counts = _counts(before, pupils)
    line = _describe(body, revision, counts, pupils, staff, replaced=not in_step and held)
    _record(home, body, revision, counts, len(pupils) + len(staff))
    return Step("register", line), new_state


def _unreadable(
    register: ConsentRegister, exc: BaseException, state: SyncState
) -> tuple[Step, SyncState]:
    line = f"cannot read {register.path} ({exc}); the next round tries again"
    return Step("register", line, PROBLEM), state


def _people_of(register: ConsentRegister) -> People:
    found: People = {}
    if not register.exists():
        return found
    for role, group in (("pupil", register.load(derived=False)[0]), ("staff", register.staff())):
        for person in group:
            found[person_ref(person, role)] = (role, person)
    return found


def _everyone(listed: Sequence[Any]) -> People:
    people: People = {}
    for line, data in enumerate(listed, start=1):
        role, person = from_json(data, line)
        people[_ref(data, person, role)] = (role, person)
    return people


def _apply(current: People, changes: Sequence[Any]) -> People:
    """The register after `changes`, in order: an upsert replaces the person with
    its ref where they were (or adds them at the end); a delete of someone this
    machine does not have is already done."""
    people = dict(current)
    for change in changes:
        if not isinstance(change, Mapping):
            raise BadReply("a register change is not an object")
        op = change.get("op")
        if op == "delete":
            people.pop(str(change.get("ref")), None)
        elif op == "upsert":
            data = change.get("person")
            if not isinstance(data, Mapping):
                raise BadReply("a register upsert has no person")
            role, person = from_json(data, len(people) + 1)
            people[_ref(data, person, role)] = (role, person)
        else:
            raise BadReply(f"a register change has the unknown op {op!r}")
    return people


def _ref(data: Mapping[str, Any], person: Pupil, role: str) -> str:
    """The server's ref for the person; it must be the one this helper computes, or
    the server's later deletes by ref would not find them here."""
    mine = person_ref(person, role)
    given = data.get("ref")
    if isinstance(given, str) and given and given != mine:
        log.warning("register: the server's ref %s is %s here; using this helper's", given, mine)
    return mine


def _derived(pupils: list[Pupil]) -> dict[str, bytes]:
    from tweetguard.checks.name_index import NameIndex

    return {NameIndex.STORED_AS: NameIndex(pupils).dump()}


def _counts(before: list[Pupil], after: list[Pupil]) -> dict[str, int]:
    from tweetguard.stores.register_import.diff import compare

    changes = compare(before, after, date.today())
    return {
        "added": len(changes.added),
        "removed": len(changes.removed),
        "withdrawn": len(changes.withdrawn),
        "given": len(changes.given),
    }


def _describe(
    body: Mapping[str, Any],
    revision: int,
    counts: Mapping[str, int],
    pupils: list[Pupil],
    staff: list[Pupil],
    *,
    replaced: bool,
) -> str:
    said = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    people = f"{len(pupils)} pupils, {len(staff)} staff"
    if body["full"]:
        line = f"revision {revision}, the school's whole register: {people}"
        if replaced:
            line += " (this machine's register had been changed here; the school's replaced it)"
        return line + (f"; {said}" if said and len(pupils) != counts["added"] else "")
    n = len(body["changes"])
    return f"revision {revision}, {n} change(s) applied ({said or 'details only'}): {people}"


def _record(
    home: Path, body: Mapping[str, Any], revision: int, counts: Mapping[str, int], people: int
) -> None:
    """The register's change in this machine's audit: counts, never names."""
    detail: dict[str, Any] = {
        "what": "from the school's server",
        "revision": revision,
        "full": bool(body["full"]),
        "people": people,
        **counts,
    }
    record_change(home, "register", by="server", detail=detail)
