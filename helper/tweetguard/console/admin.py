"""The console's one admin: the password's hash and the lockout after wrong guesses.

The hash (werkzeug's scrypt) is a secret like any other and lives where
stores/secrets.py keeps secrets: the OS keyring, else a 0600 file it names. The
lockout is not a secret but must survive a restart (otherwise restarting the
console would reset the count), so it is a small file in the data folder.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from tweetguard.stores.secrets import get_secret, set_secret

PASSWORD_SECRET = "console-admin-password"
MIN_LENGTH = 12
MAX_FAILURES = 5  # wrong passwords in a row before the console locks
LOCK_MINUTES = 15


class PasswordRefused(ValueError):
    """The new password is not acceptable; the message says why, for the person typing."""


def has_password(home: Path) -> bool:
    return get_secret(home, PASSWORD_SECRET) is not None


def set_password(home: Path, password: str, confirm: str) -> None:
    if password != confirm:
        raise PasswordRefused("The two passwords differ; type the same password twice.")
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(
            f"The password has {len(password)} characters; use at least {MIN_LENGTH} "
            "(a few unrelated words are easy to remember)."
        )
    if password.strip() != password:
        raise PasswordRefused("The password starts or ends with a space; remove it.")
    hashed = generate_password_hash(password, method="scrypt")
    set_secret(home, PASSWORD_SECRET, hashed.encode("utf-8"))


def password_matches(home: Path, password: str) -> bool:
    stored = get_secret(home, PASSWORD_SECRET)
    if stored is None:
        return False
    return check_password_hash(stored.decode("utf-8"), password)


@dataclass(frozen=True)
class Lockout:
    failures: int  # wrong passwords in a row since the last success or lock
    locked_until: datetime | None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


class LockoutStore:
    """The count of wrong passwords and the lock, in <home>/console/lockout.json."""

    def __init__(
        self, home: Path, *, max_failures: int = MAX_FAILURES, minutes: float = LOCK_MINUTES
    ) -> None:
        self.path = home / "console" / "lockout.json"
        self.max_failures = max_failures
        self.minutes = minutes
        self._lock = threading.Lock()

    def state(self, now: datetime | None = None) -> Lockout:
        now = now or datetime.now(UTC)
        with self._lock:
            state = self._read()
            if state.locked_until is not None and now >= state.locked_until:
                return Lockout(0, None)  # the lock has run out: a fresh start
            return state

    def failed(self, now: datetime | None = None) -> Lockout:
        now = now or datetime.now(UTC)
        with self._lock:
            state = self._read()
            if state.locked_until is not None and now >= state.locked_until:
                state = Lockout(0, None)
            failures = state.failures + 1
            until = state.locked_until
            if failures >= self.max_failures:
                until = now + timedelta(minutes=self.minutes)
            state = Lockout(failures, until)
            self._write(state)
            return state

    def succeeded(self) -> None:
        with self._lock:
            if self.path.exists():
                self._write(Lockout(0, None))

    def _read(self) -> Lockout:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            until = data.get("locked_until")
            return Lockout(
                int(data.get("failures", 0)),
                datetime.fromisoformat(until) if until else None,
            )
        except FileNotFoundError:
            return Lockout(0, None)
        except (OSError, ValueError, TypeError, AttributeError):
            # A damaged file must not unlock the console: treat it as locked now.
            return Lockout(self.max_failures, datetime.now(UTC) + timedelta(minutes=self.minutes))

    def _write(self, state: Lockout) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        until = state.locked_until.isoformat() if state.locked_until else None
        tmp = self.path.with_name(f".lockout.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps({"failures": state.failures, "locked_until": until}) + "\n")
        os.replace(tmp, self.path)
