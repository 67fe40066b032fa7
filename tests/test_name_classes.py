"""Names as teachers really write them, and the ordinary text that must not read as one.

A register of our own (not the development corpus's): word-names, surnames that
are words, letters that do not decompose, double-barrelled and middle names, a
pupil who shares a surname with staff, and pupils who share a first name with
someone famous. Each class of miss has its false-alarm traps beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.registers import csv_text
from tweetguard.checks.engine import Checker
from tweetguard.stores.consent import ConsentRegister
from tweetguard.stores.register_import import read_register

PUPILS = [
    # first, last, preferred, class, social media consent, middle
    ("Marek", "Żukowski", "", "Year 4", "yes", ""),
    ("Halvard", "Brønstad", "", "Year 3", "no", ""),
    ("Gretchen", "Weiß", "", "Year 5", "yes", ""),
    ("Dagný", "Þorsteinsdóttir", "", "Year 2", "yes", ""),
    ("Mateja", "Đukić", "", "Year 6", "no", ""),
    ("Æsa", "Lindgren", "", "Year 1", "yes", ""),
    ("Kit", "Fletcher", "", "Year 4", "no", ""),
    ("Brook", "Dawson", "", "Year 4", "no", ""),
    ("Sunny", "Hill", "", "Year 2", "no", ""),
    ("Will", "Baker", "", "Year 6", "yes", ""),
    ("Hazel", "Wood", "", "Year 3", "no", ""),
    ("Mark", "Carter", "", "Year 5", "yes", ""),
    ("Noor", "Baig-Hussain", "", "Year 1", "yes", ""),
    ("Tobias", "Reid-Mallory", "", "Year 5", "no", ""),
    ("Elspeth", "Carmody", "", "Year 4", "no", ""),
    ("Ffion", "Pritchard", "", "Year 3", "yes", ""),
    ("Rohan", "Okonjo", "", "Year 6", "no", ""),
    ("Priyanka", "Desai", "", "Year 2", "yes", ""),
    ("Isaac", "Newbold", "", "Year 2", "no", ""),
    ("Florence", "Adair", "", "Year 1", "no", ""),
    ("Leon", "Vasquez", "", "Year 6", "yes", "Andrés"),
    ("Oluwadamilare", "Adebayo", "Dami", "Year 3", "no", ""),
    ("Gemma", "Lyle", "", "Year 5", "no", ""),
    ("Mary", "Osei", "", "Reception", "no", ""),
    ("Star", "Adeyemi", "", "Year 2", "no", ""),
    ("Henry", "Walsh", "", "Year 4", "no", ""),
    ("Marley", "Quinn", "", "Year 3", "no", ""),
]
POLICY = """
[school]
name = "Larkfield Primary"

