"""`tweetguard audit verify|export|status`, and the rows the CLI's own changes write."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

from tests.conftest import REGISTER_CSV, run_cli
from tweetguard.stores.audit import AuditLog, current_user


def seeded(home: Path) -> AuditLog:
    log = AuditLog(home / "audit.sqlite3")
    log.append("check", verdict="ok", account="hollyfield_pri", at="2026-10-01T08:00:00.000Z")
    log.append(
        "override",
        rules=["language.profanity"],
        detail={"reason": "Quoting the headline"},
        at="2026-10-02T09:30:00.000Z",
    )
    log.append("logout", detail={"reason": "after-post"}, at="2026-10-03T15:45:00.000Z")
    log.close()
    return log


def test_verify_untouched_then_altered(home: Path) -> None:
    log = seeded(home)
    result = run_cli(home, "audit", "verify")
    assert result.returncode == 0, result.stderr.decode()
    assert "shared" in result.stdout.decode() and "ok: 3 rows" in result.stdout.decode()
    conn = sqlite3.connect(log.path)
    conn.execute('UPDATE rows SET detail = \'{"reason":"nothing to see"}\' WHERE seq = 2')
    conn.commit()
    conn.close()
    result = run_cli(home, "audit", "verify")
    assert result.returncode == 65
    assert "row 2 was altered" in result.stdout.decode()
    assert result.stderr.decode().count("\n") == 1


def test_verify_with_no_audit_yet(home: Path) -> None:
    result = run_cli(home, "audit", "verify")
    assert result.returncode == 0 and "nothing to verify" in result.stdout.decode()


def test_export_by_dates_as_csv_and_jsonl(home: Path, tmp_path: Path) -> None:
    seeded(home)
    result = run_cli(home, "audit", "export", "--since", "2026-10-02", "--until", "2026-10-02")
    assert result.returncode == 0, result.stderr.decode()
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode())))
    assert [(r["kind"], r["rules"]) for r in rows] == [("override", "language.profanity")]
    assert json.loads(rows[0]["detail"]) == {"reason": "Quoting the headline"}
    out = tmp_path / "audit.jsonl"
    result = run_cli(
        home, "audit", "export", "--since", "2026-10-01", "--format", "jsonl", "-o", str(out)
    )
    assert result.returncode == 0
    assert "Exported 3 audit row(s)" in result.stderr.decode()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["kind"] for line in lines] == ["check", "override", "logout"]
    assert all(line["source"] == "shared" for line in lines)
    # A period with nothing in it exports only the header.
    empty = run_cli(home, "audit", "export", "--since", "2027-01-01")
    assert empty.stdout.decode().strip().startswith("source,seq,at")
    assert len(empty.stdout.decode().strip().splitlines()) == 1
    bad = run_cli(home, "audit", "export", "--since", "last tuesday")
    assert bad.returncode == 64 and "YYYY-MM-DD" in bad.stderr.decode()


def test_status_says_where_and_each_source(home: Path) -> None:
    seeded(home)
    (home / "audit.d").mkdir()
    other = AuditLog(home / "audit.d" / "ms_ferreira.sqlite3")
    other.append("check", verdict="warn")
    other.close()
    result = run_cli(home, "audit", "status")
    assert result.returncode == 0, result.stdout.decode()
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith("ok: this user") and "shared audit" in lines[0]
    assert any(line.startswith("ok: shared") and "3 row(s)" in line for line in lines)
    # Made by this user, named for another: read, labelled by its owner, marked.
    assert any(
        f"user:{current_user()} (suspicious: the file is named ms_ferreira.sqlite3)" in line
        and "1 row(s)" in line
        for line in lines
    )


def test_register_and_account_changes_are_recorded(home: Path) -> None:
    assert run_cli(home, "consent", "import", str(REGISTER_CSV)).returncode in (0, 1)
    assert run_cli(home, "accounts", "add", "Hollyfield_Pri", "--user-id", "8080").returncode == 0
    assert run_cli(home, "accounts", "remove", "Hollyfield_Pri").returncode == 0
    # A removal that changes nothing records nothing.
    assert run_cli(home, "accounts", "remove", "Hollyfield_Pri").returncode == 65
    log = AuditLog(home / "audit.sqlite3")
    rows = [r for r in log.rows() if r.kind in ("register", "accounts")]
    assert [r.kind for r in rows] == ["register", "accounts", "accounts"]
    register = rows[0].detail
    assert register["what"] == "import" and register["by"] == "cli"
    assert register["added"] == register["people"] > 0 and register["removed"] == 0
    assert (rows[1].account, rows[1].account_id, rows[1].detail["what"]) == (
        "hollyfield_pri",
        "8080",
        "approved",
    )
    assert rows[2].detail["what"] == "removed"
    # The register row holds counts, never the names it imported.
    names = REGISTER_CSV.read_text(encoding="utf-8").splitlines()[1].split(",")[:2]
    dumped = json.dumps([r.to_json() for r in log.rows()])
    assert not any(name and name in dumped for name in names)
    assert log.verify().ok
    log.close()


def test_policy_check_says_what_the_audit_keeps(home: Path) -> None:
    (home / "policy.toml").write_text('[audit]\nkeep_text = "overrides"\n', encoding="utf-8")
    result = run_cli(home, "policy", "check")
    assert result.returncode == 0, result.stderr.decode()
    assert "keep_text = 'overrides'" in result.stdout.decode()
    (home / "policy.toml").write_text('[audit]\nkeep_text = "sometimes"\n', encoding="utf-8")
    result = run_cli(home, "policy", "check")
    assert result.returncode == 78
    assert 'audit.keep_text must be one of "never", "overrides", "always"' in (
        result.stderr.decode()
    )
    (home / "policy.toml").write_text("[audit]\nkeep = 1\n", encoding="utf-8")
    assert "unknown setting(s) keep" in run_cli(home, "policy", "check").stderr.decode()
