"""One school's approved X accounts on the server, for the console's accounts page.

The accounts are the school's effective policy's (the trust's and the school's
layers); an id that verify resolves is kept in the school's layer (saved like any
layer edit: checked, versioned, announced to every device). The school's X API
credentials go through stores/secrets.py under the school's own folder
`<data dir>/accounts/<school id>/` (mode 0700), so the keyring entry, or the 0600
file where the server has no keyring, is the school's and no other's. That folder
is also xapi's working folder: the effective policy verify reads, and the local
audit where xapi notes credentials stored or deleted and ids resolved (with the
user who did it).
"""

from __future__ import annotations

import os
import threading
import tomllib
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomlkit
from flask import url_for

from tweetguard.server import audit, policies, tenancy
from tweetguard.server.db import Database
from tweetguard.server.school_home import private_root
from tweetguard.stores.audit import AuditQuery, AuditRow
from tweetguard.stores.home import policy_path
from tweetguard.stores.policy import Policy, PolicyError, parse_policy

if TYPE_CHECKING:
    from tweetguard.xapi.accounts import AccountReport, VerifyResult
    from tweetguard.xapi.client import XClient
    from tweetguard.xapi.sweep import SweepResult


def accounts_home(data_dir: Path, school_id: str) -> Path:
    """The school's own folder for its X API credentials and xapi's state."""
    safe = "".join(c for c in school_id if c.isalnum() or c in "-_")
    if not safe or safe != school_id:
        raise ValueError(f"not a school id: {school_id!r}")
    root = data_dir / "accounts"
    private_root(root)
    folder = root / safe
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


class SchoolAccounts:
    """The accounts of `school_id`, as the signed-in `user_id` works on them."""

    can_sweep = False  # a sweep needs the register and its state on a machine (docs/server.md)

    def __init__(self, db: Database, data_dir: Path, school_id: str, user: tenancy.User) -> None:
        self.db = db
        self.school_id = school_id
        self.user = user
        self.user_id = user.id
        self.key = f"school:{school_id}"
        self.home = accounts_home(data_dir, school_id)
        # Several workers: the page after verify's redirect may be another's.
        self.results_file = self.home / "x-last-runs.json"

    def _effective(self) -> str:
        try:
            return policies.effective(self.db, self.school_id)[1]
        except policies.PolicyRefused as exc:
            raise PolicyError(f"the school's effective policy cannot be built: {exc}") from None

    def policy(self) -> Policy:
        return parse_policy(tomllib.loads(self._effective()), "the school's effective policy")

    def policy_url(self) -> str:
        return url_for("server_policy.school_policy", school_id=self.school_id)

    def verify(self, client: XClient) -> VerifyResult:
        from tweetguard.xapi.accounts import verify

        path = policy_path(self.home)
        fresh = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        fresh.write_text(self._effective(), encoding="utf-8")
        os.replace(fresh, path)
        result = verify(self.home, client, by=f"server user {self.user_id}")
        self._keep_ids([a for a in result.accounts if a.resolved])
        return result

    def _keep_ids(self, resolved: list[AccountReport]) -> None:
        """The ids verify found, into the layer each account comes from (xapi wrote
        them into the working copy only). An account of the school's own layer gets
        its id there. An account of the trust's layer gets it in the trust's layer
        when a trust admin verifies; an IT lead is told what the trust admin adds,
        never given a copy in the school's layer: a copy would outlive the trust
        withdrawing the account. A layer that already has every id is not saved,
        so a verify that finds nothing new changes no policy version."""
        if not resolved:
            return
        trust_text, locks, school_text = policies.layers(self.db, self.school_id)
        left = self._pin_and_save(school_text, resolved, "school", locks)
        if not left:
            return
        if tenancy.can(self.user, "trust.admin", self.school_id):
            left = self._pin_and_save(trust_text, left, "trust", locks)
        for report in left:
            report.resolved = False
            report.problems.append(
                f"@{report.handle} is approved by the trust: a trust admin adds "
                f'user_id = "{report.user_id}" to its entry in the trust\'s layer'
            )

    def _pin_and_save(
        self, text: str, reports: list[AccountReport], which: str, locks: list[str]
    ) -> list[AccountReport]:
        """Sets the id of each account `text` has an entry for and saves the layer
        if that changed it; returns the reports it has no entry for."""
        layer = tomlkit.parse(text)
        entries: Any = layer.get("accounts")
        found = {
            policies.list_key(str(e.get("handle", ""))): e
            for e in (entries if isinstance(entries, list) else ())
            if hasattr(e, "get")
        }
        pinned = [r for r in reports if policies.list_key(r.handle) in found]
        for report in pinned:
            found[policies.list_key(report.handle)]["user_id"] = report.user_id
        fresh = tomlkit.dumps(layer)
        if pinned and fresh != text:
            try:
                if which == "school":
                    policies.save_school_layer(self.db, self.school_id, fresh, by=self.user.id)
                else:
                    policies.save_trust_layer(
                        self.db, self.user.trust_id, fresh, locks, by=self.user.id
                    )
            except policies.PolicyRefused as exc:
                for report in pinned:
                    report.resolved = False
                    report.problems.append(
                        f"@{report.handle} is id {report.user_id}, but the {which}'s layer "
                        f'could not keep it ({exc}): add user_id = "{report.user_id}" to its '
                        f"entry in the {which}'s layer on the policy page"
                    )
        return [r for r in reports if policies.list_key(r.handle) not in found]

    def sweep(self, client: XClient, since: date | None) -> SweepResult:
        from tweetguard.xapi.sweep import SweepError

        raise SweepError(
            "sweeps do not run on the server: run `tweetguard accounts sweep` on a machine "
            "of the school"
        )

    @property
    def outside_hidden(self) -> str:
        """Why the outside posts are not listed for this user (kept text is the
        audit's, which their role may not read); empty when they are."""
        if tenancy.can(self.user, "audit.read", self.school_id):
            return ""
        return (
            "Posts a sweep found made outside tweetguard are in the school's audit, "
            "which a safeguarding lead or the trust admin reads."
        )

    def outside(self, limit: int) -> list[AuditRow]:
        if self.outside_hidden:
            return []
        return audit.rows(
            self.db,
            self.school_id,
            AuditQuery(kind="sweep", outside=True, limit=limit),
            registered_names=True,
        )

    def record(self, action: str, kind: str | None) -> None:
        from tweetguard.xapi import credentials

        credentials.record(self.home, action, kind=kind, by=f"server user {self.user_id}")
