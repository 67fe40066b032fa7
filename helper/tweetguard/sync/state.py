"""What enrolment left on this machine, and what the last sync round found.

- `<home>/server.toml`: the server's address, this device's id, its school and
  trust, the poll interval and the CA file IT named. Plain settings, readable by
  IT; never the credential.
- The credential (`<device id>.<secret>`) in the OS keyring through
  `stores.secrets` (name `server-credential`), like every other secret of the data
  folder: a copy of the folder does not carry the device's identity with it.
- `<home>/sync-state.json`: the policy version and register revision the device
  holds, the sha256 of the policy file it wrote (so a hand edit is noticed), the
  online/offline/refused state with when it began and one line, and the audit
  sources the server refused (said once, not retried in a loop). Written atomically
  by whoever syncs; the host's hello reads it (or the running loop's own copy when
  the data folder cannot be written by this user).
"""

from __future__ import annotations

import json
import os
import threading
import tomllib
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tweetguard.stores import secrets

SERVER_FILE = "server.toml"
STATE_FILE = "sync-state.json"
CREDENTIAL = "server-credential"
DEFAULT_POLL_SECONDS = 180
# A poll interval outside these bounds is taken as a mistake and clamped.
MIN_POLL_SECONDS, MAX_POLL_SECONDS = 15, 24 * 3600

STATES = ("online", "offline", "refused")


class EnrolmentError(Exception):
    """server.toml or the credential cannot be read or written; one line for IT."""


@dataclass(frozen=True)
class Enrolment:
    url: str
    device_id: str
    school_id: str
    school: str
    trust: str = ""
    poll_seconds: int = DEFAULT_POLL_SECONDS
    ca_file: str | None = None
    enrolled_at: str = ""

    @property
    def ca_path(self) -> Path | None:
        return Path(self.ca_file) if self.ca_file else None


def server_file(home: Path) -> Path:
    return home / SERVER_FILE


