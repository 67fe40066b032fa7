"""Whose name is it? Reading the sentence around words that spell a pupil's name.

name_index.py finds the words; this module decides whether the sentence uses them
for that pupil:
- a title before a name makes it a member of staff ("Mrs Patel", "Mr Jones, Sam...");
  so does a staff name the policy lists;
- a first name with a surname the pupil does not have is someone else ("Kofi
  Annan", "Henry VIII", "Anne Frank"), as is one in apposition ("Pepper the therapy
  dog"), a place ("a tour of Florence") or a title ("‘Daisy: Eat Your Peas’ by...");
- first names that are ordinary words (Rose, Will, Summer; data/word_names.txt)
  count only when the sentence uses them as a person (WordName);
- a lower-case word-name beside a capitalised surname, or a surname that is a word
  too (data/surname_words.txt), is two words: "we hope Evans Park...", "Year 5 will
  cook pancakes".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tweetguard.checks.tokens import Word, fold, sentence_start, vocabulary, words

# Whether a folded word is some pupil's first name (the index answers).
IsFirstName = Callable[[str], bool]
# The folded surnames of the pupils with this folded first name (the index answers).
Surnames = Callable[[str], frozenset[str]]

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
# Titles before a surname (or a full name) that make it an adult's name.
_TITLES = vocabulary("titles")
# ... and titles that are also words, which count only when capitalised.
_CAPITAL_TITLES = vocabulary("titles_capitalised")
# Surnames that are also ordinary words: "cook", "baker", "hill".
_SURNAME_WORDS = vocabulary("surname_words")
_COPULAS = frozenset(["is", "are", "was", "were", "be", "being", "been"])
_PRONOUNS = frozenset(["she", "he", "her", "his", "herself", "himself"])
# A class beside a name: "Rose in Year 2", "Rose, Y2", "Rose (Kingfishers)", "Rose (8)".
_CLASS_AFTER = re.compile(
    r"\s*(?:(?:,\s*|\b(?i:in|from)\s+)"
    r"(?:(?i:year|class|reception|y\d)|\d{1,2}[A-Z]{1,3}\b|[A-Z][a-z]+\s+(?i:class)\b)"
    r"|\(\s*(?:[A-Z]|\d))"
)
# Only spaces between two words of a name, of any width, and at most one line break.
SPACE = re.compile(r"(?=\s)[^\S\r\n]*(?:\r\n|\r|\n)?[^\S\r\n]*")


@dataclass(frozen=True)
class NameContext:
    """What the school's policy adds to the name matcher."""

    word_names: frozenset[str] = frozenset()
    titles: frozenset[str] = _TITLES  # in any case: "mrs patel"
    capital_titles: frozenset[str] = _CAPITAL_TITLES  # only capitalised: "King Charles"
    staff: frozenset[tuple[str, ...]] = frozenset()  # staff names as folded words

    def is_title(self, word: Word) -> bool:
        return word.key in self.titles or (word.key in self.capital_titles and word.capitalized)

    @classmethod
    def from_policy(
        cls, extra_word_names: Iterable[str], staff: Iterable[str], titles: Iterable[str]
    ) -> NameContext:
        names = []
        extra = {fold(t).rstrip(".") for t in titles}
        all_titles = _TITLES | _CAPITAL_TITLES | extra
        for name in staff:
            key = tuple(w.key for w in words(name))
            while key and key[0] in all_titles:
                key = key[1:]  # "Mrs Okafor" is covered by the title rule; keep "Okafor"
            if len(key) > 1:
                names.append(key)
        return cls(
            word_names=vocabulary("word_names") | {fold(n) for n in extra_word_names},
            capital_titles=_CAPITAL_TITLES | frozenset(extra),
            staff=frozenset(names),
        )


_NOT_SURNAMES = frozenset("and class group house nursery or reception team the year".split())


