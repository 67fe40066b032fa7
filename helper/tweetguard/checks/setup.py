"""Whether this helper is set up to check names at all.

A helper with no consent register and no policy (a new install, or a launcher
pointing at the wrong data folder) cannot name a single pupil, so a post naming
one would pass without a word. It says so on every check instead. (A school that
has a policy but no register is held outright: see Checker.names.)
"""

from __future__ import annotations

from tweetguard.checks.base import Finding, Post, Rule, Severity

NO_REGISTER = Rule(
    id="setup.no-register",
    family="setup",
    severity=Severity.INFO,
    message=(
        "No consent register is loaded on this computer, so pupils' names are not checked. "
        "Ask {support} to import it (`tweetguard consent import`)."
    ),
    fix_hint="IT imports the register with `tweetguard consent import FILE`.",
    description=(
        "Shown on every check while no consent register has been imported here "
        "(and no policy holds posts until one is)."
    ),
)

RULES = (NO_REGISTER,)


def check(post: Post) -> list[Finding]:
    if post.names.size or post.register_loaded:
        return []
    return [Finding(NO_REGISTER, 0, 0, {"support": post.policy.posting.support_contact})]