def state_file(home: Path) -> Path:
    return home / STATE_FILE


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def clamp_poll(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return DEFAULT_POLL_SECONDS
    return int(min(max(value, MIN_POLL_SECONDS), MAX_POLL_SECONDS))


# --- server.toml ------------------------------------------------------------------


def load_enrolment(home: Path) -> Enrolment | None:
    """The enrolment, or None when this machine is not enrolled (no server.toml)."""
    path = server_file(home)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise EnrolmentError(
            f"{path} cannot be read ({_reason(exc)}); fix it, or run `tweetguard unenrol` "
            "and enrol again"
        ) from None
    try:
        return Enrolment(
            url=str(data["url"]),
            device_id=str(data["device_id"]),
            school_id=str(data["school_id"]),
            school=str(data.get("school", "")),
            trust=str(data.get("trust", "")),
            poll_seconds=clamp_poll(data.get("poll_seconds", DEFAULT_POLL_SECONDS)),
            ca_file=str(data["ca_file"]) if data.get("ca_file") else None,
            enrolled_at=str(data.get("enrolled_at", "")),
        )
    except KeyError as exc:
        raise EnrolmentError(
            f"{path} has no {exc.args[0]}; run `tweetguard unenrol` and enrol again"
        ) from None


def save_enrolment(home: Path, enrolment: Enrolment) -> None:
    import tomlkit  # only when enrolling: the hello reads server.toml with tomllib

    document = tomlkit.document()
    document.add(tomlkit.comment("Written by `tweetguard enrol`; `tweetguard unenrol` removes it."))
    document.add(tomlkit.comment("The device credential is in the OS keyring, never in this file."))
    for key, value in asdict(enrolment).items():
        if value is not None:
            document[key] = value
    _write_atomic(server_file(home), tomlkit.dumps(document))


# --- the credential ---------------------------------------------------------------


def load_credential(home: Path) -> str | None:
    try:
        value = secrets.get_secret(home, CREDENTIAL)
    except secrets.SecretsError as exc:
        raise EnrolmentError(f"the device credential cannot be read: {exc}") from None
    return value.decode("utf-8") if value is not None else None


def save_credential(home: Path, credential: str) -> secrets.SecretStore:
    try:
        return secrets.set_secret(home, CREDENTIAL, credential.encode("utf-8"))
    except (secrets.SecretsError, OSError) as exc:
        raise EnrolmentError(f"the device credential cannot be stored: {exc}") from None


def forget_credential(home: Path) -> bool:
    try:
        return secrets.delete_secret(home, CREDENTIAL)
    except (secrets.SecretsError, OSError) as exc:
        raise EnrolmentError(f"the device credential cannot be removed: {exc}") from None


# --- sync-state.json --------------------------------------------------------------


@dataclass(frozen=True)
class Connection:
    """How the last round went, for the hello reply and the popup."""

    state: str = "online"  # one of STATES
    since: str = ""  # when this state began (ISO 8601 UTC)
    note: str = ""  # one line
    last_ok: str = ""  # the end of the last round that reached the server


@dataclass(frozen=True)
class SyncState:
    policy_version: str | None = None
    policy_sha256: str | None = None  # of the policy.toml this device last wrote
    policy_rejected: str | None = None  # a server version this helper could not use
    register_revision: int = 0  # the server's revision this device holds
    register_local: int = 0  # the local register's own revision right after that
    connection: Connection = field(default_factory=Connection)
    # source -> what the server refused: {"expected_seq", "server_last_seq", "row_hash", "note"}
    audit_refused: dict[str, dict[str, Any]] = field(default_factory=dict)
    # source -> where the server's copy ends, {"last_seq", "last_hash"}, as GET /status
    # or the last push said: a round pushes from here without asking /status again.
    audit_held: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SyncState:
        conn = data.get("connection") or {}
        connection = Connection(
            **{k: str(v) for k, v in conn.items() if k in Connection.__dataclass_fields__}
        )
        if connection.state not in STATES:
            connection = replace(connection, state="offline")
        refused = data.get("audit_refused") or {}
        held = data.get("audit_held") or {}
        return cls(
            policy_version=_opt_str(data.get("policy_version")),
            policy_sha256=_opt_str(data.get("policy_sha256")),
            policy_rejected=_opt_str(data.get("policy_rejected")),
            register_revision=_int(data.get("register_revision")),
            register_local=_int(data.get("register_local")),
            connection=connection,
            audit_refused={str(k): dict(v) for k, v in refused.items() if isinstance(v, dict)},
            audit_held={str(k): dict(v) for k, v in held.items() if isinstance(v, dict)},
        )


# The state of a round this process ran but could not write down (a data folder this
# user may not write): the hello reads it here. Dropped again once the file is written.
_live: dict[Path, SyncState] = {}
_live_lock = threading.Lock()


def load_state(home: Path) -> SyncState:
    """The last round's state: this process's own when the file could not be written,
    else the file's (another process, `tweetguard sync`, may have written it since);
    a missing or damaged file is a fresh start (the next round fetches everything)."""
    with _live_lock:
        live = _live.get(home.absolute())
    if live is not None:
        return live
    try:
        data = json.loads(state_file(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return SyncState()
    return SyncState.from_json(data) if isinstance(data, dict) else SyncState()


def save_state(home: Path, state: SyncState) -> str | None:
    """Writes the state; None, or one line on why the file could not be written (the
    state is then kept in this process, for its hello replies)."""
    try:
        _write_atomic(state_file(home), json.dumps(state.to_json(), indent=1, sort_keys=True))
    except OSError as exc:
        with _live_lock:
            _live[home.absolute()] = state
        return f"{state_file(home)} cannot be written ({_reason(exc)})"
    with _live_lock:
        _live.pop(home.absolute(), None)
    return None


def forget_state(home: Path) -> None:
    with _live_lock:
        _live.pop(home.absolute(), None)
    state_file(home).unlink(missing_ok=True)


def hello_status(home: Path) -> dict[str, Any] | None:
    """The hello reply's `server`: {url, state, since, note}; None when not enrolled.
    Never raises: the hello must be answered whatever is wrong here."""
    try:
        enrolment = load_enrolment(home)
    except EnrolmentError as exc:
        return {"url": "", "state": "refused", "since": "", "note": str(exc)}
    if enrolment is None:
        return None
    connection = load_state(home).connection
    if not connection.since:  # enrolled, no round finished yet (or its state was lost)
        return {
            "url": enrolment.url,
            "state": "offline",
            "since": "",
            "note": "Not synced with the school's server yet: working on this machine's "
            "own policy and register",
        }
    note = connection.note
    return {
        "url": enrolment.url,
        "state": connection.state,
        "since": connection.since,
        "note": note,
    }


def _write_atomic(path: Path, text: str) -> None:
    """Written beside and renamed over: a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _opt_str(value: object) -> str | None:
    return str(value) if isinstance(value, str) and value else None


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