def someone_else(
    is_first_name: IsFirstName,
    surnames: Surnames,
    text: str,
    tokens: list[Word],
    index: int,
    context: NameContext,
) -> bool:
    """A first name with a capitalised surname the pupil does not have, in ordinary
    sentence case, is someone else: "a project on Kofi Annan", "remember Guy Fawkes".
    (A pupil's own surname was matched as a full name before this is asked; one a
    letter or two off is taken as a typo of it, not someone else.) Not in tags, in
    capitals, or in Title Case, where every word is capitalised."""
    word = tokens[index]
    if index + 1 >= len(tokens) or word.tag or word.raw.isupper():
        return _surname_here(text, tokens, index, context)
    after = tokens[index + 1]
    if _monarch(text, word, after):
        return True  # "Elizabeth I", "Henry VIII"
    if _surname_here(text, tokens, index, context):
        return True
    if (
        after.sentence != word.sentence
        or after.tag
        or not after.capitalized
        or after.raw.isupper()
        or not SPACE.fullmatch(text[word.end : after.start])
        or after.key in _NOT_SURNAMES
        or context.is_title(after)
        or is_first_name(after.key)
        or after.raw[:1].isdigit()
        or any(nearly(after.key, surname) for surname in surnames(word.key))
    ):
        return False
    return _sentence_case(tokens, index)


def nearly(typed: str, surname: str) -> bool:
    """A surname typed a letter or two wrong ("Bronsted" for Brønstad, folded
    "bronstad"): at most one edit for short names, two for longer ones."""
    limit = 1 if len(surname) < 6 else 2
    if abs(len(typed) - len(surname)) > limit:
        return False
    previous = list(range(len(surname) + 1))
    for i, a in enumerate(typed, start=1):
        current = [i]
        for j, b in enumerate(surname, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        if min(current) > limit:
            return False
        previous = current
    return previous[-1] <= limit


_ROMAN = re.compile(r"(?:I{1,3}|IV|VI{0,3}|IX|XI{0,3})")


def _monarch(text: str, word: Word, after: Word) -> bool:
    """A first name and a regnal number: "Henry VIII", "Elizabeth I," (a lone "I"
    only before punctuation or "and", not "Kit I think...")."""
    if not _ROMAN.fullmatch(after.raw) or not SPACE.fullmatch(text[word.end : after.start]):
        return False
    return after.raw != "I" or bool(re.match(r"\s*(?:[,;:.!?)]|and\b|$)", text[after.end :]))


# How far around a name the style of the writing is read: far enough for any post,
# and a bound, so that a 50,000-character text costs no more per name than a tweet.
_AROUND = 25


def _nearby(tokens: list[Word], index: int) -> list[Word]:
    """The words of this sentence within _AROUND of `index`, tags left out."""
    sentence = tokens[index].sentence
    return [
        t
        for t in tokens[max(0, index - _AROUND) : index + _AROUND + 1]
        if t.sentence == sentence and not t.tag
    ]


def _uniform_case(tokens: list[Word], index: int) -> bool:
    """All lower case ("echo and blaze were brilliant") or Title Case ("Our Wildflower
    Meadow Is In Bloom"): capitals tell nothing about which words are names."""
    sentence = [t for t in _nearby(tokens, index) if t.raw[:1].isalpha()]
    if len(sentence) < 3:
        return False
    if not any(t.capitalized for t in sentence):
        return True
    capitals = sum(1 for t in sentence[1:] if t.capitalized)
    return capitals * 4 >= (len(sentence) - 1) * 3


def _sentence_case(tokens: list[Word], index: int) -> bool:
    """Whether the sentence is written in ordinary sentence case, where a capital
    mid-sentence means a name (not Title Case, where every word has one)."""
    sentence = _nearby(tokens, index)
    lower = sum(1 for t in sentence if t.raw[:1].islower())
    return lower >= 3 and lower * 3 >= len(sentence)


def _surname_here(text: str, tokens: list[Word], index: int, context: NameContext) -> bool:
    """A pupil's first name used as someone's surname: "Anne Frank's diary", "Bob
    Marley's songs": another capitalised name right before it, mid-sentence, and
    the possessive after. Not after an event or a place ("Sports Day Amelia's")."""
    if index < 2:
        return False
    word, before = tokens[index], tokens[index - 1]
    if not word.possessive:
        return False  # "Olive Zainab and Guy": two pupils with a comma missing, perhaps
    return (
        before.sentence == word.sentence
        and before.key not in _NOT_PERSON_AFTER
        and before.key not in _PLACE_WORDS
        and tokens[index - 2].sentence == word.sentence
        and before.capitalized
        and not before.raw.isupper()
        and not word.raw.isupper()
        and not before.tag
        and not context.is_title(before)
        and before.key not in _ROLES
        and before.key not in _NOT_SURNAMES
        and bool(SPACE.fullmatch(text[before.end : word.start]))
        and _sentence_case(tokens, index)
    )


def cased_like_a_name(
    tokens: list[Word],
    index: int,
    length: int,
    first_words: int,
    reversed_order: bool,
    context: NameContext,
) -> bool:
    """A first name that is an ordinary word, in lower case, names a pupil only in
    text written all in lower case and beside a surname that is not a word too:
    "well done hope carrington" yes; "we hope Evans Park", "will cook" no."""
    if first_words != 1:
        return True
    first_index = index + length - 1 if reversed_order else index
    first = tokens[first_index]
    if first.key not in context.word_names or first.capitalized or first.tag:
        return True
    if reversed_order:
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
        cue_before(tokens, index)
        or bool(_CLASS_AFTER.match(" " + " ".join(t.raw for t in tokens[index + length :][:3])))
        or (after is not None and after.key in _PERSON_AFTER)
        # "honey baker – star of the week": a caption naming someone as a role.
        or (sentence_start(tokens, index) and any(k in _ROLES for k in following[:3]))
    )


