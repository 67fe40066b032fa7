"""Holes found by reviewing the change, each closed, each with its trap.

Our own register and sentences; every case goes through the real Checker, the
real importer or the real CLI.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.registers import csv_text, xlsx
from tweetguard.checks.engine import Checker
from tweetguard.checks.name_index import NameIndex
from tweetguard.stores.consent import ConsentRegister
from tweetguard.stores.register_import import ImportRefused, read_register

REGISTER = [
    ["Elspeth", "Carmody", "Year 4", "no"],
    ["Tobias", "Reid-Mallory", "Year 5", "no"],
    ["Priyanka", "Desai", "Year 2", "yes"],
    ["Kit", "Fletcher", "Year 4", "no"],
    ["Brook", "Dawson", "Year 4", "no"],
]
HEADER = ["Forename", "Surname", "Class", "Social Media Consent"]


@pytest.fixture
def school(tmp_path: Path) -> Iterator[Checker]:
    home = tmp_path / "home"
    path = tmp_path / "r.csv"
    path.write_text(csv_text(HEADER, REGISTER))
    assert run_cli(home, "consent", "import", str(path)).returncode == 0
    checker = Checker(home)
    yield checker
    checker.close()


def verdict(checker: Checker, text: str) -> str:
    return checker.check(text, today=date(2026, 11, 28)).verdict


# -- Titles that are ordinary words count only with a capital --------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Our netball captain Kit Fletcher scored twice",
        "Priyanka and her sister Brook won the three-legged race",
        "Well done to our captain Elspeth",
        "In our nativity, angel Elspeth sang beautifully",
        "Well done Master Tobias for the chess prize",
    ],
)
def test_lower_case_role_words_do_not_hide_a_pupil(school: Checker, text: str) -> None:
    assert verdict(school, text) == "block"


@pytest.mark.parametrize(
    "text",
    ["King Charles opened the new library", "Storm Elspeth closed the field", "Mrs Carmody ran"],
)
def test_capitalised_titles_still_mean_someone_else(school: Checker, text: str) -> None:
    assert verdict(school, text) == "allow"


# -- A capital before a name makes it a surname only with a possessive ------------------


def test_a_missing_comma_does_not_hide_a_pupil(school: Checker) -> None:
    assert verdict(school, "Thanks to Priyanka Elspeth and Kit for tidying up") == "block"
    assert verdict(school, "We read from Anne Elspeth's diary of the war") == "allow"


# -- Any width of space, hidden marks and look-alike letters ---------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Well done Priyanka\u2009Desai",  # thin space
        "Well done Priyanka\u3000Desai",  # ideographic space
        "Priyanka\r\nDesai won the quiz",  # a Windows line break
        "Well done P\u0336r\u0336i\u0336y\u0336a\u0336n\u0336k\u0336a\u0336 Desai",
        "Well done Pri\u034fyanka Desai",  # combining grapheme joiner
        "Well done Priy\u0430nka Desai",  # a Cyrillic а
    ],
)
def test_a_name_disguised_by_spacing_or_marks(school: Checker, text: str) -> None:
    assert "names.full-name" in [f.rule.id for f in school.check(text).findings]


def test_real_cyrillic_words_are_not_read_as_latin(school: Checker) -> None:
    assert verdict(school, "Year 6 learnt to write Привет in Russian club") == "allow"


def test_a_run_together_tag_points_at_the_name_as_typed(school: Checker) -> None:
    text = "#well_done_priyankadesai_2024"
    (finding,) = [f for f in school.check(text).findings if f.rule.id == "names.full-name"]
    assert text[finding.start : finding.end] == "priyankadesai"
    assert finding.fix == "priyanka (Year 2)"


# -- The importer: negated headers, sheets, shared ids, expiry dates -------------------


@pytest.mark.parametrize(
    "header",
    [
        "No social media",
        "Exclude from social media",
        "Do not use on social media",
        "Social Media Not Consented",
        "Social media restrictions",
    ],
)
def test_a_header_that_says_no_is_read_the_other_way_round(header: str) -> None:
    data = csv_text(["Forename", "Surname", header], [["Kit", "Fletcher", "yes"]]).encode()
    assert read_register(data).pupils[0].social_media is False


def test_every_sheet_of_a_workbook_is_read() -> None:
    import io

    import openpyxl

    book = openpyxl.load_workbook(
        io.BytesIO(xlsx(["First Name", "Last Name", "Social Media"], [["Kit", "Fletcher", "yes"]]))
    )
    second = book.create_sheet("Year 5")
    second.append(["UPN", "First Name", "Last Name", "Social Media"])
    second.append(["A1", "Tobias", "Reid-Mallory", "no"])
    notes = book.create_sheet("Notes")
    notes.append(["Exported by the office on Monday"])
    out = io.BytesIO()
    book.save(out)
    result = read_register(out.getvalue())
    assert [p.first_name for p in result.pupils] == ["Kit", "Tobias"]
    assert result.ignored_sheets == ["Notes"]


def test_a_sheet_with_names_but_no_consent_column_refuses_the_file() -> None:
    import io

    import openpyxl

    book = openpyxl.load_workbook(
        io.BytesIO(xlsx(["First Name", "Last Name", "Social Media"], [["Kit", "Fletcher", "yes"]]))
    )
    sheet = book.create_sheet("Year 6")
    sheet.append(["First Name", "Last Name", "House"])
    sheet.append(["Elspeth", "Carmody", "Red"])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ImportRefused, match="Year 6"):
        read_register(out.getvalue())


def test_two_pupils_sharing_an_id_are_both_kept() -> None:
    data = csv_text(
        ["UPN", "Forename", "Surname", "Social Media"],
        [["0", "Kit", "Fletcher", "yes"], ["0", "Brook", "Dawson", "no"]],
    ).encode()
    result = read_register(data)
    assert [(p.first_name, p.social_media) for p in result.pupils] == [
        ("Kit", True),
        ("Brook", False),
    ]
    assert [p.reason for p in result.problems] == ["shared id"]


def test_the_website_expiry_is_not_the_social_media_one() -> None:
    data = csv_text(
        [
            "Forename",
            "Surname",
            "Social Media",
            "Website consent expires",
            "Social media consent expires",
        ],
        [["Kit", "Fletcher", "yes", "2030-07-31", "2020-07-31"]],
    ).encode()
    (kit,) = read_register(data).pupils
    assert kit.consent_expires == date(2020, 7, 31)
    assert not kit.social_media_consent_on(date(2026, 11, 28))


def test_two_digit_years_from_last_century_have_expired() -> None:
    data = csv_text(
        ["Forename", "Surname", "Social Media", "Expiry"], [["Kit", "Fletcher", "yes", "31/07/99"]]
    ).encode()
    assert read_register(data).pupils[0].consent_expires == date(1999, 7, 31)


def test_a_quoted_address_over_two_lines_imports() -> None:
    data = (
        b"Forename,Surname,Social Media,Address,House\r\n"
        b'Kit,Fletcher,yes,"12 High Street,\r\nOakfield, OX1 2AB",Red\r\n'
        b"Brook,Dawson,no,,Blue\r\n"
    )
    assert [p.first_name for p in read_register(data).pupils] == ["Kit", "Brook"]


def test_a_quote_left_open_on_the_last_line_is_refused() -> None:
    data = b'Forename,Surname,Social Media\r\nKit,Fletcher,yes\r\nBrook,Dawson,"yes\r\n'
    with pytest.raises(ImportRefused, match="line 3"):
        read_register(data)


# -- The register file: unfinished, replaced, from another version ----------------------


def test_a_register_file_without_its_table_can_be_imported_over(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "register.sqlite3").write_bytes(b"")  # an import that never finished
    (home / "policy.toml").write_text('[school]\nname = "Larkfield"\n')
    held = run_cli(home, "check", "--text", "A lovely day", "--json")
    assert json.loads(held.stdout)["error"]["code"] == "register_unavailable"
    path = tmp_path / "r.csv"
    path.write_text(csv_text(HEADER, REGISTER))
    assert run_cli(home, "consent", "import", str(path)).returncode == 0
    assert run_cli(home, "check", "--text", "A lovely day").returncode == 0


def test_a_running_helper_reads_a_register_that_replaced_a_damaged_one(
    school: Checker, tmp_path: Path
) -> None:
    assert verdict(school, "Well done Elspeth") == "block"
    school.register.path.write_bytes(b"damaged" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        school.check("Well done Elspeth")
    path = tmp_path / "new.csv"
    path.write_text(csv_text(HEADER, [["Marek", "Nowak", "Year 1", "no"]]))
    assert run_cli(school.home, "consent", "import", str(path)).returncode == 0
    assert verdict(school, "Well done Marek") == "block"
    assert verdict(school, "Well done Elspeth") == "allow"


def test_an_index_stored_for_other_pupils_of_the_same_number_is_rebuilt(tmp_path: Path) -> None:
    register = ConsentRegister(tmp_path / "register.sqlite3")
    ours = read_register(csv_text(HEADER, [["Zara", "Khan", "Year 3", "no"]]).encode()).pupils
    theirs = read_register(csv_text(HEADER, [["Amy", "Smith", "Year 3", "no"]]).encode()).pupils
    register.replace(ours, source="test", derived={NameIndex.STORED_AS: NameIndex(theirs).dump()})
    register.close()
    checker = Checker(tmp_path)
    try:
        assert checker.check("Well done Zara Khan").verdict == "block"
        assert checker.check("Well done Amy Smith").verdict == "allow"
    finally:
        checker.close()


# -- The policy and the exit codes -----------------------------------------------------


def test_a_mapping_with_a_list_is_a_broken_policy(home: Path) -> None:
    (home / "policy.toml").write_text('[register]\ncolumns = { "Kid" = ["first_name"] }\n')
    result = run_cli(home, "policy", "check")
    assert result.returncode == 78 and b"Traceback" not in result.stderr
    assert run_cli(home, "check", "--text", "hello").returncode == 78


def test_a_batch_with_a_broken_policy_exits_as_a_check_does(home: Path, tmp_path: Path) -> None:
    (home / "policy.toml").write_text("[school\n")
    batch = tmp_path / "b.jsonl"
    batch.write_text('{"text": "hello"}\n')
    assert run_cli(home, "check", "--json", "--batch", str(batch)).returncode == 78


def test_swearing_after_an_article_is_not_a_name(school: Checker) -> None:
    assert verdict(school, "The referee was a total Dick about it") == "warn"
    assert verdict(school, "Year 4 loved The Hodgeheg by Dick King-Smith") == "allow"
