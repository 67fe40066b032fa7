"""The store's own guards: the WAL checkpoint's pace, the CSV export's formula
cells, the events.jsonl migration's claim, per-user files owned by someone else,
record_change and the one verdict mapping."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tweetguard.stores.audit import (
    AuditLog,
    AuditQuery,
    AuditRow,
    audit_location,
    audit_sources,
    audit_verdict,
    current_user,
    export,
    last_policy_sha,
    note_policy,
    open_audit,
    record_change,
)
from tweetguard.stores.audit import log as audit_log
from tweetguard.stores.audit.migrate import migrate_pending

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


# --- item: the checkpoint ------------------------------------------------------


def test_checkpoints_are_paced_by_appends_and_the_wal_stays_small(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite3")
    appends = audit_log.CHECKPOINT_EVERY * 12
    for i in range(appends):
        log.append("check", verdict="ok", text=f"Pacing line {i} about the spring concert.")
    log.wait_checkpoint(30)
    # One thread per CHECKPOINT_EVERY appends at most, not one per append past 1 MiB.
    assert 1 <= log.checkpoints <= appends // audit_log.CHECKPOINT_EVERY
    log.append("helper")  # the next writer starts the WAL over and cuts it to the limit
    wal = Path(f"{log.path}-wal").stat().st_size
    assert wal <= audit_log.WAL_SIZE_LIMIT + 64 * 1024, wal
    assert log.verify().ok and log.count() == appends + 1
    log.close()


def test_a_few_appends_start_no_checkpoint(tmp_path: Path) -> None:
    # The trap: an ordinary session's handful of rows costs no thread at all.
    log = AuditLog(tmp_path / "audit.sqlite3")
    for _ in range(audit_log.CHECKPOINT_EVERY - 1):
        log.append("check", verdict="ok")
    assert log.checkpoints == 0
    log.close()


# --- item: CSV formula cells ---------------------------------------------------


def test_csv_cells_that_a_spreadsheet_would_run_are_prefixed(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite3")
    texts = [
        '=HYPERLINK("http://example.invalid","click")',
        "+44 1632 960000 is the office",
        "-5 degrees on the field trip",
        "@Parents: coats please",
        "\tIndented notice",
        "\rCarriage notice",
        "Ordinary words about the harvest fair",  # the trap: untouched
        "Really = fine, a formula sign inside",  # the trap: only the first character counts
    ]
    for text in texts:
        log.append("override", text=text, keep_text=True, detail={"reason": text})
    rows = log.rows()
    log.close()
    out = io.StringIO()
    export(rows, "csv", out)
    got = [line["text"] for line in csv.DictReader(io.StringIO(out.getvalue()))]
    assert got[:6] == ["'" + t for t in texts[:6]]
    assert got[6:] == texts[6:]
    # JSON lines stay exact: programs read them, not spreadsheets.
    out = io.StringIO()
    export(rows, "jsonl", out)
    assert [json.loads(line)["text"] for line in out.getvalue().splitlines()] == texts


# --- item: migration claims the file first ---------------------------------------


def _events(path: Path, *reasons: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        for reason in reasons:
            out.write(
                json.dumps({"at": "2026-04-01T10:00:00Z", "event": "logout", "reason": reason})
            )
            out.write("\n")


def test_a_row_written_by_an_old_host_during_migration_is_migrated_next(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = home / "events.jsonl"
    _events(events, "first")
    log = AuditLog(home / "audit.sqlite3", source="shared")
    real = AuditLog._insert
    wrote_late: list[bool] = []

    def old_host_appends(self: AuditLog, conn: sqlite3.Connection, **fields: Any) -> AuditRow:
        # An old helper, still running, appends while the migration is under way.
        if not wrote_late:
            wrote_late.append(True)
            _events(events, "written meanwhile")
        return real(self, conn, **fields)

    monkeypatch.setattr(AuditLog, "_insert", old_host_appends)
    migrate_pending(log, home)
    monkeypatch.undo()
    assert events.exists()  # a new file, not renamed away unread
    migrate_pending(log, home)
    reasons = [r.detail.get("reason") for r in log.rows(AuditQuery(kind="logout"))]
    assert reasons == ["first", "written meanwhile"]
    assert not events.exists() and not list(home.glob("events.jsonl.*.migrating"))
    assert log.verify().ok
    log.close()


def test_a_claimed_file_left_by_a_cut_short_migration_is_migrated_once(home: Path) -> None:
    leftover = home / "events.jsonl.4242-deadbeef.migrating"
    _events(leftover, "left behind")
    log = open_audit(home)
    assert [r.detail.get("reason") for r in log.rows(AuditQuery(kind="logout"))] == ["left behind"]
    log.close()
    # Cut short after the commit, before the rename: the same file is back.
    shutil.copy(home / "events.jsonl.migrated", leftover)
    again = open_audit(home)
    assert len(again.rows(AuditQuery(kind="logout"))) == 1
    assert not leftover.exists()
    again.close()


# --- item: per-user files owned by somebody else ----------------------------------


def test_a_per_user_file_named_for_someone_else_is_marked(home: Path) -> None:
    (home / "audit.d").mkdir()
    me = current_user()
    for name in (me, "bob_forged"):
        log = AuditLog(home / "audit.d" / f"{name}.sqlite3")
        log.append("check", verdict="ok")
        log.close()
    labels = sorted(source.source for source in audit_sources(home))
    assert labels == [
        f"user:{me}",  # the trap: a file named for its owner is not marked
        f"user:{me} (suspicious: the file is named bob_forged.sqlite3)",
    ]


@pytest.mark.skipif(not IS_ROOT, reason="making a file another user owns needs root (CI is root)")
def test_a_per_user_file_someone_else_made_first_is_not_written() -> None:
    """Run as root (CI): `nobody` cannot write the data folder and finds
    audit.d/nobody.sqlite3 already made by root; its own folder is used instead."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("needs util-linux setpriv to run as nobody")
    top = Path(tempfile.mkdtemp(prefix="tg-audit-owner-"))  # /tmp: `nobody` can reach it
    try:
        top.chmod(0o755)
        home = top / "school"
        home.mkdir(mode=0o755)
        (home / "audit.d").mkdir()
        (home / "audit.d").chmod(0o1777)
        forged = home / "audit.d" / "nobody.sqlite3"
        log = AuditLog(forged)
        log.append("check", verdict="ok", detail={"by": "somebody else"})
        log.close()
        forged.chmod(0o666)
        own = top / "own"
        own.mkdir()
        subprocess.run(["chown", "nobody", str(own)], check=True)
        script = (
            "from pathlib import Path; from tweetguard.stores.audit import audit_location as a; "
            f"loc = a(Path({str(home)!r})); print(loc.path); print(loc.why)"
        )
        env = {**os.environ, "XDG_DATA_HOME": str(own), "HOME": str(own)}
        as_nobody = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        done = subprocess.run(
            [*as_nobody, sys.executable, "-c", script], capture_output=True, text=True, env=env
        )
        assert done.returncode == 0, done.stderr
        path, why = done.stdout.splitlines()
        assert Path(path).is_relative_to(own)
        assert "belongs to root" in why and "not used" in why and str(forged) in why
        sources = {s.source for s in audit_sources(home)}
        assert "user:root (suspicious: the file is named nobody.sqlite3)" in sources
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_this_users_own_per_user_file_is_written(tmp_path: Path) -> None:
    # The trap: an unwritable shared audit with this user's own audit.d file.
    if IS_ROOT:
        pytest.skip("root can write any folder, so the shared audit is always chosen")
    home = tmp_path / "school"
    home.mkdir()
    (home / "audit.d").mkdir(mode=0o1777)
    home.chmod(0o555)
    try:
        location = audit_location(home)
        assert location.path == home / "audit.d" / f"{current_user()}.sqlite3"
    finally:
        home.chmod(0o755)


