"""Sensitive information about an identifiable pupil.

Health, allergies, injuries, special educational needs, free school meals,
exclusions, child protection and care status are special category or
confidential information. Said of the school in general ("our SEN team") it is
fine; beside a pupil's name (or a first name with a class) it never is.
"""

from __future__ import annotations

import re

from tweetguard.checks.base import Finding, Post, Rule, Severity
from tweetguard.checks.tokens import Word, fold, vocabulary

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
        "Health, injuries and operations, allergies, SEN and support (1:1, speech therapy), "
        "free school meals, exclusions, child protection or care status, young carers, "
        "parents' separation, dates of birth, in a post that names a pupil or gives a first "
        "name with a class."
    ),
)

RULES = (SENSITIVE,)

_TERMS = vocabulary("sensitive_terms")
_LONGEST = max((len(t.split()) for t in _TERMS), default=1)
# "Sam in Year 3", "Sam (Y3)": a first name with a class identifies a child.
_NAME_WITH_CLASS = re.compile(
    r"\b([A-Z][a-z]+)(?:'s)?(?:(?i:\s*(?:\(|,\s*|\s+(?:in|from)\s+)(?:year\s*\d|y\d|reception))"
    r"|(?i:\s+(?:in|from)\s+)(?:\d{1,2}[A-Z]{1,3}\b|[A-Z][a-z]+\s+(?i:class)\b))"
)
# "Get well soon Leo", "Well done Sam": a capitalised word after these is a child.
_PERSON_CUED = re.compile(
    r"(?i:\b(?:get\s+well\s+soon|well\s+done|congratulations\s+to|happy\s+birthday(?:\s+to)?"
    r"|welcome\s+back|good\s+luck|thank\s+you|we\s+miss\s+you)),?\s+([A-Z][a-z]+)"
)
_NOT_NAMES = vocabulary("not_names")
# "Get well soon Mr Fisher": a member of staff, not a child.
_TITLES = vocabulary("titles") | vocabulary("titles_capitalised")


# "born on 2 December 2016", "born 02/12/2016": a date of birth.
_BIRTH = re.compile(
    r"(?i:\bborn\s+(?:on\s+)?(?:the\s+)?(?:\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?:\s+\d{4})?"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}))"
)


def check(post: Post) -> list[Finding]:
    terms = [t for t in _find_terms(post.words) if not _make_believe(post.text, t[0])]
    terms += [(m.start(), m.end()) for m in _BIRTH.finditer(post.text)]
    if not terms:
        return []
    if not post.name_scan.spans() and not _named_elsewise(post.text):
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


# "her teddy, who has a pretend broken leg": a game, not a child's injury.
_PRETEND = re.compile(r"(?i:\b(?:pretend|toy|teddy'?s?|doll'?s?|imaginary|play)\s+(?:\w+\s+)?$)")


def _make_believe(text: str, start: int) -> bool:
    return bool(_PRETEND.search(text[max(0, start - 30) : start]))


def _named_elsewise(text: str) -> bool:
    """A child named without the register: a first name with a class, or after a
    greeting only a person gets ("Get well soon Leo")."""
    return any(
        m.group(1).lower() not in _NOT_NAMES and fold(m.group(1)) not in _TITLES
        for pattern in (_NAME_WITH_CLASS, _PERSON_CUED)
        for m in pattern.finditer(text)
    )
