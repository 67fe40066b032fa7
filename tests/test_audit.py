"""The audit store: the hash chain, queries, export, migration and concurrent writers."""

from __future__ import annotations

import io
import json
import multiprocessing
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tweetguard.stores.audit import (
    KINDS,
    AuditLog,
    AuditQuery,
    current_user,
    export,
    merged_rows,
    open_audit,
    sha256_text,
)

SENTENCES = (
    "The Year 4 orchestra tuned up in the lower hall this morning.",
    "Well done to the netball squad on a muddy afternoon at Greyfield.",
    "Harvest boxes go to the Oakmere food bank on Friday.",
    "Our pond survey counted eleven newts and a very surprised frog.",
    "Parents' evening slots open tomorrow at nine.",
)


def filled(path: Path, n: int = 5) -> AuditLog:
    log = AuditLog(path)
    for i in range(n):
        log.append(
            "check",
            account="@Larkhill_Primary",
            verdict="warn" if i % 2 else "ok",
            rules=("names.full_name",) if i % 2 else (),
            text=SENTENCES[i % len(SENTENCES)],
            detail={"action": "post", "n": i},
        )
    return log


def tamper(path: Path, sql: str, *params: object) -> None:
    conn = sqlite3.connect(path)
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def test_untouched_log_verifies(tmp_path: Path) -> None:
    log = filled(tmp_path / "audit.sqlite3")
    result = log.verify()
    assert result.ok and result.rows == 5 and result.first_bad is None
    assert "ok" in result.problem
    rows = log.rows()
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == "" and rows[1].prev_hash == rows[0].hash
    assert rows[0].account == "larkhill_primary"
    assert rows[0].text is None and rows[0].text_sha256 == sha256_text(SENTENCES[0])
    assert rows[0].at.endswith("Z") and len(rows[0].at) == len("2026-11-28T09:14:03.512Z")


def test_empty_log_verifies(tmp_path: Path) -> None:
    assert AuditLog(tmp_path / "none.sqlite3").verify().ok


def test_edited_field_is_named(tmp_path: Path) -> None:
    log = filled(tmp_path / "audit.sqlite3")
    log.close()
    tamper(log.path, "UPDATE rows SET verdict = 'ok' WHERE seq = 4")
    result = AuditLog(log.path).verify()
    assert not result.ok and result.first_bad == 4
    assert result.problem == "row 4 was altered"


def test_edited_and_rehashed_row_is_named(tmp_path: Path) -> None:
    """Someone edits row 2 and recomputes its own hash: row 3's link gives it away."""
    log = filled(tmp_path / "audit.sqlite3")
    row = log.rows()[1]
    log.close()
    from dataclasses import replace

    from tweetguard.stores.audit.model import hashed_fields, row_hash

    edited = replace(row, detail={"action": "post", "n": 99})
    new_hash = row_hash(edited.prev_hash, hashed_fields(edited))
    tamper(
        log.path,
        "UPDATE rows SET detail = ?, hash = ? WHERE seq = 2",
        json.dumps(edited.detail),
        new_hash,
    )
    result = AuditLog(log.path).verify()
    assert not result.ok and result.first_bad == 2
    assert "row 2 was altered" in result.problem


def test_deleted_row_is_named(tmp_path: Path) -> None:
    log = filled(tmp_path / "audit.sqlite3")
    log.close()
    tamper(log.path, "DELETE FROM rows WHERE seq = 3")
    result = AuditLog(log.path).verify()
    assert (result.ok, result.first_bad, result.problem) == (False, 3, "row 3 is missing")


def test_swapped_rows_are_named(tmp_path: Path) -> None:
    log = filled(tmp_path / "audit.sqlite3")
    log.close()
    conn = sqlite3.connect(log.path)
    conn.execute("UPDATE rows SET seq = -2 WHERE seq = 2")
    conn.execute("UPDATE rows SET seq = 2 WHERE seq = 4")
    conn.execute("UPDATE rows SET seq = 4 WHERE seq = -2")
    conn.commit()
    conn.close()
    result = AuditLog(log.path).verify()
    assert not result.ok and result.first_bad == 2
    assert "out of order" in result.problem and "row 4" in result.problem


