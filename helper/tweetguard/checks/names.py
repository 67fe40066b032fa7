"""Pupils named in a post, matched against the consent register.

Names are matched as sequences of words, not substrings, so "Max" inside
"maximum" never fires. Words are compared case-insensitively and without
diacritics, because teachers type "Ciaran" for "Ciarán" and "KHAN" for "Khan".
The index is built once per register revision; a scan is one dict lookup per word.

First names that are also ordinary words (Joy, Hope, May, Autumn...) count as a
name only when written like one: capitalised, and either mid-sentence after a
word that is not a preposition or article, or followed by something only a
person does ("Joy won", "May's", "Hope in Year 2").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

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
        "(“Morgan, Ava”), in any case, with or without accents."
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
    severity=Severity.WARN,
    message="{name} has no social media consent. Check it is another child, or leave the name out.",
    fix_hint="Leave the name out.",
    description="The first name of a pupil whose social media consent is no or has expired.",
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

# Before a list of word-names, words that make them people: "Thank you Joy and May".
_PERSON_BEFORE = vocabulary("person_cues_before")
# After a word-name, words that make it a person: "Joy won", "Hope has".
_PERSON_AFTER = vocabulary("person_cues_after")
# Before a word-name, words that make it a thing or a date: "in May", "a joy".
_NOT_PERSON_BEFORE = vocabulary("not_person_before")
# After a word-name, words that make it a thing: "Autumn term", "Poppy Appeal".
_NOT_PERSON_AFTER = vocabulary("not_person_after")
# Fixed phrases that start with a first name: characters, puddings, birds.
_PHRASES = vocabulary("name_phrases")
_CLASS_AFTER = re.compile(r"\s*(?:\(|,\s*|\b(?:in|from)\s+)(?:year|class|reception|y\d)", re.I)


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
    first_words: int  # how many leading words are the first name (forward order)
    reversed: bool  # "Thornbury, Amelia"
    pupil: Pupil


class NameIndex:
    """Full names keyed by their first folded word; first names likewise."""

    def __init__(self, pupils: Iterable[Pupil]) -> None:
        self._full: dict[str, list[_Entry]] = {}
        self._first: dict[str, dict[tuple[str, ...], list[Pupil]]] = {}
        self.size = 0
        for pupil in pupils:
            self.size += 1
            lasts = spellings(pupil.last_name)
            firsts = {pupil.first_name, pupil.preferred_name or pupil.first_name}
            for first in {s for name in firsts for s in spellings(name)}:
                for last in lasts:
                    self._add(_Entry(first + last, len(first), False, pupil))
                    self._add(_Entry(last + first, len(first), True, pupil))
                by_key = self._first.setdefault(first[0], {})
                by_key.setdefault(first, [])
                if pupil not in by_key[first]:
                    by_key[first].append(pupil)
        # Longest names first, so "Mary Jane Smith" wins over "Mary Jane".
        for entries in self._full.values():
            entries.sort(key=lambda e: -len(e.words))

    def _add(self, entry: _Entry) -> None:
        bucket = self._full.setdefault(entry.words[0], [])
        if not any(e.words == entry.words and e.pupil == entry.pupil for e in bucket):
            bucket.append(entry)

    def scan(self, text: str, tokens: list[Word], word_names: frozenset[str]) -> NameScan:
        scan = NameScan()
        index = 0
        while index < len(tokens):
            full = self._full_at(text, tokens, index, word_names)
            if full is not None:
                n = len(full.words)
                first_index = index + (n - full.first_words if full.reversed else 0)
                first_end = tokens[first_index + full.first_words - 1].end
                scan.full.append(
                    FullHit(
                        start=tokens[index].start,
                        end=tokens[index + n - 1].end,
                        pupil=full.pupil,
                        typed_first=text[tokens[first_index].start : first_end],
                    )
                )
                index += n
                continue
            first = self._first_at(text, tokens, index, word_names)
            if first is not None:
                key, pupils = first
                end = tokens[index + len(key) - 1].end
                scan.first.append(FirstHit(tokens[index].start, end, tuple(pupils)))
                index += len(key)
                continue
            index += 1
        return scan

    def _full_at(
        self, text: str, tokens: list[Word], index: int, word_names: frozenset[str]
    ) -> _Entry | None:
        for entry in self._full.get(tokens[index].key, ()):
            n = len(entry.words)
            if index + n > len(tokens):
                continue
            if any(tokens[index + k].key != entry.words[k] for k in range(1, n)):
                continue
            boundary = n - entry.first_words if entry.reversed else -1
            if not all(
                _joined(text, tokens[index + k - 1], tokens[index + k], comma=k == boundary)
                for k in range(1, n)
            ):
                continue
            # Any case counts, even for word-names ("congratulations to hope carrington"):
            # a false alarm costs a retype, a miss names a child.
            return entry
        return None

    def _first_at(
        self, text: str, tokens: list[Word], index: int, word_names: frozenset[str]
    ) -> tuple[tuple[str, ...], list[Pupil]] | None:
        candidates = self._first.get(tokens[index].key)
        if not candidates:
            return None
        for key, pupils in sorted(candidates.items(), key=lambda kv: -len(kv[0])):
            n = len(key)
            if index + n > len(tokens):
                continue
            if any(tokens[index + k].key != key[k] for k in range(1, n)):
                continue
            if not all(
                _joined(text, tokens[index + k - 1], tokens[index + k]) for k in range(1, n)
            ):
                continue
            if _starts_phrase(tokens, index):
                continue  # "Jack Frost", "Dick Whittington": characters, not pupils
            if (
                n == 1
                and key[0] in word_names
                and not self._used_as_name(text, tokens, index, word_names)
            ):
                continue
            return key, pupils
        return None

    def _used_as_name(
        self, text: str, tokens: list[Word], index: int, word_names: frozenset[str]
    ) -> bool:
        word = tokens[index]
        if not word.capitalized:
            return False
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        after = following if following and following.sentence == word.sentence else None
        if after and (after.key in _NOT_PERSON_AFTER or after.raw[:1].isdigit()):
            return False
        if word.possessive or _CLASS_AFTER.match(text, word.end):
            return True
        if after and after.key in _PERSON_AFTER:
            return True
        listed = self._listed_with(text, tokens, index, word_names)
        if listed is not None:
            return listed
        if sentence_start(tokens, index):
            return False  # "Autumn term...", "May I remind..."
        return tokens[index - 1].key not in _NOT_PERSON_BEFORE

    def _listed_with(
        self, text: str, tokens: list[Word], index: int, word_names: frozenset[str]
    ) -> bool | None:
        """In a list ("Amelia and Hope", "Faith, Hope, Joy and Respect"), a word-name
        is a name when listed with a pupil's name, and a word when listed with
        other capitalised words. None when it is not in a list."""
        neighbours = []
        for step in (-1, 1):
            near = index + step
            if not 0 <= near < len(tokens):
                continue
            left, right = (
                (tokens[near], tokens[index]) if step < 0 else (tokens[index], tokens[near])
            )
            gap = text[left.end : right.start]
            if "," in gap or "&" in gap:
                neighbours.append(tokens[near])
            elif tokens[near].key in ("and", "or") and 0 <= near + step < len(tokens):
                neighbours.append(tokens[near + step])
        capitalised = [
            n for n in neighbours if n.capitalized and n.sentence == tokens[index].sentence
        ]
        if not capitalised:
            return None
        if any(n.key in self._first and n.key not in word_names for n in capitalised):
            return True
        return _after_person_cue(text, tokens, index)


def spellings(name: str) -> set[tuple[str, ...]]:
    """The ways a register name is written in posts, as folded word tuples.

    "Lily-Mae" is also "Lily Mae"; "Mary Jane" also "Mary-Jane"; "O'Neill" also
    "ONeill" and "O Neill"; the Irish "Ó Briain" also "O'Briain".
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
    return {form for form in forms if form}


