"""Trips and locations: where pupils will be, and when, told to strangers.

A public post that says "Year 3 are at the Science Museum tomorrow at 10am"
tells anyone where a group of children will be. The same trip told afterwards
("visited ... last week") is fine, and so are events at the school itself.
A sentence is held when it has a time still to come (or right now) together with
a place away from school, or a movement away from it (going to, leaving school
for, meet at, visiting, a residential), and nothing that puts it in the past.

A place is a capitalised name after at/in/near/on/to ("at Kew Gardens", "out on
Orchard Road"), or any capitalised name ending in a place word ("Sponsored walk:
Hollins Wood, Sunday 9am"; data/place_words.txt). Events named like places
("Children in Need") are not places; nor are classes, subjects, languages and
days (data/not_places.txt), the school's own rooms (data/school_places.txt), or
the school's name and the places the policy allows. Make-believe ("a role-play
rocket in our classroom") is not a trip.
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
        "(“at Kew Gardens”, “Hollins Wood”), a movement (going to, leaving school for, meet at, "
        "visiting) or a residential. Public accounts only."
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
      | \d{{1,2}}(?:[:.]\d{{2}})?\s?(?:am|pm)\b
      | \d{{1,2}}:\d{{2}}
      | at\ \d{{1,2}}(?:\.\d{{2}})?(?=\s*(?:sharp|o['’]clock|[,.;!–—-]|on\b|$))
      | noon|midday
      | (?-i:Mon|Tue|Tues|Wed|Weds|Thu|Thur|Thurs|Fri|Sat|Sun)\.?
        (?=\s*(?:\d|morning|afternoon|evening|night))
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# Pupils moving away from school; the verbs are matched in any case.
_LEAVING = re.compile(
    r"""(?i:\b(?:
        leav(?:e|es|ing)\s+(?:for|at|from|by|school|the\s+school)
      | depart(?:s|ing)?
      | set(?:ting)?\s+off
      | coach(?:es)?\s+(?:leaves?|departs?)
    )\b)""",
    re.VERBOSE,
)
_GOING = re.compile(
    r"""(?i:\b(?:
        (?:go|goes|going|head|heads|heading|off|travel(?:s|ling|ing)?|walk(?:s|ing)?|
           driv(?:e|es|ing)|cycl(?:e|es|ing)|fly(?:ing)?|sail(?:s|ing)?|tak(?:e|es|ing)\s+\w+)
        \s+(?:to|for)
      | (?:trip|visit|outing|journey|excursion)\s+to
      | (?:meet|meeting)\s+(?:at|by|outside|in)
      | (?:pick[- ]?up|drop[- ]?off|collection)\s+(?:is\s+)?(?:at|from)
    )\b)""",
    re.VERBOSE,
)
# Visiting somewhere; not "visiting us" (a visitor comes to school).
_VISITING = re.compile(
    r"(?i:\bvisit(?:s|ing)?\s+(?!us\b|you\b|school\b|the\s+school\b|our\s+(?!local\b))"
    r"(?:the\s+|a\s+|our\s+local\s+|our\s+)?[a-z])"
)
# Nights away: the dates of a residential say when the pupils are away.
_RESIDENTIAL = re.compile(r"(?i:\b(?:residential|school\s+camp|overnight\s+stay|sleepover)s?\b)")
# A capitalised name after a preposition of place: "at the Science Museum".
_PLACE = re.compile(
    r"\b(at|in|near|outside|on|to|for)\s+(?:the\s+)?"
    r"((?:[A-Z][\w'’&-]*)(?:\s+(?:of\s+|the\s+|&\s+|upon\s+)?[A-Z][\w'’&-]*)*)"
)
# Any capitalised name of two or more words: "Hollins Wood", "Dearne Valley".
_NAME = re.compile(r"\b[A-Z][\w'’&-]*(?:\s+(?:of\s+|the\s+|upon\s+)?[A-Z][\w'’&-]*)+")
# Who or what is out there: a place named without "at" or with "on" ("out on Orchard
# Road") counts only when the sentence is about pupils or a school event, not
# roadworks on Church Lane.
_PUPILS = re.compile(
    r"(?i:\b(?:year\s*\d+|y\d|class(?:es)?|reception|nursery|pupils|children|kids|team|squad|"
    r"choir|band|we|us|our|ks[12]|group|walk|match|fixture|trip|visit|concert|performance|"
    r"race|tournament|competition|gala|sponsored|fun\s+run|bikeability|residential|"
    r"cross[- ]country|sports?|football|netball|rugby|hockey|cricket|athletics|swimming|"
    r"festival|parade|league|cup|fair|show|service|club|camp)\b)"
)
_PAST = re.compile(
    rf"""\b(?:yesterday|last\s+(?:week(?:end)?|month|term|year|night|{_DAY})|ago|earlier\ today
      | visited|went|travelled|traveled|returned|came|come\ back|got\ back|were|was\ at|spent
      | enjoyed|loved|sang|performed|played|won|saw|met|learned|learnt|explored|took\ part
      | competed|watched|had\ (?:a|an|the|such)|we\ had|what\ a\ (?:day|trip)|thanks?\ to
      | thank\ you)\b""",
    re.IGNORECASE | re.VERBOSE,
)
_FUTURE = re.compile(
    r"\b(?:will|going\ to|shall|'ll|are\ off|tomorrow|next|tonight|can't\ wait|looking\ forward"
    r"|please|don't\ forget|remember\ to|reminder)\b",
    re.IGNORECASE | re.VERBOSE,
)
# Make-believe, or a trip taken in a room of the school: "our role-play rocket",
# "a virtual tour", "through the wardrobe in our book corner".
_MAKE_BELIEVE = re.compile(
    r"(?i:\b(?:role[- ]?play|pretend|imaginary|make[- ]believe|virtual(?:ly)?|"
    r"in\s+(?:our|the)\s+classroom|in\s+class|"
    r"in\s+our\s+(?:book|reading|story|role[- ]?play|quiet)\s+(?:corner|area|nook|den)|"
    r"in\s+our\s+(?:hall|library|playground|outdoor\s+area|forest\s+school))\b)"
)

# Capitalised words after "at"/"in" that are not places: classes, seasons, events.
_NOT_PLACES = vocabulary("not_places")
# Words that, all together, are the school itself ("School Hall", "Playground").
_SCHOOL_PLACES = vocabulary("school_places")
# Words that end a place name: "Park", "Zoo", "Museum", "Road".
_PLACE_WORDS = vocabulary("place_words")
# Prepositions and articles a Title Case name starts with: "In The Hall", "At The Zoo".
_LEADING = re.compile(r"^(?:(?:In|At|On|To|For|By|Near|Outside|The|Our|A)\s+)+")
# Events named like places: "Children in Need".
_EVENTS = tuple(sorted(vocabulary("event_names"), key=len, reverse=True))


def check(post: Post) -> list[Finding]:
    text = _blank_events(post.text)
    findings = []
    allowed = [fold(p) for p in (*post.policy.allow.places, post.policy.school)]
    for start, end in _units(text):
        sentence = text[start:end]
        when = _WHEN.search(sentence)
        if when is None or _MAKE_BELIEVE.search(sentence):
            continue
        about_pupils = bool(_PUPILS.search(sentence))
        where = (
            _place(sentence, allowed, about_pupils)
            or _movement(sentence, allowed, about_pupils)
            or _RESIDENTIAL.search(sentence)
        )
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
                {
                    "when": post.text[start + when.start() : start + when.end()].strip(),
                    "where": post.text[start + where.start() : start + where.end()].strip(),
                },
            )
        )
    return findings


# A quoted title: a play, a book, a song ("'A School Trip to the Moon'").
_QUOTED_TITLE = re.compile(r"[‘“\"'](?=[A-Z])[^‘’“”\"\n]{3,60}?[’”\"'](?!\w)")


def _units(text: str) -> list[tuple[int, int]]:
    """The sentences, with runs of short ones read together: a coach's "U7 futsal.
    Thurs 4pm. Bowling Pool Sports Centre." says the time and the place apart."""
    units: list[tuple[int, int]] = []
    previous_short = False
    for start, end in sentences(text):
        short = len(text[start:end].split()) <= _SHORT
        if short and previous_short and units:
            units[-1] = (units[-1][0], end)
        else:
            units.append((start, end))
        previous_short = short
    return units