# --- item: record_change ---------------------------------------------------------


def test_record_change_carries_the_policy_sha_so_the_helper_does_not_record_it_again(
    home: Path,
) -> None:
    policy = home / "policy.toml"
    policy.write_text('[[accounts]]\nhandle = "Meadowbank_PS"\nuser_id = "3030"\n', "utf-8")
    row = record_change(
        home,
        "accounts",
        by="cli",
        detail={"what": "approved"},
        policy_file=policy,
        account="Meadowbank_PS",
        account_id="3030",
    )
    assert row is not None and row.detail["by"] == "cli" and row.account == "meadowbank_ps"
    log = open_audit(home)
    assert last_policy_sha(log) == row.detail["policy_sha256"]
    assert note_policy(log, policy, by="helper") is None  # known: no second row
    # The trap: a hand edit afterwards is still recorded.
    policy.write_text(policy.read_text("utf-8") + "# hand edit\n", "utf-8")
    assert note_policy(log, policy, by="helper") is not None
    log.close()


def test_record_change_never_raises_for_an_unwritable_audit(home: Path) -> None:
    (home / "audit.sqlite3").mkdir()  # unopenable, root included
    assert record_change(home, "register", by="cli", detail={"what": "import"}) is None


def test_the_one_verdict_mapping() -> None:
    assert audit_verdict("allow") == "ok"
    assert [audit_verdict(v) for v in ("warn", "block", None)] == ["warn", "block", None]