def _joined(text: str, left: Word, right: Word, *, comma: bool = False) -> bool:
    """Two words of one name: only spaces between (or a comma, surname first)."""
    if left.possessive:
        return False
    gap = text[left.end : right.start]
    return gap.isspace() or (comma and gap.strip() == ",")


def _after_person_cue(text: str, tokens: list[Word], index: int) -> bool:
    """Whether the list this word is in follows "thank you", "well done" and the like."""
    start = index
    while start > 0:
        gap = text[tokens[start - 1].end : tokens[start].start]
        if "," in gap or "&" in gap:
            start -= 1
        elif tokens[start - 1].key in ("and", "or") and start > 1:
            start -= 2
        else:
            break
    return start > 0 and tokens[start - 1].key in _PERSON_BEFORE


def _starts_phrase(tokens: list[Word], index: int) -> bool:
    for size in (2, 3):
        window = tokens[index : index + size]
        if len(window) == size and " ".join(w.key for w in window) in _PHRASES:
            return True
    return False


def word_names(extra: Iterable[str] = ()) -> frozenset[str]:
    return vocabulary("word_names") | {fold(name) for name in extra}


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
    for first in scan.first:
        name = post.text[first.start : first.end]
        params: dict[str, str | int] = {"name": name}
        if post.has_media:
            findings.append(Finding(PICTURED, first.start, first.end, params))
        elif any(not p.social_media_consent_on(post.today) for p in first.pupils):
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
    return f"{first} ({pupil.class_name})" if pupil.class_name else first
