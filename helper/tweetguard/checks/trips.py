"""Trips and locations: where pupils will be, and when, told to strangers.

A public post that says "Year 3 are at the Science Museum tomorrow at 10am"
tells anyone where a group of children will be. The same trip told afterwards
("visited ... last week") is fine, and so are events at the school itself.
A sentence is held when it has a time still to come (or right now) together with
a place away from school or a movement (going to, leaving, meet at), and nothing
that puts it in the past.
"""

from __future__ import annotations

import re

from tweetguard.checks.base import Finding, Post, Rule, Severity
from tweetguard.checks.tokens import fold, sentences, vocabulary

FUTURE_LOCATION = Rule(
    id="trips.future-location",
    family="trips",
    severity=Severity.BLOCK,
    message=(
        "This says where pupils will be and when (“{when}”, “{where}”). "
        "Post about the trip once you are back."
    ),
    fix_hint="Post after the event, in the past tense, or leave out the time or place.",
    description=(
        "A time still to come (tomorrow, Friday, 10am, a date) with a place away from school "
        "or a movement (going to, leaving, meet at). Public accounts only."
    ),
    public_only=True,
)

RULES = (FUTURE_LOCATION,)

_DAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_WHEN = re.compile(
    rf"""\b(?:
        tomorrow|tonight|later\ today|today|right\ now|this\ (?:morning|afternoon|evening)
      | (?:this|next|on|coming)\s+(?:{_DAY}|week(?:end)?|month|term)
      | {_DAY}s?(?:\s+(?:morning|afternoon|evening))?
      | \d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b
      | {_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b
      | \d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?
      | \d{{1,2}}(?:[:.]\d{{2}})?\s?(?:am|pm)
      | \d{{1,2}}:\d{{2}}
      | at\ \d{{1,2}}(?:\.\d{{2}})?(?=\s*(?:sharp|o['’]clock|[,.;!–—-]|$))
      | noon|midday
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# Pupils moving somewhere: the verbs are matched in any case.
_MOVEMENT = re.compile(
    r"""(?i:\b(?:
        (?:going|heading|off|travelling|traveling|walking|driving|setting\ off)\s+(?:to|for)
      | (?:trip|visit|outing|journey)\s+to
      | leav(?:e|es|ing)\s+(?:for|at|from)
      | depart(?:s|ing)?
      | (?:meet|meeting)\s+(?:at|by|outside)
      | (?:pick[- ]?up|drop[- ]?off|collection)\s+(?:is\s+)?(?:at|from)
      | coach\s+(?:leaves|departs)
    ))
    | (?i:\bvisiting)\s+(?:the\s+)?[A-Z]""",
    re.VERBOSE,
)
# "at the Science Museum", "in Hyde Park": capitalised words after at/in/near.
_PLACE = re.compile(
    r"\b(?:at|in|near|outside)\s+(?:the\s+)?"
    r"((?:[A-Z][\w'’&-]*)(?:\s+(?:of\s+|the\s+|&\s+)?[A-Z][\w'’&-]*)*)"
)
_PAST = re.compile(
    rf"""\b(?:yesterday|last\s+(?:week(?:end)?|month|term|year|night|{_DAY})|ago|earlier\ today
      | visited|went|travelled|traveled|returned|came\ back|got\ back|were\ at|was\ at|spent
      | enjoyed|loved|sang|performed|played|won|saw|met|learned|learnt|explored|took\ part
      | competed|watched|had\ (?:a|an|the|such)|we\ had|what\ a\ (?:day|trip))\b""",
    re.IGNORECASE | re.VERBOSE,
)
_FUTURE = re.compile(
    r"\b(?:will|going\ to|shall|'ll|are\ off|tomorrow|next|tonight|can't\ wait|looking\ forward)\b",
    re.IGNORECASE | re.VERBOSE,
)

# Capitalised words after "at"/"in" that are not places: classes, seasons, events.
_NOT_PLACES = vocabulary("not_places")
# Words that, all together, are the school itself ("School Hall", "Playground").
_SCHOOL_PLACES = vocabulary("school_places")


def check(post: Post) -> list[Finding]:
    text = post.text
    findings = []
    allowed = [fold(p) for p in (*post.policy.allow.places, post.policy.school)]
    for start, end in sentences(text):
        sentence = text[start:end]
        when = _WHEN.search(sentence)
        if when is None:
            continue
        where = _place(sentence, allowed) or _movement(sentence)
        if where is None:
            continue
        if _PAST.search(sentence) and not _FUTURE.search(sentence):
            continue
        first = min(when.start(), where.start())
        last = max(when.end(), where.end())
        findings.append(
            Finding(
                FUTURE_LOCATION,
                start + first,
                start + last,
                {"when": when.group().strip(), "where": where.group().strip()},
            )
        )
    return findings


def _movement(sentence: str) -> re.Match[str] | None:
    """A movement away from school: "meet at the main gate" stays at school."""
    for match in _MOVEMENT.finditer(sentence):
        following = sentence[match.end() : match.end() + 40].split()[:5]
        if not any(fold(word.strip(".,!?;:")) in _SCHOOL_PLACES for word in following):
            return match
    return None


def _place(sentence: str, allowed: list[str]) -> re.Match[str] | None:
    for match in _PLACE.finditer(sentence):
        phrase = fold(match.group(1))
        words = phrase.split()
        if words[0] in _NOT_PLACES or words[-1] in _NOT_PLACES:
            continue
        if all(w in _SCHOOL_PLACES for w in words):
            continue  # "the School Hall"; another school's name still counts
        if any(place and (place in phrase or phrase in place) for place in allowed):
            continue
        if _WHEN.fullmatch(match.group(1)):
            continue
        return match
    return None
