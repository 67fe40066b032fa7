"""Pupils named in a post: the rules, and what each name found means.

The index (name_index.py) finds where a pupil's name is written, and the reading
of the sentence around it (name_reading.py) decides whether it is that pupil.
Here each find becomes findings: a full name always, a first name with a photo,
and a pupil without current social media consent in any form.
"""

from __future__ import annotations

from tweetguard.checks.base import Finding, Post, Rule, Severity
from tweetguard.stores.consent import Pupil

FULL_NAME = Rule(
    id="names.full-name",
    family="names",
    severity=Severity.BLOCK,
    message="“{name}” is a pupil's full name. Use the first name only, e.g. “{suggestion}”.",
    fix_hint="Replace the full name with the first name (and class).",
    description=(
        "A pupil's first or preferred name with their surname, in either order "
        "(“Morgan, Ava”), in any case, with or without accents, with a middle initial, "
        "or joined in a #hashtag or @mention. A title before it (“Mrs Morgan”) is staff."
    ),
)
PICTURED = Rule(
    id="names.pictured",
    family="names",
    severity=Severity.BLOCK,
    message="“{name}” is a pupil's name in a post with a photo. Remove the name or the photo.",
    fix_hint="Remove the name, or post the photo without it.",
    description=(
        "A pupil's first name in a post with a photo that shows faces (or a video, or a photo "
        "not checked): pictured pupils are never named. A photo with no one in it, such as "
        "a child's painting, does not count."
    ),
)
NO_CONSENT = Rule(
    id="names.no-consent",
    family="names",
    severity=Severity.BLOCK,
    message=(
        "{name} has no social media consent, so the name cannot go out. Leave it out "
        "(if it is another child, ask IT to check the register)."
    ),
    fix_hint="Leave the name out.",
    description=(
        "The name of a pupil whose social media consent is no or has expired, "
        "in any form, first name alone included."
    ),
)
FIRST_NAME = Rule(
    id="names.first-name",
    family="names",
    severity=Severity.WARN,
    message="“{name}” is a pupil's first name. Check the school allows first names in posts.",
    fix_hint="Leave the name out.",
    description="Any pupil's first name. Off by default; schools that post no names turn it on.",
    default_enabled=False,
)

RULES = (FULL_NAME, PICTURED, NO_CONSENT, FIRST_NAME)


def check(post: Post) -> list[Finding]:
    scan = post.name_scan
    findings = []
    for hit in scan.full:
        name = post.text[hit.start : hit.end]
        suggestion = _suggestion(hit.typed_first, hit.pupil)
        findings.append(
            Finding(
                FULL_NAME, hit.start, hit.end, {"name": name, "suggestion": suggestion}, suggestion
            )
        )
        if not hit.pupil.social_media_consent_on(post.today):
            findings.append(Finding(NO_CONSENT, hit.start, hit.end, {"name": name}))
    for first in scan.first:
        name = post.text[first.start : first.end]
        params: dict[str, str | int] = {"name": name}
        if post.has_media:
            findings.append(Finding(PICTURED, first.start, first.end, params))
        if any(not p.social_media_consent_on(post.today) for p in first.pupils):
            findings.append(Finding(NO_CONSENT, first.start, first.end, params))
        findings.append(Finding(FIRST_NAME, first.start, first.end, params))
    if post.has_media:
        for hit in scan.full:
            findings.append(
                Finding(PICTURED, hit.start, hit.end, {"name": post.text[hit.start : hit.end]})
            )
    return findings


def _suggestion(first: str, pupil: Pupil) -> str:
    """The first name as the teacher typed it, with the class so parents still know who."""
    return f"{first} ({pupil.group})" if pupil.group else first
