"""Pupils named in a post, matched against the consent register.

Names are matched as sequences of words, not substrings, so "Max" inside
"maximum" never fires. Words are compared folded (tweetguard.folding), because
teachers type "Ciaran" for "Ciarán", "Lukasz" for "Łukasz" and "KHAN" for "Khan".
A full name is the first (or preferred) name and the surname (or the surname the
pupil is known by), in either order, with a middle initial or middle name between,
joined by spaces, hyphens or en dashes, or run together in a #hashtag or @mention.

Three things keep ordinary text from reading as names:
- a title before a name makes it a member of staff ("Mrs Patel", "Mr Jones, Sam...");
  so does a staff name the policy lists;
- first names that are ordinary words (Rose, Will, Summer; data/word_names.txt)
  count only when the sentence uses them as a person (see _WordName), and a
  word-name in lower case beside a capitalised surname is the word ("we hope
  Evans Park...");
- a surname that is an ordinary word (data/surname_words.txt) does not make a
  lower-case word-name a full name ("Year 5 will cook pancakes").

The index is built at import time and stored with the register (dump/load), so a
helper that starts reads it rather than building it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from tweetguard.checks.base import Finding, Post, Rule, Severity
from tweetguard.checks.tokens import Word, fold, sentence_start, vocabulary, words
from tweetguard.stores.consent import Pupil

FULL_NAME = Rule(
    id="names.full-name",
    family="names",
    severity=Severity.BLOCK,
    message="“{name}” is a pupil's full name. Use the first name only, e.g. “{suggestion}”.",
    fix_hint="Replace the full name with the first name (and class).",
    description=(
        "A pupil's first or preferred name with their surname, in either order "
        "(“Morgan, Ava”), in any case, with or without accents, with a middle initial, "
        "or joined in a #hashtag or @mention. A title before it (“Mrs Morgan”) is staff."
    ),
)
PICTURED = Rule(
    id="names.pictured",
    family="names",
    severity=Severity.BLOCK,
    message="“{name}” is a pupil's name in a post with a photo. Remove the name or the photo.",
    fix_hint="Remove the name, or post the photo without it.",
    description="A pupil's first name in a post with photos: pictured pupils are never named.",
)
NO_CONSENT = Rule(
    id="names.no-consent",
    family="names",
    severity=Severity.BLOCK,
    message=(
        "{name} has no social media consent, so the name cannot go out. Leave it out "
        "(if it is another child, ask IT to check the register)."
    ),
    fix_hint="Leave the name out.",
    description=(
        "The name of a pupil whose social media consent is no or has expired, "
        "in any form, first name alone included."
    ),
)
FIRST_NAME = Rule(
    id="names.first-name",
    family="names",
    severity=Severity.WARN,
    message="“{name}” is a pupil's first name. Check the school allows first names in posts.",
    fix_hint="Leave the name out.",
    description="Any pupil's first name. Off by default; schools that post no names turn it on.",
    default_enabled=False,
)

RULES = (FULL_NAME, PICTURED, NO_CONSENT, FIRST_NAME)

# Before a word-name, words that make it a person: "Thank you Rose", "well done to Sky".
_PERSON_BEFORE = vocabulary("person_cues_before")
# After a word-name, words that make it a person: "Rose won", "Sky has".
_PERSON_AFTER = vocabulary("person_cues_after")
# Before a word-name, words that make it a thing or a date: "in May", "a joy".
_NOT_PERSON_BEFORE = vocabulary("not_person_before")
# After a word-name, words that make it a thing or a verb: "Autumn term", "Hope you".
_NOT_PERSON_AFTER = vocabulary("not_person_after")
# Nouns a pupil can be: "the winner is Rose", "Rose is our Star of the Week".
_ROLES = vocabulary("person_roles")
# Fixed phrases that start with a first name: characters, puddings, birds.
_PHRASES = vocabulary("name_phrases")
# Titles before a surname (or a full name) that make it an adult's name.
_TITLES = vocabulary("titles")
# Surnames that are also ordinary words: "cook", "baker", "hill".
_SURNAME_WORDS = vocabulary("surname_words")
_COPULAS = frozenset({"is", "are", "was", "were", "be", "being", "been"})
_PRONOUNS = frozenset({"she", "he", "her", "his", "herself", "himself"})
# Words that never stand between a first name and a surname.
_NOT_MIDDLE = frozenset({"and", "or", "the", "a", "an", "of", "in", "on", "at", "to", "year"})
# A class beside a name: "Rose in Year 2", "Rose, Y2", "Rose (Kingfishers)", "Rose (8)".
_CLASS_AFTER = re.compile(
    r"\s*(?:(?:,\s*|\b(?i:in|from)\s+)(?:(?i:year|class|reception|y\d)|\d{1,2}[A-Z]{1,3}\b)"
    r"|\(\s*(?:[A-Z]|\d))"
)
_SPACE = re.compile(r"[ \t\u00a0\u202f]+|\n")
_DASH_GAP = re.compile(r"\s*[-‐‑‒–−]\s*")
_INITIAL_GAP = re.compile(r"\.?\s+|\.")


@dataclass(frozen=True)
class FullHit:
    start: int
    end: int
    pupil: Pupil
    typed_first: str


@dataclass(frozen=True)
class FirstHit:
    start: int
    end: int
    pupils: tuple[Pupil, ...]


@dataclass
class NameScan:
    full: list[FullHit] = field(default_factory=list)
    first: list[FirstHit] = field(default_factory=list)

    def spans(self) -> list[tuple[int, int]]:
        return [(h.start, h.end) for h in self.full] + [(h.start, h.end) for h in self.first]


@dataclass(frozen=True)
class NameContext:
    """What the school's policy adds to the name matcher."""

    word_names: frozenset[str] = frozenset()
    titles: frozenset[str] = _TITLES
    staff: frozenset[tuple[str, ...]] = frozenset()  # staff names as folded words

    @classmethod
    def from_policy(
        cls, extra_word_names: Iterable[str], staff: Iterable[str], titles: Iterable[str]
    ) -> NameContext:
        names = []
        all_titles = _TITLES | {fold(t).rstrip(".") for t in titles}
        for name in staff:
            key = tuple(w.key for w in words(name))
            while key and key[0] in all_titles:
                key = key[1:]  # "Mrs Okafor" is covered by the title rule; keep "Okafor"
            if len(key) > 1:
                names.append(key)
        return cls(
            word_names=vocabulary("word_names") | {fold(n) for n in extra_word_names},
            titles=frozenset(all_titles),
            staff=frozenset(names),
        )


