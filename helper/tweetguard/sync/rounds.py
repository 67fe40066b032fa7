"""One sync round: status, policy, register, audit, in that order, and what the
device's connection to its server is afterwards (online, offline or refused).

Status comes first when it is needed: it says where the server's copy of each
audit ends. Every device calls every few minutes and status is the one call that
reads the database when nothing changed, so a round asks it only at the start of
a process, after a refusal, and when an audit has rows whose resume point is not
known; otherwise it pushes from where the last push ended (kept in the state) and
asks status only if the server refuses that. The policy poll still says whether
the device is known (401). Policy and register come before the audit, so the rows that
record their changes go up in the same round. A server that cannot be reached
ends the round at once and leaves everything as it was: the checks go on with the
last good policy and register, and the state says since when the device has been
offline. Rounds of one data folder take turns (an OS lock on sync.lock), so the
host's loop and `tweetguard sync` never apply the same change twice at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from tweetguard.stores.lockfile import try_lock
from tweetguard.sync.audit_push import push_audit, unknown_sources
from tweetguard.sync.client import Refused, ServerClient, SyncError
from tweetguard.sync.outcome import PROBLEM, REFUSED, Step
from tweetguard.sync.policy_pull import pull_policy
from tweetguard.sync.register_pull import pull_register
from tweetguard.sync.state import (
    Connection,
    Enrolment,
    EnrolmentError,
    SyncState,
    clamp_poll,
    load_credential,
    load_enrolment,
    load_state,
    now_iso,
    save_enrolment,
    save_state,
)

log = logging.getLogger("tweetguard.sync")

LOCK_FILE = "sync.lock"
# Data folders whose round already asked GET /status in this process.
_status_asked: set[Path] = set()


class NotEnrolled(Exception):
    """This machine has no server.toml: `tweetguard enrol` first."""


class Busy(Exception):
    """Another round of this data folder is running (the host's loop, or `tweetguard sync`)."""


@dataclass(frozen=True)
class RoundResult:
    steps: list[Step] = field(default_factory=list)
    connection: Connection = field(default_factory=Connection)
    state: SyncState = field(default_factory=SyncState)

    @property
    def ok(self) -> bool:
        return self.connection.state == "online" and all(s.outcome == "ok" for s in self.steps)


def run_round(
    home: Path,
    *,
    client_for: Callable[[Enrolment, str], ServerClient] | None = None,
    lock_wait: float = 30.0,
    ask_status: bool | None = None,
) -> RoundResult:
    """One round: NotEnrolled, Busy, or the steps and the connection after them (the
    state is written to sync-state.json, or kept in this process when it cannot be).
    `ask_status` None: GET /status only when needed (the module's docstring)."""
    enrolment = load_enrolment(home)
    if enrolment is None:
        raise NotEnrolled(
            f"this machine is not enrolled with a school's server (no {home / 'server.toml'}); "
            "run `tweetguard enrol https://SERVER --code CODE`"
        )
    with _round_lock(home, lock_wait):
        before = load_state(home)
        if ask_status is None:
            ask_status = (
                home not in _status_asked
                or bool(before.audit_refused)
                or bool(unknown_sources(home, before))
            )
        steps, state, failure = _steps(
            home, enrolment, before, client_for or _client, ask_status=ask_status
        )
        if failure is None:
            _status_asked.add(home)
        connection = _connection(before.connection, steps, failure, state)
        state = replace(state, connection=connection)
        unsaved = save_state(home, state)
    if unsaved is not None:
        steps.append(Step("state", f"{unsaved}; kept in this process only", PROBLEM))
    if connection.state != before.connection.state:
        level = logging.INFO if connection.state == "online" else logging.WARNING
        log.log(level, "sync: now %s: %s", connection.state, connection.note)
    for step in steps:
        log.info("sync %s", step)
    return RoundResult(steps, connection, state)


def _steps(
    home: Path,
    enrolment: Enrolment,
    state: SyncState,
    client_for: Callable[[Enrolment, str], ServerClient],
    *,
    ask_status: bool = True,
) -> tuple[list[Step], SyncState, tuple[str, str] | None]:
    """The steps done, the state after them, and (state, note) if the round ended early."""
    steps: list[Step] = []
    try:
        credential = load_credential(home)
        if credential is None:
            raise Refused(
                401,
                "no_credential",
                "this machine's device credential is gone from the keyring: run `tweetguard "
                "unenrol`, then enrol again with a new code",
                {},
            )
        client = client_for(enrolment, credential)
        held: Mapping[str, Any] = state.audit_held
        if ask_status:
            held = _status(client, home, enrolment, steps)
        step, state = pull_policy(client, home, state)
        steps.append(step)
        if not ask_status:
            steps.insert(0, Step("server", f"{enrolment.url} reached"))
        step, state = pull_register(client, home, enrolment, state)
        steps.append(step)
        audit_steps, pushed = push_audit(client, home, state, held)
        if not ask_status and any(s.outcome == REFUSED for s in audit_steps):
            # Pushed from a remembered end that no longer holds: ask where it is.
            held = _status(client, home, enrolment, [])
            audit_steps, pushed = push_audit(client, home, state, held)
        state = pushed
        steps.extend(audit_steps)
    except Refused as exc:
        note = f"the server refused this machine ({exc.code}): {exc}"
        steps.append(Step("server", note, REFUSED))
        return steps, state, ("refused", note)
    except (SyncError, EnrolmentError) as exc:
        working = "working offline on the school's last policy and register"
        steps.append(Step("server", f"{exc}; {working}", PROBLEM))
        return steps, state, ("offline", f"{exc}; {working}")
    return steps, state, None


def _status(
    client: ServerClient, home: Path, enrolment: Enrolment, steps: list[Step]
) -> Mapping[str, Any]:
    """GET /status: the device is known, the poll interval, where each audit resumes."""
    status = client.status()
    school = status.get("school") or {}
    steps.append(
        Step(
            "server",
            f"{enrolment.url} reached as {status['device_id']} "
            f"({school.get('name') or enrolment.school})",
        )
    )
    _keep_poll(home, enrolment, status.get("poll_seconds"))
    audit = status.get("audit")
    return audit if isinstance(audit, Mapping) else {}


def _connection(
    before: Connection, steps: list[Step], failure: tuple[str, str] | None, state: SyncState
) -> Connection:
    now = now_iso()
    if failure is not None:
        kind, note = failure
        last_ok = before.last_ok
    else:
        refused = [s for s in steps if s.outcome == REFUSED]
        kind = "refused" if refused else "online"
        note = (
            refused[0].line
            if refused
            else f"Up to date with the school's server (policy {state.policy_version}, "
            f"register revision {state.register_revision})"
        )
        last_ok = now
    since = before.since if before.state == kind and before.since else now
    return Connection(state=kind, since=since, note=" ".join(note.split()), last_ok=last_ok)


def _keep_poll(home: Path, enrolment: Enrolment, poll: object) -> Enrolment:
    """The server may change the poll interval: kept in server.toml for the loop."""
    if poll is None or clamp_poll(poll) == enrolment.poll_seconds:
        return enrolment
    changed = replace(enrolment, poll_seconds=clamp_poll(poll))
    try:
        save_enrolment(home, changed)
    except OSError as exc:
        log.info("sync: poll interval not saved (%s)", exc)
    return changed


def _client(enrolment: Enrolment, credential: str) -> ServerClient:
    return ServerClient(enrolment.url, credential=credential, ca_file=enrolment.ca_path)


@contextmanager
def _round_lock(home: Path, wait: float) -> Iterator[None]:
    """An OS lock on sync.lock for the round, let go by the OS if the process dies.
    A folder this user cannot write has no lock: the round goes on unlocked."""
    import time

    try:
        handle: IO[str] | None = open(home / LOCK_FILE, "a+", encoding="utf-8")  # noqa: SIM115
    except OSError:
        handle = None
    try:
        if handle is not None:
            deadline = time.monotonic() + wait
            while not try_lock(handle.fileno()):
                if time.monotonic() >= deadline:
                    raise Busy(
                        "another sync of this data folder is running (the helper's, or "
                        "`tweetguard sync`); try again when it has finished"
                    )
                time.sleep(0.05)
        yield
    finally:
        if handle is not None:
            handle.close()
