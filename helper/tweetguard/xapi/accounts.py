"""`verify`: the policy's approved accounts as X knows them.

A handle is only a name and names change hands: the numeric id is what the
extension trusts once the policy has it. So each handle is resolved once and its id
stored in policy.toml; from then on the id is looked up, which recognises a renamed
account ("@old is now @new") and catches a handle that now points at someone else
(a look-alike set up after the school renamed). Whether X shows the posts to
everyone is read too: the checks treat a protected account more leniently, so a
policy saying "protected" for a public account is a real risk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tweetguard.stores.home import policy_path
from tweetguard.stores.policy import ApprovedAccount, PolicyError, load_policy
from tweetguard.xapi.client import User, XClient
from tweetguard.xapi.profile import ProfileFinding, checklist


@dataclass
class AccountReport:
    handle: str  # as the policy has it
    visibility: str  # as the policy says
    user_id: str | None  # stored in the policy (after this run)
    user: User | None = None  # as X knows it now
    resolved: bool = False  # the id was found and stored by this run
    renamed_to: str | None = None
    lookalike_id: str | None = None  # the policy's handle belongs to this other id now
    protected_mismatch: bool = False
    problems: list[str] = field(default_factory=list)  # one line each: what, and the fix
    notes: list[str] = field(default_factory=list)
    profile: list[ProfileFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not any(not f.rule.advice for f in self.profile)

    def to_json(self) -> dict[str, Any]:
        user = self.user
        return {
            "handle": self.handle,
            "visibility": self.visibility,
            "user_id": self.user_id,
            "ok": self.ok,
            "resolved": self.resolved,
            "renamed_to": self.renamed_to,
            "lookalike_id": self.lookalike_id,
            "protected_mismatch": self.protected_mismatch,
            "x": None
            if user is None
            else {
                "id": user.id,
                "username": user.username,
                "name": user.name,
                "protected": user.protected,
                "location": user.location,
                "url": user.url,
            },
            "problems": list(self.problems),
            "notes": list(self.notes),
            "profile": [f.to_json() for f in self.profile],
        }


@dataclass
class VerifyResult:
    accounts: list[AccountReport]

    @property
    def ok(self) -> bool:
        return bool(self.accounts) and all(a.ok for a in self.accounts)


def verify(home: Path, client: XClient, *, by: str = "cli") -> VerifyResult:
    """Looks every approved account up on X, stores ids it did not have, and lists
    what needs fixing. `by` says which face asked, for the audit."""
    path = policy_path(home)
    policy = load_policy(path)
    if not policy.accounts:
        return VerifyResult([])
    lookup = client.users_by_usernames([a.handle for a in policy.accounts])
    reports = []
    for account in policy.accounts:
        report = AccountReport(account.handle, account.visibility, account.user_id)
        by_handle = lookup.found.get(account.handle.lower())
        if account.user_id:
            _by_id(client, account, by_handle, report)
        elif by_handle is None:
            why = lookup.missing.get(account.handle.lower(), "not found")
            report.problems.append(
                f"@{account.handle} is {why} on X: check the spelling in the policy "
                f"(`tweetguard accounts add HANDLE`) or the account itself"
            )
        else:
            report.user = by_handle
            _store_id(home, path, account, by_handle, report, by)
        if report.user is not None:
            _visibility(account, report.user, report)
            report.profile = checklist(report.user, policy)
        reports.append(report)
    return VerifyResult(reports)


def _by_id(
    client: XClient, account: ApprovedAccount, by_handle: User | None, report: AccountReport
) -> None:
    assert account.user_id is not None
    user, why = client.user_by_id(account.user_id)
    if user is None:
        report.problems.append(
            f"the school's account @{account.handle} (id {account.user_id}) is {why} on X: "
            "sign in to it to find out why, then update the policy"
        )
        return
    report.user = user
    if user.username.lower() != account.handle.lower():
        report.renamed_to = user.username
        report.problems.append(
            f"@{account.handle} is now @{user.username} (same account, id {user.id}): update "
            f"the policy with `tweetguard accounts remove {account.handle}` and `tweetguard "
            f"accounts add {user.username} --user-id {user.id} --visibility {account.visibility}`"
        )
    if by_handle is not None and by_handle.id != account.user_id:
        report.lookalike_id = by_handle.id
        report.problems.append(
            f"@{account.handle} now belongs to another account (id {by_handle.id}), not the "
            f"school's (id {account.user_id}): it may be a look-alike; report it to X and "
            "tell staff not to post there"
        )


def _store_id(
    home: Path,
    path: Path,
    account: ApprovedAccount,
    user: User,
    report: AccountReport,
    by: str,
) -> None:
    from tweetguard.stores.policy_edit import add_account

    try:
        add_account(path, account.handle, user.id, account.visibility)
    except (OSError, PolicyError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        report.problems.append(
            f"@{account.handle} is id {user.id}, but it could not be stored in {path} "
            f"({reason}): run as the data folder's owner, or `tweetguard accounts add "
            f"{account.handle} --user-id {user.id}` there"
        )
        return
    report.user_id = user.id
    report.resolved = True
    report.notes.append(f"@{account.handle} is id {user.id}; stored in the policy")
    from tweetguard.stores.audit import record_change

    # policy_file: the row carries the policy's new hash, so the helper's watch of
    # the file does not record this same edit a second time.
    row = record_change(
        home,
        "accounts",
        by=by,
        account=account.handle.lower(),
        account_id=user.id,
        detail={"action": "resolved", "handle": account.handle, "user_id": user.id},
        policy_file=path,
    )
    if row is None:
        report.problems.append(
            "the id is stored, but the audit could not record it; run "
            "`tweetguard audit status` to see why"
        )


def _visibility(account: ApprovedAccount, user: User, report: AccountReport) -> None:
    if account.visibility == "protected" and not user.protected:
        report.protected_mismatch = True
        report.problems.append(
            f"@{user.username} is public on X but the policy says protected, so some checks "
            "are relaxed: protect its posts (X: Settings, Privacy and safety, Audience) or set "
            f"`tweetguard accounts add {account.handle} --visibility public`"
        )
    elif account.visibility == "public" and user.protected:
        report.protected_mismatch = True
        report.problems.append(
            f"@{user.username} is protected on X but the policy says public: set "
            f"`tweetguard accounts add {account.handle} --visibility protected` if that is "
            "intended, or make its posts public on X"
        )
