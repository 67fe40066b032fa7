"""A machine's helper and its school's server: enrolment, the first sync, a policy
change and a register change reaching the machine, a hand edit of the policy.

Against the real server (create_server_app over SQLite and PostgreSQL, served on
loopback) with the real `tweetguard` CLI; the machine's checks are the helper's own.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.server.device_sync import (
    NO_KEYRING,
    PUPILS,
    SCHOOL_LAYER,
    STAFF,
    TODAY,
    School,
    cli,
    make_school,
    out,
)
from tweetguard.checks.engine import Checker
from tweetguard.server import audit as server_audit
from tweetguard.server import devices, policies, registers
from tweetguard.server.db import Database
from tweetguard.stores.audit import AuditLog
from tweetguard.stores.consent import ConsentRegister, person_ref


@pytest.fixture
def school(db: Database, database_url: str, tmp_path: Path) -> Iterator[School]:
    made = make_school(db, tmp_path / "server-data", database_url)
    yield made
    made.served.stop()


def enrol(school: School, home: Path) -> str:
    result = cli(home, "enrol", school.served.url, "--code", school.code())
    assert result.returncode == 0, out(result)
    return result.stdout.decode()


def sync(home: Path, expect: int = 0) -> str:
    result = cli(home, "sync", "--once")
    assert result.returncode == expect, out(result)
    return result.stdout.decode() + result.stderr.decode()


def device_id(home: Path) -> str:
    return str(tomllib.loads((home / "server.toml").read_text())["device_id"])


def test_a_one_time_code_enrols_one_machine_and_the_first_sync_gets_everything(
    school: School, home: Path, tmp_path: Path
) -> None:
    code = school.code()
    result = cli(home, "enrol", school.served.url, "--code", code)
    assert result.returncode == 0, out(result)
    said = result.stdout.decode()
    assert "with Larkspur Lane Primary, Moorland Valley Schools Trust at" in said
    version, text = policies.effective(school.db, school.school.id)
    revision = registers.revision(school.db, school.school.id)
    assert re.search(
        rf"^School: Larkspur Lane Primary; policy version {re.escape(version)}; "
        rf"register revision {revision}, 4 pupils\.$",
        said,
        re.M,
    ), said
    for step in ("server:", "policy:", "register:", "audit (shared):"):
        assert re.search(rf"^{re.escape(step)} ", said, re.M), said
    # The policy is the server's, byte for byte; the register is the school's.
    assert (home / "policy.toml").read_text(encoding="utf-8") == text
    register = ConsentRegister(home / "register.sqlite3")
    try:
        names = {p.first_name for p in register.pupils()}
        staff = [p.first_name for p in register.staff()]
    finally:
        register.close()
    assert names == {p.first_name for p in PUPILS}
    assert staff == [s.first_name for s in STAFF]
    assert "Ottoline" not in names  # the other school's pupil never reaches this machine
    # The credential is in the secret store (no keyring here: the 0600 file), never
    # in server.toml.
    credential = base64.b64decode(
        (home / "secrets" / "server-credential.key").read_bytes()
    ).decode()
    assert credential.startswith(device_id(home) + ".")
    assert credential.split(".", 1)[1] not in (home / "server.toml").read_text()
    assert "credential" not in tomllib.loads((home / "server.toml").read_text())

    # The same code on another machine: refused, nothing left behind there.
    other = tmp_path / "other-machine"
    other.mkdir()
    again = cli(other, "enrol", school.served.url, "--code", code)
    assert again.returncode == 77, out(again)
    assert "enrolment refused" in again.stderr.decode()
    assert "used" in again.stderr.decode()
    assert not (other / "server.toml").exists()
    assert not (other / "secrets" / "server-credential.key").exists()
    # Trap: this machine enrolling again is told it is enrolled, not refused by the
    # server (and a fresh code is not spent).
    fresh = school.code()
    twice = cli(home, "enrol", school.served.url, "--code", fresh)
    assert twice.returncode == 64
    assert "already enrolled" in twice.stderr.decode()
    assert cli(other, "enrol", school.served.url, "--code", fresh).returncode == 0


def test_plain_http_is_refused_beyond_this_machine(home: Path) -> None:
    result = cli(home, "enrol", "http://tweetguard.larkspur.example", "--code", "ABCD-EFGH")
    assert result.returncode == 64
    assert "not encrypted: use https://" in result.stderr.decode()
    assert not (home / "server.toml").exists()


def test_a_policy_change_reaches_the_device_at_the_next_round(school: School, home: Path) -> None:
    enrol(school, home)
    version, _ = policies.effective(school.db, school.school.id)
    school.served.seen.clear()
    said = sync(home)
    assert f"policy: version {version}, unchanged" in said
    # Unchanged costs a 304 (the device sent the version it holds).
    assert school.served.seen.paths("GET", "/api/v1/policy") == [("/api/v1/policy", 304)]

    school.set_policy(SCHOOL_LAYER + "\n[posting]\nidle_logout_minutes = 7\n")
    new_version, text = policies.effective(school.db, school.school.id)
    school.served.seen.clear()
    said = sync(home)
    assert f"policy: version {new_version} received and in use (was {version})" in said
    assert school.served.seen.paths("GET", "/api/v1/policy") == [("/api/v1/policy", 200)]
    assert (home / "policy.toml").read_text(encoding="utf-8") == text
    checker = Checker(home)
    try:
        assert checker.policy().posting.idle_logout_minutes == 7
    finally:
        checker.close()
    # The change is in this machine's audit, and went up in the same round.
    rows = server_audit.rows(school.db, school.school.id)
    policy_rows = [r for r in rows if r.kind == "policy" and r.detail.get("by") == "server"]
    assert max(policy_rows, key=lambda r: r.seq).detail["version"] == new_version


def test_a_withdrawn_consent_reaches_the_device_and_its_check_blocks_the_name(
    school: School, home: Path
) -> None:
    enrol(school, home)
    before = registers.revision(school.db, school.school.id)
    checker = Checker(home)
    try:
        post = "Well done Tobiah for a wonderful harvest assembly!"
        assert checker.check(post, today=TODAY).verdict == "allow"
        refs = _refs(home)

        withdrawn = replace(PUPILS[1], social_media=False)
        after = school.set_people([PUPILS[0], withdrawn, *PUPILS[2:]])
        school.served.seen.clear()
        said = sync(home)
        assert f"register: revision {after}, 1 change(s) applied (1 withdrawn)" in said
        # Only the change travelled: asked since the revision held.
        assert school.served.seen.paths("GET", "/api/v1/register") == [
            (f"/api/v1/register?since={before}", 200)
        ]
        report = checker.check(post, today=TODAY)
        assert report.verdict == "block"
        assert [f.rule.id for f in report.findings] == ["names.no-consent"]
        # Trap: a pupil whose consent stands is still fine to name.
        assert checker.check("Well done Marigold for a wonderful harvest assembly!").verdict == (
            "allow"
        )
        # Everyone keeps their ref (the photo picker's choices stay pointed at them).
        assert _refs(home) == refs

        # A pupil who left: deleted by ref; the others are untouched.
        school.set_people([PUPILS[0], withdrawn, PUPILS[2]])
        said = sync(home)
        assert "1 change(s) applied (1 removed)" in said
        left = person_ref(PUPILS[3])
        assert left not in _refs(home)
        assert _refs(home) == {ref for ref in refs if ref != left}
        assert checker.check("Bartholomew Quince read at the harvest assembly").verdict == ("allow")
    finally:
        checker.close()


def test_a_register_changed_on_the_machine_is_replaced_by_the_schools(
    school: School, home: Path
) -> None:
    enrol(school, home)
    register = ConsentRegister(home / "register.sqlite3")
    try:
        register.replace(
            [*PUPILS, replace(PUPILS[0], first_name="Zebedee", last_name="Applegarth")],
            source="a local import",
        )
    finally:
        register.close()
    school.served.seen.clear()
    said = sync(home)
    assert "the school's whole register" in said
    assert "this machine's register had been changed here" in said
    assert school.served.seen.paths("GET", "/api/v1/register") == [
        ("/api/v1/register?since=0", 200)
    ]
    register = ConsentRegister(home / "register.sqlite3")
    try:
        assert "Zebedee" not in {p.first_name for p in register.pupils()}
    finally:
        register.close()
    # Trap: the round after asks for changes only again.
    school.served.seen.clear()
    assert "unchanged" in sync(home)
    revision = registers.revision(school.db, school.school.id)
    assert school.served.seen.paths("GET", "/api/v1/register") == [
        (f"/api/v1/register?since={revision}", 200)
    ]


def test_a_hand_edit_of_the_policy_loses_to_the_servers_and_is_kept_and_said(
    school: School, home: Path
) -> None:
    enrol(school, home)
    path = home / "policy.toml"
    servers = path.read_text(encoding="utf-8")
    hand = servers + '\n[rules."names.first-name"]\nenabled = true\n'
    path.write_text(hand, encoding="utf-8")
    said = sync(home)
    assert re.search(
        r"^policy: version \S+ received and in use; the changed on this machine since the "
        r"last sync policy.toml was replaced by the school's and kept as "
        r"policy\.toml\.local-\d{8}-\d{6} \(change the policy on the server instead\)$",
        said,
        re.M,
    ), said
    assert path.read_text(encoding="utf-8") == servers
    (kept,) = home.glob("policy.toml.local-*")
    assert kept.read_text(encoding="utf-8") == hand
    audit = AuditLog(home / "audit.sqlite3")
    try:
        (row,) = [r for r in audit.rows() if r.detail.get("replaced_local")]
    finally:
        audit.close()
    assert row.detail["replaced_local"] == kept.name
    # Trap: a round with no edit keeps nothing and says unchanged.
    assert re.search(r"^policy: version \S+, unchanged$", sync(home), re.M)
    assert len(list(home.glob("policy.toml.local-*"))) == 1


def test_unenrol_forgets_the_server_and_keeps_the_policy_and_register(
    school: School, home: Path
) -> None:
    enrol(school, home)
    policy = (home / "policy.toml").read_text(encoding="utf-8")
    result = cli(home, "unenrol")
    assert result.returncode == 0, out(result)
    said = result.stdout.decode()
    assert "Forgot the device credential and" in said
    assert "Kept: policy version" in said
    assert "4 pupils" in said
    assert not (home / "server.toml").exists()
    assert not (home / "secrets" / "server-credential.key").exists()
    assert (home / "policy.toml").read_text(encoding="utf-8") == policy
    assert cli(home, "sync", "--once").returncode == 64
    assert "nothing to forget" in cli(home, "unenrol").stdout.decode()


def _refs(home: Path) -> set[str]:
    register = ConsentRegister(home / "register.sqlite3")
    try:
        return {person_ref(p) for p in register.pupils()}
    finally:
        register.close()


def test_a_machine_removed_on_the_server_is_refused_and_says_so(school: School, home: Path) -> None:
    enrol(school, home)
    policy = (home / "policy.toml").read_text(encoding="utf-8")
    assert devices.revoke(school.db, school.school.id, device_id(home))
    said = sync(home, expect=77)
    assert re.search(
        r"^server: the server refused this machine \(device_unknown\): .*enrol it again", said, re.M
    ), said
    state = json.loads((home / "sync-state.json").read_text())
    assert state["connection"]["state"] == "refused"
    # Nothing here is undone: the last policy stays in use.
    assert (home / "policy.toml").read_text(encoding="utf-8") == policy


def test_sync_without_once_keeps_syncing_until_stopped(school: School, home: Path) -> None:
    enrol(school, home)
    (home / "sync-state.json").unlink()  # so the first round is not "just made elsewhere"
    env = {k: v for k, v in os.environ.items() if k != "TWEETGUARD_HOME"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tweetguard", "--home", str(home), "sync"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**env, **NO_KEYRING},
    )
    try:
        assert proc.stdout is not None
        lines = []
        for raw in proc.stdout:  # the first round's lines, as they come
            lines.append(raw.decode())
            if "audit (shared):" in lines[-1]:
                break
        assert re.match(r"^\d\d:\d\d:\d\d server: http://127\.0\.0\.1:\d+ reached as ", lines[0])
        assert proc.poll() is None  # still running, waiting for its next round
    finally:
        proc.kill()
        proc.communicate()
