"""Where pupils will be and when, on public accounts."""

from __future__ import annotations

import pytest

from tests.conftest import write_policy
from tweetguard.checks.engine import Checker

HELD = [
    "Year 3 are at Kew Gardens tomorrow from 10am until 2pm — wave if you see us!",
    "Year 4 are off to the Science Museum tomorrow, coach leaves at 8:45",
    "Good luck to our netball team playing at Hillside Primary School on Saturday!",
    "Our choir will be at St Mary's Church on Sunday at 3pm",
    "Year 6 residential: we're heading to Kingswood next Monday!",
    "Reception are visiting Oakwood Farm this afternoon",
    "Meet at Victoria Station at 7:30am on 14th March for the London trip",
    "We're at the Town Hall right now for the poetry festival!",
    "Year 5 trip to Chester Zoo on 12/06 - please be on time",
]
FINE = [
    "Year 6 visited the Houses of Parliament last week and met our local MP.",
    "Autumn term clubs start next week: sign up at the office.",
    "Parents' evening is on Thursday from 3:30pm in the school hall.",
    "Early closure at 1:30pm on Friday for staff training.",
    "We had a brilliant time at Kew Gardens yesterday!",
    "Sports day is on the school field next Wednesday at 1pm.",
    "Year 2 went to the farm today and loved the lambs.",
    "Come along to the Summer Fair on Saturday from 11am!",
    "Harvest assembly in the hall tomorrow at 9am, all welcome.",
    "Reminder: PE kits needed on Monday.",
    "Year 1 are learning about London this term.",
    "In Year 4 we start swimming next week.",
]


@pytest.mark.parametrize("text", HELD)
def test_future_trips_with_places_are_held(checker: Checker, text: str) -> None:
    report = checker.check(text)
    assert report.verdict == "block"
    assert [f.rule.id for f in report.findings] == ["trips.future-location"]


@pytest.mark.parametrize("text", FINE)
def test_past_trips_and_school_events_are_fine(checker: Checker, text: str) -> None:
    assert [f.rule.id for f in checker.check(text).findings] == []


def test_protected_accounts_may_share_trip_details(checker: Checker) -> None:
    write_policy(
        checker.home, '[[accounts]]\nhandle = "OakfieldParents"\nvisibility = "protected"\n'
    )
    text = HELD[0]
    assert checker.check(text, account=("OakfieldParents", None)).verdict == "allow"
    # Unknown to the policy: checked as public (and held for the account too).
    assert checker.check(text, account=("SomeoneElse", None)).verdict == "block"
    assert checker.check(text).verdict == "block"


def test_allowlisted_places_and_the_school_itself_are_fine(checker: Checker) -> None:
    write_policy(
        checker.home,
        '[school]\nname = "Oakfield Primary"\n[allow]\nplaces = ["Oakfield Park"]\n',
    )
    assert checker.check("Sports day at Oakfield Park tomorrow from 1pm!").verdict == "allow"
    assert checker.check("See you at Oakfield Primary on Friday at 6pm").verdict == "allow"


def test_finding_spans_the_time_and_the_place(checker: Checker) -> None:
    text = "Reminder! Year 3 are at Kew Gardens tomorrow."
    (finding,) = checker.check(text).findings
    assert text[finding.start : finding.end] == "at Kew Gardens tomorrow"
    assert "tomorrow" in finding.message and "Kew Gardens" in finding.message
