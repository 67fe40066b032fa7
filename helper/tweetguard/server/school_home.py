"""A school's policy and register as the helper's own data folder, for the server's
Chromebook path: the same `Checker` the native host uses then checks a Chromebook's
post against exactly what a helper of that school would have.

The folder is a cache; the database is the truth. It is built from
`policies.effective` and `registers.register_since(db, school, 0)` under
`<data_dir>/schools/<school id>/<key>/`, where the key names the policy version and
register revision it holds, so a folder never changes once it exists: it is written
under a temporary name and renamed into place, and any process can build it (two
building at once both succeed; one rename wins, the other's copy is dropped).

Per request the cost is two cheap questions, the policy version and the register's
revision, answered from this process's cache of them (invalidated by the change
notifications). Only when either moved is a new folder found or built.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tweetguard.checks.engine import Checker
from tweetguard.checks.name_index import NameIndex
from tweetguard.server import cache, policies, registers
from tweetguard.server.db import Database
from tweetguard.stores.consent import ConsentRegister, Pupil
from tweetguard.stores.home import policy_path, register_path

# Folders of older versions are removed once they have been unused this long (a
# process may still be answering from one for a moment after a change).
KEEP_OLD_SECONDS = 15 * 60
# Each school's folder holds a whole copy of its register (every pupil's name and
# consent): only the server's own user may list or read them.
PRIVATE = 0o700


@dataclass(frozen=True)
class SchoolHome:
    """One school's folder as of one policy version and register revision."""

    school_id: str
    path: Path
    policy_version: str
    register_revision: int


class SchoolHomes:
    """This process's view of every school's folder, with a Checker per thread.

    A Checker keeps its name index and parsed policy in memory and its register
    connection belongs to the thread that opened it, so each thread (a WSGI worker
    thread, a WebSocket connection) has its own: nothing is shared between threads
    but the folder, which never changes once built.
    """

    def __init__(self, db: Database, data_dir: Path) -> None:
        self.db = db
        self.root = data_dir / "schools"
        self._local = threading.local()
        private_root(self.root)

    def checker(self, school_id: str) -> tuple[SchoolHome, Checker]:
        """The school's folder and this thread's Checker for it, rebuilt first if the
        database moved on."""
        held: dict[str, tuple[SchoolHome, Checker]] = self._local.__dict__.setdefault("held", {})
        current = held.get(school_id)
        if current is not None and self._fresh(current[0]):
            return current
        home = self.materialise(school_id)
        if current is None or current[0] != home:
            if current is not None:
                current[1].register.close()
            current = (home, Checker(home.path))
            held[school_id] = current
        return current

    def _fresh(self, home: SchoolHome) -> bool:
        """Whether the folder is still the school's: from this process's cache of
        versions (server/cache.py, forgotten on every change notification), so a
        request usually costs no query at all."""
        school = home.school_id
        versions = cache.for_database(self.db)
        return (
            versions.policy_version(school, lambda: policies.policy_version(self.db, school))
            == home.policy_version
            and versions.register_revision(school, lambda: registers.revision(self.db, school))
            == home.register_revision
        )

    def materialise(self, school_id: str) -> SchoolHome:
        """The folder for the school's current policy and register, built if no
        process has built it yet."""
        version, toml = policies.effective(self.db, school_id)
        register = registers.register_since(self.db, school_id, 0)
        revision = int(register["revision"])
        key = f"p{_digest(version)}-r{revision}"
        school_dir = self.root / _safe(school_id)
        final = school_dir / key
        home = SchoolHome(school_id, final, version, revision)
        if (final / ".complete").exists():
            return home
        if not self.root.is_dir():
            private_root(self.root)
        school_dir.mkdir(exist_ok=True)
        building = school_dir / f".building-{uuid.uuid4().hex}"
        building.mkdir()
        try:
            policy_path(building).write_text(toml, encoding="utf-8")
            write_register(register_path(building), register.get("people", []))
            (building / ".complete").write_text(f"{version}\n{revision}\n", encoding="utf-8")
            try:
                os.rename(building, final)
            except OSError:
                if not (final / ".complete").exists():
                    raise
                # Another process renamed its copy into place first: the same content.
        finally:
            if building.exists():
                shutil.rmtree(building, ignore_errors=True)
        _prune(school_dir, keep=final)
        return home


def private_root(root: Path) -> None:
    """Makes `root` (mode 0700, whatever the umask) or repairs an existing one whose
    mode lets others in: created by an older version, or by hand."""
    root.mkdir(mode=PRIVATE, parents=True, exist_ok=True)
    if root.stat().st_mode & 0o777 != PRIVATE:
        root.chmod(PRIVATE)


def write_register(path: Path, people: Iterable[Mapping[str, Any]]) -> None:
    """The register file a helper would have after importing these people (pupils
    and staff), with the name index stored as the import stores it."""
    pupils: list[Pupil] = []
    staff: list[Pupil] = []
    for person in people:
        (staff if person.get("role") == "staff" else pupils).append(
            registers.person_from_json(dict(person))
        )
    register = ConsentRegister(path)
    try:
        register.replace(
            pupils,
            source="tweetguard server",
            derived={NameIndex.STORED_AS: NameIndex(pupils).dump()},
        )
        register.replace_staff(staff, source="tweetguard server")
    finally:
        register.close()


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def _safe(school_id: str) -> str:
    """A school id as a folder name: ids are the server's own, but never trust a path."""
    cleaned = "".join(c for c in school_id if c.isalnum() or c in "-_")
    return cleaned or _digest(school_id)


def _prune(school_dir: Path, *, keep: Path) -> None:
    """Removes older versions and abandoned builds once they are KEEP_OLD_SECONDS old,
    always keeping the one before the newest: a process may still be answering a
    request from it when another has just built the next."""
    cutoff = time.time() - KEEP_OLD_SECONDS
    aged: list[tuple[float, Path]] = []
    for entry in school_dir.iterdir():
        try:
            aged.append((entry.stat().st_mtime, entry))
        except OSError:
            continue
    aged.sort(reverse=True)
    versions = [path for _, path in aged if not path.name.startswith(".")]
    spared = {keep, *versions[:2]}
    for mtime, entry in aged:
        if entry not in spared and mtime < cutoff:
            shutil.rmtree(entry, ignore_errors=True)
