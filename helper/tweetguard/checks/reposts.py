"""Reposts and quotes: the school's account passing on someone else's post.

A repost puts another account's words on the school's timeline, so they are
checked like the school's own (engine.py runs the text families over them);
here the policy's [reposts] decides whose posts may be passed on at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from tweetguard.checks.base import Finding, Rule, Severity
from tweetguard.stores.policy import Policy


@dataclass(frozen=True)
class Source:
    """The post being reposted or quoted, as the extension read it from the timeline."""

    author: str | None
    text: str
    url: str | None = None


NOT_ALLOWED = Rule(
    id="reposts.not-allowed",
    family="reposts",
    severity=Severity.BLOCK,
    message="The school does not repost or quote other accounts. Write your own post instead.",
    fix_hint="Write a post of your own, perhaps with a link to the original.",
    description='Any repost or quote when the policy\'s [reposts] allow is "none".',
)
NOT_LISTED = Rule(
    id="reposts.not-listed",
    family="reposts",
    severity=Severity.BLOCK,
    message=(
        "The school reposts only accounts on its list, and @{author} is not on it. "
        "Write your own post, or ask IT to add the account."
    ),
    fix_hint="Write a post of your own, or ask IT to add the account to [reposts] from.",
    description=(
        "A repost or quote of an account that is neither one of the school's own nor in "
        'the policy\'s [reposts] from list, when allow is "listed".'
    ),
)

RULES = (NOT_ALLOWED, NOT_LISTED)


def check(source: Source, action: str, policy: Policy) -> list[Finding]:
    """Whether the policy lets the school pass this account's post on."""
    if action not in ("repost", "quote"):
        return []
    settings = policy.reposts
    own = tuple(a.handle for a in policy.accounts)
    if settings.allows(source.author, own):
        return []
    if settings.allow == "none":
        return [Finding(NOT_ALLOWED, 0, 0, part="source")]
    author = (source.author or "unknown").removeprefix("@")
    return [Finding(NOT_LISTED, 0, 0, {"author": author}, part="source")]