def test_truncated_tail_is_named(tmp_path: Path) -> None:
    log = filled(tmp_path / "audit.sqlite3")
    log.close()
    tamper(log.path, "DELETE FROM rows WHERE seq >= 4")
    result = AuditLog(log.path).verify()
    assert not result.ok and result.first_bad == 4
    assert result.problem == "rows after 3 are missing (the log had reached row 5)"


def test_deleted_head_is_named(tmp_path: Path) -> None:
    log = filled(tmp_path / "audit.sqlite3")
    log.close()
    tamper(log.path, "DELETE FROM head")
    result = AuditLog(log.path).verify()
    assert not result.ok and "head record is missing" in result.problem


def test_appends_after_verify_continue_the_chain(tmp_path: Path) -> None:
    log = filled(tmp_path / "audit.sqlite3", 2)
    log.close()
    again = AuditLog(log.path)
    row = again.append("logout", detail={"reason": "after-post"})
    assert row.seq == 3 and again.verify().ok and again.last_seq() == 3


def test_kept_text_only_when_asked(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.sqlite3")
    hashed = log.append("override", text=SENTENCES[1], rules=["names.full_name"])
    kept = log.append("override", text=SENTENCES[1], keep_text=True, rules=["names.full_name"])
    assert hashed.text is None and kept.text == SENTENCES[1]
    assert hashed.text_sha256 == kept.text_sha256 == sha256_text(SENTENCES[1])
    with pytest.raises(ValueError):
        log.append("shouting")
    assert set(KINDS) >= {"check", "override", "post", "sweep"}


def test_queries(tmp_path: Path) -> None:
    log = filled(tmp_path / "a.sqlite3")
    log.append("sweep", account="larkhill_primary", verdict="block", outside=True)
    assert [r.seq for r in log.rows(AuditQuery(rule="names.full_name"))] == [2, 4]
    assert [r.seq for r in log.rows(AuditQuery(rule="names.full"))] == []
    assert [r.seq for r in log.rows(AuditQuery(verdict="warn"))] == [2, 4]
    assert [r.seq for r in log.rows(AuditQuery(outside=True))] == [6]
    assert [r.seq for r in log.rows(AuditQuery(kind="check", limit=2))] == [5, 4]
    assert [r.seq for r in log.rows(AuditQuery(after_seq=4))] == [5, 6]
    assert len(log.rows(AuditQuery(account="@LARKHILL_primary"))) == 6
    assert log.rows(AuditQuery(account="larkhill")) == []
    today = datetime.now(UTC).date()
    assert len(log.rows(AuditQuery(since=today, until=today))) == 6
    assert log.rows(AuditQuery(until=date(2020, 1, 1))) == []
    assert log.rows(AuditQuery(since=datetime(2999, 1, 1, tzinfo=UTC))) == []


def test_export_csv_and_jsonl(tmp_path: Path) -> None:
    log = filled(tmp_path / "a.sqlite3", 3)
    out = io.StringIO()
    assert export(log.rows(), "jsonl", out) == 3
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert lines[1]["rules"] == ["names.full_name"]
    out = io.StringIO()
    assert export(log.rows(), "csv", out) == 3
    text = out.getvalue().splitlines()
    assert text[0].startswith("source,seq,at,kind")
    assert len(text) == 4
    with pytest.raises(ValueError):
        export([], "xml", io.StringIO())


def _writer(path: str, label: str, count: int) -> None:
    log = AuditLog(Path(path))
    for i in range(count):
        log.append("check", verdict="ok", detail={"writer": label, "i": i})
    log.close()


def test_two_processes_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    AuditLog(path).append("helper", detail={"start": True})
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_writer, args=(str(path), label, 60)) for label in ("one", "two")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    log = AuditLog(path)
    rows = log.rows()
    assert [r.seq for r in rows] == list(range(1, 122))
    assert {r.detail.get("writer") for r in rows[1:]} == {"one", "two"}
    assert log.verify().ok


