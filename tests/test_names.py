"""Pupils' names from the register, and the words that must not fire."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import write_policy
from tweetguard.checks.engine import Checker
from tweetguard.checks.name_index import NameIndex
from tweetguard.checks.name_reading import NameContext
from tweetguard.checks.tokens import words
from tweetguard.stores.consent import Pupil

PUPILS = [
    Pupil("Amelia", "Thornbury", class_name="Year 4", social_media=True),
    Pupil("Oluwaseun", "Adeyemi", preferred_name="Seun", class_name="Year 6", social_media=True),
    Pupil("Zoë", "Lindqvist", class_name="Year 1", social_media=True),
    Pupil("Mary Jane", "Pemberton", class_name="Reception", social_media=True),
    Pupil("Mary", "Pemberton", social_media=True),
    Pupil("Tomás", "Ó Briain", class_name="Year 3"),
    Pupil("Hope", "Carrington"),
    Pupil("Aisha", "D'Souza", class_name="Year 6", social_media=True),
    Pupil("Jack", "Frost-Whitley", social_media=True),
    Pupil("Max", "Field", social_media=True),
]
INDEX = NameIndex(PUPILS)
CONTEXT = NameContext.from_policy((), (), ())


def full_spans(text: str) -> list[str]:
    return [text[h.start : h.end] for h in INDEX.scan(text, words(text), CONTEXT).full]


def first_spans(text: str) -> list[str]:
    return [text[h.start : h.end] for h in INDEX.scan(text, words(text), CONTEXT).first]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Well done Amelia Thornbury!", ["Amelia Thornbury"]),
        ("WELL DONE AMELIA THORNBURY", ["AMELIA THORNBURY"]),
        ("amelia thornbury's painting", ["amelia thornbury"]),
        ("Amelia Thornbury’s painting", ["Amelia Thornbury"]),
        ("Seun Adeyemi read a poem", ["Seun Adeyemi"]),
        ("Oluwaseun Adeyemi read a poem", ["Oluwaseun Adeyemi"]),
        ("Zoe Lindqvist and Zoë Lindqvist", ["Zoe Lindqvist", "Zoë Lindqvist"]),
        ("Tomas O Briain sang", ["Tomas O Briain"]),
        ("Mary Jane Pemberton won", ["Mary Jane Pemberton"]),
        ("Mary Pemberton won", ["Mary Pemberton"]),
        ("Thanks Aisha D’Souza", ["Aisha D’Souza"]),
        ("Jack Frost-Whitley scored", ["Jack Frost-Whitley"]),
        ("Amelia\nThornbury", ["Amelia\nThornbury"]),
        ("Thornbury, Amelia (Year 4)", ["Thornbury, Amelia"]),
        ("THORNBURY Amelia", ["THORNBURY Amelia"]),
        ("Adeyemi, Seun", ["Adeyemi, Seun"]),
        ("Amelia Thornbury and Hope Carrington", ["Amelia Thornbury", "Hope Carrington"]),
        # Any case, word-names too: a false alarm costs a retype, a miss names a child.
        ("congratulations to hope carrington", ["hope carrington"]),
        ("Mary-Jane Pemberton read to us", ["Mary-Jane Pemberton"]),
        ("Tomas O’Briain sang", ["Tomas O’Briain"]),
    ],
)
def test_full_names_are_found(text: str, expected: list[str]) -> None:
    assert full_spans(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Well done Amelia!",  # first names alone are not full names
        "Jack Frost visited the nursery",  # only part of a surname
        "The maximum fieldwork score",  # names inside longer words
        "Amelia. Thornbury Road is closed",  # a sentence break between the words
        "Amelia's Thornbury trip",  # a possessive ends the name
        "Max Fielding won the prize",
        "",
    ],
)
def test_ordinary_text_is_not_a_full_name(text: str) -> None:
    assert full_spans(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Well done Hope!", ["Hope"]),
        ("Hope won the egg and spoon race", ["Hope"]),
        ("Thank you Hope for helping", ["Hope"]),
        ("Hope's painting is on the wall", ["Hope"]),
        ("Hope in Year 2 read to us", ["Hope"]),
        ("Brilliant work from zoe today", ["zoe"]),  # not a word: any case counts
        ("Max scored a hat-trick", ["Max"]),
        ("Mary Jane danced", ["Mary Jane"]),
    ],
)
def test_first_names_used_as_names(text: str, expected: list[str]) -> None:
    assert first_spans(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "We hope you all have a lovely half term",
        "Hope you all have a lovely half term",  # sentence start, no person cue
        "Fingers crossed for sunshine, and high hopes for sports day",
        "Max 30 children per session",  # followed by a number
        "Book by the max date",
    ],
)
def test_word_names_used_as_words_are_not_names(text: str) -> None:
    assert first_spans(text) == []


def test_fix_keeps_the_first_name_as_typed_with_the_class(checker: Checker) -> None:
    (finding,) = checker.check("Go SEUN ADEYEMI!").findings
    assert finding.fix == "SEUN (Year 6)"
    report = checker.check("Go Hope Carrington!")
    assert report.findings[0].fix == "Hope (Year 2)"
    assert "Hope Carrington" in report.findings[0].message


def test_empty_register_finds_nothing() -> None:
    text = "Amelia Thornbury"
    assert NameIndex([]).scan(text, words(text), CONTEXT).spans() == []


@pytest.mark.parametrize(
    ("text", "verdict", "rule"),
    [
        ("Well done Amelia for a brilliant assembly!", "allow", None),
        ("Well done Hope for a brilliant assembly!", "block", "names.no-consent"),
        ("It was a joy to see Year 3 perform", "allow", None),
        ("Joy won the spelling bee!", "block", "names.no-consent"),
        ("See you in May for sports day", "allow", None),
        ("Autumn term starts on Monday", "allow", None),
        ("Keep the faith, Year 5!", "allow", None),
        ("Well done Ciaran!", "block", "names.no-consent"),  # consent expired in 2020
        ("Well done Lily-Mae!", "block", "names.no-consent"),
    ],
)
def test_first_name_consent(checker: Checker, text: str, verdict: str, rule: str | None) -> None:
    report = checker.check(text, today=date(2026, 11, 27))
    assert report.verdict == verdict
    assert [f.rule.id for f in report.findings] == ([rule] if rule else [])


def test_a_first_name_with_a_photo_blocks(checker: Checker) -> None:
    report = checker.check("Amelia loved the science fair!", has_media=True)
    assert report.verdict == "block"
    assert [f.rule.id for f in report.findings] == ["names.pictured"]
    assert checker.check("Year 4 loved the science fair!", has_media=True).verdict == "allow"
    assert checker.check("A joy to see Year 3 perform", has_media=True).verdict == "allow"


def test_policy_can_turn_on_first_names(checker: Checker) -> None:
    write_policy(checker.home, '[rules."names.first-name"]\nenabled = true\nseverity = "block"\n')
    report = checker.check("Well done Amelia!")
    assert report.verdict == "block"
    assert [f.rule.id for f in report.findings] == ["names.first-name"]


def test_policy_word_names_are_respected(checker: Checker) -> None:
    # "Aisha" is not a built-in word-name, so any case counts; the school can say otherwise.
    assert checker.check("great work from aisha today").verdict == "allow"
    write_policy(checker.home, '[rules."names.first-name"]\nenabled = true\n')
    assert checker.check("great work from aisha today").verdict == "warn"
    write_policy(
        checker.home,
        '[names]\nword_names = ["Aisha"]\n[rules."names.first-name"]\nenabled = true\n',
    )
    # As a word-name, lower case counts only after a cue ("work from aisha").
    assert checker.check("the aisha plants are flowering today").verdict == "allow"
    assert checker.check("great work from aisha today").verdict == "warn"
