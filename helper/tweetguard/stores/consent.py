"""The consent register: who the pupils are and what their parents agreed to.

Schools export it from their MIS (stores/register_import reads the file);
this module is the only writer of register.sqlite3. An import replaces the whole
register in one transaction, so a withdrawn consent never lingers and a failed
import leaves the old register as it was. What the name matcher needs is built
at import time and stored in the same transaction (`derived`), so a helper that
starts does not rebuild it, and can never read it out of step with the pupils.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path


@dataclass(frozen=True)
class Pupil:
    first_name: str
    last_name: str
    preferred_name: str | None = None
    class_name: str | None = None
    social_media: bool = False
    website: bool = False
    press: bool = False
    consent_expires: date | None = None
    line: int = 0
    preferred_last_name: str | None = None  # a child known by another surname
    middle_names: str | None = None
    year_group: str | None = None
    pupil_id: str | None = None  # UPN or admission number, when the export has one

    def social_media_consent_on(self, day: date) -> bool:
        return self.social_media and (self.consent_expires is None or day <= self.consent_expires)

    @property
    def group(self) -> str | None:
        """What parents call the pupil's class: "Year 4" rather than SIMS's "4RB"."""
        if self.year_group:
            return year_label(self.year_group)
        return self.class_name


def person_ref(person: Pupil, role: str = "pupil") -> str:
    """A stable handle for one person, used by the extension's "who is pictured" picker
    and by face templates. Row ids change on every import; this changes only when the
    person's name, class or MIS id does, so a choice made before a re-import still
    points at the same child or at no one, never at another."""
    key = "|".join(
        (person.first_name, person.last_name, person.class_name or "", person.pupil_id or "")
    ).casefold()
    return f"{role}:{hashlib.sha256(key.encode('utf-8')).hexdigest()[:12]}"


def year_label(raw: str) -> str:
    """ "4", "Y4", "Year 4" -> "Year 4"; "R" -> "Reception"; "N2" -> "Nursery"."""
    text = raw.strip()
    if match := re.fullmatch(r"(?i)(?:y|yr|year|nc year)?\s*(\d{1,2})", text):
        return f"Year {int(match[1])}"
    if re.fullmatch(r"(?i)r|rec|reception|yr?r", text):
        return "Reception"
    if re.fullmatch(r"(?i)n\d?|nursery.*", text):
        return "Nursery"
    return text


class RegisterMissing(Exception):
    """The school is set up (it has a policy) but no register was ever imported here."""


class PersonNotFound(LookupError):
    """No pupil or member of staff has that reference (a re-import changed them)."""


class RegisterUnwritable(Exception):
    """The register cannot be written here (a read-only folder, a full disk)."""


def is_corrupt(exc: BaseException) -> bool:
    """SQLite's word that the file is damaged, as opposed to locked or unreachable."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


SCHEMA_VERSION = 3  # 3: a staff table beside the pupils
_COLUMNS = (
    "first_name",
    "last_name",
    "preferred_name",
    "class_name",
    "social_media",
    "website",
    "press",
    "consent_expires",
    "line",
    "preferred_last_name",
    "middle_names",
    "year_group",
    "pupil_id",
)
_SCHEMA = """
CREATE TABLE {table} (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    preferred_name TEXT,
    class_name TEXT,
    social_media INTEGER NOT NULL,
    website INTEGER NOT NULL,
    press INTEGER NOT NULL,
    consent_expires TEXT,
    line INTEGER NOT NULL,
    preferred_last_name TEXT,
    middle_names TEXT,
    year_group TEXT,
    pupil_id TEXT
);
"""
_SUPPORT = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS derived (name TEXT PRIMARY KEY, data BLOB NOT NULL)",
)


@dataclass(frozen=True)
class RegisterSummary:
    pupils: int
    imported_at: str | None
    source: str | None
    revision: int