def cue_before(tokens: list[Word], index: int) -> bool:
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


_TO_A_PLACE = frozenset("across around from in near of to towards via visit visiting".split())


_NATIVITY_ROLES = frozenset("mary joseph jesus gabriel herod".split())
_NATIVITY = re.compile(
    r"(?i:\b(?:nativity|bethlehem|manger|stable|shepherds?|wise\s+men|innkeeper|angels?|"
    r"donkey|christmas\s+play|baby\s+jesus)\b)"
)
_PLAYED_BY = re.compile(r"\s+(?:was|were|is|are|will\s+be)\s+played\s+by\b", re.I)


def a_role(text: str, tokens: list[Word], index: int) -> bool:
    """A part in a play, not the pupil: "Mary was played by Amber", and Mary, Joseph
    or Gabriel in a post about the nativity."""
    word = tokens[index]
    if _PLAYED_BY.match(text, word.end):
        return True
    if index > 0 and tokens[index - 1].key == "by":
        return False  # "... was played by Gabriel himself": the child
    return word.key in _NATIVITY_ROLES and bool(_NATIVITY.search(text))


def someone_named(text: str, tokens: list[Word], last: int) -> bool:
    """ "Ægir, the Norse god of the sea", "Pepper the therapy dog", "Rex our mascot":
    someone (or something) else by that name."""
    following = tokens[last + 1 : last + 5]
    if not following or following[0].key not in ("the", "our"):
        return False
    if not re.fullmatch(r"\s*,?\s*", text[tokens[last].end : following[0].start]):
        return False
    return any(t.key in _NOT_PUPILS for t in following[1:4])


def a_place_named(tokens: list[Word], index: int) -> bool:
    word = tokens[index]
    return (
        word.key in _PLACE_NAMES
        and index > 0
        and tokens[index - 1].key in _TO_A_PLACE
        and tokens[index - 1].sentence == word.sentence
        and not word.possessive
    )


_PLACE_BEFORE = frozenset(
    (
        "across along around at down in into near off on onto opposite outside past towards up via"
    ).split()
)


def a_place(tokens: list[Word], index: int, length: int) -> bool:
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


def after_title(text: str, tokens: list[Word], index: int, context: NameContext) -> bool:
    """Whether a title stands right before this word: "Mrs Patel", "Mr. Will Patel",
    "King Charles" (but not "our captain Guy")."""
    if index == 0:
        return False
    before = tokens[index - 1]
    if not context.is_title(before):
        return False
    gap = text[before.end : tokens[index].start]
    return bool(re.fullmatch(r"\.?\s+|\.?", gap)) or tokens[index].joined


def staff_at(tokens: list[Word], index: int, staff: frozenset[tuple[str, ...]]) -> int:
    """How many tokens a staff name the policy lists covers from here (0: none)."""
    if not staff:
        return 0
    for name in staff:
        n = len(name)
        if tuple(t.key for t in tokens[index : index + n]) == name:
            return n
    return 0


