"""Private information about a pupil who can be identified."""

from __future__ import annotations

import pytest

from tweetguard.checks.engine import Checker


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Get well soon to Hope who is in hospital with asthma.", ["in hospital", "asthma"]),
        ("Amelia has a nut allergy so please no nuts in the class party", ["allergy"]),
        ("Seun is back after his broken arm - welcome back!", ["broken arm"]),
        ("Aisha's EHCP review went well", ["EHCP"]),
        ("Well done Jack, who gets free school meals, for the prize", ["free school meals"]),
        ("Zoë has been excluded for the rest of the week", ["excluded"]),
        ("Sam in Year 3 is autistic and loves trains", ["autistic"]),
        ("Welcome to Amelia, who has just joined us from foster care", ["foster care"]),
    ],
)
def test_sensitive_detail_about_a_named_pupil_is_held(
    checker: Checker, text: str, terms: list[str]
) -> None:
    report = checker.check(text)
    assert report.verdict == "block"
    found = [text[f.start : f.end] for f in report.findings if f.rule.id == "sensitive.pupil"]
    assert found == terms


@pytest.mark.parametrize(
    "text",
    [
        "Our SEN team runs a drop-in for parents on Thursday mornings.",
        "Thank you to the hospital staff who visited Year 2 today.",
        "Free school meals: check if you qualify on the council website.",
        "Asthma awareness week: Year 5 made posters.",
        "Everyone in Year 3 learnt about healthy eating and allergies.",
    ],
)
def test_sensitive_topics_without_a_pupil_are_fine(checker: Checker, text: str) -> None:
    assert [f.rule.id for f in checker.check(text).findings] == []


@pytest.mark.parametrize(
    ("text", "term"),
    [
        (
            "Get well soon Seun (Year 6) – we hear he fractured his wrist at football",
            "fractured his wrist",
        ),
        ("Welcome back Zoë after her operation, we missed you!", "her operation"),
        ("Sam in Year 4 has really grown in confidence with his 1:1 support", "1:1 support"),
        ("Amelia is a young carer and still never late – what a star", "young carer"),
        ("Aisha's speech therapy is paying off – listen to her read!", "speech therapy"),
        ("Since Mum and Dad split up, Jack (Year 5) has been so brave", "Mum and Dad split up"),
        ("Happy birthday Amelia, born 3 March 2017 – eight today!", "born 3 March 2017"),
        ("Jack is back on crutches but still cheering the team on", "on crutches"),
        ("A big hug for Zoë while her mum and dad are separating", "mum and dad are separating"),
    ],
)
def test_sensitive_details_in_plain_words(checker: Checker, text: str, term: str) -> None:
    report = checker.check(text)
    found = [text[f.start : f.end] for f in report.findings if f.rule.id == "sensitive.pupil"]
    assert term in found
    assert report.verdict == "block"


@pytest.mark.parametrize(
    "text",
    [
        "Year 6 separated the mixtures using filters in science",
        "Operation Christmas Child shoeboxes go out on Friday",
        "Our school nurse talked to Year 5 about looking after a broken arm",
        "Young carers awareness day: our support group meets on Tuesdays",
        "Speech and language drop-in for parents every Thursday",
        "Class 3 were born to dance – what a show!",
    ],
)
def test_the_same_words_without_a_named_child_are_fine(checker: Checker, text: str) -> None:
    assert [f.rule.id for f in checker.check(text).findings] == []


def test_a_class_named_for_animals_identifies_a_child(checker: Checker) -> None:
    text = "Leo in Badgers class is back after breaking his wrist – go gently"
    assert checker.check(text).verdict == "block"


def test_a_toys_pretend_injury_is_not_a_childs(checker: Checker) -> None:
    text = "Amelia made her teddy a sling for his pretend broken arm"
    assert checker.check(text).verdict == "allow"
