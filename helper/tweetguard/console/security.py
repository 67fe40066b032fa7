"""What every console page shares: the session cookie, CSRF, and the response headers.

The console runs on loopback, but a page on any other site the admin visits can
still aim requests at http://127.0.0.1:PORT. So: forms carry a CSRF token
(flask-wtf), the cookie is SameSite=Strict and HttpOnly, the Host header must be
the loopback name (a DNS-rebinding page has its own), and the
Content-Security-Policy lets a page load and connect only to the console itself
and its live feed, and be framed by nobody.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask, Response, redirect, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect  # type: ignore[import-untyped]
from itsdangerous import BadSignature
from werkzeug.wrappers import Response as BaseResponse

from tweetguard.stores.secrets import get_or_create_secret

SESSION_SECRET = "console-session-key"
COOKIE_NAME = "tweetguard_console"


def install_security(app: Flask, home: Path) -> None:
    app.config.update(
        SECRET_KEY=get_or_create_secret(home, SESSION_SECRET),
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        # Chromium keeps a Secure cookie set by http://127.0.0.1 (a "potentially
        # trustworthy" origin); tests/e2e/test_dashboard.py checks it does.
        SESSION_COOKIE_SECURE=True,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        # The token is bound to the session, which ends on sign-out or when idle.
        WTF_CSRF_TIME_LIMIT=None,
        TRUSTED_HOSTS=["127.0.0.1", "localhost"],
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,  # a register export, with room to spare
    )
    CSRFProtect(app)

    @app.errorhandler(CSRFError)
    def refused(error: CSRFError) -> tuple[str, int]:
        return (
            render_template(
                "error.html",
                title="Form refused",
                message=(
                    "This form did not come from a console page that is open now "
                    f"({error.description.rstrip('.')}). Go back, reload the page and "
                    "send it again."
                ),
            ),
            400,
        )

    @app.before_request
    def one_name() -> BaseResponse | None:
        """localhost is let through the host check only to be sent on: the live feed
        follows pages of http://127.0.0.1:PORT exactly, and a cookie set for one
        name is not sent to the other, so the console answers under one name."""
        host = request.host
        if host == "localhost" or host.startswith("localhost:"):
            port = host.partition(":")[2]
            target = f"http://127.0.0.1{':' + port if port else ''}{request.full_path}"
            if not request.query_string:
                target = target.removesuffix("?")
            return redirect(target, 308)
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        feed = app.config.get("TWEETGUARD_FEED_URL")
        connect = f"'self' {feed}" if feed else "'self'"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            f"connect-src {connect}; frame-ancestors 'none'; form-action 'self'; "
            "base-uri 'none'; object-src 'none'"
        )
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        return response


def feed_authorizer(app: Flask) -> Callable[[str | None], bool]:
    """For the live feed: whether a session cookie's value is a live sign-in.

    The cookie is read with the app's own signing serializer (so a forged or
    altered cookie fails) and its sign-in id must still be in the console's
    registry (so a signed-out or idle cookie fails too)."""
    from tweetguard.console.sessions import Sessions

    sessions: Sessions = app.extensions["tweetguard_sessions"]
    lifetime = app.permanent_session_lifetime.total_seconds()

    def authorize(cookie: str | None) -> bool:
        if not cookie:
            return False
        serializer = SecureCookieSessionInterface().get_signing_serializer(app)
        if serializer is None:
            return False
        try:
            data = serializer.loads(cookie, max_age=int(lifetime))
        except BadSignature:
            return False
        return isinstance(data, dict) and sessions.alive(data.get("sid"))

    return authorize
