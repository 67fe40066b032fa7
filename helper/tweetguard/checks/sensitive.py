"""Sensitive information about an identifiable pupil.

Health, allergies, injuries, special educational needs, free school meals,
exclusions, child protection and care status are special category or
confidential information. Said of the school in general ("our SEN team") it is
fine; beside a pupil's name (or a first name with a class) it never is.
"""

from __future__ import annotations

import re

from tweetguard.checks.base import Finding, Post, Rule, Severity
from tweetguard.checks.tokens import Word, vocabulary

SENSITIVE = Rule(
    id="sensitive.pupil",
    family="sensitive",
    severity=Severity.BLOCK,
    message=(
        "“{term}” with a pupil's name shares private information about a child. "
        "Remove the detail or the name."
    ),
    fix_hint="Remove the sensitive detail or the name.",
    description=(
        "Health, allergies, injuries, SEN, free school meals, exclusions, child protection "
        "or care status, in a post that names a pupil or gives a first name with a class."
    ),
)

RULES = (SENSITIVE,)

_TERMS = vocabulary("sensitive_terms")
_LONGEST = max((len(t.split()) for t in _TERMS), default=1)
# "Sam in Year 3", "Sam (Y3)": a first name with a class identifies a child.
_NAME_WITH_CLASS = re.compile(
    r"\b([A-Z][a-z]+)(?:'s)?(?i:\s*(?:\(|,\s*|\s+(?:in|from)\s+)(?:year\s*\d|y\d|reception))"
)
# Capitalised words before a class that are not a child's name.
_NOT_NAMES = frozenset({"all", "everyone", "children", "pupils", "in", "the", "our", "well", "and"})


def check(post: Post) -> list[Finding]:
    terms = list(_find_terms(post.words))
    if not terms:
        return []
    if not post.name_scan.spans() and not _named_with_class(post.text):
        return []
    return [Finding(SENSITIVE, start, end, {"term": post.text[start:end]}) for start, end in terms]


def _find_terms(tokens: list[Word]) -> list[tuple[int, int]]:
    found = []
    index = 0
    while index < len(tokens):
        for size in range(min(_LONGEST, len(tokens) - index), 0, -1):
            phrase = " ".join(t.key for t in tokens[index : index + size])
            if phrase in _TERMS:
                found.append((tokens[index].start, tokens[index + size - 1].end))
                index += size
                break
        else:
            index += 1
    return found


def _named_with_class(text: str) -> bool:
    return any(m.group(1).lower() not in _NOT_NAMES for m in _NAME_WITH_CLASS.finditer(text))
