"""Profanity, plain, masked and look-alike; and the ordinary words it must leave alone."""

from __future__ import annotations

import pytest

from tweetguard.checks.engine import Checker


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("That was one hell of a match!", "hell"),
        ("What a load of crap weather", "crap"),
        ("Oh sh*t, the coach is late", "sh*t"),
        ("f**k", "f**k"),
        ("This is bullsh1t", "bullsh1t"),
        ("Damn, what a goal!", "Damn"),
        ("What a bl**dy mess", "bl**dy"),  # British, added to the list, masked
    ],
)
def test_profanity_warns(checker: Checker, text: str, word: str | None) -> None:
    report = checker.check(text)
    found = [text[f.start : f.end] for f in report.findings if f.rule.id == "language.profanity"]
    assert found == ([word] if word else [])
    assert report.verdict == ("warn" if word else "allow")


@pytest.mark.parametrize(
    "text",
    [
        "Swimming lessons: working on our breast stroke and front crawl!",
        "Year 6 are studying WW2 and the rise of the Nazis in history.",
        "Our Nativity: Mary and Joseph and the Virgin birth story.",
        "The church organ sounded wonderful at the carol service.",
        "Potty training tips for Nursery parents.",
        "Year 2 weeded the vegetable patch today.",
        "Ski slope trip photos are up!",
        "Cornish pasty day in the canteen",
        "Hugs and kisses xxx",
        "Passed our oral French exam!",
        "Scunthorpe and Penistone teams played today",
    ],
)
def test_ordinary_school_words_do_not_warn(checker: Checker, text: str) -> None:
    assert [f.rule.id for f in checker.check(text).findings] == []
