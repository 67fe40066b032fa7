"""Enrol this machine with a school's server, and forget it again.

Enrolment spends a one-time code from the server's dashboard (POST /enrol) and
keeps what comes back: the credential in the OS keyring, the rest in server.toml.
The credential is written first and server.toml last, so a machine is never left
"enrolled" without the means to prove it. Unenrolling forgets the credential and
the server but keeps the last policy and register: the checks go on as they were,
now edited on this machine again.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from tweetguard.stores.secrets import SecretStore
from tweetguard.sync.client import TIMEOUT_SECONDS, BadReply, ServerClient, check_url
from tweetguard.sync.state import (
    Enrolment,
    EnrolmentError,
    clamp_poll,
    forget_credential,
    forget_state,
    load_enrolment,
    now_iso,
    save_credential,
    save_enrolment,
    server_file,
)


class AlreadyEnrolled(Exception):
    """server.toml exists: one school's server at a time."""


@dataclass(frozen=True)
class Enrolled:
    enrolment: Enrolment
    kept_in: SecretStore


def enrol(
    home: Path,
    url: str,
    code: str,
    *,
    ca_file: Path | None = None,
    name: str | None = None,
    timeout: float | None = None,
) -> Enrolled:
    """Raises ValueError (a wrong address or code), AlreadyEnrolled, SyncError (the
    server's refusal or no answer), EnrolmentError (nothing could be kept here)."""
    base = check_url(url)
    code = code.strip()
    if not code:
        raise ValueError("the enrolment code is empty; copy it from the server's Devices page")
    existing = load_enrolment(home)
    if existing is not None:
        raise AlreadyEnrolled(
            f"this machine is already enrolled with {existing.url} ({existing.school}); "
            "run `tweetguard unenrol` first"
        )
    ca = ca_file.absolute() if ca_file else None
    client = ServerClient(base, ca_file=ca, timeout=timeout or TIMEOUT_SECONDS)
    body = client.enrol(code, name=name or socket.gethostname(), kind="helper")
    school, trust = body.get("school") or {}, body.get("trust") or {}
    if not isinstance(school.get("id"), str):
        raise BadReply("the server's enrol answer has no school id: is it up to date?")
    enrolment = Enrolment(
        url=base,
        device_id=body["device_id"],
        school_id=school["id"],
        school=str(school.get("name") or ""),
        trust=str(trust.get("name") or "") if isinstance(trust, dict) else "",
        poll_seconds=clamp_poll(body.get("poll_seconds")),
        ca_file=str(ca) if ca else None,
        enrolled_at=now_iso(),
    )
    kept_in = save_credential(home, body["credential"])
    try:
        forget_state(home)  # a state left by an earlier enrolment is not this one's
        save_enrolment(home, enrolment)
    except OSError as exc:
        forget_credential(home)
        raise EnrolmentError(
            f"{server_file(home)} cannot be written ({exc.strerror or exc}); enrol as the "
            "user who owns the data folder (the code is spent: ask IT for a new one)"
        ) from None
    return Enrolled(enrolment, kept_in)


def unenrol(home: Path) -> Enrolment | None:
    """Forgets the credential, the server and the sync state; the policy and the
    register stay. The enrolment it was, or None when there was none."""
    try:
        enrolment = load_enrolment(home)
    except EnrolmentError:
        enrolment = None  # a damaged server.toml is removed all the same
    forget_credential(home)
    forget_state(home)
    server_file(home).unlink(missing_ok=True)
    return enrolment