class ConsentRegister:
    """The SQLite file under the data directory.

    `revision` changes on every import, so a long-running host rebuilds its name
    index only when the register has really changed.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._file: tuple[int, int] | None = None  # (device, inode) the connection reads

    def _connect(self) -> sqlite3.Connection:
        """The read connection, kept for the life of the store.

        The host asks for the revision on every check, and that must cost
        microseconds, not a reopen. It is read-only so that pupils' browsers can
        read a register that only IT may write (a system-wide install).
        """
        if self._conn is not None and self._file != self._identity():
            self.close()  # the file was replaced (a damaged one moved aside): read the new one
        if self._conn is None:
            uri = f"{self.path.absolute().as_uri()}?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, timeout=10, isolation_level=None)
            self._file = self._identity()
        return self._conn

    def _identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def exists(self) -> bool:
        """Whether a register was ever imported here: the file, with its pupils table
        (an import interrupted before its first commit leaves a file without one)."""
        if not self.path.exists():
            return False
        row = (
            self._connect()
            .execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pupils'")
            .fetchone()
        )
        return row is not None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._file = None

    def replace(
        self, pupils: Iterable[Pupil], source: str, derived: Mapping[str, bytes] | None = None
    ) -> RegisterSummary:
        """Replaces every pupil in one transaction.

        Raises RegisterUnwritable when the folder or file cannot be written; a
        damaged file is left for set_aside() to move, never silently overwritten.
        """
        return self._replace({"pupils": pupils}, source, derived)

    def replace_staff(self, staff: Iterable[Pupil], source: str) -> RegisterSummary:
        """Replaces every member of staff (their own export, their own consent);
        the pupils and their name index are left as they are."""
        return self._replace({"staff": staff}, source, None)

    def replace_everyone(
        self,
        pupils: Iterable[Pupil],
        staff: Iterable[Pupil],
        *,
        source: str,
        derived: Mapping[str, bytes] | None = None,
        meta: Mapping[str, str] | None = None,
    ) -> RegisterSummary:
        """Replaces pupils and staff together in one transaction (a register that
        comes from the school's server: `sync/register_pull.py`), with `meta` (the
        server's revision) written in the same transaction, so the file never holds
        one revision's pupils with another's staff or label. Person refs are made
        from the people themselves, so a person who did not change keeps theirs."""
        return self._replace({"pupils": pupils, "staff": staff}, source, derived, meta)

    def _replace(
        self,
        tables: Mapping[str, Iterable[Pupil]],
        source: str,
        derived: Mapping[str, bytes] | None,
        meta: Mapping[str, str] | None = None,
    ) -> RegisterSummary:
        """The one write transaction of every import: each of `tables` ("pupils",
        "staff") replaced whole, the name index with the pupils (a table not named
        keeps its people and, for the pupils, its index), one revision more, and
        each table's source and time beside it, with `meta`."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        except (OSError, sqlite3.OperationalError) as exc:
            raise RegisterUnwritable(_why_unwritable(self.path, exc)) from None
        try:
            conn.execute("BEGIN IMMEDIATE")
            for statement in _SUPPORT:
                conn.execute(statement)
            revision = self._read_revision(conn) + 1
            insert = ", ".join("?" for _ in _COLUMNS)
            now = datetime.now(UTC).isoformat(timespec="seconds")
            values = [("revision", str(revision))]
            for table, people in tables.items():
                conn.execute(f"DROP TABLE IF EXISTS {table}")
                conn.execute(_SCHEMA.format(table=table))
                conn.executemany(
                    f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES ({insert})",
                    (_row(p) for p in people),
                )
                prefix = "" if table == "pupils" else f"{table}_"
                values += [(f"{prefix}imported_at", now), (f"{prefix}source", source)]
            if "pupils" in tables:
                conn.execute("DELETE FROM derived")
                conn.executemany(
                    "INSERT INTO derived (name, data) VALUES (?, ?)", (derived or {}).items()
                )
            values += [("schema", str(SCHEMA_VERSION)), *(meta or {}).items()]
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", values)
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise RegisterUnwritable(_why_unwritable(self.path, exc)) from None
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()
        self.close()  # the next read sees the new tables
        return self.summary()

    def meta_value(self, key: str) -> str | None:
        """One value the last writer stored beside the register (e.g. the server's
        revision it came from); None when there is none."""
        if not self.path.exists():
            return None
        try:
            row = self._connect().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError:
            return None  # no meta table: an import never finished here
        return str(row[0]) if row else None

    def update_person(
        self,
        ref: str,
        *,
        social_media: bool,
        website: bool,
        press: bool,
        consent_expires: date | None,
    ) -> Pupil:
        """Changes one person's consent (a pupil, else a member of staff, found by
        `person_ref`) and bumps the revision in the same transaction, so a running
        helper reads the change with its next check. Names are left alone: the name
        index stored beside the register stays valid. Raises PersonNotFound."""
        try:
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        except (OSError, sqlite3.OperationalError) as exc:
            raise RegisterUnwritable(_why_unwritable(self.path, exc)) from None
        try:
            conn.execute("BEGIN IMMEDIATE")
            found = self._find(conn, ref)
            if found is None:
                raise PersonNotFound(f"no one in the register has the reference {ref}")
            table, row_id, person = found
            expires = consent_expires.isoformat() if consent_expires else None
            conn.execute(
                f"UPDATE {table} SET social_media = ?, website = ?, press = ?, "
                "consent_expires = ? WHERE id = ?",
                (int(social_media), int(website), int(press), expires, row_id),
            )
            revision = self._read_revision(conn) + 1
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('revision', ?)", (str(revision),)
            )
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise RegisterUnwritable(_why_unwritable(self.path, exc)) from None
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()
        self.close()
        return replace(
            person,
            social_media=social_media,
            website=website,
            press=press,
            consent_expires=consent_expires,
        )

    def person(self, ref: str) -> tuple[str, Pupil] | None:
        """("pupil" or "staff", the person) for a `person_ref`, or None."""
        if not self.exists():
            return None
        found = self._find(self._connect(), ref)
        if found is None:
            return None
        table, _, person = found
        return ("pupil" if table == "pupils" else "staff"), person

    @staticmethod
    def _find(conn: sqlite3.Connection, ref: str) -> tuple[str, int, Pupil] | None:
        for table, role in (("pupils", "pupil"), ("staff", "staff")):
            present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            if not present:
                continue
            columns = ", ".join(c if c in present else f"NULL AS {c}" for c in _COLUMNS)
            for row in conn.execute(f"SELECT id, {columns} FROM {table}"):
                person = _pupil(row[1:])
                if person_ref(person, role) == ref:
                    return table, int(row[0]), person
        return None

    def set_aside(self) -> Path:
        """Moves a damaged register (and its journal) out of the way, keeping it for IT."""
        self.close()
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        kept = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        try:
            for suffix in ("-journal", "-wal", "-shm"):
                extra = self.path.with_name(self.path.name + suffix)
                if extra.exists():
                    extra.replace(kept.with_name(kept.name + suffix))
            self.path.replace(kept)
        except OSError as exc:
            raise RegisterUnwritable(_why_unwritable(self.path, exc)) from None
        return kept

    def check(self) -> None:
        """Raises sqlite3.DatabaseError if the file is damaged."""
        conn = self._connect()
        (result,) = conn.execute("PRAGMA quick_check").fetchone()
        if result != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed ({result})")

    def pupils(self) -> Iterator[Pupil]:
        return iter(self.load(derived=False)[0])

    def load(self, *, derived: bool = True) -> tuple[list[Pupil], dict[str, bytes]]:
        """The pupils and what the import stored beside them, read in one transaction,
        so they can never be out of step with each other."""
        if not self.path.exists():
            return [], {}
        conn = self._connect()
        conn.execute("BEGIN")
        try:
            # Read the columns each time: a register written by an older helper lacks
            # the newer ones, and an import may have upgraded it since this connection
            # opened. No pupils table: an import never finished here.
            present = {row[1] for row in conn.execute("PRAGMA table_info(pupils)")}
            if not present:
                return [], {}
            columns = ", ".join(c if c in present else f"NULL AS {c}" for c in _COLUMNS)
            rows = conn.execute(f"SELECT {columns} FROM pupils ORDER BY id").fetchall()
            stored: dict[str, bytes] = {}
            # A register from before derived data existed has no such table.
            with contextlib.suppress(sqlite3.OperationalError):
                if derived:
                    stored = dict(conn.execute("SELECT name, data FROM derived").fetchall())
        finally:
            conn.execute("COMMIT")
        return [_pupil(r) for r in rows], {k: bytes(v) for k, v in stored.items()}

    def staff(self) -> list[Pupil]:
        """Staff with their own photo consent (`consent import --staff`); [] when none
        were imported. They are never in the name index: staff names are allowed."""
        if not self.path.exists():
            return []
        conn = self._connect()
        present = {row[1] for row in conn.execute("PRAGMA table_info(staff)")}
        if not present:
            return []
        columns = ", ".join(c if c in present else f"NULL AS {c}" for c in _COLUMNS)
        return [_pupil(r) for r in conn.execute(f"SELECT {columns} FROM staff ORDER BY id")]

    def revision(self) -> int:
        if not self.path.exists():
            return 0
        return self._read_revision(self._connect())

    def version(self) -> tuple[tuple[int, int] | None, int]:
        """What changes whenever the pupils may have: the file (a damaged register is
        replaced by a new file, which starts its revisions again) and its revision."""
        revision = self.revision()
        return self._file, revision

    def summary(self) -> RegisterSummary:
        if not self.exists():
            return RegisterSummary(0, None, None, 0)
        conn = self._connect()
        (count,) = conn.execute("SELECT COUNT(*) FROM pupils").fetchone()
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        return RegisterSummary(
            pupils=count,
            imported_at=meta.get("imported_at"),
            source=meta.get("source"),
            revision=int(meta.get("revision", 0)),
        )

    @staticmethod
    def _read_revision(conn: sqlite3.Connection) -> int:
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()
        except sqlite3.OperationalError:
            return 0  # a new file: no meta table yet
        return int(row[0]) if row else 0


