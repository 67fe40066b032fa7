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


# Classes of miss found on realistic posts, each with its traps.
HELD_TOO = [
    # Leaving school is a departure, even though "school" is in the sentence.
    "The coach leaves school at 8.15 tomorrow for Twycross Zoo",
    "Year 4 set off from school at 9am on Friday for the castle",
    # Visiting a place written in lower case.
    "Nursery are visiting the garden centre tomorrow morning",
    "Year 1 will be visiting a working farm on Thursday",
    # A place and a time with no verb at all.
    "Cross-country: Larkhill Common, Saturday 10am. Spikes allowed!",
    "Meet us by the bandstand in Victoria Park at 2pm on Sunday for the charity walk",
    # Roads and routes pupils will be out on.
    "Bikeability for Year 6: on Station Road and Mill Lane all next week",
    # A residential with its dates.
    "Year 6 residential to Hawkshead, 16th–18th June – kit list to follow",
    "Our Year 5 residential is Monday to Wednesday next week 🏕️",
]
FINE_TOO = [
    # Events whose names read like a place.
    "Children in Need is on Friday – wear something spotty!",
    "Red Nose Day on Friday 13th March: bring £1 for a red nose",
    # Not pupils: traffic and the weather.
    "Roadworks on Station Road from tomorrow – allow extra time",
    # Visitors coming to school.
    "A theatre company is visiting us on Tuesday afternoon",
    "The dentist is visiting our Nursery class on Wednesday",
    # Make-believe and at-school trips.
    "On Friday Reception will be flying to the Moon in our role-play rocket!",
    "Virtual trip to the Great Wall of China in class tomorrow",
    # Subjects and languages after "in".
    "Year 3 will be counting to ten in Polish tomorrow",
    "Pesto making in DT on Thursday afternoon",
    # After the event.
    "What a day at Larkhill Common on Saturday – thank you to everyone who came!",
    # Leaves that are leaves, classes named after animals, trips in a book corner.
    "Autumn leaves collage in Otters today",
    "Spelling test in Kingfishers on Friday morning",
    "Reception will travel to Narnia tomorrow through the wardrobe in our book corner",
]


@pytest.mark.parametrize("text", HELD_TOO)
def test_trips_said_every_way_are_held(checker: Checker, text: str) -> None:
    assert [f.rule.id for f in checker.check(text).findings] == ["trips.future-location"]


@pytest.mark.parametrize("text", FINE_TOO)
def test_things_that_only_look_like_trips_are_fine(checker: Checker, text: str) -> None:
    assert [f.rule.id for f in checker.check(text).findings] == []


def test_a_place_sharing_the_schools_name_is_still_away_from_school(checker: Checker) -> None:
    write_policy(
        checker.home, '[school]\nname = "Larkfield Primary"\n[allow]\nplaces = ["Larkfield"]\n'
    )
    assert (
        checker.check("Swimming at Larkfield Leisure Centre on Friday at 10am").verdict == "block"
    )
    assert (
        checker.check("Football: meet at Larkfield Park gates at 9 on Saturday").verdict == "block"
    )
    assert (
        checker.check("Nativity in the Larkfield Primary hall on Friday at 2pm").verdict == "allow"
    )
    assert checker.check("Meet at the Larkfield gates at 3pm on Friday").verdict == "allow"


@pytest.mark.parametrize(
    "text",
    [
        "U9 netball. Sat 10am. Riverside Leisure Centre. Bring water.",  # a terse coach's post
        "Reception are walking to the post office on Friday to send their cards",
        "Choir: Weds 6pm, St Luke's Church. Black and white please.",
    ],
)
def test_terse_and_compound_trips_are_held(checker: Checker, text: str) -> None:
    assert [f.rule.id for f in checker.check(text).findings] == ["trips.future-location"]


@pytest.mark.parametrize(
    "text",
    [
        "Harvest Assembly Friday 9am In The Hall – Families Welcome",
        "Sun cream on, please: it will be hot on sports day",  # "Sun" is not a day here
        "Walking to the school office at 9am? Please sign in first",
    ],
)
def test_terse_and_compound_school_events_are_fine(checker: Checker, text: str) -> None:
    assert [f.rule.id for f in checker.check(text).findings] == []
