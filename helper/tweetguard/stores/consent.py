"""The consent register: who the pupils are and what their parents agreed to.

Schools export it from their MIS as CSV; `tweetguard consent import` loads it into
a local SQLite file. An import replaces the whole register in one transaction, so
a withdrawn consent never lingers and a failed import leaves the old register as it was.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

COLUMNS = (
    "first_name",
    "last_name",
    "preferred_name",
    "class",
    "social_media_consent",
    "website_consent",
    "press_consent",
    "consent_expires",
)
REQUIRED = ("first_name", "last_name", "social_media_consent")
CONSENT_COLUMNS = ("social_media_consent", "website_consent", "press_consent")

_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0"}


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

    def social_media_consent_on(self, day: date) -> bool:
        return self.social_media and (self.consent_expires is None or day <= self.consent_expires)


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based line in the CSV file, header is line 1
    message: str
    skipped: bool  # True when the row could not be loaded at all


@dataclass
class ParsedRegister:
    pupils: list[Pupil] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class RegisterRefused(Exception):
    """The file as a whole cannot be a register; nothing was changed."""


class RegisterMissing(Exception):
    """The school is set up (it has a policy) but no register was ever imported here."""


def parse_csv(data: bytes) -> ParsedRegister:
    """Reads the canonical register CSV.

    A row we cannot name a pupil from is skipped and reported. A row whose consent
    cell is unreadable still loads, with that consent treated as "no": dropping the
    row would hide the pupil's name from the checks, which is the worse failure.
    """
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise RegisterRefused("the file is empty; export the register with a header row") from None
    except csv.Error as exc:
        raise RegisterRefused(f"the header row is not valid CSV ({exc})") from None
    columns = [_column_name(name) for name in header]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise RegisterRefused(
            "missing column(s) " + ", ".join(missing) + "; expected columns: " + ", ".join(COLUMNS)
        )
    result = ParsedRegister()
    unknown = [h for h, c in zip(header, columns, strict=True) if c not in COLUMNS and h.strip()]
    if unknown:
        result.problems.append(
            Problem(1, "ignored unknown column(s): " + ", ".join(unknown), skipped=False)
        )
    position = {name: columns.index(name) for name in COLUMNS if name in columns}
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line = reader.line_num
            result.problems.append(Problem(line, f"not valid CSV ({exc}); row skipped", True))
            continue
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        _parse_row(row, line, position, len(columns), result)
    if not result.pupils:
        raise RegisterRefused(
            "no row named a pupil, so the register would be empty; the current register is kept"
        )
    return result


def _parse_row(
    row: list[str], line: int, position: dict[str, int], width: int, result: ParsedRegister
) -> None:
    def cell(name: str) -> str:
        index = position.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    first, last = cell("first_name"), cell("last_name")
    if not first or not last:
        which = "first_name" if not first else "last_name"
        result.problems.append(Problem(line, f"{which} is empty; row skipped", skipped=True))
        return
    if len(row) != width:
        result.problems.append(
            Problem(
                line, f"has {len(row)} cells, the header has {width}; loaded what matched", False
            )
        )
    consents: dict[str, bool] = {}
    for name in CONSENT_COLUMNS:
        raw = cell(name)
        value = raw.lower()
        if value in _TRUE:
            consents[name] = True
        elif value in _FALSE or (value == "" and name != "social_media_consent"):
            consents[name] = False
        else:
            shown = f"'{raw}'" if raw else "empty"
            result.problems.append(
                Problem(line, f"{name} is {shown}, not yes/no; treated as no consent", False)
            )
            consents[name] = False
    expires: date | None = None
    raw_expiry = cell("consent_expires")
    if raw_expiry:
        try:
            expires = date.fromisoformat(raw_expiry)
        except ValueError:
            result.problems.append(
                Problem(
                    line,
                    f"consent_expires '{raw_expiry}' is not a date (YYYY-MM-DD); "
                    "treated as expired",
                    False,
                )
            )
            consents = dict.fromkeys(consents, False)
    result.pupils.append(
        Pupil(
            first_name=first,
            last_name=last,
            preferred_name=cell("preferred_name") or None,
            class_name=cell("class") or None,
            social_media=consents["social_media_consent"],
            website=consents["website_consent"],
            press=consents["press_consent"],
            consent_expires=expires,
            line=line,
        )
    )


def _column_name(header: str) -> str:
    return header.strip().lower().replace(" ", "_").replace("-", "_")


def _decode(data: bytes) -> str:
    # MIS exports are UTF-8 (often with a BOM); Excel on Windows saves Windows-1252.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise RegisterRefused(
            "the file is neither UTF-8 nor Windows-1252 text; save it as CSV UTF-8"
        ) from None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS pupils (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    preferred_name TEXT,
    class_name TEXT,
    social_media INTEGER NOT NULL,
    website INTEGER NOT NULL,
    press INTEGER NOT NULL,
    consent_expires TEXT,
    line INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


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

    def _connect(self) -> sqlite3.Connection:
        """The read connection, kept for the life of the store.

        The host asks for the revision on every check, and that must cost
        microseconds, not a reopen. It is read-only so that pupils' browsers can
        read a register that only IT may write (a system-wide install).
        """
        if self._conn is None:
            uri = f"{self.path.absolute().as_uri()}?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, timeout=10, isolation_level=None)
        return self._conn

    def _writer(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            conn.executescript(_SCHEMA)
        except BaseException:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def replace(self, pupils: Iterable[Pupil], source: str) -> RegisterSummary:
        conn = self._writer()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM pupils")
            conn.executemany(
                "INSERT INTO pupils (first_name, last_name, preferred_name, class_name,"
                " social_media, website, press, consent_expires, line)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        p.first_name,
                        p.last_name,
                        p.preferred_name,
                        p.class_name,
                        int(p.social_media),
                        int(p.website),
                        int(p.press),
                        p.consent_expires.isoformat() if p.consent_expires else None,
                        p.line,
                    )
                    for p in pupils
                ),
            )
            revision = self._read_revision(conn) + 1
            now = datetime.now(UTC).isoformat(timespec="seconds")
            conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [("revision", str(revision)), ("imported_at", now), ("source", source)],
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()
        return self.summary()

    def pupils(self) -> Iterator[Pupil]:
        if not self.path.exists():
            return iter(())
        rows = (
            self._connect()
            .execute(
                "SELECT first_name, last_name, preferred_name, class_name, social_media,"
                " website, press, consent_expires, line FROM pupils ORDER BY id"
            )
            .fetchall()
        )
        return (
            Pupil(
                first_name=r[0],
                last_name=r[1],
                preferred_name=r[2],
                class_name=r[3],
                social_media=bool(r[4]),
                website=bool(r[5]),
                press=bool(r[6]),
                consent_expires=date.fromisoformat(r[7]) if r[7] else None,
                line=r[8],
            )
            for r in rows
        )

    def revision(self) -> int:
        if not self.path.exists():
            return 0
        return self._read_revision(self._connect())

    def summary(self) -> RegisterSummary:
        if not self.path.exists():
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
        row = conn.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()
        return int(row[0]) if row else 0
