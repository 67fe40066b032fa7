"""Sign-in per user, and the one decorator every page goes through.

The session is Flask's signed cookie (user id, sign-in time, last activity, the
user's session epoch): any server process can check it, and the user is read from
the database on every request, so a disabled account, a removed school or a
sign-out (which raises the epoch) takes effect at once everywhere.
`allowed(action)` asks `tenancy.can` for the school in the route's path; a school
the user does not work on is 404 (its existence is not told), an action their
role lacks is 403.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from tweetguard.server import tenancy
from tweetguard.server.console import lockout
from tweetguard.server.db import Database

bp = Blueprint("server_auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])
IDLE = timedelta(minutes=30)
LONGEST = timedelta(hours=8)


def db() -> Database:
    return cast(Database, current_app.extensions["tweetguard_db"])


def user() -> tenancy.User:
    return cast(tenancy.User, g.user)


def _signed_in() -> tenancy.User | None:
    uid, started, seen = session.get("uid"), session.get("at"), session.get("seen")
    if not isinstance(uid, str) or not isinstance(started, float) or not isinstance(seen, float):
        return None
    moment = datetime.now(UTC).timestamp()
    if moment - seen > IDLE.total_seconds() or moment - started > LONGEST.total_seconds():
        session.clear()
        return None
    found = tenancy.get_user(db(), uid)
    if found is None or session.get("epoch") != found.session_epoch:
        session.clear()
        return None
    session["seen"] = moment
    return found


def allowed(action: str) -> Callable[[F], F]:
    """Signs the user in (or sends them to sign in) and checks `action` on the
    route's school_id, or on their trust for a trust.* action."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            refused = admit(action, kwargs.get("school_id"))
            return refused if refused is not None else view(*args, **kwargs)

        return cast(F, wrapped)

    return decorate


def admit(action: str, school_id: str | None) -> BaseResponse | None:
    """None when the signed-in user may do `action` on `school_id` (then `g.user` is
    them); the sign-in page when nobody is signed in; 404 for a school not theirs,
    403 for an action their role lacks (both raised)."""
    found = _signed_in()
    if found is None:
        return redirect(url_for("server_auth.login", next=request.full_path.rstrip("?")))
    g.user = found
    if school_id is not None and school_id not in found.schools:
        abort(404)
    if not tenancy.can(found, action, school_id):
        abort(403)
    return None


def safe_next(target: str | None) -> str:
    """Only a path on this server: no scheme, host, backslash or control character."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return url_for("server_pages.overview")
    if "\\" in target or any(ord(ch) < 32 for ch in target) or urlsplit(target).netloc:
        return url_for("server_pages.overview")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int] | BaseResponse:
    if request.method == "GET":
        return render_template("login.html", error=None)
    email = request.form.get("email", "").strip().lower()
    password = request.form.get("password", "")
    moment = lockout.now()
    until = lockout.locked_until(db(), email, moment)
    if until is None and not lockout.count_attempt(db(), email, moment):
        until = lockout.locked_until(db(), email, moment)
    if until is not None:
        message = (
            f"Too many wrong passwords for {email}: try again after {until[11:16]} UTC, "
            "or ask the trust admin to reset the password."
        )
        return render_template("login.html", error=message), 429
    found = tenancy.check_password(db(), email, password)
    if found is None:
        return render_template(
            "login.html", error="That email and password do not match; check both and try again."
        ), 401
    lockout.succeeded(db(), email)
    session.clear()
    stamp = datetime.now(UTC).timestamp()
    session.update(uid=found.id, at=stamp, seen=stamp, epoch=found.session_epoch)
    session.permanent = True
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> BaseResponse:
    """Ends this user's sessions in every browser and process, not just this cookie:
    a copied cookie is worth nothing after sign-out."""
    found = _signed_in()
    if found is not None:
        tenancy.end_sessions(db(), found.id)
    session.clear()
    return redirect(url_for("server_auth.login"))