[staff]
names = ["Mr Okonjo", "Mrs Desai", "Gemma Ashdown"]
titles = ["Sensei"]
"""


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checker]:
    home = tmp_path_factory.mktemp("larkfield")
    data = csv_text(
        [
            "first_name",
            "last_name",
            "preferred_name",
            "class",
            "social_media_consent",
            "middle_names",
        ],
        [list(p) for p in PUPILS],
    ).encode()
    register = ConsentRegister(home / "register.sqlite3")
    register.replace(read_register(data).pupils, source="test")
    register.close()
    (home / "policy.toml").write_text(POLICY, encoding="utf-8")
    checker = Checker(home)
    yield checker
    checker.close()


def rules(checker: Checker, text: str, *, photo: bool = False) -> list[str]:
    report = checker.check(text, has_media=photo, today=date(2026, 11, 28))
    return sorted({f.rule.id for f in report.findings})


def verdict(checker: Checker, text: str, *, photo: bool = False) -> str:
    return checker.check(text, has_media=photo, today=date(2026, 11, 28)).verdict


def spans(checker: Checker, text: str, rule: str) -> list[str]:
    report = checker.check(text, today=date(2026, 11, 28))
    return [text[f.start : f.end] for f in report.findings if f.rule.id == rule]


FULL = "names.full-name"


@pytest.mark.parametrize(
    ("text", "span"),
    [
        # Hashtags and mentions, in any case and with underscores.
        ("Huge well done to #TobiasReidMallory for his county medal 🥇", "TobiasReidMallory"),
        ("Cheering on @elspeth_carmody in the spelling final", "elspeth_carmody"),
        ("#priyankadesai is our reader of the week", "priyankadesai"),
        ("Go #WILL_BAKER!", "WILL_BAKER"),
        # A middle initial or a middle name between the names.
        ("Well done Rohan K. Okonjo for the science prize", "Rohan K. Okonjo"),
        ("Priyanka R Desai read beautifully in assembly", "Priyanka R Desai"),
        ("Congratulations to Leon Andrés Vasquez, our new head boy", "Leon Andrés Vasquez"),
        ("Elspeth Mary Carmody has been chosen for the choir", "Elspeth Mary Carmody"),
        # Dashes of every kind, spaced or not, and half a double-barrelled name.
        ("Tobias Reid–Mallory scored twice", "Tobias Reid–Mallory"),
        ("Tobias Reid – Mallory scored twice", "Tobias Reid – Mallory"),
        ("Noor Baig\u2011Hussain drew the winning poster", "Noor Baig\u2011Hussain"),
        ("Brilliant running from Tobias Mallory today", "Tobias Mallory"),
        # Letters that do not decompose, typed plainly or written out.
        ("Marek Zukowski won the chess club trophy", "Marek Zukowski"),
        ("HALVARD BRONSTAD and the Year 3 choir", "HALVARD BRONSTAD"),
        ("Halvard Broenstad read to Reception", "Halvard Broenstad"),
        ("A lovely letter from Gretchen Weiss", "Gretchen Weiss"),
        ("Dagny Thorsteinsdottir, Year 2's author of the week", "Dagny Thorsteinsdottir"),
        ("Mateja Djukic is the new eco captain", "Mateja Djukic"),
        ("Aesa Lindgren painted the mural", "Aesa Lindgren"),
        # Invisible characters inside the name.
        ("Well done Ma\u200brek Żuk\u00adowski!", "Ma\u200brek Żuk\u00adowski"),
        ("Rohan\u0000 Okonjo helped tidy the library", "Rohan\u0000 Okonjo"),
        ("El\u200dspeth Carmody sang", "El\u200dspeth Carmody"),
        # Surname first.
        ("Carmody, Elspeth (Year 4) – merit award", "Carmody, Elspeth"),
    ],
)
def test_full_names_as_teachers_write_them(school: Checker, text: str, span: str) -> None:
    assert spans(school, text, FULL) == [span]
    assert verdict(school, text) == "block"


def test_a_name_with_invisible_characters_is_fixed_in_the_typed_text(school: Checker) -> None:
    text = "Go Pri\u200byanka Desai!"
    (finding,) = [f for f in school.check(text).findings if f.rule.id == FULL]
    assert text[finding.start : finding.end] == "Pri\u200byanka Desai"
    assert finding.fix == "Priyanka (Year 2)"  # the name as typed, without the hidden character


@pytest.mark.parametrize(
    "text",
    [
        # Tags and mentions that only look like names.
        "#KitBagCheck: are PE bags back in school? 🎒",
        "Thanks @LarkfieldPTA for the cake sale",
        "#BrookTroutRelease with the river trust today",
        # Initials and middle words that belong to someone else.
        "Year 5 loved Neil A. Armstrong's moon landing story",
        "Our author visit from J. K. Rowling's illustrator was magic",
        # Dashes that are just ranges and separators.
        "Year 3–4 football club – all welcome",
        "The Reid–Mallory Cup is on telly tonight",
        # Special letters in ordinary words.
        "Danish day: we made smørrebrød and learnt to say tak",
        "Straße, Łódź and Ørsted: place names in our geography quiz",
        # Invisible characters in emoji and ordinary words.
        "Family picnic 👨\u200d👩\u200d👧\u200d👦 on the field",
        "Zero\u200bwidth spaces are a fun fact for computing club",
    ],
)
def test_ordinary_text_is_no_full_name(school: Checker, text: str) -> None:
    assert FULL not in rules(school, text)


# -- Pupils without consent are never named --------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Elspeth read her poem about autumn leaves",
        "Thanks Rohan for tidying the book corner",
        "Well done ELSPETH!",
        "A lovely piece of writing from elspeth today",
        "Mateja and Priyanka ran the tuck shop",
        "Huge thanks to Dami for helping at the fair",  # the preferred name
        "Halvard’s painting is on the wall",
    ],
)
def test_a_pupil_without_consent_is_blocked_by_first_name(school: Checker, text: str) -> None:
    assert "names.no-consent" in rules(school, text)
    assert verdict(school, text) == "block"


def test_a_pupil_with_consent_may_be_named_by_first_name(school: Checker) -> None:
    assert verdict(school, "Priyanka read her poem about autumn leaves") == "allow"
    assert verdict(school, "Priyanka read her poem", photo=True) == "block"  # pictured


def test_the_school_can_lower_no_consent_to_a_warning(tmp_path: Path, school: Checker) -> None:
    home = tmp_path / "lowered"
    home.mkdir()
    for name in ("register.sqlite3",):
        (home / name).write_bytes((school.home / name).read_bytes())
    (home / "policy.toml").write_text(
        POLICY + '\n[rules."names.no-consent"]\nseverity = "warn"\n', encoding="utf-8"
    )
    assert verdict(Checker(home), "Elspeth read her poem") == "warn"


# -- Word-names: a person when the sentence makes them one -----------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Kit is our Star of the Week for being so kind",
        "This week's top reader is Kit!",
        "Our new sports leaders are Kit and Brook",
        "Kit scored the winning goal",
        "Kit, Brook and Priyanka helped at the book fair",
        "Hazel has been a brilliant buddy to the new starters",
        "Sunny is the winner of the poetry prize",
        "Well done to Brook for a fantastic assembly",
        "Brook shared her project on volcanoes",
        "Congratulations #Brook on your swimming badge",
    ],
)
def test_a_word_name_used_as_a_person_is_a_name(school: Checker, text: str) -> None:
    assert "names.no-consent" in rules(school, text)


@pytest.mark.parametrize(
    "text",
    [
        "PE kit is needed every Tuesday",
        "Kit bags must be named, please",
        "Kit is available from the uniform shop on Fridays",
        "The theme this term is Sunny Days",
        "Sunny spells forecast for sports day",
        "Hazel trees in the forest school area are in bloom",
        "A little brook runs behind the field",
        "Will you join us for the carol concert?",
        "Mark your calendars: the fair is on the 6th",
        "Our word of the week is Brook – a small stream",
        "#KitSwap is back: bring outgrown uniform",
    ],
)
def test_a_word_name_used_as_a_word_is_not(school: Checker, text: str) -> None:
    assert rules(school, text) == []


# -- Lower-case word-names beside a surname --------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Lovely views on our sunny hill walk",  # Sunny Hill, lower case, a word surname
        "Baker will lead the bake sale this year",  # surname then a lower-case "will"
        "Year 6 will bake bread with Mrs Baker",
        "Bows made from hazel wood in forest school",
        "We will mark Carter's homework over half term",  # "mark Carter": verb then a name
        "Children will Baker-style ice the buns",
    ],
)
def test_lower_case_word_names_with_surnames_are_words(school: Checker, text: str) -> None:
    assert FULL not in rules(school, text)


@pytest.mark.parametrize(
    "text",
    [
        "Sunny Hill won the egg and spoon race",
        "well done sunny hill in year 2 for a brilliant race",
        "Hazel Wood read to the whole school",
        "huge thanks to hazel wood for the flowers",
        "Will Baker and Mark Carter ran the stall",
    ],
)
def test_word_names_with_surnames_written_as_names_are_names(school: Checker, text: str) -> None:
    assert FULL in rules(school, text)


# -- Staff: a title before a surname is never a pupil ----------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Mr Okonjo ran the cake stall",
        "Mrs Desai, Priyanka and Leon ran the tuck shop",
        "Thank you Mr. Okonjo for the science show",
        "MRS DESAI WILL BE AT THE GATE",
        "Sensei Carmody led the karate club",  # a title the school added
        "Thanks to Gemma Ashdown for running the choir",  # staff the policy names
        "Dr Vasquez from the hospital visited Year 6",
    ],
)
def test_staff_are_not_pupils(school: Checker, text: str) -> None:
    assert rules(school, text) == []


def test_a_staff_name_does_not_hide_a_pupil(school: Checker) -> None:
    assert "names.no-consent" in rules(school, "Thanks Gemma for the card")
    assert FULL in rules(school, "Rohan Okonjo and Mr Okonjo")


# -- Someone famous who shares a first name --------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Year 2 learnt how Isaac Newton worked out gravity",
        "Our nurses' day display about Florence Nightingale",
        "A project on Isaac Asimov's robots in computing club",
    ],
)
def test_someone_famous_is_not_the_pupil(school: Checker, text: str) -> None:
    assert rules(school, text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Isaac built an amazing catapult",
        "Well Done Isaac On Your Reading Award",  # Title Case: every word is capitalised
        "Isaac Newbold won the Year 2 science prize",
    ],
)
def test_the_pupil_is_still_caught_beside_capitals(school: Checker, text: str) -> None:
    assert verdict(school, text) == "block"


def test_a_full_name_that_is_also_a_street(school: Checker) -> None:
    assert rules(school, "A new zebra crossing on Hazel Wood Road from Monday") == []
    assert FULL in rules(school, "Hazel Wood Road ran the stall")  # not after "on"


# -- Second round: classes found on a blind held-out corpus ---------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Leon ‘Lee’ Vasquez has been picked for the county squad",  # a nickname between
        "Brook holding her swimming certificate",  # a caption's verb
        "huge thanks to kit and brook for tidying the library",  # lower case, but cued
        "Thank you to Mrs Desai and Brook for the display",  # listed with staff after a cue
        "Kit and Brook were our brilliant presenters today",  # a list doing what people do
        "Brook (Otters) won the hurdles",  # a class in brackets
        "Lovely singing from Brook in assembly",  # praise "from" a child
        "Henry is our new school council rep",
        "Marley sang the solo at the carol concert",
        "At Sports Day Marley won the sprint",  # a capital before, but an event's
        "Well done Halvard Bronsted for the chess win",  # a surname typed wrong
        "In the School Hall Elspeth read her poem",
    ],
)
def test_more_ways_a_child_is_named(school: Checker, text: str) -> None:
    assert verdict(school, text, photo=text.startswith("Brook holding")) == "block"


@pytest.mark.parametrize(
    "text",
    [
        "Year 4 are learning about Henry VIII and his six wives",  # a monarch
        "Henry I, Henry II and the Norman kings: our history timeline",
        "We listened to Bob Marley's songs in music today",  # a first name as a surname
        "Kit washing: please take PE kits home on Friday",  # -ing, but no object
        "Thanks to sunny weather, sports day went ahead",  # cued, but a thing follows
        "We loved ‘Brook and the Dragon’ by Ana Bell at story time",  # a book title
        "Faith, Hope and Love are our school values",
    ],
)
def test_and_more_ways_it_is_not(school: Checker, text: str) -> None:
    assert verdict(school, text) == "allow"


# -- Third round: uniform case, praise, appositions, places ----------------------------


@pytest.mark.parametrize(
    "text",
    [
        "kit and brook were brilliant in the quiz",  # all lower case, praise after
        "Sunny Was Amazing On Sports Day And Brook Too",  # Title Case, praise after
        "Thinking of Brook and her family this week",  # her/his close after
        "#BrookOfTheWeek for kindness",
        "Brook in 5T has been picked for the choir",  # a form group after "in"
        "Star Of The Week: Kit In 4F For Brilliant Effort",
    ],
)
def test_word_names_in_any_case_with_person_evidence(school: Checker, text: str) -> None:
    assert "names.no-consent" in rules(school, text)


@pytest.mark.parametrize(
    "text",
    [
        "Our Hazel Tree Is Covered In Catkins",  # Title Case, a thing
        "the brook was brilliant for pond dipping",  # praise, but not about a person
        "Year 5 Walked Ten Miles For Charity",
        "Summer was amazing this year",  # praise, but a time of year
        "Elspeth the tortoise has woken up from hibernation",  # an animal by that name
        "In RE we met Isaac, the Old Testament patriarch, and Florence, our class teddy",
        "Year 6 are learning Italian before a virtual tour of Florence",
    ],
)
def test_the_same_shapes_without_a_child(school: Checker, text: str) -> None:
    assert verdict(school, text) == "allow"


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("Well done Priyanka Dessai for the chess win", "Priyanka Dessai"),
        ("Elspeth Carmady read beautifully", "Elspeth Carmady"),
        ("Ffion Prichard scored the winner", "Ffion Prichard"),
    ],
)
def test_a_surname_typed_a_letter_wrong_is_still_a_full_name(
    school: Checker, text: str, span: str
) -> None:
    assert spans(school, text, FULL) == [span]


@pytest.mark.parametrize(
    "text",
    [
        "Priyanka Patel from the library visited us",  # a different surname altogether
        "Ffion Davies, the Welsh poet, inspired Year 3",
    ],
)
def test_a_different_surname_is_not_a_typo(school: Checker, text: str) -> None:
    assert FULL not in rules(school, text)


# -- Fourth round: awards, rhymes, nativity, storms, past verbs ------------------------


@pytest.mark.parametrize(
    "text",
    [
        "hazel and brook painted the fence today",  # lower case, a verb in the past
        "#Brook kept the whole class laughing",  # a whole tag, then what she did
        "Brook, you have been a superstar this week!",  # said to the child
        "The shepherd was played by Brook, who never missed a line",
        "Elspeth in Otters class has been brilliant",  # a class named after animals
    ],
)
def test_fourth_round_names(school: Checker, text: str) -> None:
    assert "names.no-consent" in rules(school, text)


@pytest.mark.parametrize(
    "text",
    [
        "Star of the Week certificates went home today",  # an award, in a phrase of its own
        "Storm Hazel brought down two trees on the field",  # a storm's name
        "A little brook babbled past the pond dipping spot",  # an article and an adjective
        "Mary had a little lamb: Reception's rhyme of the week",
        "Mary and Joseph rode the donkey across the hall in our nativity",
        "Hazel coloured paint for our autumn leaves",  # an adjective in -ed, not a deed
        "Please use the Orchard Lane gate for drop-off from Monday",
    ],
)
def test_fourth_round_words(school: Checker, text: str) -> None:
    assert verdict(school, text) == "allow"
