"""What a reviewer found in the server: a Chromebook's token handing out the
register, forged audit rows, revisions and versions racing on PostgreSQL, lost
lockout counts, device-chosen names in the audit, LIKE wildcards in the rule
filter, and the schools' folders open to other users. Each fix with its trap."""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask
from flask.testing import FlaskClient

from tests.server.audit_rows import chain
from tests.server.conftest import PASSWORD, Trust, bearer, enrolled
from tweetguard.server import audit, devices, policies, registers
from tweetguard.server.console import lockout
from tweetguard.server.school_home import SchoolHomes
from tweetguard.stores.audit import AuditQuery
from tweetguard.stores.audit.model import HASHED, row_hash
from tweetguard.stores.consent import Pupil

T = TypeVar("T")
ROUNDS = 4


def at_once(calls: list[Callable[[], T]]) -> list[T | BaseException]:
    """Runs the calls in threads released together; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[T | BaseException] = [RuntimeError("not run")] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except BaseException as exc:  # reported to the test
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a concurrent call never returned"
    return results


def chromebook(trust: Trust, name: str = "chromebook-14") -> str:
    """The credential anyone at a Chromebook can make from its managed storage's token."""
    token = devices.make_token(trust.db, trust.school_a.id, created_by="test")
    return devices.enrol(trust.db, token, name=name, kind="extension")[1]


# 1. and 2. -------------------------------------------------------------------


def test_a_chromebook_credential_gets_neither_register_nor_policy(
    trust: Trust, client: FlaskClient
) -> None:
    registers.apply_people(
        trust.db,
        trust.school_a.id,
        [registers.person_json(Pupil("Philippa", "Ormerod", social_media=True))],
    )
    extension = bearer(chromebook(trust))
    for path in ("/api/v1/register", "/api/v1/register?since=0", "/api/v1/policy"):
        refused = client.get(path, headers=extension)
        assert refused.status_code == 403, path
        assert refused.get_json()["error"]["code"] == "forbidden"
        assert b"Ormerod" not in refused.data
    # Twice more: the polling path answers the second call from memory, still refusing.
    assert client.get("/api/v1/policy", headers=extension).status_code == 403
    assert client.get("/api/v1/register?since=1", headers=extension).status_code == 403
    # The trap: a helper of the same school still gets both, and the Chromebook its status.
    _, credential = enrolled(trust.db, trust.school_a.id)
    helper = bearer(credential)
    register = client.get("/api/v1/register", headers=helper)
    assert register.status_code == 200
    assert [p["last_name"] for p in register.get_json()["people"]] == ["Ormerod"]
    policy = client.get("/api/v1/policy", headers=helper)
    assert policy.status_code == 200
    assert client.get("/api/v1/status", headers=extension).status_code == 200
    # The cheap polls (server/fastpoll.py answers them before Flask once it has seen
    # one): a helper's gets its 304 and "unchanged", an extension's the same 403.
    current = {"If-None-Match": policy.headers["ETag"]}
    since = f"/api/v1/register?since={register.get_json()['revision']}"
    for _ in range(2):
        assert client.get("/api/v1/policy", headers={**helper, **current}).status_code == 304
        assert client.get(since, headers=helper).get_json()["changes"] == []
        assert client.get("/api/v1/policy", headers={**extension, **current}).status_code == 403
        assert client.get(since, headers=extension).status_code == 403


def test_a_chromebook_cannot_push_audit_rows_of_its_own(
    trust: Trust, client: FlaskClient, tmp_path: Path
) -> None:
    rows = chain(tmp_path / "forged", 2, "Nothing to see on the Chromebook")
    refused = client.post(
        "/api/v1/audit", json={"source": "shared", "rows": rows}, headers=bearer(chromebook(trust))
    )
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"
    assert audit.rows(trust.db, trust.school_a.id) == []
    # The trap: a helper's push of the same rows is accepted.
    _, credential = enrolled(trust.db, trust.school_a.id)
    accepted = client.post(
        "/api/v1/audit", json={"source": "shared", "rows": rows}, headers=bearer(credential)
    )
    assert accepted.status_code == 200, accepted.get_json()
    assert len(audit.rows(trust.db, trust.school_a.id)) == 2


# 3. --------------------------------------------------------------------------


