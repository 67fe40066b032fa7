"""The Accounts page: the approved accounts as X knows them, the X API credentials
(write-only: never shown back), and verify and sweep on demand.

The page is a face over tweetguard.xapi, like `tweetguard accounts verify|sweep`.
Without credentials it says what is missing and how to add them; the rest of the
console does not need them. Verify and sweep results are kept in memory until the
next run (post, redirect, get), per set of accounts, and the outside posts come
from the audit.

Whose accounts is the app's answer (console/site.py): the school console's data
folder, or on the server the school in the path; this blueprint serves both.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from tweetguard.console.site import ACCOUNTS, Accounts, page, site
from tweetguard.stores.audit import AuditError
from tweetguard.stores.policy import Policy, PolicyError
from tweetguard.stores.secrets import SecretsError, secret_store
from tweetguard.xapi import credentials
from tweetguard.xapi.credentials import CredentialsError

bp = Blueprint("accounts", __name__)

# A console request should not hang for a minute on a rate limit: wait less than the CLI.
MAX_WAIT = 15.0
FIELD_LABELS = {
    "bearer_token": "Bearer token",
    "consumer_key": "API key (consumer key)",
    "consumer_secret": "API key secret (consumer secret)",
    "access_token": "Access token",
    "access_token_secret": "Access token secret",
}


@dataclass
class LastRuns:
    """The latest verify and sweep, for the page to show after its redirect."""

    verify: list[dict[str, Any]] | None = None
    verify_at: str = ""
    sweep: dict[str, Any] | None = None
    sweep_at: str = ""
    error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    KEPT = ("verify", "verify_at", "sweep", "sweep_at", "error")

    def load(self, path: Path) -> None:
        """What another process kept in `path` (nothing kept yet: as it is)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            current_app.logger.warning("the last X API runs in %s are unreadable: %s", path, exc)
            return
        if isinstance(data, dict):
            for name in self.KEPT:
                if name in data:
                    setattr(self, name, data[name])

    def save(self, path: Path) -> None:
        fresh = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        fresh.write_text(json.dumps({n: getattr(self, n) for n in self.KEPT}), encoding="utf-8")
        os.replace(fresh, path)


_LAST_LOCK = threading.Lock()


def _last(scope: Accounts) -> LastRuns:
    """The last runs of these accounts (of this school, on the server), as kept in
    the scope's results file when it has one: the page after the redirect may be
    served by another process."""
    with _LAST_LOCK:
        runs: dict[str, LastRuns] = current_app.extensions.setdefault("tweetguard_xapi_last", {})
        found = runs.setdefault(scope.key, LastRuns())
    if scope.results_file is not None:
        with found.lock:  # not half a verify's results
            found.load(scope.results_file)
    return found


def _keep(scope: Accounts, last: LastRuns) -> None:
    if scope.results_file is not None:
        try:
            last.save(scope.results_file)
        except OSError as exc:
            flash(f"The result is shown here only once: it could not be kept ({exc}).")


def home() -> Path:
    return site().accounts().home


@bp.route("/")
@page(ACCOUNTS)
def index() -> str:
    scope = site().accounts()
    data = scope.home
    policy_error = ""
    try:
        policy: Policy | None = scope.policy()
    except PolicyError as exc:
        policy, policy_error = None, str(exc)
    stored_error = ""
    try:
        stored = credentials.stored(data)
    except (CredentialsError, SecretsError) as exc:
        stored, stored_error = None, str(exc)
    try:
        store_where = secret_store(data).describe()
    except SecretsError as exc:
        store_where = str(exc)
    # The server hides them from a role that may not read the school's audit.
    outside_note: str = getattr(scope, "outside_hidden", "")
    try:
        outside = scope.outside(50)
    except AuditError as exc:
        outside, policy_error = [], policy_error or str(exc)
    last = _last(scope)
    return render_template(
        "accounts.html",
        policy=policy,
        policy_error=policy_error,
        stored=stored,
        stored_error=stored_error,
        store_where=store_where,
        kinds=credentials.KINDS,
        fields=credentials.FIELDS,
        labels=credentials.LABELS,
        field_labels=FIELD_LABELS,
        outside=outside,
        outside_note=outside_note,
        last=last,
        today=date.today().isoformat(),
        policy_url=scope.policy_url(),
        can_sweep=scope.can_sweep,
    )


