"""The server's Flask app: the device API and the server's pages over one database.

Nothing but the database is shared between requests (the session cookie is
signed, sign-in lockouts are rows), so gunicorn may run several workers, and
several machines may run the server against one PostgreSQL. The Chromebook path
(server/api/protocol.py, S3's) is added through its `register(app)` hook.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from tweetguard.server.api import MAX_BODY, error
from tweetguard.server.db import Database, open_database


def create_server_app(
    database_url: str,
    *,
    data_dir: Path,
    testing: bool = False,
    database: Database | None = None,
) -> Flask:
    """The server for `database_url` (already migrated: `upgrade(url)`); `data_dir`
    holds its own secrets (the session key) and logs."""
    from tweetguard.server.api import sync

    data_dir.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__)
    app.config["TESTING"] = testing
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.config["TWEETGUARD_DATA_DIR"] = data_dir
    app.extensions["tweetguard_db"] = database or open_database(database_url)
    app.register_blueprint(sync.bp)
    _install_api_errors(app)
    _install_console(app, data_dir)
    importlib.import_module("tweetguard.server.api.protocol").register(app)
    return app


def _install_console(app: Flask, data_dir: Path) -> None:
    try:
        console = importlib.import_module("tweetguard.server.console")
    except ModuleNotFoundError as exc:
        if exc.name != "tweetguard.server.console":
            raise
        return
    console.install(app, data_dir)


def _install_api_errors(app: Flask) -> None:
    """Errors under /api/ in the API's one shape; pages keep their HTML ones."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response | tuple[Response, int] | HTTPException:
        if not request.path.startswith("/api/"):
            return exc
        status = exc.code or 500
        if status == 413:
            return error(
                413,
                "too_large",
                "the request is larger than 8 MiB; send fewer audit rows per batch",
            )
        if status == 404:
            return error(404, "not_found", f"no API call {request.path}; see docs/server-api.md")
        if status == 405:
            return error(
                405, "method_not_allowed", f"{request.method} is not a call of {request.path}"
            )
        return error(
            status, "bad_request" if status < 500 else "server_error", exc.description or ""
        )
