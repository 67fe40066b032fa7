"""Language that damages the school's name: swearing and slurs, plain or masked.

Two rules, by how bad the word is. Strong swearing and slurs (Ofcom's strong and
strongest words, and every discriminatory slur; data/profanity_strong.txt) block:
school guidance never allows them. Milder words warn. The word list is
better-profanity's (data only; its matcher is too slow for typing-speed checks),
less words that are ordinary in school posts (data/profanity_exclusions.txt), plus
British swearing and abbreviations it lacks (data/profanity_additions.txt).
Plurals, masked words (sh*t, F***, b!tch), look-alike spellings (sh1t) and
abbreviations (ffs, wtf) are matched too; listed words inside innocent phrases
(spotted dick, blue tits, Homo sapiens) and in names (Dick King-Smith, Titty
Walker) are not.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path

from tweetguard.checks.base import Finding, Post, Rule, Severity
from tweetguard.checks.tokens import Word, fold, vocabulary

STRONG = Rule(
    id="language.strong",
    family="language",
    severity=Severity.BLOCK,
    message="“{word}” is strong swearing or a slur, which a school account never posts. Remove it.",
    fix_hint="Remove the word.",
    description=(
        "Strong swearing and slurs (race, religion, sexuality, gender identity, disability), "
        "including masked (f***) and abbreviated (ffs, wtf) forms."
    ),
)
PROFANITY = Rule(
    id="language.profanity",
    family="language",
    severity=Severity.WARN,
    message="“{word}” may read as swearing on a school account. Reword it.",
    fix_hint="Choose another word.",
    description="Milder swearing (bloody, crap, sod), including masked (sh*t) and look-alike "
    "(sh1t) spellings.",
)

RULES = (STRONG, PROFANITY)

# A word with mask characters inside: sh*t, f**k, b!tch, a$$, F***.
_MASKED = re.compile(r"(?<![\w*#@$%!])[A-Za-z][A-Za-z0-9*#@$%!]*[*#@$%!0-9][A-Za-z0-9*#@$%!]*")
_LOOKALIKE = str.maketrans(
    {"@": "a", "$": "s", "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "!": "i"}
)
_MASK_CHARS = "*#%"
# With one letter showing ("f***", "s***"), a mask can only mean the words people
# actually mask; anything else on the list would be a guess.
_COMMONLY_MASKED = frozenset(
    {
        "fuck",
        "fucking",
        "fucker",
        "shit",
        "cunt",
        "piss",
        "crap",
        "twat",
        "dick",
        "cock",
        "arse",
        "wank",
        "wanker",
        "bitch",
        "prick",
        "bugger",
        "bollocks",
        "bastard",
        "damn",
    }
)
_INNOCENT = vocabulary("profanity_phrases_ok")
_ARTICLES = frozenset("a an the such what total absolute complete utter massive big".split())
_NAMES = vocabulary("profanity_names")


@cache
def words() -> frozenset[str]:
    """Every listed word, strong or mild."""
    listed = _better_profanity_list()
    entries = {fold(line.strip()) for line in listed.splitlines() if line.strip()}
    return frozenset(
        (entries | vocabulary("profanity_additions") | vocabulary("profanity_strong"))
        - vocabulary("profanity_exclusions")
    )


def _better_profanity_list() -> str:
    """The package's word list, read as data: importing the package would build its
    own matcher (about 15 ms) that nothing here uses."""
    spec = importlib.util.find_spec("better_profanity")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("better-profanity is not installed; reinstall tweetguard")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return (folder / "profanity_wordlist.txt").read_text("utf-8")


@cache
def strong() -> frozenset[str]:
    return vocabulary("profanity_strong") - vocabulary("profanity_exclusions")


@cache
def _by_length() -> dict[int, tuple[str, ...]]:
    grouped: dict[int, list[str]] = {}
    for word in words():
        if " " not in word:
            grouped.setdefault(len(word), []).append(word)
    return {n: tuple(sorted(ws)) for n, ws in grouped.items()}


def check(post: Post) -> list[Finding]:
    listed, worst = words(), strong()
    findings = []
    tokens = post.words
    for index, token in enumerate(tokens):
        key = _listed(token.key, listed)
        end = index
        if key and (_in_innocent_phrase(tokens, index) or _a_name(post.text, tokens, index)):
            key = None
        if key is None and index + 1 < len(tokens):
            pair = f"{token.key} {tokens[index + 1].key}"
            gap = post.text[token.end : tokens[index + 1].start]
            if pair in listed and gap.isspace() and not _in_innocent_phrase(tokens, index):
                key, end = pair, index + 1
        if key:
            start, stop = token.start, tokens[end].end
            rule = STRONG if key in worst else PROFANITY
            findings.append(Finding(rule, start, stop, {"word": post.text[start:stop]}))
    for match in _MASKED.finditer(post.text):
        raw = match.group()
        if raw.isalnum() and not any(c.isdigit() for c in raw):
            continue
        meant = _masked_profanity(raw.lower(), listed)
        if meant:
            rule = STRONG if meant & worst else PROFANITY
            findings.append(Finding(rule, match.start(), match.end(), {"word": raw}))
    return findings


def _listed(key: str, listed: frozenset[str]) -> str | None:
    """The listed word this is, plural or not: "arses" is "arse"; "assess" is nothing."""
    if key in listed:
        return key
    if len(key) > 3 and key.endswith("s") and not key.endswith("ss") and key[:-1] in listed:
        return key[:-1]
    return None


def _in_innocent_phrase(tokens: list[Word], index: int) -> bool:
    for size in (2, 3):
        for start in range(max(0, index - size + 1), index + 1):
            window = tokens[start : start + size]
            if len(window) == size and " ".join(w.key for w in window) in _INNOCENT:
                return True
    return False


def _a_name(text: str, tokens: list[Word], index: int) -> bool:
    """ "Dick King-Smith", "Philip K. Dick", "a trip to Cocks": a listed word that is
    also a name, capitalised mid-sentence or beside other capitalised words."""
    word = tokens[index]
    if word.key not in _NAMES or not word.capitalized or word.raw.isupper():
        return False
    before = tokens[index - 1] if index > 0 else None
    if before is not None and before.sentence == word.sentence:
        # Capitalised mid-sentence: a proper name ("a trip to Cocks"), but not after
        # an article ("the ref was a Dick").
        return before.key not in _ARTICLES
    for step in (-1, 1):
        near = index + step
        if 0 <= near < len(tokens) and tokens[near].sentence == word.sentence:
            other = tokens[near]
            between = text[min(other.end, word.end) : max(other.start, word.start)]
            if other.capitalized and re.fullmatch(r"[\s.,]*|\s*(?:and|&)\s*", between):
                return True
    return False


def _masked_profanity(raw: str, listed: frozenset[str]) -> frozenset[str]:
    """The listed words a masked or look-alike spelling stands for (empty: none)."""
    if raw.isdigit():
        return frozenset()
    lookalike = raw.translate(_LOOKALIKE)
    if lookalike in listed:
        return frozenset({lookalike})
    if not any(c in _MASK_CHARS for c in lookalike):
        return frozenset()
    letters = sum(c.isalpha() for c in lookalike)
    if letters < 1:
        return frozenset()
    pattern = re.compile("".join("." if c in _MASK_CHARS else re.escape(c) for c in lookalike))
    candidates = _by_length().get(len(lookalike), ())
    if letters == 1:
        candidates = tuple(w for w in candidates if w in _COMMONLY_MASKED)
    return frozenset(w for w in candidates if pattern.fullmatch(w))
