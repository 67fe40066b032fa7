"""Phone numbers, email addresses, street addresses and postcodes."""

from __future__ import annotations

import pytest

from tests.conftest import write_policy
from tweetguard.checks.engine import Checker


def rules(checker: Checker, text: str) -> list[tuple[str, str]]:
    return [(f.rule.id, text[f.start : f.end]) for f in checker.check(text).findings]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Call Mr Evans on 07700 900321 about kit", "07700 900321"),
        ("Ring 020 7946 0018 for tickets", "020 7946 0018"),
        ("Questions? +44 20 7946 0018", "+44 20 7946 0018"),
        ("Text 07700900456 if you can help", "07700900456"),
        ("Call (01632) 960 111", "(01632) 960 111"),
    ],
)
def test_phone_numbers(checker: Checker, text: str, found: str) -> None:
    assert rules(checker, text) == [("personal.phone", found)]


@pytest.mark.parametrize(
    "text",
    [
        "We raised £1,234,567 for charity!",
        "Term dates for 2026/2027 are on the website",
        "Order reference 12345678",
        "Clubs run 15:30-16:45 on Tuesdays",
        "Year 6 scored 1234 5678 points in the maths challenge",
        "Registered charity number 1234567",
    ],
)
def test_numbers_that_are_not_phone_numbers(checker: Checker, text: str) -> None:
    assert rules(checker, text) == []


def test_school_numbers_in_any_format_pass(checker: Checker) -> None:
    write_policy(checker.home, '[allow]\nphones = ["01632 960000"]\n')
    assert rules(checker, "Call the office on 01632960000 or +44 1632 960000") == []
    assert rules(checker, "Call 01632 960001") == [("personal.phone", "01632 960001")]


def test_email_addresses(checker: Checker) -> None:
    assert rules(checker, "Email jo.bloggs@gmail.com for a form") == [
        ("personal.email", "jo.bloggs@gmail.com")
    ]
    write_policy(checker.home, '[allow]\ndomains = ["oakfield.sch.uk"]\n')
    assert rules(checker, "Email office@oakfield.sch.uk for a form") == []
    assert rules(checker, "Email head@mail.oakfield.sch.uk") == []
    assert rules(checker, "Follow @OakfieldPTA for updates") == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Parking is at 22 Orchard Road, BR1 3AB.", ["22 Orchard Road", "BR1 3AB"]),
        ("Drop donations at 4 Mill Lane please", ["4 Mill Lane"]),
        ("Collect from 17b High Street", ["17b High Street"]),
        ("Postcode for the satnav: sw1a 1aa", ["sw1a 1aa"]),
        ("The party is at 9 St John's Close", ["9 St John's Close"]),
    ],
)
def test_addresses_and_postcodes(checker: Checker, text: str, found: list[str]) -> None:
    assert rules(checker, text) == [("personal.address", f) for f in found]


@pytest.mark.parametrize(
    "text",
    [
        "It is a 10 minute walk from the station",
        "Year 2 planted 30 trees along the road",
        "Well done to the 4 Year 6 pupils who ran",
        "We read chapter 3 of The Secret Garden",
    ],
)
def test_ordinary_numbers_and_roads_are_not_addresses(checker: Checker, text: str) -> None:
    assert rules(checker, text) == []


def test_school_address_is_allowlisted(checker: Checker) -> None:
    write_policy(checker.home, '[allow]\nplaces = ["1 School Lane, AB1 2CD"]\n')
    assert rules(checker, "Come to 1 School Lane, AB1 2CD on Friday") == []


@pytest.mark.parametrize(
    "text",
    [
        "Drop the forms at 14 Heol y Nant, Cwm Eithin please",
        "Please return the form to 3 Ffordd Glyndŵr by hand",
        "Parcel for 7 Sràid na h-Eaglais",
    ],
)
def test_welsh_and_gaelic_street_words_first(checker: Checker, text: str) -> None:
    assert [f.rule.id for f in checker.check(text).findings] == ["personal.address"]


def test_welsh_words_without_a_house_number_are_not_addresses(checker: Checker) -> None:
    assert checker.check("Our Year 8 walk up Heol y Mynydd was glorious").verdict == "allow"