@dataclass(frozen=True)
class _Entry:
    words: tuple[str, ...]
    first_words: int  # how many words are the first name
    reversed: bool  # "Thornbury, Amelia"
    pupil: int  # index into NameIndex.pupils
    middle: int = 0  # words of a registered middle name, between first name and surname


class NameIndex:
    """Full names keyed by their first folded word; first names likewise; and every
    full name run together, for #tags and @mentions written in one case."""

    # The key the index is stored under beside the register; a new format, a new key.
    STORED_AS = "names.v3"

    def __init__(self, pupils: Sequence[Pupil], *, build: bool = True) -> None:
        self.pupils = list(pupils)
        self._full: dict[str, list[_Entry]] = {}
        self._first: dict[str, dict[tuple[str, ...], list[int]]] = {}
        self._joined: dict[str, list[tuple[int, int]]] = {}  # run-together -> (pupil, first len)
        self._joined_lengths: tuple[int, ...] = ()
        if build:
            for number, pupil in enumerate(self.pupils):
                self._add_pupil(number, pupil)
            self._finish()

    @property
    def size(self) -> int:
        return len(self.pupils)

    def _add_pupil(self, number: int, pupil: Pupil) -> None:
        surnames = _present(pupil.last_name, pupil.preferred_last_name)
        lasts = {s for name in surnames for s in spellings(name)}
        firsts = {
            s for name in _present(pupil.first_name, pupil.preferred_name) for s in spellings(name)
        }
        middles = spellings(pupil.middle_names) if pupil.middle_names else set()
        for first in firsts:
            for last in lasts | _barrels(lasts, first):
                self._add(_Entry(first + last, len(first), False, number))
                self._add(_Entry(last + first, len(first), True, number))
                for middle in middles:
                    self._add(_Entry(first + middle + last, len(first), False, number, len(middle)))
                joined = "".join(first + last).replace("-", "").replace("'", "")
                self._joined.setdefault(joined, []).append((number, len("".join(first))))
            if len(first) > 1 and "-" not in first[0]:
                # "Anna Rossi" for Anna Maria Rossi: the first of two first names, with the
                # surname, still names her (alone, "Anna" is any Anna).
                for last in lasts:
                    self._add(_Entry(first[:1] + last, 1, False, number))
            by_key = self._first.setdefault(first[0], {})
            bucket = by_key.setdefault(first, [])
            if number not in bucket:
                bucket.append(number)

    def _add(self, entry: _Entry) -> None:
        bucket = self._full.setdefault(entry.words[0], [])
        if not any(e.words == entry.words and e.pupil == entry.pupil for e in bucket):
            bucket.append(entry)

    def _finish(self) -> None:
        # Longest names first, so "Mary Jane Smith" wins over "Mary Jane".
        for entries in self._full.values():
            entries.sort(key=lambda e: -len(e.words))
        self._joined_lengths = tuple(sorted({len(k) for k in self._joined}, reverse=True))

    def dump(self) -> bytes:
        """The index as stored beside the register (JSON: portable and safe to read)."""
        entries = [
            [list(e.words), e.first_words, int(e.reversed), e.pupil, e.middle]
            for bucket in self._full.values()
            for e in bucket
        ]
        first = [[list(k), v] for by_key in self._first.values() for k, v in by_key.items()]
        joined = [[k, [list(p) for p in v]] for k, v in self._joined.items()]
        return json.dumps(
            {"pupils": len(self.pupils), "full": entries, "first": first, "joined": joined},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")

    @classmethod
    def load(cls, blob: bytes, pupils: Sequence[Pupil]) -> NameIndex | None:
        """The stored index, or None when it does not belong to these pupils."""
        try:
            data = json.loads(blob)
            if data["pupils"] != len(pupils):
                return None
            index = cls(pupils, build=False)
            full = index._full
            for words_, first_words, reversed_, pupil, middle in data["full"]:
                key = tuple(words_)
                full.setdefault(key[0], []).append(
                    _Entry(key, first_words, bool(reversed_), pupil, middle)
                )
            for words_, numbers in data["first"]:
                key = tuple(words_)
                index._first.setdefault(key[0], {})[key] = numbers
            index._joined = {k: [(p, n) for p, n in v] for k, v in data["joined"]}
        except (ValueError, KeyError, TypeError, IndexError):
            return None
        index._finish()
        return index

    def scan(self, text: str, tokens: list[Word], context: NameContext) -> NameScan:
        scan = NameScan()
        index = 0
        while index < len(tokens):
            titled = _after_title(text, tokens, index, context.titles)
            full = None if titled else self._full_at(text, tokens, index, context)
            staff = _staff_at(tokens, index, context.staff)
            if staff and (full is None or staff >= full[1]):
                index += staff  # a member of staff the policy names: not a pupil
                continue
            if full is not None:
                entry, length = full
                scan.full.append(self._full_hit(text, tokens, index, entry, length))
                index += length
                continue
            if not titled and tokens[index].tag:
                joined = self._joined_at(text, tokens, index)
                if joined is not None:
                    scan.full.append(joined[0])
                    index += joined[1]
                    continue
            first = None if titled else self._first_at(text, tokens, index, context)
            if first is not None:
                key, pupils = first
                end = tokens[index + len(key) - 1].end
                scan.first.append(FirstHit(tokens[index].start, end, pupils))
                index += len(key)
                continue
            if not tokens[index].tag:
                joined = self._joined_at(text, tokens, index)
                if joined is not None:
                    scan.full.append(joined[0])
            index += 1
        return scan

    def _full_hit(
        self, text: str, tokens: list[Word], index: int, entry: _Entry, length: int
    ) -> FullHit:
        first_index = index + length - entry.first_words if entry.reversed else index
        first_end = tokens[first_index + entry.first_words - 1].end
        return FullHit(
            start=tokens[index].start,
            end=tokens[index + length - 1].end,
            pupil=self.pupils[entry.pupil],
            typed_first=text[tokens[first_index].start : first_end],
        )

    def _full_at(
        self, text: str, tokens: list[Word], index: int, context: NameContext
    ) -> tuple[_Entry, int] | None:
        """The longest full name starting here, and how many tokens it covers."""
        for entry in self._full.get(tokens[index].key, ()):
            length = _match_full(text, tokens, index, entry)
            if (
                length
                and _cased_like_a_name(tokens, index, entry, length, context)
                and not _a_place(tokens, index, length)
            ):
                return entry, length
        return None

    def _joined_at(self, text: str, tokens: list[Word], index: int) -> tuple[FullHit, int] | None:
        """A full name run together in one tag or word: "#ameliathornbury",
        "@AMELIATHORNBURY", "AmeliaThornbury"."""
        end = index + 1
        while end < len(tokens) and tokens[end].joined:
            end += 1
        if end - index == 1 and not tokens[index].tag and not _camel(tokens[index].raw):
            return None
        parts = tokens[index:end]
        body = "".join(p.key for p in parts).replace("-", "").replace("'", "")
        for size in self._joined_lengths:
            for offset in range(0, len(body) - size + 1):
                found = self._joined.get(body[offset : offset + size])
                if found:
                    pupil, first_len = found[0]
                    start = parts[0].start + offset
                    first = text[start : start + first_len]
                    hit = FullHit(start, start + size, self.pupils[pupil], first)
                    return hit, end - index
        return None

    def _first_at(
        self, text: str, tokens: list[Word], index: int, context: NameContext
    ) -> tuple[tuple[str, ...], tuple[Pupil, ...]] | None:
        candidates = self._first.get(tokens[index].key)
        if not candidates:
            return None
        for key, numbers in sorted(candidates.items(), key=lambda kv: -len(kv[0])):
            n = len(key)
            if index + n > len(tokens):
                continue
            if any(tokens[index + k].key != key[k] for k in range(1, n)):
                continue
            if not all(
                _joined(text, tokens[index + k - 1], tokens[index + k]) for k in range(1, n)
            ):
                continue
            if (
                _in_phrase(tokens, index)
                or _a_place_named(tokens, index)
                or _someone_named(text, tokens, index + n - 1)
            ):
                continue  # "Jack Frost", "a tour of Florence", "Pepper the therapy dog"
            if n == 1 and _someone_else(self, text, tokens, index, context):
                continue  # "Kofi Annan", "L. Frank Baum": another person's full name
            if (
                n == 1
                and key[0] in context.word_names
                and not _WordName(self, text, tokens, index, context).is_person()
            ):
                continue
            return key, tuple(self.pupils[i] for i in numbers)
        return None

    def is_first_name(self, key: str) -> bool:
        return key in self._first


def _present(*names: str | None) -> list[str]:
    return [n for n in names if n]


def _barrels(lasts: set[tuple[str, ...]], first: tuple[str, ...]) -> set[tuple[str, ...]]:
    """Each half of a double-barrelled surname: "Kofi Appiah" is Kofi Appiah-Lindsay,
    unless first name and half make a phrase of their own ("Jack Frost")."""
    halves: set[tuple[str, ...]] = set()
    for last in lasts:
        if len(last) == 1 and "-" in last[0]:
            for half in last[0].split("-"):
                if half and " ".join((*first, half)) not in _PHRASES:
                    halves.add((half,))
    return halves


_NOT_SURNAMES = frozenset(
    {"year", "class", "reception", "nursery", "team", "group", "house", "and", "or", "the"}
)


def _someone_else(
    names: NameIndex, text: str, tokens: list[Word], index: int, context: NameContext
) -> bool:
    """A first name with a capitalised surname the pupil does not have, in ordinary
    sentence case, is someone else: "a project on Kofi Annan", "remember Guy Fawkes".
    (A pupil's own surname was matched as a full name before this is asked.) Not in
    tags, in capitals, or in Title Case, where every word is capitalised."""
    word = tokens[index]
    if index + 1 >= len(tokens) or word.tag or word.raw.isupper():
        return _surname_here(names, text, tokens, index, context)
    after = tokens[index + 1]
    if _monarch(text, word, after):
        return True  # "Elizabeth I", "Henry VIII"
    if _surname_here(names, text, tokens, index, context):
        return True
    if (
        after.sentence != word.sentence
        or after.tag
        or not after.capitalized
        or after.raw.isupper()
        or not _SPACE.fullmatch(text[word.end : after.start])
        or after.key in _NOT_SURNAMES
        or after.key in context.titles
        or names.is_first_name(after.key)
        or after.raw[:1].isdigit()
    ):
        return False
    return _sentence_case(tokens, index)


_ROMAN = re.compile(r"(?:I{1,3}|IV|VI{0,3}|IX|XI{0,3})")


def _monarch(text: str, word: Word, after: Word) -> bool:
    """A first name and a regnal number: "Henry VIII", "Elizabeth I," (a lone "I"
    only before punctuation or "and", not "Kit I think...")."""
    if not _ROMAN.fullmatch(after.raw) or not _SPACE.fullmatch(text[word.end : after.start]):
        return False
    return after.raw != "I" or bool(re.match(r"\s*(?:[,;:.!?)]|and\b|$)", text[after.end :]))


def _uniform_case(tokens: list[Word], index: int) -> bool:
    """All lower case ("echo and blaze were brilliant") or Title Case ("Our Wildflower
    Meadow Is In Bloom"): capitals tell nothing about which words are names."""
    sentence = [
        t
        for t in tokens
        if t.sentence == tokens[index].sentence and not t.tag and t.raw[:1].isalpha()
    ]
    if len(sentence) < 3:
        return False
    if not any(t.capitalized for t in sentence):
        return True
    capitals = sum(1 for t in sentence[1:] if t.capitalized)
    return capitals * 4 >= (len(sentence) - 1) * 3


def _sentence_case(tokens: list[Word], index: int) -> bool:
    """Whether the sentence is written in ordinary sentence case, where a capital
    mid-sentence means a name (not Title Case, where every word has one)."""
    sentence = [t for t in tokens if t.sentence == tokens[index].sentence and not t.tag]
    lower = sum(1 for t in sentence if t.raw[:1].islower())
    return lower >= 3 and lower * 3 >= len(sentence)


def _surname_here(
    names: NameIndex, text: str, tokens: list[Word], index: int, context: NameContext
) -> bool:
    """A pupil's first name used as someone's surname: "Anne Frank's diary", "Lucy
    Grace"; another capitalised name right before it, mid-sentence."""
    if index < 2:
        return False
    word, before = tokens[index], tokens[index - 1]
    return (
        before.sentence == word.sentence
        and tokens[index - 2].sentence == word.sentence
        and before.capitalized
        and not before.raw.isupper()
        and not word.raw.isupper()
        and not before.tag
        and before.key not in context.titles
        and before.key not in _ROLES
        and before.key not in _NOT_SURNAMES
        and bool(_SPACE.fullmatch(text[before.end : word.start]))
        and _sentence_case(tokens, index)
    )


def _match_full(text: str, tokens: list[Word], index: int, entry: _Entry) -> int:
    """How many tokens from `index` spell the entry (0: it does not), allowing one
    middle initial or middle name between first name and surname."""
    n = len(entry.words)
    boundary = n - entry.first_words if entry.reversed else entry.first_words
    if entry.middle:
        boundary = -1  # a registered middle name is matched word for word
    position = index
    for k in range(1, n):
        nxt = position + 1
        if nxt >= len(tokens):
            return 0
        gap_kind = "boundary" if k == boundary else "inside"
        if tokens[nxt].key != entry.words[k]:
            if k != boundary or entry.reversed or nxt + 1 >= len(tokens):
                return 0
            middle = tokens[nxt]
            if tokens[nxt + 1].key != entry.words[k] or not _middle(text, tokens, position, middle):
                return 0
            if not _gap_after_middle(text, middle, tokens[nxt + 1]):
                return 0
            position = nxt + 1
            continue
        if not _joined(text, tokens[position], tokens[nxt], kind=gap_kind, reversed=entry.reversed):
            return 0
        position = nxt
    return position - index + 1


def _middle(text: str, tokens: list[Word], before: int, middle: Word) -> bool:
    """An initial ("Amelia J. Thornbury"), a capitalised middle name ("Amelia Rose
    Thornbury") or a nickname ("Theodore ‘Teddy’ Ashworth") between a capitalised
    first name and surname."""
    if not _joined(text, tokens[before], middle) and not _BEFORE_NICKNAME.fullmatch(
        text[tokens[before].end : middle.start]
    ):
        return False
    if len(middle.raw) == 1 and middle.raw.isalpha():
        return True
    return (
        middle.capitalized
        and tokens[before].capitalized
        and middle.raw.isalpha()
        and middle.key not in _NOT_MIDDLE
        and not middle.tag
    )


def _gap_after_middle(text: str, middle: Word, surname: Word) -> bool:
    gap = text[middle.end : surname.start]
    if len(middle.raw) == 1:
        return bool(_INITIAL_GAP.fullmatch(gap))
    return bool(_SPACE.fullmatch(gap) or _AFTER_NICKNAME.fullmatch(gap))


# A nickname between first name and surname: Theodore ‘Teddy’ Ashworth, Jo (JJ) Smith.
_BEFORE_NICKNAME = re.compile(r"\s+[‘'\"“(]")
_AFTER_NICKNAME = re.compile(r"[’'\"”)]\s+")


def _cased_like_a_name(
    tokens: list[Word], index: int, entry: _Entry, length: int, context: NameContext
) -> bool:
    """A first name that is an ordinary word, in lower case, names a pupil only in
    text written all in lower case and beside a surname that is not a word too:
    "well done hope carrington" yes; "we hope Evans Park", "will cook" no."""
    if entry.first_words != 1:
        return True
    first_index = index + length - 1 if entry.reversed else index
    first = tokens[first_index]
    if first.key not in context.word_names or first.capitalized or first.tag:
        return True
    if entry.reversed:
        return False  # "Patel will lead": a surname then a lower-case word
    surname = tokens[index + 1 : index + length]
    if any(t.capitalized for t in surname):
        return False
    if not any(part in _SURNAME_WORDS for t in surname for part in t.key.split("-")):
        return True
    # "will cook", "olive green": two words, unless the sentence makes them a person
    # ("well done olive green in year 5").
    after = tokens[index + length] if index + length < len(tokens) else None
    following = [t.key for t in tokens[index + length : index + length + 4]]
    return (
        _cue_before(tokens, index)
        or bool(_CLASS_AFTER.match(" " + " ".join(t.raw for t in tokens[index + length :][:3])))
        or (after is not None and after.key in _PERSON_AFTER)
        # "honey baker – star of the week": a caption naming someone as a role.
        or (sentence_start(tokens, index) and any(k in _ROLES for k in following[:3]))
    )


def _cue_before(tokens: list[Word], index: int) -> bool:
    """Right after "well done", "thank you", "congratulations to", "singing from"...
    in the same sentence (or the same tag)."""
    for size in (1, 2, 3):
        if index - size < 0:
            break
        window = tokens[index - size : index]
        if window[0].sentence != tokens[index].sentence and not window[0].tag:
            break
        if " ".join(t.key for t in window) in _PERSON_BEFORE:
            return True
    return False


_PLACE_WORDS = vocabulary("place_words")
# First names that are also places ("Florence", "Chelsea", "Sydney"), after words
# that lead to a place ("a tour of Florence", "flights to Sydney").
_PLACE_NAMES = vocabulary("place_first_names")
_TO_A_PLACE = frozenset(
    {"in", "to", "from", "of", "near", "around", "visiting", "visit", "via", "towards", "across"}
)


def _someone_named(text: str, tokens: list[Word], last: int) -> bool:
    """ "Ægir, the Norse god of the sea", "Pepper the therapy dog", "Rex our mascot":
    someone (or something) else by that name."""
    following = tokens[last + 1 : last + 5]
    if not following or following[0].key not in ("the", "our"):
        return False
    if not re.fullmatch(r"\s*,?\s*", text[tokens[last].end : following[0].start]):
        return False
    return any(t.key in _NOT_PUPILS for t in following[1:4])


def _a_place_named(tokens: list[Word], index: int) -> bool:
    word = tokens[index]
    return (
        word.key in _PLACE_NAMES
        and index > 0
        and tokens[index - 1].key in _TO_A_PLACE
        and tokens[index - 1].sentence == word.sentence
        and not word.possessive
    )


_PLACE_BEFORE = frozenset(
    {
        "on",
        "in",
        "at",
        "along",
        "down",
        "up",
        "near",
        "off",
        "into",
        "onto",
        "via",
        "towards",
        "past",
        "across",
        "around",
        "outside",
        "opposite",
    }
)


def _a_place(tokens: list[Word], index: int, length: int) -> bool:
    """ "The roadworks on Willow Street": a full name that ends in a place word,
    after a preposition of place, is the place."""
    last = tokens[index + length - 1]
    if any(len(t.raw) == 1 for t in tokens[index : index + length]):
        return False  # "Iris P. Park": a middle initial is a person's
    return (
        index > 0
        and last.key in _PLACE_WORDS
        and tokens[index - 1].key in _PLACE_BEFORE
        and tokens[index - 1].sentence == last.sentence
    )


def _after_title(text: str, tokens: list[Word], index: int, titles: frozenset[str]) -> bool:
    """Whether a title stands right before this word: "Mrs Patel", "Mr. Will Patel"."""
    if index == 0:
        return False
    before = tokens[index - 1]
    if before.key not in titles:
        return False
    gap = text[before.end : tokens[index].start]
    return bool(re.fullmatch(r"\.?\s+|\.?", gap)) or tokens[index].joined


def _staff_at(tokens: list[Word], index: int, staff: frozenset[tuple[str, ...]]) -> int:
    """How many tokens a staff name the policy lists covers from here (0: none)."""
    if not staff:
        return 0
    for name in staff:
        n = len(name)
        if tuple(t.key for t in tokens[index : index + n]) == name:
            return n
    return 0


def _joined(
    text: str, left: Word, right: Word, *, kind: str = "inside", reversed: bool = False
) -> bool:
    """Two words of one name: spaces between, or one tag, or a hyphen or dash
    inside a double name; a comma only between surname and first name."""
    if left.possessive:
        return False
    if right.joined:
        return True
    gap = text[left.end : right.start]
    if _SPACE.fullmatch(gap) or gap == "_":
        return True
    if kind == "inside":
        return bool(_DASH_GAP.fullmatch(gap))
    return reversed and gap.strip() == "," and gap.count("\n") == 0


def _camel(raw: str) -> bool:
    return any(a.islower() and b.isupper() for a, b in pairwise(raw))


class _WordName:
    """Whether a first name that is also a word ("Rose", "Will", "Summer") is used
    as a person here, read from the words around it: what stands before and after,
    whether it is listed with other names, linked by "is" to a role ("the winner is
    Rose", "Rose is our Star of the Week"), or followed by her/his."""

    def __init__(
        self, index_: NameIndex, text: str, tokens: list[Word], index: int, context: NameContext
    ) -> None:
        self.names = index_
        self.text = text
        self.tokens = tokens
        self.index = index
        self.context = context
        self.word = tokens[index]

    def _near(self, step: int, index: int | None = None) -> Word | None:
        near = (self.index if index is None else index) + step
        if not 0 <= near < len(self.tokens):
            return None
        token = self.tokens[near]
        return token if token.sentence == self.word.sentence else None

    def is_person(self) -> bool:
        word = self.word
        if word.tag and not self._whole_tag():
            # "#WellDoneRose", "#ScoutOfTheMonth": inside a tag, capitals say nothing.
            return self._cued(self.index) or self._person_after(self.index)
        # In sentence case a capital means a name; in all lower case or Title Case it
        # says nothing, and only what the sentence says about the word counts.
        case_tells = not _uniform_case(self.tokens, self.index)
        start, end = self._list_span(case_tells)
        listed = end > start
        if not word.capitalized and case_tells:
            # "well done hope", "thanks to jade and faith": lower case, but cued as a person.
            return self._cued(start) and not self._thing_after(end)
        before = self._near(-1)
        if (
            self._thing_after(self.index)
            or _is_work_title(self.text, self.tokens, self.index)
            or (before is not None and before.key in _DETERMINERS)
        ):
            return False  # "Autumn term", "the brook was lovely"
        if word.possessive or self._annotated():
            return True
        after = self._near(1)
        if self._person_after(self.index):
            return True
        if self._cued(start):
            return True
        if listed:
            return self._listed(start, end, case_tells)
        if self.word.key not in _TIME_NAMES and self._pronoun_after(self.index, within=3):
            return True  # "Thinking of Mercy and her family"
        if before and before.key in _COPULAS:
            return self._role_before(self.index - 1) or self._pronoun_after(self.index)
        if after and self._acting(after):
            return True  # "Poppy reading to the class", "Will lifting the trophy"
        if sentence_start(self.tokens, self.index) or not case_tells:
            if after and after.key in _COPULAS:
                return self._role_after(self.index + 1) or self._pronoun_after(self.index)
            return self._pronoun_after(self.index)
        return not (before and before.key in _NOT_PERSON_BEFORE)

    def _person_after(self, last: int) -> bool:
        """ "Rose won", "Raven and Lark both made the squad", "#ScoutOfTheMonth"."""
        following = [
            t
            for t in self.tokens[last + 1 : last + 5]
            if t.sentence == self.word.sentence and t.key not in _ADVERBS
        ]
        return any(" ".join(t.key for t in following[:size]) in _PERSON_AFTER for size in (1, 2, 3))

    def _whole_tag(self) -> bool:
        """ "#Rose" on its own is written like a word in a sentence."""
        following = self._near(1)
        return not self.word.joined and not (following and following.joined)

    def _annotated(self) -> bool:
        """ "Rose in Year 2", "Rose (Y2)", "Rose (Kingfishers)": a class beside a name."""
        return bool(_CLASS_AFTER.match(self.text, self.word.end))

    def _thing_after(self, last: int) -> bool:
        """What follows makes the word a thing: "Autumn term", "Hope you", "Summer has
        arrived", "Kit 2 needed"."""
        following = [
            t for t in self.tokens[last + 1 : last + 4] if t.sentence == self.word.sentence
        ]
        if not following or following[0].tag:
            return False
        if following[0].raw[:1].isdigit():
            return True
        return any(
            " ".join(t.key for t in following[:size]) in _NOT_PERSON_AFTER for size in (1, 2, 3)
        )

    def _acting(self, after: Word) -> bool:
        """A photo caption's verb: "Poppy reading to...", "Will lifting the trophy":
        a word in -ing with its object after it. Not "Storm warning: ...", nor names
        that are times of year ("Summer reading", "Spring cleaning")."""
        following = self._near(2)
        return (
            after.key.endswith("ing")
            and len(after.key) > 4
            and not after.capitalized
            and self.word.key not in _TIME_NAMES
            and following is not None
            and following.key in _OBJECT_STARTS
            and bool(_SPACE.fullmatch(self.text[after.end : following.start]))
        )

    def _cued(self, first: int) -> bool:
        return _cue_before(self.tokens, first)

    def _list_span(self, case_tells: bool = True) -> tuple[int, int]:
        """The first and last token of the list this word is in ("Ibrahim, Ruby and
        Daisy", "Mr Hill and Storm", "#Jay #Ivy"); (index, index) when it is in none."""
        start = end = self.index
        while start > 0:
            link = self._link(start - 1, start, case_tells)
            if link is None:
                break
            start = link
            while start > 0 and self.tokens[start - 1].key in self.context.titles:
                start -= 1  # "Mr Hill": the title belongs to the item
        while end + 1 < len(self.tokens):
            link = self._link(end, end + 1, case_tells)
            if link is None:
                break
            end = link
        return start, end

    def _link(self, left: int, right: int, case_tells: bool = True) -> int | None:
        """The next item across a list separator between `left` and `right`, going
        the way the caller walks; None when the two are not list neighbours."""
        a, b = self.tokens[left], self.tokens[right]
        if a.sentence != b.sentence:
            return None
        gap = self.text[a.end : b.start]
        walking_back = right == self.index or left < self.index
        if "," in gap or "&" in gap or (a.tag and b.tag and gap.strip() in ("#", "@")):
            item = left if walking_back else right
        elif a.key in ("and", "or") and walking_back and left > 0:
            item = left - 1
        elif b.key in ("and", "or") and not walking_back and right + 1 < len(self.tokens):
            item = right + 1
        else:
            return None
        token = self.tokens[item]
        if (case_tells and not token.capitalized) or token.sentence != self.word.sentence:
            return None
        return item

    def _listed(self, start: int, end: int, case_tells: bool = True) -> bool:
        """Listed with a pupil's name that is not a word ("Amelia and Rose"), or a list
        that follows a cue or a role, or does what people do ("Jade and Ivy were
        brilliant reporters"): people. Otherwise a list of words ("Faith, Hope, Joy
        and Respect")."""
        items = [
            t
            for t in self.tokens[start : end + 1]
            if (t.capitalized or not case_tells)
            and t.key not in ("and", "or")
            and t.key not in self.context.titles
        ]
        if any(
            t is not self.word
            and self.names.is_first_name(t.key)
            and t.key not in self.context.word_names
            for t in items
        ):
            return True
        before = self._near(-1, start)
        if before and before.key in _COPULAS and self._role_before(start - 1):
            return True
        after = self._near(1, end)
        if self._person_after(end):
            return True
        if after and after.key in _COPULAS and self._role_after(end + 1):
            return True
        return self._pronoun_after(end)

    def _role_before(self, copula: int) -> bool:
        """ "The winner is Rose", "Our readers of the week are Rose and Sky"."""
        window = self.tokens[max(0, copula - 7) : copula]
        return any(t.key in _ROLES for t in window if t.sentence == self.word.sentence)

    def _role_after(self, copula: int) -> bool:
        """ "Rose is our Star of the Week", "Sky was the winner", "Echo and Blaze were
        brilliant" (praise is for people, except for times of year: "Summer was lovely")."""
        window = [
            t for t in self.tokens[copula + 1 : copula + 5] if t.sentence == self.word.sentence
        ]
        if any(t.key in _ROLES for t in window):
            return True
        return self.word.key not in _TIME_NAMES and any(t.key in _PRAISE for t in window[:2])

    def _pronoun_after(self, last: int, within: int | None = None) -> bool:
        """ "Rose is Star of the Week for her kindness": her/his/she/he later on."""
        stop = None if within is None else last + 1 + within
        return any(
            t.key in _PRONOUNS
            for t in self.tokens[last + 2 : stop]
            if t.sentence == self.word.sentence
        )


def _is_work_title(text: str, tokens: list[Word], index: int) -> bool:
    """Inside a quoted title followed by its author: "‘Daisy: Eat Your Peas’ by Kes Gray"."""
    word = tokens[index]
    opening = max(text.rfind(q, 0, word.start) for q in "‘“\"'")
    if opening < 0 or "\n" in text[opening : word.start]:
        return False
    closing = min((i for i in (text.find(q, word.end) for q in "’”\"'") if i >= 0), default=-1)
    if closing < 0 or "\n" in text[word.end : closing]:
        return False
    return bool(_BY_AUTHOR.match(text, closing + 1))


_BY_AUTHOR = re.compile(r"\s*,?\s*by\s+[A-Z]")
# Words that start what a verb acts on: "reading to", "lifting the", "holding her".
_OBJECT_STARTS = frozenset(
    {
        "the",
        "a",
        "an",
        "to",
        "her",
        "his",
        "their",
        "our",
        "some",
        "all",
        "everyone",
        "one",
        "two",
        "three",
        "first",
        "this",
        "that",
        "up",
        "out",
        "off",
        "down",
    }
)
# Before a word-name, these make it a thing in any case: "the brook", "a joy".
_DETERMINERS = frozenset(
    {"a", "an", "the", "this", "that", "these", "those", "every", "each", "some", "any", "no"}
)
# Words skipped between a name and what it does: "Raven and Lark both made...".
_ADVERBS = frozenset({"both", "all", "each", "also", "together", "really", "just", "finally"})
# Praise after "is"/"were": "Echo and Blaze were brilliant".
_PRAISE = frozenset(
    {
        "brilliant",
        "amazing",
        "fantastic",
        "superb",
        "wonderful",
        "excellent",
        "outstanding",
        "incredible",
        "great",
        "fab",
        "fabulous",
        "awesome",
        "magnificent",
        "phenomenal",
        "stunning",
        "unstoppable",
    }
)
# After "the" or "our" right behind a name: not a pupil ("Pepper the therapy dog").
_NOT_PUPILS = vocabulary("not_pupils_after")
# Word-names that are times of year: "Summer reading", "Autumn planting" are not people.
_TIME_NAMES = frozenset(
    {
        "spring",
        "summer",
        "autumn",
        "winter",
        "may",
        "june",
        "april",
        "august",
        "march",
        "sunday",
        "tuesday",
        "dawn",
        "eve",
    }
)


def spellings(name: str) -> set[tuple[str, ...]]:
    """The ways a register name is written in posts, as folded word tuples.

    "Lily-Mae" is also "Lily Mae"; "Mary Jane" also "Mary-Jane"; "O'Neill" also
    "ONeill" and "O Neill"; the Irish "Ó Briain" also "O'Briain"; "Müller" also
    "Mueller" (folding already gives "Muller").
    """
    base = tuple(w.key for w in words(name))
    if not base:
        return set()
    forms = {base}
    split = tuple(part for word in base for part in re.split(r"[-']", word) if part)
    forms.add(split)
    forms.add(tuple(word.replace("'", "") for word in base))
    if len(split) > 1:
        forms.add(("-".join(split),))
    if len(base) > 1 and base[0] == "o":
        forms.add(("o'" + base[1], *base[2:]))
        forms.add(("o" + base[1], *base[2:]))
    transliterated = name.translate(_TRANSLITERATIONS)
    if transliterated != name:
        forms |= spellings(transliterated)
    return {form for form in forms if form}


# How letters are written out when the keyboard lacks them, beside folding's plain
# letter: "Mueller" for Müller, "Soeren" for Søren, "Aase" for Åse, "Djordje" for Đorđe.
_TRANSLITERATIONS = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "ø": "oe",
        "Ø": "Oe",
        "å": "aa",
        "Å": "Aa",
        "đ": "dj",
        "Đ": "Dj",
    }
)


