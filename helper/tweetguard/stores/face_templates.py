"""Face templates of the people who must never appear in a post, encrypted at rest.

A face template (a 128-number descriptor of a face) of a child is biometric data
(UK GDPR article 9), so:

- every person's record (their ref, name and descriptors) is one AES-GCM
  ciphertext in `faces.sqlite3` in the data folder; the key is in the OS keyring
  (stores/secrets.py), so a copy of the data folder alone reveals nothing but how
  many people are enrolled;
- rows are found by an HMAC of the ref, not the ref itself, and each ciphertext is
  bound to its row's HMAC, so rows cannot be swapped between people unnoticed;
- `forget` deletes a person's row with SQLite's secure_delete on and the file is
  vacuumed, so the old ciphertext does not linger in free pages;
- there is no export, by design: templates are made on this machine from photos
  the school holds, used here and deleted here. Nothing in tweetguard reads them
  out in any other form, and the protocol never carries them (docs/face-matching.md).

Only the matcher (checks/photos/matching.py) and `tweetguard consent enrol|forget`
use this store.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tweetguard.stores.secrets import delete_secret, get_or_create_secret, get_secret

KEY_NAME = "face-templates"
DESCRIPTOR_SIZE = 128
# More than this many templates for one person adds time to every match and
# nothing to accuracy: a handful of photos from different days is enough.
MAX_PER_PERSON = 20
_FORMAT = b"tweetguard-face-templates-v1"

Descriptors = npt.NDArray[np.float32]  # shape (n, 128)


class TemplatesError(Exception):
    """The store cannot be read or written; the message says why and what to do, for IT."""


@dataclass(frozen=True)
class Enrolled:
    ref: str
    name: str
    descriptors: Descriptors
    enrolled_at: str  # ISO 8601, UTC, when the first template was added
    updated_at: str


def store_path(home: Path) -> Path:
    return home / "faces.sqlite3"


class FaceTemplates:
    """The encrypted store. Opening it reads nothing and creates no key: the key is
    made on the first `add`, and read on the first read of a store that has rows."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = store_path(home)
        self._keys: tuple[bytes, bytes] | None = None

    # Reading

    def exists(self) -> bool:
        return self.path.exists()

    def version(self) -> tuple[str, int]:
        """Changes with every add and forget (and when the store is deleted and made
        again), so a running helper sees enrolments the CLI made since it loaded."""
        if not self.path.exists():
            return ("", 0)
        with self._connect() as conn:
            rows = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        return (str(rows.get("id", "")), int(rows.get("revision", 0)))

    def count(self) -> int:
        if not self.path.exists():
            return 0
        with self._connect() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM people").fetchone()[0])

    def people(self) -> list[Enrolled]:
        """Everyone enrolled, decrypted, in the order they were enrolled."""
        if not self.path.exists():
            return []
        with self._connect() as conn:
            rows = conn.execute("SELECT tag, nonce, data FROM people ORDER BY id").fetchall()
        if not rows:
            return []
        keys = self._read_keys()
        return [self._decrypt(keys, bytes(t), bytes(n), bytes(d)) for t, n, d in rows]

    def get(self, ref: str) -> Enrolled | None:
        if not self.path.exists():
            return None
        with self._connect() as conn:
            if not conn.execute("SELECT 1 FROM people LIMIT 1").fetchone():
                return None
            keys = self._read_keys()
            row = conn.execute(
                "SELECT tag, nonce, data FROM people WHERE tag = ?", (_tag(keys, ref),)
            ).fetchone()
        if row is None:
            return None
        return self._decrypt(keys, bytes(row[0]), bytes(row[1]), bytes(row[2]))

    # Writing

    def add(self, ref: str, name: str, descriptors: Sequence[npt.NDArray[np.floating]]) -> int:
        """Adds templates to a person (enrolling them if new); returns how many they
        now have. The oldest templates go beyond MAX_PER_PERSON."""
        new = _as_matrix(descriptors)
        if not len(new):
            raise ValueError("no descriptors to add")
        keys = self._write_keys()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        tag = _tag(keys, ref)
        with self._connect(create=True) as conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                "SELECT tag, nonce, data FROM people WHERE tag = ?", (tag,)
            ).fetchone()
            if row is None:
                record = Enrolled(ref, name, new, now, now)
            else:
                old = self._decrypt(keys, bytes(row[0]), bytes(row[1]), bytes(row[2]))
                record = Enrolled(
                    ref, name, np.vstack([old.descriptors, new]), old.enrolled_at, now
                )
            record = Enrolled(
                record.ref,
                record.name,
                record.descriptors[-MAX_PER_PERSON:],
                record.enrolled_at,
                record.updated_at,
            )
            nonce, data = _encrypt(keys, tag, record)
            conn.execute(
                "INSERT INTO people (tag, nonce, data) VALUES (?, ?, ?) "
                "ON CONFLICT(tag) DO UPDATE SET nonce = excluded.nonce, data = excluded.data",
                (tag, nonce, data),
            )
            _bump(conn)
            conn.execute("COMMIT")
        return len(record.descriptors)

    def forget(self, ref: str) -> bool:
        """Deletes every template of one person; True when there were any."""
        if not self.path.exists():
            return False
        with self._connect() as conn:
            if not conn.execute("SELECT 1 FROM people LIMIT 1").fetchone():
                return False
            tag = _tag(self._read_keys(), ref)
            conn.execute("BEGIN IMMEDIATE")
            deleted = conn.execute("DELETE FROM people WHERE tag = ?", (tag,)).rowcount
            if deleted:
                _bump(conn)
            conn.execute("COMMIT")
            if deleted:
                conn.execute("VACUUM")
        return bool(deleted)

    def forget_all(self) -> int:
        """Deletes the whole store and its key: what IT does when the school turns
        matching off for good, or when the key was lost. Needs no key."""
        count = 0
        if self.path.exists():
            with contextlib.suppress(sqlite3.Error), self._connect() as conn:
                count = int(conn.execute("SELECT COUNT(*) FROM people").fetchone()[0])
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").unlink()
        delete_secret(self.home, KEY_NAME)
        self._keys = None
        return count

    # Internals

    @contextlib.contextmanager
    def _connect(self, *, create: bool = False) -> Iterator[sqlite3.Connection]:
        if create:
            self.home.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                # Private from the first byte; the contents are ciphertext anyway.
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        try:
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        except sqlite3.Error as exc:
            raise TemplatesError(f"cannot open {self.path}: {exc}") from None
        try:
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS people ("
                "id INTEGER PRIMARY KEY, tag BLOB NOT NULL UNIQUE, "
                "nonce BLOB NOT NULL, data BLOB NOT NULL)"
            )
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value)")
            yield conn
        except sqlite3.Error as exc:
            raise TemplatesError(f"the face template store {self.path} failed: {exc}") from None
        finally:
            conn.close()

    def _read_keys(self) -> tuple[bytes, bytes]:
        if self._keys is None:
            master = get_secret(self.home, KEY_NAME)
            if master is None:
                raise TemplatesError(
                    f"the key for {self.path} is missing from this machine's secret store, "
                    "so its face templates cannot be read; delete them with "
                    "`tweetguard consent forget --all` and enrol again"
                )
            self._keys = _derive(master)
        return self._keys

    def _write_keys(self) -> tuple[bytes, bytes]:
        if self._keys is None:
            if self.count():
                return self._read_keys()
            self._keys = _derive(get_or_create_secret(self.home, KEY_NAME))
        return self._keys

    def _decrypt(
        self, keys: tuple[bytes, bytes], tag: bytes, nonce: bytes, data: bytes
    ) -> Enrolled:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            plain = AESGCM(keys[0]).decrypt(nonce, data, _FORMAT + tag)
        except InvalidTag:
            raise TemplatesError(
                f"{self.path} holds a record this machine's key cannot open (a different "
                "key, or a damaged or altered file); `tweetguard consent forget --all` "
                "deletes the store"
            ) from None
        raw = json.loads(plain)
        matrix = np.frombuffer(base64.b64decode(raw["descriptors"]), dtype="<f4")
        return Enrolled(
            ref=raw["ref"],
            name=raw["name"],
            descriptors=matrix.reshape(-1, DESCRIPTOR_SIZE).astype(np.float32),
            enrolled_at=raw["enrolled_at"],
            updated_at=raw["updated_at"],
        )


