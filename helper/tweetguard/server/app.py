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

from tweetguard.server import fastpoll, notify
from tweetguard.server.api import MAX_BODY, http_error
from tweetguard.server.db import Database, open_database

CONSOLE_STATIC = Path(__file__).resolve().parent.parent / "console" / "static"


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
    # The console's CSS is the server's too (served from the console's own folder).
    app = Flask(__name__, static_folder=str(CONSOLE_STATIC))
    app.config["TESTING"] = testing
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.config["TWEETGUARD_DATA_DIR"] = data_dir
    app.extensions["tweetguard_db"] = database or open_database(database_url)
    # Changes reach every process's caches and feeds (LISTEN/NOTIFY on PostgreSQL).
    notify.install(app.extensions["tweetguard_db"])
    app.register_blueprint(sync.bp)
    _install_api_errors(app)
    _install_console(app, data_dir)
    importlib.import_module("tweetguard.server.api.protocol").register(app)
    # The devices' polls with nothing new are answered before Flask (server/fastpoll.py).
    fastpoll.install(app)
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
    def any_error(exc: HTTPException) -> tuple[Response, int] | HTTPException:
        return http_error(exc) if request.path.startswith("/api/") else exc
