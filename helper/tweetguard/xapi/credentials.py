"""The school's X API credentials: one JSON secret in the OS keyring (stores/secrets.py).

Three kinds, as X's developer portal hands them out:
- "bearer": an app-only bearer token (reads public accounts and posts);
- "oauth1": consumer key and secret plus an access token and secret (user context);
- "oauth2-user": an OAuth 2.0 user access token (user context, expires after ~2 hours
  unless refreshed elsewhere).
Nothing here ever prints or returns a secret to a face: `describe` says which kind is
stored, when and where, and that is all anyone sees again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tweetguard.stores.secrets import (
    SecretsError,
    SecretStore,
    delete_secret,
    get_secret,
    secret_store,
    set_secret,
)

SECRET_NAME = "x-api-credentials"
KINDS = ("bearer", "oauth1", "oauth2-user")
FIELDS: dict[str, tuple[str, ...]] = {
    "bearer": ("bearer_token",),
    "oauth1": ("consumer_key", "consumer_secret", "access_token", "access_token_secret"),
    "oauth2-user": ("access_token",),
}
LABELS = {
    "bearer": "an app-only bearer token",
    "oauth1": "OAuth 1.0a keys (consumer key and secret, access token and secret)",
    "oauth2-user": "an OAuth 2.0 user access token",
}
HOW_TO_ADD = (
    "add them with `tweetguard accounts credentials --bearer-token` "
    "(or on the console's Accounts page)"
)


class CredentialsError(Exception):
    """Credentials that are missing, unreadable or incomplete; the message says how to fix it."""


@dataclass(frozen=True)
class Credentials:
    kind: str
    values: dict[str, str]
    stored_at: str = ""

    def __repr__(self) -> str:  # a traceback or a log line must never show a secret
        return f"Credentials(kind={self.kind!r}, stored_at={self.stored_at!r})"

    __str__ = __repr__

    @property
    def user_context(self) -> bool:
        """OAuth 1.0a signs each request; the other two are sent as a bearer token."""
        return self.kind == "oauth1"

    def bearer(self) -> str | None:
        if self.kind == "bearer":
            return self.values["bearer_token"]
        if self.kind == "oauth2-user":
            return self.values["access_token"]
        return None


@dataclass(frozen=True)
class Stored:
    """What is stored, for people: never the secret itself."""

    kind: str | None
    stored_at: str
    store: SecretStore

    def describe(self) -> str:
        if self.kind is None:
            return f"No X API credentials are stored; {HOW_TO_ADD}."
        when = f", stored {self.stored_at}" if self.stored_at else ""
        return f"X API credentials: {LABELS[self.kind]}{when}, in {self.store.describe()}."


def make(kind: str, values: dict[str, str]) -> Credentials:
    """Checks a new set before it is stored: every field present, no blanks or spaces."""
    if kind not in KINDS:
        raise CredentialsError(f"unknown credentials kind {kind!r}; use one of {', '.join(KINDS)}")
    cleaned = {}
    for field in FIELDS[kind]:
        value = (values.get(field) or "").strip()
        if not value:
            raise CredentialsError(
                f"{field.replace('_', ' ')} is empty; copy it from the X developer portal "
                "(Projects & Apps, your app, Keys and tokens)"
            )
        if any(c.isspace() for c in value):
            raise CredentialsError(
                f"{field.replace('_', ' ')} contains spaces; copy it again from the X "
                "developer portal, without line breaks"
            )
        cleaned[field] = value
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Credentials(kind, cleaned, stamp)


def save(home: Path, credentials: Credentials) -> Stored:
    payload = {"kind": credentials.kind, "stored_at": credentials.stored_at, **credentials.values}
    store = set_secret(home, SECRET_NAME, json.dumps(payload).encode("utf-8"))
    return Stored(credentials.kind, credentials.stored_at, store)


def load(home: Path) -> Credentials | None:
    """The stored credentials, or None when there are none."""
    raw = get_secret(home, SECRET_NAME)
    if raw is None:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        raise CredentialsError(
            "the stored X API credentials cannot be read; store them again with "
            "`tweetguard accounts credentials`"
        )
    kind = str(data["kind"])
    values = {f: str(data.get(f) or "") for f in FIELDS[kind]}
    if not all(values.values()):
        raise CredentialsError(
            "the stored X API credentials are incomplete; store them again with "
            "`tweetguard accounts credentials`"
        )
    return Credentials(kind, values, str(data.get("stored_at") or ""))


def require(home: Path) -> Credentials:
    found = load(home)
    if found is None:
        raise CredentialsError(f"no X API credentials are stored; {HOW_TO_ADD}")
    return found


def stored(home: Path) -> Stored:
    """What is stored and where; an unreadable entry is reported as an error, not as none."""
    found = load(home)
    store = secret_store(home)
    if found is None:
        return Stored(None, "", store)
    return Stored(found.kind, found.stored_at, store)


def delete(home: Path) -> bool:
    return delete_secret(home, SECRET_NAME)


__all__ = [
    "KINDS",
    "Credentials",
    "CredentialsError",
    "SecretsError",
    "Stored",
    "delete",
    "load",
    "make",
    "record",
    "require",
    "save",
    "stored",
]


def record(home: Path, action: str, *, kind: str | None = None, by: str = "cli") -> None:
    """An audit row for a stored or deleted set: which kind and where, never the secret.
    The change is made already; a row that cannot be written raises AuditError for
    the face to say (the reason is in the log and `tweetguard audit status`)."""
    from tweetguard.stores.audit import AuditError, record_change

    detail: dict[str, str] = {"action": action, "store": secret_store(home).kind}
    if kind:
        detail["credentials"] = kind
    if record_change(home, "accounts", by=by, detail=detail) is None:
        raise AuditError("the audit could not be written; run `tweetguard audit status` to see why")
