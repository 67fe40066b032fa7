"""First-run password, sign-in, sign-out and the lockout; `login_required` for every page."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from tweetguard.console import admin
from tweetguard.console.sessions import Sessions

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])


def home() -> Path:
    """The data folder this console shows."""
    return cast(Path, current_app.config["TWEETGUARD_HOME"])


def sessions() -> Sessions:
    return cast(Sessions, current_app.extensions["tweetguard_sessions"])


def lockout() -> admin.LockoutStore:
    return cast(admin.LockoutStore, current_app.extensions["tweetguard_lockout"])


def password_set() -> bool:
    """Whether first run is over. Read each time (a file or one keyring lookup), so
    a password reset by IT (the secret deleted) takes effect without a restart."""
    return admin.has_password(home())


def setup_token() -> str:
    """The one-time first-run token: made at start, kept only in this process's
    memory, printed by `tweetguard dashboard` on its terminal. Without it any local
    user who reached /setup first could choose the admin password."""
    return cast(str, current_app.extensions["tweetguard_setup_token"])


def _setup_token_given() -> bool:
    given = request.values.get("token", "")
    return hmac.compare_digest(given.encode("utf-8"), setup_token().encode("utf-8"))


def login_required(view: F) -> F:
    """The page needs a signed-in admin; otherwise first run or the sign-in page."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        refused = admit()
        return refused if refused is not None else view(*args, **kwargs)

    return cast(F, wrapped)


def admit() -> Response | None:
    """None when the admin is signed in; otherwise where to go instead (first run,
    or the sign-in page with a way back here)."""
    if not password_set():
        return redirect(url_for("auth.setup"))
    sid = session.get("sid")
    if not sessions().touch(sid):
        if sid is not None:
            session.clear()
            flash("You were signed out after a while without using the console.")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> Response | str | tuple[str, int]:
    if password_set():
        return redirect(url_for("auth.login"))
    if not _setup_token_given():
        return render_template("setup.html", need_token=True), 403
    error = None
    if request.method == "POST":
        try:
            admin.set_password(
                home(), request.form.get("password", ""), request.form.get("confirm", "")
            )
        except admin.PasswordRefused as exc:
            error = str(exc)
        else:
            _sign_in()
            flash("The admin password is set. Keep it where the school keeps passwords.")
            return redirect(url_for("overview.index"))
    return render_template(
        "setup.html",
        need_token=False,
        token=setup_token(),
        error=error,
        min_length=admin.MIN_LENGTH,
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if not password_set():
        return redirect(url_for("auth.setup"))
    now = datetime.now(UTC)
    try:
        state = lockout().state(now)
        if request.method != "POST":
            notice = _locked_message(state, now) if state.locked(now) else None
            return render_template("login.html", error=notice)
        # Counted before the slow compare, so guesses sent at once cannot pass the limit.
        allowed, state = lockout().reserve(now)
        if not allowed:
            return render_template("login.html", error=_locked_message(state, now)), 429
        if admin.password_matches(home(), request.form.get("password", "")):
            lockout().succeeded()
            _sign_in()
            return redirect(safe_next(request.form.get("next")))
    except admin.LockoutUnwritable as exc:
        return render_template("login.html", error=f"Sign-in is refused: {exc}."), 503
    if state.locked(now):
        return render_template("login.html", error=_locked_message(state, now)), 429
    left = lockout().max_failures - state.failures
    error = (
        f"Wrong password. {left} more wrong {'try' if left == 1 else 'tries'} and the "
        f"console locks for {lockout().minutes:g} minutes."
    )
    return render_template("login.html", error=error), 401


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    sessions().end(session.get("sid"))
    session.clear()
    flash("Signed out.")
    return redirect(url_for("auth.login"))


def _sign_in() -> None:
    session.clear()  # a fresh cookie for the new sign-in (no fixation)
    session.permanent = True
    session["sid"] = sessions().start()


def _locked_message(state: admin.Lockout, now: datetime) -> str:
    assert state.locked_until is not None
    minutes = max(1, round((state.locked_until - now).total_seconds() / 60))
    return (
        f"Too many wrong passwords: the console is locked until "
        f"{state.locked_until:%H:%M} UTC (about {minutes} minute{'s' if minutes != 1 else ''}). "
        "Wait, then try again."
    )


def safe_next(target: str | None) -> str:
    """Only a path on this console: never an open redirect to another site.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so
    "/\t/evil.example" or "/\\evil.example" would leave the console: any control
    character or backslash is refused, and what is left must parse as a bare path
    (no scheme, no host)."""
    fallback = url_for("overview.index")
    if not target or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target or any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in target):
        return fallback
    decoded = unquote(target)
    if decoded.startswith("//") or "\\" in decoded:
        return fallback
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in decoded):
        return fallback
    parts = urlsplit(target.strip())
    if parts.scheme or parts.netloc:
        return fallback
    return target
