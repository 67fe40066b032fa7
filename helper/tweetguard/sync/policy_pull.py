"""The policy step: the school's effective policy from the server (GET /policy).

A poll costs the server almost nothing: the device sends the version it holds
(If-None-Match) and gets 304 while it is current. A new policy is written over
policy.toml in one rename, and only after the policy loader and the checks accept
it; one they refuse (a rule this helper does not know yet, a broken file) leaves
the last good policy in use, is said once, and is not fetched again until the
server has another version.

While the machine is enrolled the server's policy wins. A policy.toml changed on
this machine since the last round (a hand edit, `tweetguard accounts add`, the
console) is replaced by the server's at the next round; the local file is kept
beside it as `policy.toml.local-<UTC time>`, the audit records it, and the round
says so, so the edit is not lost and IT knows to make it on the server instead.
"""

from __future__ import annotations

import hashlib
import logging
import tomllib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from tweetguard.stores.audit import record_change
from tweetguard.stores.audit.log import file_sha256
from tweetguard.stores.home import policy_path
from tweetguard.stores.policy import Policy, PolicyError, parse_policy
from tweetguard.stores.policy_edit import write_policy_text
from tweetguard.sync.client import PolicyReply, ServerClient
from tweetguard.sync.outcome import PROBLEM, Step
from tweetguard.sync.state import SyncState

log = logging.getLogger("tweetguard.sync")

KEPT_PREFIX = "policy.toml.local-"


def pull_policy(client: ServerClient, home: Path, state: SyncState) -> tuple[Step, SyncState]:
    path = policy_path(home)
    digest, _, present = file_sha256(path)
    ours = state.policy_sha256 is not None and digest == state.policy_sha256
    # The version to be told "unchanged" about: a refused one while the file is still
    # ours (it is not fetched again), else the one held; none after a local edit.
    known = (state.policy_rejected or state.policy_version) if ours else None
    reply = client.policy(known)
    if reply is None:
        if state.policy_rejected:
            line = (
                f"the server's version {state.policy_rejected} still cannot be used here; "
                f"version {state.policy_version} stays in use"
            )
            return Step("policy", line, PROBLEM), state
        return Step("policy", f"version {state.policy_version}, unchanged"), state
    try:
        _acceptable(reply, path)
    except PolicyError as exc:
        line = (
            f"the server's version {reply.version} cannot be used by this helper ({exc}); "
            f"the last good policy stays in use (version {state.policy_version or 'none'}): "
            "ask IT to fix it on the server, or update tweetguard here"
        )
        log.warning("policy: %s", line)
        return Step("policy", line, PROBLEM), replace(state, policy_rejected=reply.version)
    new_digest = hashlib.sha256(reply.toml.encode("utf-8")).hexdigest()
    kept: Path | None = None
    try:
        if present and digest != new_digest and not ours:
            kept = _keep_local(path)
        if digest != new_digest:
            write_policy_text(path, reply.toml)
    except (OSError, PolicyError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        line = f"version {reply.version} not written to {path} ({reason}); the last copy stays"
        return Step("policy", line, PROBLEM), state
    new_state = replace(
        state, policy_version=reply.version, policy_sha256=new_digest, policy_rejected=None
    )
    if digest == new_digest:
        return Step("policy", f"version {reply.version}, the same as this machine's"), new_state
    line = f"version {reply.version} received and in use"
    if state.policy_version and state.policy_version != reply.version:
        line += f" (was {state.policy_version})"
    if kept is not None:
        what = "changed on this machine since the last sync" if state.policy_sha256 else "local"
        line += (
            f"; the {what} policy.toml was replaced by the school's and kept as {kept.name} "
            "(change the policy on the server instead)"
        )
    detail: dict[str, object] = {"what": "from the school's server", "version": reply.version}
    if kept is not None:
        detail.update({"replaced_local": kept.name, "local_sha256": digest})
    record_change(home, "policy", by="server", detail=detail, policy_file=path)
    return Step("policy", line), new_state


def _acceptable(reply: PolicyReply, path: Path) -> Policy:
    """The policy as the helper will load it, or PolicyError: never write one the
    checks would refuse (validate: every rule named must exist in this helper)."""
    from tweetguard.checks.engine import validate

    try:
        data = tomllib.loads(reply.toml)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"not valid TOML: {exc}") from None
    policy = parse_policy(data, f"the server's policy {reply.version}")
    validate(policy)
    return policy


def _keep_local(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{KEPT_PREFIX}{stamp}")
    n = 1
    while kept.exists():
        n += 1
        kept = path.with_name(f"{KEPT_PREFIX}{stamp}-{n}")
    kept.write_bytes(path.read_bytes())
    return kept
