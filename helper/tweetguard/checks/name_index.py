"""The pupils' names as the checks look them up, built from the consent register.

Full names keyed by their first folded word, first names likewise, and every full
name run together (for #tags and @mentions written in one case). A full name is
the first (or preferred) name and the surname (or the surname the pupil is known
by, or half a double-barrelled one), in either order, with a middle initial,
middle name or nickname between, joined by spaces, hyphens or dashes. Names are
matched as sequences of words, not substrings, so "Max" inside "maximum" never
fires; words are compared folded (tweetguard.folding).

Which of the matches really are the pupil is name_reading.py's question. The index
is built at import time and stored with the register (dump/load), so a helper that
starts reads it rather than building it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from tweetguard.checks.name_reading import (
    SPACE,
    NameContext,
    WordName,
    a_place,
    a_place_named,
    a_role,
    after_title,
    cased_like_a_name,
    nearly,
    someone_else,
    someone_named,
    staff_at,
)
from tweetguard.checks.tokens import Word, fold, vocabulary, words
from tweetguard.stores.consent import Pupil

# Fixed phrases that start with a first name: characters, puddings, birds.
_PHRASES = vocabulary("name_phrases")
_PHRASE_WORDS = frozenset(word.removesuffix("'s") for phrase in _PHRASES for word in phrase.split())
# Words that never stand between a first name and a surname.
_NOT_MIDDLE = frozenset(["and", "or", "the", "a", "an", "of", "in", "on", "at", "to", "year"])
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
    STORED_AS = "names.v4"

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
            {
                "fingerprint": _fingerprint(self.pupils),
                "full": entries,
                "first": first,
                "joined": joined,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")

    @classmethod
    def load(cls, blob: bytes, pupils: Sequence[Pupil]) -> NameIndex | None:
        """The stored index, or None when it does not belong to these pupils."""
        try:
            data = json.loads(blob)
            if data["fingerprint"] != _fingerprint(pupils):
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
            titled = after_title(text, tokens, index, context)
            full = None if titled else self._full_at(text, tokens, index, context)
            staff = staff_at(tokens, index, context.staff)
            if staff and (full is None or staff >= full[1]):
                index += staff  # a member of staff the policy names: not a pupil
                continue
            if full is not None:
                entry, length = full
                scan.full.append(self._full_hit(text, tokens, index, entry, length))
                index += length
                continue
            if not titled and tokens[index].tag and not tokens[index].joined:
                # A tag is searched whole from its first part, once.
                joined = self._joined_at(text, tokens, index)
                if joined is not None:
                    scan.full.append(joined[0])
                    index += joined[1]
                    continue
            first = None if titled else self._first_at(text, tokens, index, context)
            if first is not None:
                key, pupils = first
                typo = self._surname_typo(text, tokens, index, index + len(key) - 1, pupils)
                if typo is not None:
                    scan.full.append(typo)
                    index += len(key) + 1
                    continue
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

    def _surname_typo(
        self, text: str, tokens: list[Word], start: int, last: int, pupils: tuple[Pupil, ...]
    ) -> FullHit | None:
        """A pupil's first name and their surname typed a letter or two wrong
        ("Amelia Thornbery"): still their full name."""
        if last + 1 >= len(tokens):
            return None
        word, after = tokens[last], tokens[last + 1]
        if (
            not after.capitalized
            or after.sentence != word.sentence
            or not (after.joined or SPACE.fullmatch(text[word.end : after.start]))
        ):
            return None
        for pupil in pupils:
            for surname in {s[0] for s in spellings(pupil.last_name)}:
                if after.key != surname and nearly(after.key, surname):
                    begin = tokens[start].start
                    return FullHit(begin, after.end, pupil, text[begin : word.end])
        return None

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
                and cased_like_a_name(
                    tokens, index, length, entry.first_words, entry.reversed, context
                )
                and not a_place(tokens, index, length)
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
        # The tag folded letter by letter, each folded letter remembering where in the
        # typed text it came from: folding changes lengths ("ß" is "ss"), and the
        # underscores, hyphens and apostrophes between parts are left out.
        body: list[str] = []
        origin: list[int] = []
        for part in tokens[index:end]:
            for offset, char in enumerate(text[part.start : part.end]):
                for letter in fold(char):
                    if letter not in "-'":
                        body.append(letter)
                        origin.append(part.start + offset)
        folded = "".join(body)
        for size in self._joined_lengths:
            for offset in range(0, len(folded) - size + 1):
                found = self._joined.get(folded[offset : offset + size])
                if found:
                    pupil, first_len = found[0]
                    start, stop = origin[offset], origin[offset + size - 1] + 1
                    first = text[start : origin[offset + first_len - 1] + 1]
                    return FullHit(start, stop, self.pupils[pupil], first), end - index
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
                or a_place_named(tokens, index)
                or someone_named(text, tokens, index + n - 1)
                or a_role(text, tokens, index)
            ):
                continue  # "Jack Frost", "a tour of Florence", "Pepper the therapy dog"
            if n == 1 and someone_else(
                self.is_first_name, self.surnames, text, tokens, index, context
            ):
                continue  # "Kofi Annan", "L. Frank Baum": another person's full name
            if (
                n == 1
                and key[0] in context.word_names
                and not WordName(self.is_first_name, text, tokens, index, context).is_person()
            ):
                continue
            return key, tuple(self.pupils[i] for i in numbers)
        return None

    def is_first_name(self, key: str) -> bool:
        return key in self._first

    def surnames(self, first: str) -> frozenset[str]:
        """The surnames (first word of each) of pupils whose first name is this word."""
        return frozenset(
            entry.words[entry.first_words]
            for entry in self._full.get(first, ())
            if not entry.reversed and entry.first_words == 1 and not entry.middle
        )


def _fingerprint(pupils: Sequence[Pupil]) -> str:
    """What the stored index was built from: every pupil's names, in order, and the
    phrase list that shapes it. A register written by another helper version, or
    phrases changed by an upgrade, make it a different index, which is rebuilt."""
    digest = hashlib.sha256(" ".join(sorted(_PHRASES)).encode())
    for p in pupils:
        names = (p.first_name, p.last_name, p.preferred_name, p.preferred_last_name, p.middle_names)
        digest.update("\x1f".join(n or "" for n in names).encode() + b"\x1e")
    return digest.hexdigest()


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
    return bool(SPACE.fullmatch(gap) or _AFTER_NICKNAME.fullmatch(gap))


# A nickname between first name and surname: Theodore ‘Teddy’ Ashworth, Jo (JJ) Smith.
_BEFORE_NICKNAME = re.compile(r"\s+[‘'\"“(]")


_AFTER_NICKNAME = re.compile(r"[’'\"”)]\s+")


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
    if SPACE.fullmatch(gap) or gap == "_":
        return True
    if kind == "inside":
        return bool(_DASH_GAP.fullmatch(gap))
    return reversed and gap.strip() == "," and gap.count("\n") == 0


def _camel(raw: str) -> bool:
    return any(a.islower() and b.isupper() for a, b in pairwise(raw))


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
    if tokens[index].key not in _PHRASE_WORDS:
        return False
    for size in (2, 3, 4, 5):
        for start in range(max(0, index - size + 1), index + 1):
            window = tokens[start : start + size]
            if len(window) < size or window[0].sentence != window[-1].sentence:
                continue
            plain = " ".join(w.key for w in window)
            owned = " ".join(w.key + ("'s" if w.possessive else "") for w in window)
            if plain in _PHRASES or owned in _PHRASES:
                return True
    return False