def replay(held: dict[str, dict[str, Any]], body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What a device holds after applying a GET /register answer."""
    if body["full"]:
        return {p["ref"]: p for p in body["people"]}
    state = dict(held)
    for change in body["changes"]:
        if change["op"] == "delete":
            state.pop(change["ref"], None)
        else:
            state[change["person"]["ref"]] = change["person"]
    return state


def test_two_register_applies_at_once_make_two_revisions(trust: Trust) -> None:
    db, school = trust.db, trust.school_a.id
    for round_no in range(ROUNDS):
        base = [
            Pupil("Ottilie", "Marchbank", class_name="Rowan", social_media=True),
            Pupil("Caspian", "Threlfall", class_name="Hazel", social_media=True),
            Pupil("Round", f"Marker{round_no}"),
        ]
        start = registers.apply_people(db, school, [registers.person_json(p) for p in base])
        held = replay({}, registers.register_since(db, school, 0))
        added = [*base, Pupil("Wilhelmina", f"Dunstable{round_no}", social_media=True)]
        withdrawn = [Pupil("Ottilie", "Marchbank", class_name="Rowan"), *base[1:]]
        results = at_once(
            [
                partial(registers.apply_people, db, school, [registers.person_json(p) for p in one])
                for one in (added, withdrawn)
            ]
        )
        assert sorted(r for r in results if isinstance(r, int)) == [start + 1, start + 2], results
        assert registers.revision(db, school) == start + 2
        # A device that had `start` now holds exactly what the server has.
        server = {p["ref"]: p for p in registers.people(db, school)}
        assert replay(held, registers.register_since(db, school, start)) == server
    # The trap: an apply that changes nothing keeps the revision.
    now = registers.revision(db, school)
    same = [registers.person_json(p) for p in registers_people(trust)]
    assert registers.apply_people(db, school, same) == now


def registers_people(trust: Trust) -> list[Pupil]:
    return [registers.person_from_json(p) for p in registers.people(trust.db, trust.school_a.id)]


# 4. --------------------------------------------------------------------------


def test_two_school_saves_at_once_make_two_versions(trust: Trust) -> None:
    db, school = trust.db, trust.school_a.id
    for round_no in range(ROUNDS):
        texts = [
            f'[posting]\nsupport_contact = "Mr Quennell {round_no}"\n',
            f'[posting]\nsupport_contact = "Ms Abernethy {round_no}"\n',
        ]
        results = at_once(
            [partial(policies.save_school_layer, db, school, t, by=None) for t in texts]
        )
        versions = [r for r in results if isinstance(r, int)]
        assert len(versions) == 2 and versions[0] != versions[1], results
        last = texts[versions.index(max(versions))]
        version, text = policies.effective(db, school)
        assert version.endswith(f".{max(versions)}")
        assert last.split('"')[1] in text


def test_a_school_save_and_a_lock_at_once_never_break_the_school(trust: Trust) -> None:
    db, school = trust.db, trust.school_a.id
    for round_no in range(ROUNDS):
        policies.save_trust_layer(db, trust.trust.id, "", [], by=None)
        policies.save_school_layer(db, school, "", by=None)
        contact = f'[posting]\nsupport_contact = "Mrs Pennycook {round_no}"\n'
        lock = ["posting.support_contact"]
        results: list[int | BaseException] = at_once(
            [
                partial(policies.save_school_layer, db, school, contact, by=None),
                partial(policies.save_trust_layer, db, trust.trust.id, "", lock, by=None),
            ]
        )
        refused = [r for r in results if isinstance(r, policies.PolicyRefused)]
        assert len(refused) == 1, results  # whichever came second saw the first
        assert all(isinstance(r, int | policies.PolicyRefused) for r in results), results
        policies.effective(db, school)  # loads: no school is left breaking a lock
    # The trap: once unlocked, a school may set its own contact again.
    policies.save_trust_layer(db, trust.trust.id, "", [], by=None)
    assert policies.save_school_layer(
        db, trust.school_b.id, '[posting]\nsupport_contact = "Mr Ravenscroft"\n', by=None
    )


# 5. --------------------------------------------------------------------------


def test_guesses_sent_at_once_are_each_counted(trust: Trust) -> None:
    email = "it@alderbrook.example"
    moment = datetime.now(UTC)
    results = at_once([lambda: lockout.count_attempt(trust.db, email, moment)] * 20)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert results.count(True) == lockout.LIMIT
    assert lockout.locked_until(trust.db, email, moment) is not None
    # The trap: another address is not locked by them, and a success clears the count.
    assert lockout.count_attempt(trust.db, "dsl@alderbrook.example", moment)
    lockout.succeeded(trust.db, email)
    assert lockout.count_attempt(trust.db, email, moment)


# 6. and 7. -------------------------------------------------------------------


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    token = re.search(rb'name="csrf_token" value="([^"]+)"', client.get("/login").data)
    assert token
    reply = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1).decode()},
    )
    assert reply.status_code == 302, reply.data[:500]
    return client


def named(rows: list[dict[str, Any]], device: str) -> list[dict[str, Any]]:
    """The rows as a helper would have written them under another hostname."""
    prev = ""
    for row in rows:
        row["device"] = device
        row["prev_hash"] = prev
        row["hash"] = prev = row_hash(prev, {k: row[k] for k in HASHED})
    return rows


def test_audit_rows_are_filed_under_the_machine_that_pushed_them(
    trust: Trust, app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    _, honest = enrolled(trust.db, trust.school_a.id, name="head-office")
    _, forger = enrolled(trust.db, trust.school_a.id, name="library-pc")
    # Each machine's rows name it as enrolment did (its hostname); the forger's rows
    # carry the other machine's name instead, rehashed so that the chain verifies.
    real = named(chain(tmp_path / "honest", 1, "Head office's newsletter"), "head-office")
    forged = named(chain(tmp_path / "forger", 2, "Written on the library PC"), "head-office")
    for credential, rows in ((honest, real), (forger, forged)):
        reply = client.post(
            "/api/v1/audit", json={"source": "shared", "rows": rows}, headers=bearer(credential)
        )
        assert reply.status_code == 200, reply.get_json()
    school = trust.school_a.id
    head = audit.rows(trust.db, school, AuditQuery(device="head-office"))
    assert [r.text_sha256 for r in head] == [real[0]["text_sha256"]]
    library = audit.rows(trust.db, school, AuditQuery(device="library-pc"))
    assert len(library) == 2
    assert {r.device for r in library} == {"head-office"}  # kept as sent: the hash verifies
    assert {r.hash for r in library} == {r["hash"] for r in forged}
    shown = audit.rows(trust.db, school, AuditQuery(device="library-pc"), registered_names=True)
    assert {r.device for r in shown} == {"library-pc (row says head-office)"}
    page = signed_in(app, "dsl@alderbrook.example").get(
        f"/schools/{school}/audit?device=library-pc"
    )
    assert page.status_code == 200
    assert b"library-pc (row says head-office)" in page.data
    # The trap: an honest row is shown by its name alone.
    honest_shown = audit.rows(
        trust.db, school, AuditQuery(device="head-office"), registered_names=True
    )
    assert [r.device for r in honest_shown] == ["head-office"]


def test_the_rule_filter_takes_percent_and_underscore_literally(
    trust: Trust, client: FlaskClient, tmp_path: Path
) -> None:
    _, credential = enrolled(trust.db, trust.school_a.id)
    rows = chain(tmp_path / "device", 3, "Harvest festival")  # row 1 has names.full-name
    reply = client.post(
        "/api/v1/audit", json={"source": "shared", "rows": rows}, headers=bearer(credential)
    )
    assert reply.status_code == 200
    school = trust.school_a.id
    for pattern in ("names_full-name", "%", "names.%", "_"):
        assert audit.rows(trust.db, school, AuditQuery(rule=pattern)) == [], pattern
    # The trap: the exact rule id still finds its row.
    found = audit.rows(trust.db, school, AuditQuery(rule="names.full-name"))
    assert [r.seq for r in found] == [1]


# 8. --------------------------------------------------------------------------


def test_the_schools_folders_are_the_servers_alone(trust: Trust, tmp_path: Path) -> None:
    registers.apply_people(
        trust.db,
        trust.school_a.id,
        [registers.person_json(Pupil("Ignatius", "Pellow", social_media=True))],
    )
    old = os.umask(0o022)
    try:
        homes = SchoolHomes(trust.db, tmp_path / "data")
        root = tmp_path / "data" / "schools"
        assert stat.S_IMODE(root.stat().st_mode) == 0o700
        home = homes.materialise(trust.school_a.id)
        assert home.path.is_relative_to(root)
        # A folder left open by an older version is closed when the server starts.
        root.chmod(0o755)
        SchoolHomes(trust.db, tmp_path / "data")
        assert stat.S_IMODE(root.stat().st_mode) == 0o700
        # Removed while running: made again, private.
        other = SchoolHomes(trust.db, tmp_path / "elsewhere")
        (tmp_path / "elsewhere" / "schools").rmdir()
        other.materialise(trust.school_a.id)
        assert stat.S_IMODE((tmp_path / "elsewhere" / "schools").stat().st_mode) == 0o700
    finally:
        os.umask(old)
    # The trap: the folder still serves the Chromebook path (the register is readable).
    _, checker = homes.checker(trust.school_a.id)
    assert checker.register.path.exists()
