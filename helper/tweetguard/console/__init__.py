"""The school's console: a face over the same stores the helper and the CLI use.

`create_app` builds the Flask app for one data folder; `tweetguard dashboard`
serves it with waitress on 127.0.0.1 and starts the live feed beside it
(transport/websocket.py). Each page family is its own blueprint; the security
settings every page shares (cookies, CSRF, headers) live in console/security.py.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask


def create_app(home: Path, *, testing: bool = False, feed_url: str | None = None) -> Flask:
    """The console for the data folder `home`.

    `feed_url` is the live feed's ws:// address, which the Content-Security-Policy
    must name for the page to reach it; None when no feed runs (tests, the CLI's
    checks), and the overview then simply does not update by itself.
    """
    from tweetguard.console import accounts, audit, auth, overview, policy, register
    from tweetguard.console import help as help_pages
    from tweetguard.console.admin import LockoutStore
    from tweetguard.console.security import install_security
    from tweetguard.console.sessions import Sessions

    app = Flask(__name__)
    app.config["TWEETGUARD_HOME"] = home
    app.config["TWEETGUARD_FEED_URL"] = feed_url
    app.config["TESTING"] = testing
    app.extensions["tweetguard_sessions"] = Sessions()
    app.extensions["tweetguard_lockout"] = LockoutStore(home)
    install_security(app, home)
    app.register_blueprint(auth.bp)
    app.register_blueprint(overview.bp)
    app.register_blueprint(policy.bp, url_prefix="/policy")
    app.register_blueprint(register.bp, url_prefix="/register")
    app.register_blueprint(audit.bp, url_prefix="/audit")
    app.register_blueprint(accounts.bp, url_prefix="/accounts")
    app.register_blueprint(help_pages.bp, url_prefix="/help")
    return app
