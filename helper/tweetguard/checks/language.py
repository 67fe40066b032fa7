"""Language that damages the school's name: profanity, plain or masked.

The word list is better-profanity's (data only; its matcher is too slow for
typing-speed checks), less words that are ordinary in school posts
(data/profanity_exclusions.txt), plus British swearing it lacks
(data/profanity_additions.txt). Plurals, masked words (sh*t, f**k, b!tch) and
look-alike spellings (sh1t) are matched too; listed words inside innocent
phrases (spotted dick, blue tits) are not.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from tweetguard.checks.base import Finding, Post, Rule, Severity
from tweetguard.checks.tokens import Word, fold, vocabulary

PROFANITY = Rule(
    id="language.profanity",
    family="language",
    severity=Severity.WARN,
    message="“{word}” may read as swearing on a school account. Reword it.",
    fix_hint="Choose another word.",
    description="Profanity and slurs, including masked (sh*t) and look-alike (sh1t) spellings.",
)

RULES = (PROFANITY,)

# A word with mask characters inside: sh*t, f**k, b!tch, a$$.
_MASKED = re.compile(r"(?<![\w*#@$%!])[A-Za-z][A-Za-z0-9*#@$%!]*[*#@$%!0-9][A-Za-z0-9*#@$%!]*")
_LOOKALIKE = str.maketrans(
    {"@": "a", "$": "s", "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "!": "i"}
)
_MASK_CHARS = "*#%"


@cache
def words() -> frozenset[str]:
    listed = (
        resources.files("better_profanity").joinpath("profanity_wordlist.txt").read_text("utf-8")
    )
    entries = {fold(line.strip()) for line in listed.splitlines() if line.strip()}
    return frozenset(
        (entries | vocabulary("profanity_additions")) - vocabulary("profanity_exclusions")
    )


@cache
def _by_length() -> dict[int, tuple[str, ...]]:
    grouped: dict[int, list[str]] = {}
    for word in words():
        if " " not in word:
            grouped.setdefault(len(word), []).append(word)
    return {n: tuple(sorted(ws)) for n, ws in grouped.items()}


def check(post: Post) -> list[Finding]:
    listed = words()
    findings = []
    tokens = post.words
    for index, token in enumerate(tokens):
        hit = _listed(token.key, listed) and not _in_innocent_phrase(tokens, index)
        end = index
        if not hit and index + 1 < len(tokens):
            pair = f"{token.key} {tokens[index + 1].key}"
            if pair in listed and post.text[token.end : tokens[index + 1].start].isspace():
                hit, end = True, index + 1
        if hit:
            start, stop = token.start, tokens[end].end
            findings.append(Finding(PROFANITY, start, stop, {"word": post.text[start:stop]}))
    for match in _MASKED.finditer(post.text):
        raw = match.group()
        if raw.isalnum() and not any(c.isdigit() for c in raw):
            continue
        if _masked_profanity(raw.lower(), listed):
            findings.append(Finding(PROFANITY, match.start(), match.end(), {"word": raw}))
    return findings


def _listed(key: str, listed: frozenset[str]) -> bool:
    if key in listed:
        return True
    # Plurals: "arses" from "arse"; but "assess" is not "asses".
    return len(key) > 3 and key.endswith("s") and not key.endswith("ss") and key[:-1] in listed


_INNOCENT = vocabulary("profanity_phrases_ok")


def _in_innocent_phrase(tokens: list[Word], index: int) -> bool:
    for size in (2, 3):
        for start in range(max(0, index - size + 1), index + 1):
            window = tokens[start : start + size]
            if len(window) == size and " ".join(w.key for w in window) in _INNOCENT:
                return True
    return False


def _masked_profanity(raw: str, listed: frozenset[str]) -> bool:
    if raw.isdigit() or sum(c.isalpha() for c in raw) < 2:
        return False
    lookalike = raw.translate(_LOOKALIKE)
    if lookalike in listed:
        return True
    if not any(c in _MASK_CHARS for c in lookalike):
        return False
    pattern = re.compile("".join("." if c in _MASK_CHARS else re.escape(c) for c in lookalike))
    return any(pattern.fullmatch(word) for word in _by_length().get(len(lookalike), ()))
