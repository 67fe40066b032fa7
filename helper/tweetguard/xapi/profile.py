"""The profile checklist from the guidance for a school's account.

A parent looking for the school's account should find it at once and be able to
tell it from a copy: a short handle, the school's name, where it is, its website,
a line about what the account is for. Each item is a small rule (id, message,
fix) like the checks' rules, so the CLI and the console list them the same way.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from tweetguard.stores.policy import DEFAULT_SCHOOL, Policy
from tweetguard.xapi.client import User

MAX_HANDLE = 15
# Words too common to identify a school: "Oakfield Primary" is Oakfield Primary School.
_GENERIC = set(
    "school schools primary secondary junior infant infants nursery academy college "
    "high grammar church community catholic rc c e ce cofe of the and st saint "
    "federation trust foundation".split()
)


@dataclass(frozen=True)
class ProfileRule:
    id: str
    message: str  # what is wrong, with {placeholders}
    fix: str  # what to do about it
    advice: bool = False  # True: worth doing, but not a reason for `verify` to fail


@dataclass(frozen=True)
class ProfileFinding:
    rule: ProfileRule
    message: str
    fix: str

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule.id,
            "message": self.message,
            "fix": self.fix,
            "advice": self.rule.advice,
        }


HANDLE_LENGTH = ProfileRule(
    "profile.handle-length",
    "the handle @{handle} has {length} characters; X allows at most 15 and a short one is "
    "easier for parents to find",
    "choose a handle of at most 15 characters in X's Settings, Your account, Account "
    "information, Username; then run `tweetguard accounts verify` to update the policy",
)
SCHOOL_NAME = ProfileRule(
    "profile.school-name",
    "the display name “{name}” does not include the school's name “{school}”",
    "edit the profile's Name so it includes “{school}”, so parents can tell the real account "
    "from a copy",
)
SCHOOL_UNSET = ProfileRule(
    "profile.school-unset",
    "the policy does not say the school's name, so the display name cannot be checked",
    'set [school] name = "..." in policy.toml (or on the console\'s Policy page)',
    advice=True,
)
LOCATION = ProfileRule(
    "profile.location",
    "the profile has no location",
    "add the school's town or area as the profile's Location (not the street address)",
)
WEBSITE = ProfileRule(
    "profile.website",
    "the profile has no website",
    "add the school's website to the profile, so parents can check the account is real",
)
WEBSITE_DOMAIN = ProfileRule(
    "profile.website-domain",
    "the profile's website {url} is not on one of the school's domains ({domains})",
    "link the school's own website, or add its domain to [allow] domains in the policy",
    advice=True,
)
BIO = ProfileRule(
    "profile.bio",
    "the profile has no bio",
    "add a line saying whose account this is and what it posts, e.g. news from {school}",
)

RULES = (HANDLE_LENGTH, SCHOOL_NAME, SCHOOL_UNSET, LOCATION, WEBSITE, WEBSITE_DOMAIN, BIO)


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return re.findall(r"[a-z0-9]+", plain.replace("’", "").replace("'", ""))


def names_school(display_name: str, school: str) -> bool:
    """Whether the display name includes the school's name: every distinctive word
    of it ("Oakfield" of "Oakfield Primary School"), or all of it when every word
    is generic."""
    have = set(_words(display_name))
    wanted = _words(school)
    distinctive = [w for w in wanted if w not in _GENERIC] or wanted
    return bool(distinctive) and all(w in have for w in distinctive)


def _domain(url: str) -> str:
    if "://" not in url:
        url = "https://" + url
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _on_domain(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def _finding(rule: ProfileRule, **params: object) -> ProfileFinding:
    return ProfileFinding(rule, rule.message.format(**params), rule.fix.format(**params))


def checklist(user: User, policy: Policy) -> list[ProfileFinding]:
    """What the account's profile still needs, in the guidance's order."""
    found: list[ProfileFinding] = []
    if len(user.username) > MAX_HANDLE:
        found.append(_finding(HANDLE_LENGTH, handle=user.username, length=len(user.username)))
    if policy.school == DEFAULT_SCHOOL:
        found.append(_finding(SCHOOL_UNSET))
    elif not names_school(user.name, policy.school):
        found.append(_finding(SCHOOL_NAME, name=user.name, school=policy.school))
    if not user.location.strip():
        found.append(_finding(LOCATION))
    if not user.url.strip():
        found.append(_finding(WEBSITE))
    elif policy.allow.domains and not _on_domain(_domain(user.url), policy.allow.domains):
        found.append(
            _finding(WEBSITE_DOMAIN, url=user.url, domains=", ".join(policy.allow.domains))
        )
    if not user.description.strip():
        school = policy.school if policy.school != DEFAULT_SCHOOL else "the school"
        found.append(_finding(BIO, school=school))
    return found
