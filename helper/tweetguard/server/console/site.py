"""The server's answers to console/site.py, so the console's shared blueprints
(help, accounts) and its base template serve the server's users as they are.

A shared page's need is asked of `tenancy.can` like any server page: help is for
anyone signed in, the accounts page for whoever may edit the school's policy (the
approved accounts are part of the school's layer). A school-scoped shared page is
mounted under /schools/<school_id>/, so the route-walking tenancy test covers it;
the school is taken out of the view's arguments here (the console's views take
none) and put back when its URLs are built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, g, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from tweetguard.console.site import ACCOUNTS, HELP, Frame, NavItem, install_site
from tweetguard.server import tenancy
from tweetguard.server.console import auth
from tweetguard.server.console.accounts import SchoolAccounts

# The shared page families mounted per school, by blueprint name.
SCHOOL_SCOPED = frozenset({"accounts"})
NEEDS = {HELP: "trust.overview", ACCOUNTS: "policy.edit"}


class ServerSite:
    product = "server"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def admit(self, need: str) -> BaseResponse | None:
        return auth.admit(NEEDS[need], g.get("school_id"))

    def frame(self) -> Frame | None:
        """The nav of the user's role; `g.user` is set by every page that signed
        them in (an error page on its own has none, and no nav)."""
        me: tenancy.User | None = g.get("user")
        if me is None:
            return None
        here = request.endpoint
        items = [_item("Overview", "server_pages.overview", here)]
        if tenancy.can(me, "trust.admin"):
            items.append(_item("Users", "server_pages.users", here))
            items.append(_item("Trust policy", "server_policy.trust_policy", here))
        items.append(_item("Help", "help.index", here))
        who = f"{me.email} ({tenancy.ROLE_NAMES[me.role]})"
        return Frame(tuple(items), url_for("server_auth.logout"), who)

    def accounts(self) -> SchoolAccounts:
        return SchoolAccounts(auth.db(), self.data_dir, g.school_id, auth.user())


def _item(label: str, endpoint: str, here: str | None) -> NavItem:
    return NavItem(label, url_for(endpoint), here == endpoint)


def install(app: Flask, data_dir: Path) -> None:
    """The site, the shared blueprints and the school in their paths."""
    from tweetguard.console import accounts
    from tweetguard.console import help as help_pages
    from tweetguard.console.rows import x_link

    install_site(app, ServerSite(data_dir))
    app.jinja_env.filters["x_link"] = x_link

    @app.url_value_preprocessor
    def school_of_shared(endpoint: str | None, values: dict[str, Any] | None) -> None:
        if values is not None and _shared(endpoint):
            g.school_id = values.pop("school_id", None)

    @app.url_defaults
    def school_for_shared(endpoint: str, values: dict[str, Any]) -> None:
        if _shared(endpoint) and "school_id" not in values and g.get("school_id"):
            values["school_id"] = g.school_id

    app.register_blueprint(help_pages.bp, url_prefix="/help")
    app.register_blueprint(accounts.bp, url_prefix="/schools/<school_id>/accounts")


def _shared(endpoint: str | None) -> bool:
    return bool(endpoint) and str(endpoint).partition(".")[0] in SCHOOL_SCOPED