# A sentence this short (in words) is a fragment of a terse post.
_SHORT = 6


def _blank_events(text: str) -> str:
    """The text with event names ("Children in Need") and quoted titles ("'A School
    Trip to the Moon'") spaced out, offsets kept."""
    text = _QUOTED_TITLE.sub(lambda m: " " * len(m.group()), text)
    folded = text.lower()
    if not any(event.split()[0] in folded for event in _EVENTS):
        return text
    for event in _EVENTS:
        pattern = re.compile(r"\b" + r"\s+".join(map(re.escape, event.split())) + r"\b", re.I)
        text = pattern.sub(lambda m: " " * len(m.group()), text)
    return text


def _movement(sentence: str, allowed: list[str], about_pupils: bool) -> re.Match[str] | None:
    """A movement away from school. Leaving school is one; going to (or meeting at)
    the school's own gate or hall is not, unless a place away from school follows."""
    for match in _LEAVING.finditer(sentence):
        return match
    for match in _GOING.finditer(sentence):
        following = sentence[match.end() : match.end() + 40]
        if _WHEN.match(following.lstrip()):
            continue  # "drop-off from Monday": from a day, not from a place
        if not _at_school(following, allowed, about_pupils):
            return match
    visiting = _VISITING.search(sentence)
    if visiting:
        following = sentence[visiting.end() - 1 : visiting.end() + 30]
        if not _at_school(following, allowed, about_pupils):
            return visiting
    return None


