"""A damaged audit file is named and skipped, never a crash of every reader: any
teacher owns their own audit.d file, so one bad cell there must not hide the rest."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tweetguard.stores.audit import AuditError, AuditLog, AuditQuery, merged, merged_rows

LINES = (
    "The choir's carol rehearsal moves to the chapel on Thursday.",
    "Year 2 planted bulbs along the front fence this afternoon.",
    "The minibus to the Ashcombe gala leaves at half past eight.",
)


def written(path: Path, n: int = 3) -> None:
    log = AuditLog(path)
    for i in range(n):
        log.append("check", account="Thornbury_Infants", verdict="ok", text=LINES[i % 3])
    log.close()


def set_cell(path: Path, sql: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(sql)
    conn.commit()
    conn.close()


def school(home: Path) -> Path:
    written(home / "audit.sqlite3")
    (home / "audit.d").mkdir()
    own = home / "audit.d" / "wren.sqlite3"
    written(own, 4)
    return own


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE rows SET rules = '{{' WHERE seq = 3",
        "UPDATE rows SET detail = '[1, 2]' WHERE seq = 3",
    ],
)
def test_bad_cell_in_a_per_user_file_is_reported_and_the_shared_rows_still_read(
    home: Path, damage: str
) -> None:
    own = school(home)
    set_cell(own, damage)
    result = merged(home)
    assert [r.source for r in result.rows] == ["shared"] * 3
    assert len(result.broken) == 1
    broken = result.broken[0]
    assert broken.path == own and "row 3" in broken.problem and str(own) in broken.problem
    assert len(merged_rows(home)) == 3
    log = AuditLog(own)
    with pytest.raises(AuditError, match="row 3"):
        log.rows()
    verdict = log.verify()
    assert not verdict.ok and verdict.first_bad == 3 and "row 3" in verdict.problem
    log.close()


def test_an_earlier_altered_row_is_named_before_an_unreadable_later_one(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    written(path, 5)
    set_cell(path, "UPDATE rows SET account = 'someone_else' WHERE seq = 2")
    set_cell(path, "UPDATE rows SET detail = 'not json' WHERE seq = 4")
    verdict = AuditLog(path).verify()
    assert verdict.first_bad == 2 and "row 2 was altered" in verdict.problem


def test_a_rows_table_of_another_shape_is_reported(home: Path) -> None:
    written(home / "audit.sqlite3")
    (home / "audit.d").mkdir()
    other = home / "audit.d" / "heron.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE rows (name TEXT)")
    conn.execute("INSERT INTO rows VALUES ('hello')")
    conn.commit()
    conn.close()
    result = merged(home, AuditQuery(limit=10))
    assert len(result.rows) == 3
    assert [b.path for b in result.broken] == [other]
    assert "cannot be read" in result.broken[0].problem
    assert not AuditLog(other).verify().ok


def test_healthy_sources_report_nothing_broken(home: Path) -> None:
    # The trap: good files, including text that looks like JSON, are not reported.
    school(home)
    log = AuditLog(home / "audit.sqlite3")
    log.append("override", detail={"reason": "{{ not a template }}"}, rules=("[x]",))
    log.close()
    result = merged(home)
    assert result.broken == [] and len(result.rows) == 8
    assert AuditLog(home / "audit.d" / "wren.sqlite3").verify().ok
