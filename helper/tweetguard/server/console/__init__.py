"""The server's pages: sign-in per user, trust and schools, users, devices, policy
layers, registers and audit.

Every route asks `tenancy.can` (through `auth.allowed`) before it reads anything,
and every school-scoped route has the school in its path, so the test that walks
the app's url_map covers a new page by itself. The console's CSS, base template,
live-feed script, error page and security settings (CSRF, cookie flags, headers:
`console.security`) are reused through Jinja's loaders and the app's static
folder, and its help and accounts blueprints are registered here as they are
(server/console/site.py answers what they ask of the app), not copied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, g, render_template, request
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader
from werkzeug.exceptions import HTTPException

from tweetguard.console.rows import KIND_LABELS, row_format
from tweetguard.server.api import MAX_BODY, http_error
from tweetguard.server.tenancy import ROLE_NAMES, can

COOKIE_NAME = "tweetguard_server"


def install(app: Flask, data_dir: Path) -> None:
    from tweetguard.console.security import install_security
    from tweetguard.server.console import audit, auth, pages, policy, register, site

    install_security(app, data_dir)
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        # The server answers under its own names (behind a proxy, several); the
        # console's loopback-only host check does not apply.
        TRUSTED_HOSTS=None,
        MAX_CONTENT_LENGTH=MAX_BODY,
        # CSRF is checked below for the pages only: devices authenticate with a
        # bearer credential, which a foreign page cannot send.
        WTF_CSRF_CHECK_DEFAULT=False,
    )
    # The console redirects localhost to http://127.0.0.1; the server is reached
    # by name over HTTPS, so that redirect is taken out.
    app.before_request_funcs[None] = [
        f for f in app.before_request_funcs.get(None, []) if f.__name__ != "one_name"
    ]
    csrf = app.extensions["csrf"]

    @app.before_request
    def pages_csrf() -> None:
        if not request.path.startswith("/api/"):
            csrf.protect()

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(Path(__file__).with_name("templates"))),
            PackageLoader("tweetguard.console", "templates"),
        ]
    )
    app.jinja_env.globals["role_names"] = ROLE_NAMES
    # Rows read as on the school console, whether drawn here or by live.js.
    app.jinja_env.globals["row_format"] = row_format
    app.jinja_env.globals["kind_labels"] = KIND_LABELS
    app.jinja_env.tests["permitted"] = _permitted

    @app.errorhandler(403)
    def forbidden(exc: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            return http_error(exc)
        return render_template(
            "error.html",
            title="Not for your role",
            message="Your role cannot do this; ask your trust admin if you need it.",
        ), 403

    @app.errorhandler(404)
    def not_found(exc: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            return http_error(exc)
        return render_template(
            "error.html",
            title="Not found",
            message="There is no such page, or it belongs to a school you do not work on.",
        ), 404

    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(policy.bp)
    app.register_blueprint(register.bp)
    app.register_blueprint(audit.bp)
    site.install(app, data_dir)


def _permitted(action: str, school_id: str | None) -> bool:
    """`{% if 'policy.edit' is permitted(school.id) %}`: a page shows only what the
    route behind it would allow (the route checks again)."""
    return can(g.get("user"), action, school_id)
