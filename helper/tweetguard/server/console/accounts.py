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

from tweetguard.server import audit, policies
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

    def __init__(self, db: Database, data_dir: Path, school_id: str, user_id: str) -> None:
        self.db = db
        self.school_id = school_id
        self.user_id = user_id
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
        """The ids verify found, into the school's layer (xapi wrote them into the
        working copy only)."""
        if not resolved:
            return
        _, _, text = policies.layers(self.db, self.school_id)
        layer = tomlkit.parse(text)
        entries: Any = layer.get("accounts")
        if entries is None:
            entries = tomlkit.aot()
            layer["accounts"] = entries
        for report in resolved:
            entry = next(
                (
                    e
                    for e in entries
                    if str(e.get("handle", "")).casefold() == report.handle.casefold()
                ),
                None,
            )
            if entry is None:
                entry = tomlkit.table()
                entry["handle"] = report.handle
                entry["visibility"] = report.visibility
                entries.append(entry)
            entry["user_id"] = report.user_id
        try:
            policies.save_school_layer(
                self.db, self.school_id, tomlkit.dumps(layer), by=self.user_id
            )
        except policies.PolicyRefused as exc:
            for report in resolved:
                report.resolved = False
                report.problems.append(
                    f"@{report.handle} is id {report.user_id}, but the school's layer could not "
                    f'keep it ({exc}): add user_id = "{report.user_id}" to its entry on the '
                    "policy page (the trust's layer, if the trust locks accounts)"
                )

    def sweep(self, client: XClient, since: date | None) -> SweepResult:
        from tweetguard.xapi.sweep import SweepError

        raise SweepError(
            "sweeps do not run on the server: run `tweetguard accounts sweep` on a machine "
            "of the school"
        )

    def outside(self, limit: int) -> list[AuditRow]:
        return audit.rows(
            self.db,
            self.school_id,
            AuditQuery(kind="sweep", outside=True, limit=limit),
            registered_names=True,
        )

    def record(self, action: str, kind: str | None) -> None:
        from tweetguard.xapi import credentials

        credentials.record(self.home, action, kind=kind, by=f"server user {self.user_id}")