@bp.post("/credentials")
@page(ACCOUNTS)
def store_credentials() -> Response:
    kind = request.form.get("kind", "")
    if kind not in credentials.KINDS:
        flash("Choose which kind of credentials to store (bearer token, OAuth 1.0a or 2.0).")
        return _back()
    values = {f: request.form.get(f, "") for f in credentials.FIELDS[kind]}
    try:
        where = credentials.save(home(), credentials.make(kind, values))
    except (CredentialsError, SecretsError) as exc:
        flash(f"Not stored: {exc}.")
        return _back()
    flash(f"Stored {credentials.LABELS[kind]} in {where.store.describe()}. Verify them below.")
    _record("credentials-stored", kind)
    return _back()


@bp.post("/credentials/delete")
@page(ACCOUNTS)
def delete_credentials() -> Response:
    try:
        deleted = credentials.delete(home())
    except SecretsError as exc:
        flash(f"Not deleted: {exc}.")
        return _back()
    if deleted:
        flash("Deleted the X API credentials; verify and sweep need new ones.")
        _record("credentials-deleted", None)
    else:
        flash("No X API credentials were stored; nothing deleted.")
    return _back()


def _record(action: str, kind: str | None) -> None:
    """The change is made; an audit that cannot record it is said, not hidden."""
    try:
        site().accounts().record(action, kind)
    except AuditError as exc:
        flash(f"Done, but the audit could not record it: {exc}")


@bp.post("/verify")
@page(ACCOUNTS)
def run_verify() -> Response:
    scope = site().accounts()
    last = _last(scope)
    with last.lock:
        last.error = ""
        try:
            result = scope.verify(_client())
        except Exception as exc:  # every failure below is one line for the page
            last.error = _one_line(exc)
            _keep(scope, last)
            return _back()
        last.verify = [a.to_json() for a in result.accounts]
        last.verify_at = _now()
        _keep(scope, last)
    if not result.accounts:
        flash("No account is approved yet: add one on the Policy page, then verify.")
    return _back()


@bp.post("/sweep")
@page(ACCOUNTS)
def run_sweep() -> Response:
    scope = site().accounts()
    if not scope.can_sweep:
        flash(
            "Sweeps do not run on the server yet: run `tweetguard accounts sweep` on a "
            "machine of the school (its rows reach this server with its audit)."
        )
        return _back()
    since = None
    if request.form.get("since"):
        try:
            since = date.fromisoformat(request.form["since"])
        except ValueError:
            flash("The date to sweep from must be a date (YYYY-MM-DD), or left empty.")
            return _back()
    last = _last(scope)
    with last.lock:
        last.error = ""
        try:
            result = scope.sweep(_client(), since)
        except Exception as exc:
            last.error = _one_line(exc)
            _keep(scope, last)
            return _back()
        last.sweep = result.to_json()
        last.sweep_at = _now()
        _keep(scope, last)
    return _back()


def _client() -> Any:
    from tweetguard.xapi.client import XClient

    return XClient(credentials.require(home()), max_wait=MAX_WAIT)


def _one_line(exc: Exception) -> str:
    """The xapi, policy, audit and secrets errors are one line already; anything
    else is a bug, logged in full and said briefly."""
    from tweetguard.xapi.client import XApiError
    from tweetguard.xapi.sweep import SweepError

    known = (XApiError, SweepError, CredentialsError, SecretsError, PolicyError, AuditError)
    if isinstance(exc, known):
        return str(exc)
    current_app.logger.exception("accounts page failed")
    return f"unexpected error ({type(exc).__name__}: {exc}); the console's log has the details"


def _now() -> str:
    from datetime import datetime

    return datetime.now().strftime("%H:%M")


def _back() -> Response:
    return redirect(url_for("accounts.index"))
