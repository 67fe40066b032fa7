"""Language that damages the school's name: profanity, plain or masked.

The word list is better-profanity's (data only; its matcher is too slow for
typing-speed checks), less words that are ordinary in school posts
(data/profanity_exclusions.txt). Masked words (sh*t, f**k, b!tch) and
look-alike spellings (sh1t) are matched too.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from tweetguard.checks.base import Finding, Post, Rule, Severity
from tweetguard.checks.tokens import fold, vocabulary

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
    return frozenset(entries - vocabulary("profanity_exclusions"))


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
        hit = token.key in listed
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
