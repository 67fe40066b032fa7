"""The account a post would go out from: only the school's approved accounts.

Runs only when the caller says which account is signed in (the extension always
does; the CLI does with --account). An account that cannot be read is held, not
guessed: fail closed.
"""

from __future__ import annotations

from tweetguard.checks.base import Finding, Post, Rule, Severity

NONE_APPROVED = Rule(
    id="accounts.none-approved",
    family="accounts",
    severity=Severity.BLOCK,
    message=(
        "No X account is approved for posting on this computer yet. "
        "Ask {support} to run `tweetguard accounts add`."
    ),
    fix_hint="IT approves the school's accounts with `tweetguard accounts add HANDLE`.",
    description="Posts are held until the policy approves at least one account for this device.",
)
UNKNOWN = Rule(
    id="accounts.unknown",
    family="accounts",
    severity=Severity.BLOCK,
    message=(
        "tweetguard cannot tell which X account is signed in, so the post is held. "
        "Reload the page; if it keeps happening, tell {support}."
    ),
    fix_hint="Reload the page so the account can be read.",
    description="The extension could not read the signed-in account (handle or user id).",
)
UNAPPROVED = Rule(
    id="accounts.unapproved",
    family="accounts",
    severity=Severity.BLOCK,
    message=(
        "You are signed in as @{handle}, which is not a school account on this computer. "
        "Switch to {approved} to post."
    ),
    fix_hint="Switch to an approved school account.",
    description="The signed-in account is not one of the policy's approved accounts.",
)

RULES = (NONE_APPROVED, UNKNOWN, UNAPPROVED)


def check(post: Post) -> list[Finding]:
    if post.account is None:
        return []
    handle, user_id = post.account
    policy = post.policy
    support = policy.posting.support_contact
    if not policy.accounts:
        return [Finding(NONE_APPROVED, 0, 0, {"support": support})]
    if (not handle and not user_id) or (not user_id and policy.needs_user_id(handle)):
        return [Finding(UNKNOWN, 0, 0, {"support": support})]
    if policy.account(handle, user_id) is None:
        approved = " or ".join(f"@{a.handle}" for a in policy.accounts)
        shown = handle or f"the account with id {user_id}"
        return [Finding(UNAPPROVED, 0, 0, {"handle": shown, "approved": approved})]
    return []
