"""Named secrets (encryption keys) for the data folder, kept in the OS keyring.

A key stored beside the data it protects protects nothing against someone who
copies the folder, so keys live in the operating system's keyring (Windows
Credential Manager, macOS Keychain, the Secret Service on a Linux desktop) via
`keyring`, under the service "tweetguard" and a user name that includes the data
folder, so two data folders on one machine never share a key.

Only where no keyring backend exists at all (a headless server, or keyring turned
off with its `null` backend) is the key written to a file in the data folder,
readable by its owner alone (0600), and `secret_store()` says so plainly, for IT
and the docs to repeat. A keyring that exists but fails (locked, no D-Bus
session) is an error, never a silent fall back to a file: the key would end up
somewhere other than where IT was told it is.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "tweetguard"
# Secret names become file names in the fallback folder: keep them plain.
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


class SecretsError(Exception):
    """The secret cannot be read or written; the message says where and why, for IT."""


@dataclass(frozen=True)
class SecretStore:
    """Where this data folder's secrets are kept."""

    kind: str  # "keyring" or "file"
    detail: str  # the keyring backend's name, or the fallback folder

    def describe(self) -> str:
        if self.kind == "keyring":
            return f"the OS keyring ({self.detail})"
        return (
            f"a file readable only by this user in {self.detail} "
            "(no OS keyring is available on this machine)"
        )


def secret_store(home: Path) -> SecretStore:
    """Which store `get_secret` and `get_or_create_secret` use for `home`."""
    backend = _keyring_backend()
    if backend is None:
        return SecretStore("file", str(_folder(home)))
    return SecretStore("keyring", _backend_name(backend))


def get_secret(home: Path, name: str) -> bytes | None:
    """The secret, or None when it was never created (or was deleted)."""
    _check_name(name)
    backend = _keyring_backend()
    if backend is None:
        return _read_file(home, name)
    from keyring.errors import KeyringError

    try:
        value = backend.get_password(SERVICE, _user(home, name))
    except KeyringError as exc:
        raise SecretsError(f"the OS keyring cannot be read ({exc})") from None
    if value is None:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise SecretsError(
            f"the keyring entry {SERVICE}/{_user(home, name)} is not a tweetguard key"
        ) from None


def get_or_create_secret(home: Path, name: str, size: int = 32) -> bytes:
    """The secret, made from the OS's random source the first time it is asked for."""
    existing = get_secret(home, name)
    if existing is not None:
        return existing
    value = secrets.token_bytes(size)
    backend = _keyring_backend()
    if backend is None:
        return _create_file(home, name, value)
    from keyring.errors import KeyringError

    try:
        backend.set_password(SERVICE, _user(home, name), base64.b64encode(value).decode("ascii"))
    except KeyringError as exc:
        raise SecretsError(f"the OS keyring cannot store a key ({exc})") from None
    return value


def delete_secret(home: Path, name: str) -> bool:
    """Removes the secret; True when there was one. Whatever it encrypted is then lost."""
    _check_name(name)
    backend = _keyring_backend()
    if backend is None:
        path = _folder(home) / f"{name}.key"
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        backend.delete_password(SERVICE, _user(home, name))
    except PasswordDeleteError:
        return False
    except KeyringError as exc:
        raise SecretsError(f"the OS keyring cannot delete a key ({exc})") from None
    return True


def _keyring_backend() -> KeyringBackend | None:
    """The keyring backend in force, or None when there is none to use.

    `fail` is what keyring picks when it finds no backend; `null` is how a user or
    IT turns keyring off; a chainer with nothing in its chain is the same as none.
    """
    import keyring
    from keyring.backends import chainer, fail, null

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    return backend


def _backend_name(backend: KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _user(home: Path, name: str) -> str:
    return f"{name} ({home.absolute()})"


def _check_name(name: str) -> None:
    if not name or not set(name) <= _NAME_CHARS:
        raise ValueError(f"secret names are lowercase letters, digits and -: {name!r}")


def _folder(home: Path) -> Path:
    return home / "secrets"


def _read_file(home: Path, name: str) -> bytes | None:
    path = _folder(home) / f"{name}.key"
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    if sys.platform != "win32" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretsError(
            f"{path} can be read by other users; make it private (chmod 600 {path}) "
            "or delete it together with what it encrypts"
        )
    try:
        return base64.b64decode(path.read_bytes().strip(), validate=True)
    except ValueError:
        raise SecretsError(f"{path} is not a tweetguard key") from None


def _create_file(home: Path, name: str, value: bytes) -> bytes:
    folder = _folder(home)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{name}.key"
    try:
        # O_EXCL: a second process creating the same key at the same moment loses,
        # and reads the winner's key rather than overwriting it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        existing = _read_file(home, name)
        if existing is None:
            raise SecretsError(f"{path} vanished while it was being created") from None
        return existing
    with os.fdopen(fd, "wb") as out:
        out.write(base64.b64encode(value) + b"\n")
        out.flush()
        os.fsync(out.fileno())
    return value


def set_secret(home: Path, name: str, value: bytes) -> SecretStore:
    """Stores (or replaces) a secret someone gave us, such as X API credentials;
    returns where it went, for the caller to say so."""
    _check_name(name)
    backend = _keyring_backend()
    if backend is None:
        folder = _folder(home)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"{name}.key"
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(base64.b64encode(value) + b"\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)  # never a moment with half a secret or none
        return SecretStore("file", str(folder))
    from keyring.errors import KeyringError

    try:
        backend.set_password(SERVICE, _user(home, name), base64.b64encode(value).decode("ascii"))
    except KeyringError as exc:
        raise SecretsError(f"the OS keyring cannot store a secret ({exc})") from None
    return SecretStore("keyring", _backend_name(backend))