def _in_phrase(tokens: list[Word], index: int) -> bool:
    """Whether the name is part of a fixed phrase: "Jack Frost", "Noah's Ark",
    "Amazing Grace"."""
    for size in (2, 3, 4):
        for start in range(max(0, index - size + 1), index + 1):
            window = tokens[start : start + size]
            if len(window) < size or window[0].sentence != window[-1].sentence:
                continue
            plain = " ".join(w.key for w in window)
            owned = " ".join(w.key + ("'s" if w.possessive else "") for w in window)
            if plain in _PHRASES or owned in _PHRASES:
                return True
    return False


def check(post: Post) -> list[Finding]:
    scan = post.name_scan
    findings = []
    for hit in scan.full:
        name = post.text[hit.start : hit.end]
        suggestion = _suggestion(hit.typed_first, hit.pupil)
        findings.append(
            Finding(
                FULL_NAME, hit.start, hit.end, {"name": name, "suggestion": suggestion}, suggestion
            )
        )
        if not hit.pupil.social_media_consent_on(post.today):
            findings.append(Finding(NO_CONSENT, hit.start, hit.end, {"name": name}))
    for first in scan.first:
        name = post.text[first.start : first.end]
        params: dict[str, str | int] = {"name": name}
        if post.has_media:
            findings.append(Finding(PICTURED, first.start, first.end, params))
        if any(not p.social_media_consent_on(post.today) for p in first.pupils):
            findings.append(Finding(NO_CONSENT, first.start, first.end, params))
        findings.append(Finding(FIRST_NAME, first.start, first.end, params))
    if post.has_media:
        for hit in scan.full:
            findings.append(
                Finding(PICTURED, hit.start, hit.end, {"name": post.text[hit.start : hit.end]})
            )
    return findings


def _suggestion(first: str, pupil: Pupil) -> str:
    """The first name as the teacher typed it, with the class so parents still know who."""
    return f"{first} ({pupil.group})" if pupil.group else first
