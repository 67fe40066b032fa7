"""Words and sentences of a post, found once and shared by every check.

The checks read a clean view of the post (`clean`): invisible characters that
split or hide a word (NUL, zero-width spaces, soft hyphens) are removed, and
letters typed as a base plus combining accent are composed, with a map back to
the teacher's own text so findings still point at what they typed. Offsets are
code points; the engine turns them into UTF-16 for the browser at the very end.

Hashtags and @mentions are split into their parts ("#WellDoneAmeliaThornbury",
"@amelia_thornbury"), which are marked as joined to the part before them, so a
name written as one tag is still two words of a name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import pairwise

from tweetguard.folding import INVISIBLE, fold

__all__ = ["Clean", "Word", "clean", "fold", "sentence_start", "sentences", "vocabulary", "words"]

# A word: letters and digits, joined by inner apostrophes or hyphens (O'Neill, Lily-Mae,
# Frost–Whitley), in any of the forms phones and word processors type them.
_APOSTROPHES = "'’‘ʼ`´"
_DASHES = "\\-‐‑‒–−"  # not the em dash: "Well done—Amelia" is two words
_WORD = re.compile(rf"[^\W_]+(?:[{_APOSTROPHES}{_DASHES}][^\W_]+)*")
_POSSESSIVE = re.compile(rf"[{_APOSTROPHES}][sS]$")
# A sentence ends at . ! ? or a line break, when followed by space or the end; not
# after an initial ("Amelia J. Thornbury") or a title ("Mrs. Okafor").
_SENTENCE_END = re.compile(
    r"(?<!\b[A-Z])(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)(?<!\bMx)(?<!\bRev)"
    r"(?<!\bProf)[.!?…]+(?=\s|$)|[.!?…]+(?=\s*\n)|\n+"
)
# Marks that ride on a letter: accents, strike-through and underline ("fancy text"),
# variation selectors, the combining grapheme joiner.
_COMBINING = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\ufe00-\ufe0f"
    "\u180b-\u180d\U000e0100-\U000e01ef]"
)


@dataclass(frozen=True)
class Clean:
    """The post as the checks read it, and where each of its characters came from."""

    text: str
    starts: tuple[int, ...] | None = None  # clean index -> raw start; None: same as raw
    ends: tuple[int, ...] | None = None  # clean index -> raw end

    def raw_start(self, offset: int, raw_length: int) -> int:
        if self.starts is None:
            return offset
        return self.starts[offset] if offset < len(self.starts) else raw_length

    def raw_end(self, offset: int) -> int:
        if self.ends is None:
            return offset
        return self.ends[offset - 1] if offset > 0 else 0


def clean(text: str) -> Clean:
    if not INVISIBLE.search(text) and (text.isascii() or not _COMBINING.search(text)):
        return Clean(text)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    index = 0
    while index < len(text):
        char = text[index]
        if INVISIBLE.match(char):
            index += 1
            continue
        end = index + 1
        while end < len(text) and (_is_mark(text[end]) or INVISIBLE.match(text[end])):
            end += 1
        cluster = "".join(c for c in text[index:end] if not INVISIBLE.match(c))
        # Accents compose onto their letter ("e" + acute is "é"); marks that do not
        # (strike-through, underline, variation selectors) are left out of the view.
        for position, composed in enumerate(unicodedata.normalize("NFC", cluster)):
            if position and _is_mark(composed):
                continue
            out.append(composed)
            starts.append(index)
            ends.append(end)
        index = end
    return Clean("".join(out), tuple(starts), tuple(ends))


def _is_mark(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Me")


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    key: str  # folded
    raw: str
    sentence: int  # index of the sentence the word is in
    possessive: bool = False  # "Thornbury's": the 's is not part of the word
    tag: bool = False  # a part of a #hashtag or @mention
    joined: bool = False  # written onto the word before it, as in "#AmeliaThornbury"

    @property
    def capitalized(self) -> bool:
        return self.raw[:1].isupper()


def words(text: str) -> list[Word]:
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    result: list[Word] = []
    sentence = 0
    for match in _WORD.finditer(text):
        while sentence < len(ends) and ends[sentence] <= match.start():
            sentence += 1
        token, start, end = match.group(), match.start(), match.end()
        possessive = bool(_POSSESSIVE.search(token)) and len(token) > 2
        if possessive:
            token, end = token[:-2], end - 2
        marker = text[start - 1] if start else " "
        joined_to_tag = bool(result) and result[-1].tag and result[-1].end == start - 1
        if marker in "#@＃" or (marker == "_" and joined_to_tag):
            result.extend(_tag_parts(token, start, sentence, joined=marker == "_"))
            continue
        result.append(Word(start, end, fold(token), token, sentence, possessive))
    return result


def _tag_parts(token: str, start: int, sentence: int, *, joined: bool) -> list[Word]:
    return [
        Word(
            start + begin,
            start + end,
            fold(token[begin:end]),
            token[begin:end],
            sentence,
            tag=True,
            joined=joined or number > 0,
        )
        for number, (begin, end) in enumerate(camel_parts(token))
    ]


def camel_parts(token: str) -> list[tuple[int, int]]:
    """Where a tag splits: "WellDone" -> Well|Done, "BBCNews" -> BBC|News,
    "Year6" -> Year|6, "ŁukaszWiśniewski" -> Łukasz|Wiśniewski."""
    bounds = [0]
    for i in range(1, len(token)):
        before, char = token[i - 1], token[i]
        after = token[i + 1] if i + 1 < len(token) else ""
        if (
            (before.islower() and char.isupper())
            or (before.isupper() and char.isupper() and after.islower())
            or (before.isdigit() != char.isdigit())
            or (before in _APOSTROPHES + _DASHES or char in _APOSTROPHES + _DASHES)
        ):
            bounds.append(i)
    bounds.append(len(token))
    parts = [(a, b) for a, b in pairwise(bounds) if b > a]
    return [(a, b) for a, b in parts if token[a:b][0] not in _APOSTROPHES + _DASHES]


def sentence_start(tokens: list[Word], index: int) -> bool:
    return index == 0 or tokens[index - 1].sentence != tokens[index].sentence


@cache
def vocabulary(name: str) -> frozenset[str]:
    """A word list from checks/data/NAME.txt: one entry per line, # comments.

    Entries are folded like words; multi-word entries keep their spaces. An entry
    may offer alternatives in brackets: "broke (his|her) (arm|leg)" is four entries.
    """
    text = resources.files("tweetguard.checks.data").joinpath(f"{name}.txt").read_text("utf-8")
    entries = set()
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip()
        for variant in _expand(entry):
            entries.add(" ".join(fold(part) for part in variant.split()))
    return frozenset(entries)


_CHOICE = re.compile(r"\(([^()]*)\)")


def _expand(entry: str) -> list[str]:
    if not entry:
        return []
    match = _CHOICE.search(entry)
    if match is None:
        return [entry]
    head, tail = entry[: match.start()], entry[match.end() :]
    return [
        variant
        for choice in match.group(1).split("|")
        for variant in _expand(f"{head}{choice}{tail}")
    ]


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
