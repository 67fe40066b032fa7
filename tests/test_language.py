"""Swearing and slurs: strong words block, milder ones warn; ordinary words are left alone."""

from __future__ import annotations

import pytest

from tweetguard.checks.engine import Checker


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("That was one hell of a match!", "hell"),
        ("What a load of crap weather", "crap"),
        ("Oh sh*t, the coach is late", "sh*t"),
        ("This is bullsh1t", "bullsh1t"),
        ("Damn, what a goal!", "Damn"),
        ("What a bl**dy mess", "bl**dy"),  # British, added to the list, masked
        ("Bugger, the printer is jammed again", "Bugger"),
        ("pmsl at the staff panto rehearsal", "pmsl"),
        ("S*** weather for the fun run", "S***"),  # one letter showing: the usual word
    ],
)
def test_milder_swearing_warns(checker: Checker, text: str, word: str) -> None:
    report = checker.check(text)
    found = [text[f.start : f.end] for f in report.findings if f.rule.id == "language.profanity"]
    assert found == [word]
    assert report.verdict == "warn"


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("f**k", "f**k"),
        ("F*** me, that was close", "F***"),
        ("What the fück is this", "fück"),
        ("ffs, the hall is double booked again", "ffs"),
        ("STFU about the rain already", "STFU"),
        ("The visitors were a bunch of wankers", "wankers"),
        ("Some twat parked across the gate", "twat"),
        ("Stop calling people a sp*stic", "sp*stic"),
        ("That joke about a paki was reported", "paki"),
        ("He called him a poofter in the corridor", "poofter"),
    ],
)
def test_strong_swearing_and_slurs_block(checker: Checker, text: str, word: str) -> None:
    report = checker.check(text)
    found = [text[f.start : f.end] for f in report.findings if f.rule.id == "language.strong"]
    assert found == [word]
    assert report.verdict == "block"


def test_the_school_can_lower_strong_words_to_a_warning(checker: Checker) -> None:
    (checker.home / "policy.toml").write_text('[rules."language.strong"]\nseverity = "warn"\n')
    assert checker.check("ffs, not again").verdict == "warn"


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
        # Names and places that contain a listed word.
        "Year 4 are reading The Twits and then The Hodgeheg by Dick King-Smith",
        "Our science fair judge was Professor Dick Lawson from the university",
        "Titty Walker is our favourite in Swallows and Amazons",
        "Our geography walk went from Cocks to Perranporth in Cornwall",
        "Year 5 visited Cockermouth and Shitterton on the map",
        # Innocent phrases and ordinary words.
        "Homo sapiens and Homo erectus timeline in Year 6 science",
        "A chink of light through the clouds on sports day",
        "Spick and span classrooms after the summer clean",
        "The pussy willow is flowering by the pond",
        "RSE: the correct words are penis and vagina",
        "Our rugby hooker scored a try at the weekend",
        "Tit for tat is never the answer – kindness is",
        "The cliffs at Beachy Head are huge",
        "Tackle the Kung Fu panda reading challenge",
    ],
)
def test_ordinary_school_words_and_names_do_not_flag(checker: Checker, text: str) -> None:
    assert [f.rule.id for f in checker.check(text).findings] == []
