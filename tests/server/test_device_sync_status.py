"""GET /status is asked only when a round needs it: at the start of a process, after
a refusal, and for an audit whose resume point is unknown. Every device calls every
few minutes and status is the one call that reads the database when nothing changed.

Rounds run in this process as the helper's loop runs them, against the real server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.server.device_sync import School, cli, make_school, out
from tests.server.test_device_sync import device_id
from tests.test_console_support import no_keyring
from tweetguard.server import audit as server_audit
from tweetguard.server.db import Database
from tweetguard.stores.audit import AuditLog
from tweetguard.sync import rounds
from tweetguard.sync.state import load_state, save_state

__all__ = ["no_keyring"]  # a fixture


@pytest.fixture
def school(db: Database, database_url: str, tmp_path: Path) -> Iterator[School]:
    made = make_school(db, tmp_path / "server-data", database_url)
    yield made
    made.served.stop()


def write_rows(home: Path, *texts: str) -> int:
    audit = AuditLog(home / "audit.sqlite3")
    try:
        for text in texts:
            audit.append("check", verdict="ok", text=text)
        return audit.last_seq()
    finally:
        audit.close()


def test_later_rounds_push_without_asking_status_and_recover_when_the_end_moved(
    school: School, home: Path, monkeypatch: pytest.MonkeyPatch, no_keyring: None
) -> None:
    # The CLI enrols in a subprocess and this process runs the rounds: both must use
    # the same store (the 0600 files), whatever backend earlier tests left keyring on.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    enrolled = cli(home, "enrol", school.served.url, "--code", school.code())
    assert enrolled.returncode == 0, out(enrolled)
    seen = school.served.seen
    rounds._status_asked.discard(home)

    def round_asks_status() -> bool:
        seen.clear()
        result = rounds.run_round(home)
        assert result.ok, [str(s) for s in result.steps]
        return bool(seen.paths("GET", "/api/v1/status"))

    assert round_asks_status()  # the first round of this process
    assert not round_asks_status()  # nothing changed: policy 304, register unchanged
    assert seen.paths("GET", "/api/v1/policy") == [("/api/v1/policy", 304)]

    last = write_rows(home, "Harvest assembly photos go up on Friday")
    assert not round_asks_status()  # a known source: pushed from where the last push ended
    assert seen.paths("POST", "/api/v1/audit") == [("/api/v1/audit", 200)]
    assert server_audit.heads(school.db, device_id(home))["shared"]["last_seq"] == last

    # The remembered end no longer holds (a restored state file, say): the push is
    # refused here, status says where the server's copy ends, and the rows still go up.
    state = load_state(home)
    wrong = {"last_seq": last + 5, "last_hash": "0" * 64}
    save_state(home, replace(state, audit_held={**state.audit_held, "shared": wrong}))
    last = write_rows(home, "Year 5 visit the Roman fort next week")
    assert round_asks_status()
    assert server_audit.heads(school.db, device_id(home))["shared"]["last_seq"] == last
    assert not load_state(home).audit_refused
    assert not round_asks_status()  # and back to quiet rounds


def test_a_source_whose_end_is_unknown_asks_status(
    school: School, home: Path, monkeypatch: pytest.MonkeyPatch, no_keyring: None
) -> None:
    # The CLI enrols in a subprocess and this process runs the rounds: both must use
    # the same store (the 0600 files), whatever backend earlier tests left keyring on.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    enrolled = cli(home, "enrol", school.served.url, "--code", school.code())
    assert enrolled.returncode == 0, out(enrolled)
    rounds.run_round(home)
    state = load_state(home)
    assert "shared" in state.audit_held
    # Forgotten (an older helper's state file): the next round must ask, not guess.
    save_state(home, replace(state, audit_held={}))
    write_rows(home, "The choir sings at the care home on Tuesday")
    school.served.seen.clear()
    assert rounds.run_round(home).ok
    assert school.served.seen.paths("GET", "/api/v1/status")
    assert school.served.seen.paths("POST", "/api/v1/audit") == [("/api/v1/audit", 200)]