def _derive(master: bytes) -> tuple[bytes, bytes]:
    """Two keys from one secret: one encrypts, one names rows. Using one key for both
    jobs is the kind of shortcut that cryptographers ask people not to take."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    both = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_FORMAT).derive(master)
    return both[:32], both[32:]


def _tag(keys: tuple[bytes, bytes], ref: str) -> bytes:
    return hmac.new(keys[1], ref.encode("utf-8"), hashlib.sha256).digest()


def _encrypt(keys: tuple[bytes, bytes], tag: bytes, record: Enrolled) -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    plain = json.dumps(
        {
            "ref": record.ref,
            "name": record.name,
            "enrolled_at": record.enrolled_at,
            "updated_at": record.updated_at,
            "descriptors": base64.b64encode(record.descriptors.astype("<f4").tobytes()).decode(
                "ascii"
            ),
        }
    ).encode("utf-8")
    nonce = os.urandom(12)
    return nonce, AESGCM(keys[0]).encrypt(nonce, plain, _FORMAT + tag)


def _as_matrix(descriptors: Sequence[npt.NDArray[np.floating]]) -> Descriptors:
    if not len(descriptors):
        return np.zeros((0, DESCRIPTOR_SIZE), dtype=np.float32)
    matrix = np.vstack([np.asarray(d, dtype=np.float32).reshape(1, -1) for d in descriptors])
    if matrix.shape[1] != DESCRIPTOR_SIZE or not np.isfinite(matrix).all():
        raise ValueError(f"a face descriptor is {DESCRIPTOR_SIZE} finite numbers")
    return matrix


def _bump(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('id', ?)", (os.urandom(8).hex(),))
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('revision', 1) "
        "ON CONFLICT(key) DO UPDATE SET value = value + 1"
    )