class WordName:
    """Whether a first name that is also a word ("Rose", "Will", "Summer") is used
    as a person here, read from the words around it: what stands before and after,
    whether it is listed with other names, linked by "is" to a role ("the winner is
    Rose", "Rose is our Star of the Week"), or followed by her/his."""

    def __init__(
        self,
        is_first_name: IsFirstName,
        text: str,
        tokens: list[Word],
        index: int,
        context: NameContext,
    ) -> None:
        self.is_first_name = is_first_name
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
            or self._determined()
        ):
            return False  # "Autumn term", "the brook was lovely", "a little robin"
        if word.possessive or self._annotated() or self._spoken_to():
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
        """ "Rose won", "Raven and Lark both made the squad", "#ScoutOfTheMonth", "poppy
        and king planted cress": a verb in the past that only people do here."""
        following = [
            t
            for t in self.tokens[last + 1 : last + 5]
            if t.sentence == self.word.sentence and t.key not in _ADVERBS
        ]
        if any(" ".join(t.key for t in following[:size]) in _PERSON_AFTER for size in (1, 2, 3)):
            return True
        if not following or self.word.key in _TIME_NAMES:
            return False
        verb = following[0]
        return (
            verb.key.endswith("ed")
            and len(verb.key) > 4
            and not verb.capitalized
            and verb.key not in _ED_ADJECTIVES
            and not verb.tag
        )

    def _spoken_to(self) -> bool:
        """ "Brook, you have been a superstar": a child addressed by name."""
        after = self._near(1)
        return (
            after is not None
            and after.key in ("you", "your", "you're", "you've")
            and self.text[self.word.end : after.start].strip() == ","
        )

    def _determined(self) -> bool:
        """ "the brook", "a little robin": an article, perhaps with an adjective between."""
        before, further = self._near(-1), self._near(-2)
        if before is None:
            return False
        if before.key in _DETERMINERS:
            return True
        return (
            further is not None
            and further.key in _DETERMINERS
            and before.raw[:1].islower()
            and before.key not in _PERSON_BEFORE
        )

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
        if not SPACE.fullmatch(self.text[self.tokens[last].end : following[0].start]):
            return False  # "Gift, you have been brilliant": said to the child
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
            and bool(SPACE.fullmatch(self.text[after.end : following.start]))
        )

    def _cued(self, first: int) -> bool:
        return cue_before(self.tokens, first)

    def _list_span(self, case_tells: bool = True) -> tuple[int, int]:
        """The first and last token of the list this word is in ("Ibrahim, Ruby and
        Daisy", "Mr Hill and Storm", "#Jay #Ivy"); (index, index) when it is in none."""
        start = end = self.index
        # A list is read as far as a dozen words each way: evidence sits near.
        first, last = max(0, self.index - 12), min(len(self.tokens) - 1, self.index + 12)
        while start > first:
            link = self._link(start - 1, start, case_tells)
            if link is None:
                break
            start = link
            while start > 0 and self.context.is_title(self.tokens[start - 1]):
                start -= 1  # "Mr Hill": the title belongs to the item
        while end < last:
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
            and not self.context.is_title(t)
        ]
        if any(
            t is not self.word
            and self.is_first_name(t.key)
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

    def _pronoun_after(self, last: int, within: int = _AROUND) -> bool:
        """ "Rose is Star of the Week for her kindness": her/his/she/he later on."""
        stop = last + 1 + within
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
    (
        "a all an down everyone first her his off one our out some that the their this three "
        "to two up"
    ).split()
)
# Before a word-name, these make it a thing in any case: "the brook", "a joy".
_DETERMINERS = frozenset("a an any each every no some that the these this those".split())
# Words in -ed after a word-name that describe a thing, not what a child did:
# "Amber coloured glass", "Rose scented candles".
_ED_ADJECTIVES = frozenset(
    (
        "coloured colored tinted scented flavoured flavored shaped based themed filled "
        "covered topped lined glazed dyed iced patterned striped spotted speckled "
        "crested headed eyed haired winged tailed necked leaved petalled"
    ).split()
)
# Words skipped between a name and what it does: "Raven and Lark both made...".
_ADVERBS = frozenset({"both", "all", "each", "also", "together", "really", "just", "finally"})
# Praise after "is"/"were": "Echo and Blaze were brilliant".
_PRAISE = frozenset(
    (
        "amazing awesome brilliant excellent fab fabulous fantastic great incredible "
        "magnificent outstanding phenomenal stunning superb unstoppable wonderful"
    ).split()
)
# After "the" or "our" right behind a name: not a pupil ("Pepper the therapy dog").
_NOT_PUPILS = vocabulary("not_pupils_after")
# Word-names that are times of year or weather: "Summer reading", "Rain stopped play".
_TIME_NAMES = frozenset(
    (
        "april august autumn dawn dusk eve june march may spring summer sunday tuesday "
        "winter rain storm snow frost mist breeze thunder sky sunshine"
    ).split()
)
