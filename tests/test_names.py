"""Pupils' full names from the register, and the words that must not fire."""

from __future__ import annotations

import pytest

from tweetguard.checks.names import NameIndex
from tweetguard.stores.consent import Pupil

PUPILS = [
    Pupil("Amelia", "Thornbury", class_name="Year 4"),
    Pupil("Oluwaseun", "Adeyemi", preferred_name="Seun", class_name="Year 6"),
    Pupil("Zoë", "Lindqvist", class_name="Year 1"),
    Pupil("Mary Jane", "Pemberton", class_name="Reception"),
    Pupil("Mary", "Pemberton"),
    Pupil("Tomás", "Ó Briain", class_name="Year 3"),
    Pupil("Hope", "Carrington"),
    Pupil("Aisha", "D'Souza", class_name="Year 6"),
    Pupil("Jack", "Frost-Whitley"),
    Pupil("Max", "Field"),
]
INDEX = NameIndex(PUPILS)


def spans(text: str) -> list[str]:
    return [text[f.start : f.end] for f in INDEX.find(text)]


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
        ("Amelia Thornbury and Hope Carrington", ["Amelia Thornbury", "Hope Carrington"]),
    ],
)
def test_full_names_are_found(text: str, expected: list[str]) -> None:
    assert spans(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Well done Amelia!",  # first names alone are fine by default
        "Hope you all have a lovely half term",
        "Jack Frost visited the nursery",  # only part of a surname
        "The maximum fieldwork score",  # names inside longer words
        "Amelia. Thornbury Road is closed",  # a sentence break between the words
        "Max Fielding won the prize",
        "",
    ],
)
def test_ordinary_text_does_not_fire(text: str) -> None:
    assert spans(text) == []


def test_fix_keeps_the_first_name_as_typed_with_the_class() -> None:
    (finding,) = INDEX.find("Go SEUN ADEYEMI!")
    assert finding.fix == "SEUN (Year 6)"
    (finding,) = INDEX.find("Go Hope Carrington!")
    assert finding.fix == "Hope"  # no class in the register
    assert "Hope Carrington" in finding.message


def test_empty_register_finds_nothing() -> None:
    assert NameIndex([]).find("Amelia Thornbury") == []
