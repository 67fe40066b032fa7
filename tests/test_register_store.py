"""register.sqlite3 across versions: a register from an older helper still works,
and an import upgrades it under a helper that is running."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import run_cli
from tests.registers import canonical
from tweetguard.checks.engine import Checker
from tweetguard.checks.name_index import NameIndex
from tweetguard.stores.consent import ConsentRegister

# The schema and rows as the first helper wrote them (no derived data, fewer columns).
OLD = """
CREATE TABLE pupils (id INTEGER PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL,
  preferred_name TEXT, class_name TEXT, social_media INTEGER NOT NULL, website INTEGER NOT NULL,
  press INTEGER NOT NULL, consent_expires TEXT, line INTEGER NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO pupils VALUES (1, 'Ffion', 'Pritchard', NULL, 'Year 3', 1, 1, 0, NULL, 2);
INSERT INTO pupils VALUES (2, 'Halvard', 'Brønstad', NULL, 'Year 4', 0, 0, 0, NULL, 3);
INSERT INTO meta VALUES ('revision', '3');
"""


def test_an_old_register_is_read_and_an_import_upgrades_it_under_a_running_helper(
    home: Path, tmp_path: Path
) -> None:
    conn = sqlite3.connect(home / "register.sqlite3")
    conn.executescript(OLD)
    conn.close()
    checker = Checker(home)  # stands for a host that keeps running
    try:
        assert checker.check("Ffion Pritchard won").verdict == "block"  # built in memory
        assert checker.check("Well done Halvard").verdict == "block"  # no consent
        register = ConsentRegister(home / "register.sqlite3")
        assert register.load()[1].get(NameIndex.STORED_AS) is None
        register.close()

        data = (
            b"Forename,Surname,Year Group,Social Media Consent\r\n"
            b"Ffion,Pritchard,3,yes\r\nNoor,Baig-Hussain,1,no\r\n"
        )
        path = tmp_path / "new.csv"
        path.write_bytes(data)
        result = run_cli(home, "consent", "import", "--force", str(path))
        assert result.returncode == 0, result.stderr

        report = checker.check("Ffion Pritchard and Noor")
        assert report.verdict == "block"
        (full,) = [f for f in report.findings if f.rule.id == "names.full-name"]
        assert full.fix == "Ffion (Year 3)"  # the year group, a column the old schema lacked
        assert "names.no-consent" in [f.rule.id for f in report.findings]
        assert checker.check("Well done Halvard").verdict == "allow"  # no longer a pupil
        register = ConsentRegister(home / "register.sqlite3")
        assert register.load()[1].get(NameIndex.STORED_AS) is not None
        assert register.summary().revision == 4
        register.close()
    finally:
        checker.close()


def test_a_stored_index_that_does_not_fit_the_pupils_is_rebuilt(home: Path) -> None:
    register = ConsentRegister(home / "register.sqlite3")
    from tweetguard.stores.register_import import read_register

    pupils = read_register(canonical([("Kit", "Fletcher", "no")])).pupils
    stale = NameIndex(read_register(canonical([("A", "B", "no"), ("C", "D", "no")])).pupils)
    register.replace(pupils, source="test", derived={NameIndex.STORED_AS: stale.dump()})
    register.close()
    checker = Checker(home)
    try:
        assert checker.check("Kit Fletcher scored").verdict == "block"
    finally:
        checker.close()


def test_the_three_imports_write_through_one_transaction_and_touch_only_their_tables(
    home: Path,
) -> None:
    """replace (pupils), replace_staff and replace_everyone are one writer: each bumps
    the revision once, stamps its own tables' source, and leaves the rest alone."""
    from tweetguard.stores.consent import Pupil

    path = home / "register.sqlite3"
    register = ConsentRegister(path)
    try:
        register.replace(
            [Pupil("Peregrine", "Oduya", social_media=True)],
            "sims-export.csv",
            derived={"names": b"index-1"},
        )
        register.replace_staff([Pupil("Marisol", "Tiernan", social_media=True)], "staff.csv")
        meta = _meta(path)
        assert (meta["revision"], meta["source"], meta["staff_source"]) == (
            "2",
            "sims-export.csv",
            "staff.csv",
        )
        # The trap: a staff import keeps the pupils and their name index as they were.
        assert [p.first_name for p in register.pupils()] == ["Peregrine"]
        assert register.load()[1] == {"names": b"index-1"}

        register.replace_everyone(
            [Pupil("Anselm", "Kowalczyk")],
            [Pupil("Dervla", "Ngata", social_media=True)],
            source="the school's server",
            derived={"names": b"index-2"},
            meta={"server_revision": "s_4:12"},
        )
        meta = _meta(path)
        assert meta["revision"] == "3"
        assert meta["source"] == meta["staff_source"] == "the school's server"
        assert meta["server_revision"] == "s_4:12"
        assert [p.first_name for p in register.pupils()] == ["Anselm"]
        assert [p.first_name for p in register.staff()] == ["Dervla"]
        assert register.load()[1] == {"names": b"index-2"}

        # A pupils-only import after it keeps the server's staff (and its label).
        register.replace([Pupil("Isidora", "Fenwick")], "a local import")
        assert [p.first_name for p in register.staff()] == ["Dervla"]
        assert register.meta_value("server_revision") == "s_4:12"
        assert register.revision() == 4
    finally:
        register.close()


def _meta(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())
    finally:
        conn.close()
