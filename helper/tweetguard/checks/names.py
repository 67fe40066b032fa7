"""Pupils named in a post, matched against the consent register.

Names are matched as sequences of words, not substrings, so "Max" inside
"maximum" never fires. Words are compared case-insensitively and without
diacritics, because teachers type "Ciaran" for "Ciarán" and "KHAN" for "Khan".
The index is built once per register revision; a check is one dict lookup per word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from tweetguard.checks.base import Finding, Rule, Severity
from tweetguard.stores.consent import Pupil

FULL_NAME = Rule(
    id="names.full-name",
    family="names",
    severity=Severity.BLOCK,
    message="“{name}” is a pupil's full name. Use the first name only, e.g. “{suggestion}”.",
    fix_hint="Replace the full name with the first name (and class).",
    description=(
        "A pupil's first (or preferred) name followed by their surname, from the consent register."
    ),
)

RULES = (FULL_NAME,)

# A word: letters and digits, joined by inner apostrophes or hyphens (O'Neill, Lily-Mae).
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")


def fold(word: str) -> str:
    """The form names are compared in: no diacritics, case-folded, one apostrophe."""
    decomposed = unicodedata.normalize("NFKD", word)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.casefold().replace("’", "'")


@dataclass(frozen=True)
class _Entry:
    words: tuple[str, ...]
    first_words: int  # how many of `words` are the first name
    pupil: Pupil


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    key: str


_POSSESSIVE = ("'s", "’s", "'S", "’S")


def words(text: str) -> list[Word]:
    result = []
    for match in _WORD.finditer(text):
        token, end = match.group(), match.end()
        # "Thornbury's" names Thornbury: the possessive is not part of the name.
        if token.endswith(_POSSESSIVE) and len(token) > 2:
            token, end = token[:-2], end - 2
        result.append(Word(match.start(), end, fold(token)))
    return result


class NameIndex:
    """Full names keyed by their first folded word."""

    def __init__(self, pupils: Iterable[Pupil]) -> None:
        self._by_first: dict[str, list[_Entry]] = {}
        self.size = 0
        for pupil in pupils:
            self.size += 1
            firsts = {pupil.first_name}
            if pupil.preferred_name:
                firsts.add(pupil.preferred_name)
            seen: set[tuple[str, ...]] = set()
            for first in firsts:
                first_key = tuple(w.key for w in words(first))
                key = first_key + tuple(w.key for w in words(pupil.last_name))
                if not first_key or len(key) == len(first_key) or key in seen:
                    continue
                seen.add(key)
                self._by_first.setdefault(key[0], []).append(_Entry(key, len(first_key), pupil))
        # Longest names first, so "Mary Jane Smith" wins over "Mary Jane".
        for entries in self._by_first.values():
            entries.sort(key=lambda e: -len(e.words))

    def find(self, text: str, tokens: list[Word] | None = None) -> list[Finding]:
        tokens = words(text) if tokens is None else tokens
        findings: list[Finding] = []
        index = 0
        while index < len(tokens):
            match = self._match_at(text, tokens, index)
            if match is None:
                index += 1
                continue
            entry = match
            start = tokens[index].start
            end = tokens[index + len(entry.words) - 1].end
            typed_first = text[start : tokens[index + entry.first_words - 1].end]
            suggestion = _suggestion(typed_first, entry.pupil)
            findings.append(
                Finding(
                    rule=FULL_NAME,
                    start=start,
                    end=end,
                    params={"name": text[start:end], "suggestion": suggestion},
                    fix=suggestion,
                )
            )
            index += len(entry.words)
        return findings

    def _match_at(self, text: str, tokens: list[Word], index: int) -> _Entry | None:
        for entry in self._by_first.get(tokens[index].key, ()):
            n = len(entry.words)
            if index + n > len(tokens):
                continue
            if all(tokens[index + k].key == entry.words[k] for k in range(1, n)) and all(
                text[tokens[index + k - 1].end : tokens[index + k].start].isspace()
                for k in range(1, n)
            ):
                return entry
        return None


def _suggestion(first: str, pupil: Pupil) -> str:
    """The first name as the teacher typed it, with the class so parents still know who."""
    return f"{first} ({pupil.class_name})" if pupil.class_name else first