def _at_school(following: str, allowed: list[str], about_pupils: bool) -> bool:
    """ "the main gate", "the hall": at school; but "the gates of Heaton Park",
    "Brambleside Park gates" and "the post office" are places beyond the gate."""
    words = [fold(w.strip(".,!?;:()")) for w in following.split()[:5]]
    spots = [i for i, w in enumerate(words) if w in _SCHOOL_PLACES]
    if not spots:
        return False
    own = {word for place in allowed for word in place.split()}  # "the Larkfield gates"
    before = words[spots[0] - 1] if spots[0] > 0 else "the"
    if before not in _SCHOOL_MODIFIERS and before not in own:
        return False  # "the post office", "the village hall": not the school's
    return _place(following, allowed, about_pupils) is None


# Words that may stand before a room of the school: "the main hall", "our school office".
_SCHOOL_MODIFIERS = frozenset(
    (
        "the our main school front back side big small new old staff dining sports "
        "junior infant nursery reception upper lower top bottom"
    ).split()
)


def _place(sentence: str, allowed: list[str], about_pupils: bool) -> re.Match[str] | None:
    for match in _PLACE.finditer(sentence):
        preposition, phrase = match.group(1).lower(), fold(match.group(2))
        words = phrase.split()
        if words[0] in _NOT_PLACES or words[-1] in _NOT_PLACES:
            continue
        if preposition in ("on", "to", "for") and words[-1] not in _PLACE_WORDS:
            continue  # "on Monday", "for Year 6": only named places count after these
        if preposition == "on" and not about_pupils:
            continue
        if _school_name(match.group(2)) or _is_allowed(phrase, allowed):
            continue
        if _WHEN.fullmatch(match.group(2)):
            continue
        return match
    if not about_pupils:
        return None
    for match in _NAME.finditer(sentence):
        name = _LEADING.sub("", match.group())  # "In The Hall" (Title Case): "Hall"
        words = fold(name).split()
        if not words or words[-1] not in _PLACE_WORDS or words[0] in _NOT_PLACES:
            continue
        if _school_name(name) or _is_allowed(fold(name), allowed):
            continue
        return match
    return None


def _school_name(name: str) -> bool:
    """ "the School Hall": every word is the school's own."""
    return all(fold(w) in _SCHOOL_PLACES for w in name.split())


def _is_allowed(phrase: str, allowed: list[str]) -> bool:
    """The school's name and allowed places pass, and so do the school's own rooms
    under its name ("Brambleside Primary School Hall"), but not other places that
    share the name ("Brambleside Leisure Centre", "Brambleside Park")."""
    for place in allowed:
        if not place:
            continue
        if phrase in place:
            return True
        if place in phrase:
            rest = phrase.replace(place, " ").split()
            if all(w in _SCHOOL_PLACES for w in rest):
                return True
    return False
