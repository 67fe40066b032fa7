"""A machine whose school's server goes away and comes back, and one whose audit
was tampered with: the real host process (as the browser starts it), the real
server on loopback (SQLite and PostgreSQL), the real `tweetguard sync`."""

from __future__ import annotations

import re
import sqlite3
import time
import tomllib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.hostproc import HostProcess
from tests.server.device_sync import NO_KEYRING, School, cli, make_school, out
from tweetguard import identity
from tweetguard.server import audit as server_audit
from tweetguard.server.db import Database
from tweetguard.stores.audit import AuditLog
from tweetguard.stores.audit.model import hashed_fields, row_hash


@pytest.fixture
def school(db: Database, database_url: str, tmp_path: Path) -> Iterator[School]:
    made = make_school(db, tmp_path / "server-data", database_url)
    yield made
    made.served.stop()


@pytest.fixture
def host_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The host reads the credential where `tweetguard enrol` put it (no keyring here)."""
    for name, value in NO_KEYRING.items():
        monkeypatch.setenv(name, value)


def enrol(school: School, home: Path) -> None:
    result = cli(home, "enrol", school.served.url, "--code", school.code())
    assert result.returncode == 0, out(result)


def sync(home: Path, expect: int = 0) -> str:
    result = cli(home, "sync", "--once")
    assert result.returncode == expect, out(result)
    return result.stdout.decode() + result.stderr.decode()


def device_id(home: Path) -> str:
    return str(tomllib.loads((home / "server.toml").read_text())["device_id"])


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def hello(host: HostProcess) -> dict[str, Any]:
    reply = host.ask({"id": "hello", "type": "hello", "extension_version": "0.1.0"})
    assert reply["ok"] is True, reply
    server = reply["server"]
    assert isinstance(server, dict)
    return server


def check(host: HostProcess, text: str) -> list[str]:
    reply = host.ask({"id": "c", "type": "check", "text": text})
    assert reply["ok"] is True, reply
    return [f["rule"] for f in reply["findings"]]


def test_the_host_syncs_at_start_without_holding_the_first_reply(
    school: School, home: Path, host_env: None
) -> None:
    enrol(school, home)
    (home / "sync-state.json").unlink()  # as if the last round's state were lost
    host = HostProcess(home, identity.CHROME_ORIGIN)
    try:
        first = hello(host)  # answered from what is on disk, before any round
        assert first["state"] == "offline"
        assert first["note"].startswith("Not synced with the school's server yet")
        # The host's own first round, on its sync thread, after that reply.
        wait_for(lambda: (home / "sync-state.json").exists(), "the host's first round")
        now = hello(host)
        assert now["state"] == "online", now
        assert now["url"] == school.served.url
        assert now["note"].startswith("Up to date with the school's server")
    finally:
        host.kill()


def test_offline_the_device_checks_on_its_last_copy_then_sends_what_it_recorded(
    school: School, home: Path, host_env: None
) -> None:
    enrol(school, home)
    host = HostProcess(home, identity.CHROME_ORIGIN)
    try:
        assert hello(host)["state"] == "online"
        school.served.stop()
        said = sync(home, expect=69)
        assert re.search(
            r"^server: cannot reach http://127\.0\.0\.1:\d+: connection refused \(is the server "
            r"running\?\); working offline on the school's last policy and register$",
            said,
            re.M,
        ), said
        offline = hello(host)
        assert offline["state"] == "offline"
        since = datetime.fromisoformat(offline["since"].replace("Z", "+00:00"))
        assert since.tzinfo is not None
        assert "working offline on the school's last policy and register" in offline["note"]
        # The checks go on with the last policy and register: Saffi has no consent,
        # Marigold has (trap: not everything is held because the server is away).
        assert "names.no-consent" in check(host, "Saffi sang beautifully at the carol service")
        assert "names.no-consent" not in check(
            host, "Marigold sang beautifully at the carol service"
        )
        # A second round offline keeps the time it went offline.
        sync(home, expect=69)
        assert hello(host)["since"] == offline["since"]

        school.served.start()
        said = sync(home)
        assert re.search(r"^audit \(shared\): sent \d+ row\(s\)", said, re.M), said
        back = hello(host)
        assert back["state"] == "online"
        assert back["since"] != offline["since"]
    finally:
        host.kill()
    # Everything recorded offline is on the server, each chain whole.
    audit = AuditLog(home / "audit.sqlite3")
    try:
        local = audit.rows()
    finally:
        audit.close()
    heads = server_audit.heads(school.db, device_id(home))
    assert heads["shared"]["last_seq"] == local[-1].seq
    assert heads["shared"]["last_hash"] == local[-1].hash
    kept = sorted(
        (r for r in server_audit.rows(school.db, school.school.id) if r.source.endswith("/shared")),
        key=lambda r: r.seq,
    )
    assert [r.seq for r in kept] == list(range(1, len(local) + 1))
    previous = ""
    for row in kept:
        assert row.prev_hash == previous
        assert row_hash(row.prev_hash, hashed_fields(row)) == row.hash
        previous = row.hash
    checks = [r for r in kept if r.kind == "check"]
    assert len(checks) == 2
    assert checks[0].rules == ("names.no-consent",)


def test_a_tampered_audit_row_is_refused_once_and_the_device_says_so(
    school: School, home: Path, host_env: None
) -> None:
    enrol(school, home)
    audit = AuditLog(home / "audit.sqlite3")
    try:
        sent = audit.last_seq()
        for text in ("Our Year 6 choir", "The reception nativity", "Harvest festival photos"):
            audit.append("check", verdict="ok", text=text)
    finally:
        audit.close()
    # Someone changes a verdict after the fact: the row's hash no longer matches.
    conn = sqlite3.connect(home / "audit.sqlite3")
    with conn:
        conn.execute("UPDATE rows SET verdict = 'warn' WHERE seq = ?", (sent + 2,))
    conn.close()
    school.served.seen.clear()
    said = sync(home, expect=77)
    assert re.search(
        rf"^audit \(shared\): the server refused this machine's audit \(row {sent + 2} was "
        r"altered after it was written\); the server records the gap: ask IT",
        said,
        re.M,
    ), said
    assert len(school.served.seen.paths("POST", "/api/v1/audit")) == 1
    assert school.served.seen.paths("POST", "/api/v1/audit")[0][1] == 409
    # Nothing of the refused batch was kept; the server noted the gap.
    assert server_audit.heads(school.db, device_id(home))["shared"]["last_seq"] == sent
    assert server_audit.gaps(school.db, [school.school.id])
    host = HostProcess(home, identity.CHROME_ORIGIN)
    try:
        status = hello(host)
    finally:
        host.kill()
    assert status["state"] == "refused"
    assert f"row {sent + 2} was altered" in status["note"]
    # The next round says it again without sending it again (no loop of refusals),
    # while the policy and register still come.
    school.served.seen.clear()
    said = sync(home, expect=77)
    assert "audit (shared): still refused" in said
    assert re.search(r"^policy: version \S+, unchanged$", said, re.M)
    assert school.served.seen.paths("POST", "/api/v1/audit") == []
    # Trap: the row put back as it was is sent again, and accepted.
    conn = sqlite3.connect(home / "audit.sqlite3")
    with conn:
        conn.execute("UPDATE rows SET verdict = 'ok' WHERE seq = ?", (sent + 2,))
    conn.close()
    said = sync(home)
    assert re.search(r"^audit \(shared\): sent \d+ row\(s\)", said, re.M), said
    audit = AuditLog(home / "audit.sqlite3")
    try:
        last = audit.last_seq()
    finally:
        audit.close()
    assert server_audit.heads(school.db, device_id(home))["shared"]["last_seq"] == last
