"""The school's console: a face over the same stores the helper and the CLI use.

`create_app` builds the Flask app for one data folder; `tweetguard dashboard`
serves it with waitress on 127.0.0.1 and starts the live feed beside it
(transport/websocket.py). Each page family is its own blueprint; the security
settings every page shares (cookies, CSRF, headers) live in console/security.py.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse


class LoopbackClient(FlaskClient):
    """Flask's test client, asking for http://127.0.0.1/ as a browser would: the
    console sends requests for "localhost" (the test client's default) on to
    127.0.0.1 (console/security.py)."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        if args and isinstance(args[0], str) and "base_url" not in kwargs:
            kwargs["base_url"] = "http://127.0.0.1/"
        return super().open(*args, **kwargs)


def create_app(home: Path, *, testing: bool = False, feed_url: str | None = None) -> Flask:
    """The console for the data folder `home`.

    `feed_url` is the live feed's ws:// address, which the Content-Security-Policy
    must name for the page to reach it; None when no feed runs (tests, the CLI's
    checks), and the overview then simply does not update by itself.
    """
    from tweetguard.console import accounts, audit, auth, overview, policy, register
    from tweetguard.console import help as help_pages
    from tweetguard.console.admin import LockoutStore
    from tweetguard.console.chain import ChainChecks
    from tweetguard.console.home_site import HomeSite
    from tweetguard.console.rows import x_link
    from tweetguard.console.security import install_security
    from tweetguard.console.sessions import Sessions
    from tweetguard.console.site import install_site

    app = Flask(__name__)
    app.test_client_class = LoopbackClient
    app.config["TWEETGUARD_HOME"] = home
    app.config["TWEETGUARD_FEED_URL"] = feed_url
    app.config["TESTING"] = testing
    app.extensions["tweetguard_sessions"] = Sessions()
    app.extensions["tweetguard_lockout"] = LockoutStore(home)
    app.extensions["tweetguard_setup_token"] = secrets.token_urlsafe(32)
    app.extensions["tweetguard_chain"] = ChainChecks()
    app.jinja_env.filters["x_link"] = x_link
    install_security(app, home)
    install_site(app, HomeSite())
    register.remove_stale_uploads(home)
    app.register_blueprint(auth.bp)
    app.register_blueprint(overview.bp)
    app.register_blueprint(policy.bp, url_prefix="/policy")
    app.register_blueprint(register.bp, url_prefix="/register")
    app.register_blueprint(audit.bp, url_prefix="/audit")
    app.register_blueprint(accounts.bp, url_prefix="/accounts")
    app.register_blueprint(help_pages.bp, url_prefix="/help")
    return app


def setup_url(app: Flask, console_url: str) -> str:
    """The first-run link with its one-time token, for the terminal that started
    the console (the token is nowhere else)."""
    return f"{console_url.rstrip('/')}/setup?token={app.extensions['tweetguard_setup_token']}"