def _row(p: Pupil) -> tuple[object, ...]:
    return (
        p.first_name,
        p.last_name,
        p.preferred_name,
        p.class_name,
        int(p.social_media),
        int(p.website),
        int(p.press),
        p.consent_expires.isoformat() if p.consent_expires else None,
        p.line,
        p.preferred_last_name,
        p.middle_names,
        p.year_group,
        p.pupil_id,
    )


def _pupil(r: tuple[object, ...]) -> Pupil:
    return Pupil(
        first_name=str(r[0]),
        last_name=str(r[1]),
        preferred_name=_text(r[2]),
        class_name=_text(r[3]),
        social_media=bool(r[4]),
        website=bool(r[5]),
        press=bool(r[6]),
        consent_expires=date.fromisoformat(str(r[7])) if r[7] else None,
        line=int(str(r[8])),
        preferred_last_name=_text(r[9]),
        middle_names=_text(r[10]),
        year_group=_text(r[11]),
        pupil_id=_text(r[12]),
    )


def _text(value: object) -> str | None:
    return str(value) if value is not None else None


def _why_unwritable(path: Path, exc: BaseException) -> str:
    folder = path.parent
    reason = getattr(exc, "strerror", None) or str(exc)
    if "locked" in reason or "busy" in reason:
        return f"{path} is busy ({reason}): another import may be running; try again"
    if not folder.exists():
        return f"cannot create the data folder {folder} ({reason})"
    return (
        f"cannot write {path} ({reason}); the data folder is read-only for this user: "
        "run the import as the user who owns it (IT: sudo), or choose another with --home"
    )
