"""Words and sentences of a post, found once and shared by every check.

Offsets are code points into the post; the engine turns them into UTF-16 for
the browser at the very end.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

# A word: letters and digits, joined by inner apostrophes or hyphens (O'Neill, Lily-Mae).
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_POSSESSIVE = ("'s", "’s", "'S", "’S")
# A sentence ends at . ! ? or a line break, when followed by space or the end.
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)|\n+")


def fold(word: str) -> str:
    """The form words are compared in: no diacritics, case-folded, one apostrophe."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.casefold().replace("’", "'")


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    key: str  # folded
    raw: str
    sentence: int  # index of the sentence the word is in
    possessive: bool = False  # "Thornbury's": the 's is not part of the word

    @property
    def capitalized(self) -> bool:
        return self.raw[:1].isupper()


def words(text: str) -> list[Word]:
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    result = []
    sentence = 0
    for match in _WORD.finditer(text):
        while sentence < len(ends) and ends[sentence] <= match.start():
            sentence += 1
        token, end = match.group(), match.end()
        possessive = token.endswith(_POSSESSIVE) and len(token) > 2
        if possessive:
            token, end = token[:-2], end - 2
        result.append(Word(match.start(), end, fold(token), token, sentence, possessive))
    return result


def sentence_start(tokens: list[Word], index: int) -> bool:
    return index == 0 or tokens[index - 1].sentence != tokens[index].sentence


@cache
def vocabulary(name: str) -> frozenset[str]:
    """A word list from checks/data/NAME.txt: one entry per line, # comments.

    Entries are folded like words; multi-word entries keep their spaces.
    """
    text = resources.files("tweetguard.checks.data").joinpath(f"{name}.txt").read_text("utf-8")
    entries = set()
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            entries.add(" ".join(fold(part) for part in entry.split()))
    return frozenset(entries)


def sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the post's sentences, split like words() counts them."""
    spans = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.end()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]
