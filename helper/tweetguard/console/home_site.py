"""The school console's answers to console/site.py: one data folder, one admin.

Every page needs the one sign-in; the nav lists the console's page families; the
accounts are the folder's policy.toml and its X API credentials.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from flask import request, session, url_for
from werkzeug.wrappers import Response

from tweetguard.console import auth
from tweetguard.console.site import Frame, NavItem
from tweetguard.stores.home import policy_path

if TYPE_CHECKING:
    from tweetguard.stores.audit import AuditRow
    from tweetguard.stores.policy import Policy
    from tweetguard.xapi.accounts import VerifyResult
    from tweetguard.xapi.client import XClient
    from tweetguard.xapi.sweep import SweepResult

# (blueprint, label): each blueprint's page is its "index".
NAV = (
    ("overview", "Overview"),
    ("policy", "Policy"),
    ("register", "Consent register"),
    ("audit", "Audit"),
    ("accounts", "Accounts"),
    ("help", "Help"),
)


class HomeSite:
    product = "console"

    def admit(self, need: str) -> Response | None:
        return auth.admit()

    def frame(self) -> Frame | None:
        if not session.get("sid"):
            return None
        here = request.blueprint
        items = tuple(NavItem(label, url_for(f"{bp}.index"), here == bp) for bp, label in NAV)
        return Frame(items, url_for("auth.logout"))

    def accounts(self) -> HomeAccounts:
        return HomeAccounts(auth.home())


class HomeAccounts:
    """The data folder's approved accounts, as `tweetguard accounts` sees them."""

    can_sweep = True
    results_file = None  # `tweetguard dashboard` is one process

    def __init__(self, home: Path) -> None:
        self.home = home
        self.key = str(home)

    def policy(self) -> Policy:
        from tweetguard.stores.policy import load_policy

        return load_policy(policy_path(self.home))

    def policy_url(self) -> str:
        return url_for("policy.index")

    def verify(self, client: XClient) -> VerifyResult:
        from tweetguard.xapi.accounts import verify

        return verify(self.home, client, by="console")

    def sweep(self, client: XClient, since: date | None) -> SweepResult:
        from tweetguard.xapi.sweep import sweep

        return sweep(self.home, client, since=since)

    def outside(self, limit: int) -> list[AuditRow]:
        from tweetguard.stores.audit import AuditQuery, merged_rows

        return merged_rows(self.home, AuditQuery(kind="sweep", outside=True, limit=limit))

    def record(self, action: str, kind: str | None) -> None:
        from tweetguard.xapi import credentials

        credentials.record(self.home, action, kind=kind, by="console")
