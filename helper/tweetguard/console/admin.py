"""The console's one admin: the password's hash and the lockout after wrong guesses.

The hash (werkzeug's scrypt) is a secret like any other and lives where
stores/secrets.py keeps secrets: the OS keyring, else a 0600 file it names. The
lockout is not a secret but must survive a restart (otherwise restarting the
console would reset the count), so it is a small file in the data folder.
"""

from __future__ import annotations

import contextlib
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


class LockoutUnwritable(OSError):
    """The lockout file cannot be written, so wrong passwords could not be counted:
    sign-in is refused rather than left uncounted. The message is for the admin."""


class LockoutStore:
    """The count of wrong passwords and the lock, in <home>/console/lockout.json.

    A sign-in first *reserves* an attempt (`reserve`: counted, under the lock,
    before the slow scrypt compare), so guesses sent at once on the server's
    threads cannot slip past the count; `succeeded` then clears the count."""

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
            state = self._read(now)
            if state.locked_until is not None and now >= state.locked_until:
                return Lockout(0, None)  # the lock has run out: a fresh start
            return state

    def reserve(self, now: datetime | None = None) -> tuple[bool, Lockout]:
        """(True, state) when this attempt may check a password, already counted as
        a wrong one (`succeeded` clears it); (False, state) when locked."""
        now = now or datetime.now(UTC)
        with self._lock:
            state = self._read(now)
            if state.locked_until is not None and now >= state.locked_until:
                state = Lockout(0, None)
            if state.locked(now):
                return False, state
            failures = state.failures + 1
            until = now + timedelta(minutes=self.minutes) if failures >= self.max_failures else None
            state = Lockout(failures, until)
            self._write(state)
            return True, state

    def failed(self, now: datetime | None = None) -> Lockout:
        """Counts one wrong password (tests and callers that did not reserve)."""
        return self.reserve(now)[1]

    def succeeded(self) -> None:
        with self._lock:
            if self.path.exists():
                self._write(Lockout(0, None))

    def _read(self, now: datetime) -> Lockout:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            until = data.get("locked_until")
            state = Lockout(
                int(data.get("failures", 0)),
                datetime.fromisoformat(until) if until else None,
            )
            if state.locked_until is not None and state.locked_until.tzinfo is None:
                raise ValueError("locked_until has no time zone")
            return state
        except FileNotFoundError:
            return Lockout(0, None)
        except (ValueError, TypeError, AttributeError):
            # A damaged file must not unlock the console, nor lock it for ever: it
            # is replaced, once, by a real lock that ends like any other.
            state = Lockout(self.max_failures, now + timedelta(minutes=self.minutes))
            self._write(state)
            return state
        except OSError as exc:
            raise LockoutUnwritable(
                f"the lockout file {self.path} cannot be read ({exc.strerror or exc}); "
                f"let this user read and write {self.path.parent}"
            ) from None

    def _write(self, state: Lockout) -> None:
        until = state.locked_until.isoformat() if state.locked_until else None
        tmp = self.path.with_name(f".lockout.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp.write_text(json.dumps({"failures": state.failures, "locked_until": until}) + "\n")
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise LockoutUnwritable(
                f"the console cannot count wrong passwords in {self.path} "
                f"({exc.strerror or exc}); let this user write {self.path.parent}"
            ) from None