def test_migration_from_events_jsonl(home: Path) -> None:
    events = home / "events.jsonl"
    lines = [
        {
            "at": "2026-03-02T08:15:00+00:00",
            "event": "override",
            "rules": ["names.full_name"],
            "reason": "Parent asked for the photo credit",
            "text": "Congratulations to Petra Vossberg on her chess trophy",
            "handle": "Larkhill_Primary",
            "user_id": "4411",
        },
        {"at": "2026-03-02T08:20:00+00:00", "event": "logout", "reason": "after-post"},
        {
            "at": "2026-03-03T10:00:00+00:00",
            "event": "incident",
            "what": "unknown-composer",
            "text_sha256": "ab" * 32,
            "detail": "a box with no label",
            "url": "https://x.com/compose",
            "handle": None,
            "user_id": None,
        },
    ]
    events.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    log = open_audit(home)
    rows = log.rows()
    assert [r.kind for r in rows] == ["override", "logout", "incident", "migrated"]
    override = rows[0]
    assert override.at == "2026-03-02T08:15:00.000Z"
    assert override.text is None  # the default keep_text is "never"
    assert override.text_sha256 == sha256_text(
        "Congratulations to Petra Vossberg on her chess trophy"
    )
    assert override.detail["reason"] == "Parent asked for the photo credit"
    assert "migrated from events.jsonl" in override.detail["migration"]
    assert override.account == "larkhill_primary" and override.account_id == "4411"
    assert rows[2].text_sha256 == "ab" * 32
    assert rows[3].detail["rows"] == 3
    assert not events.exists() and (home / "events.jsonl.migrated").exists()
    assert log.verify().ok
    log.close()
    # A second open finds nothing to migrate: no duplicate rows.
    again = open_audit(home)
    assert len(again.rows()) == 4
    again.close()


def test_migration_interrupted_before_rename_is_not_repeated(home: Path) -> None:
    events = home / "events.jsonl"
    events.write_text(
        json.dumps({"at": "2026-01-05T09:00:00+00:00", "event": "logout", "reason": "manual"})
        + "\n",
        encoding="utf-8",
    )
    copy = events.read_bytes()
    open_audit(home).close()
    # As if the rename had not happened: the same file is back.
    events.write_bytes(copy)
    log = open_audit(home)
    assert [r.kind for r in log.rows()] == ["logout", "migrated"]
    assert not events.exists()
    assert (home / "events.jsonl.migrated").exists()
    log.close()


def test_migration_keeps_override_text_when_policy_says(home: Path) -> None:
    (home / "policy.toml").write_text('[audit]\nkeep_text = "overrides"\n', encoding="utf-8")
    (home / "events.jsonl").write_text(
        json.dumps(
            {
                "at": "2026-02-01T12:00:00+00:00",
                "event": "override",
                "rules": ["x"],
                "reason": "ok",
                "text": "Sports day moved to Thursday",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    log = open_audit(home)
    assert log.rows()[0].text == "Sports day moved to Thursday"
    log.close()


def test_merged_rows_from_per_user_files(home: Path) -> None:
    shared = AuditLog(home / "audit.sqlite3")
    shared.append("check", verdict="ok", at="2026-11-01T10:00:00.000Z")
    shared.append("check", verdict="ok", at="2026-11-01T12:00:00.000Z")
    (home / "audit.d").mkdir()
    me = current_user()
    teacher = AuditLog(home / "audit.d" / f"{me}.sqlite3")
    teacher.append("override", rules=["names.full_name"], at="2026-11-01T11:00:00.000Z")
    shared.close()
    teacher.close()
    rows = merged_rows(home)
    assert [(r.source, r.kind) for r in rows] == [
        ("shared", "check"),
        (f"user:{me}", "override"),
        ("shared", "check"),
    ]
    newest = merged_rows(home, AuditQuery(limit=2))
    assert [r.at for r in newest] == ["2026-11-01T12:00:00.000Z", "2026-11-01T11:00:00.000Z"]
