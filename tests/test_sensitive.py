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
