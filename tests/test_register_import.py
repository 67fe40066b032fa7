"""Reading a school's register export: real MIS shapes, and files that must be refused.

The files are made here (tests/registers.py); names are our own.
"""

from __future__ import annotations

import codecs
from datetime import date

import pytest

from tests.registers import EXPIRY, canonical, csv_text, xlsx
from tweetguard.stores.register_import import ImportRefused, parse_mapping, read_register


def names(data: bytes, **kwargs: object) -> list[str]:
    return [f"{p.first_name} {p.last_name}" for p in read_register(data, **kwargs).pupils]  # type: ignore[arg-type]


# -- A broken file is refused whole, naming the line ------------------------------------


def big_register(rows: int) -> list[list[str]]:
    return [[f"Pupil{n}", f"Surname{n}", "Yes" if n % 3 else "No"] for n in range(rows)]


def test_an_unmatched_quote_in_a_long_file_is_refused_with_its_line() -> None:
    rows = big_register(3000)
    text = csv_text(["Forename", "Surname", "Social Media Consent"], rows)
    lines = text.split("\r\n")
    lines[57] = lines[57].replace("Surname56", '"Surname56')  # opens, never closes nearby
    lines[2400] = lines[2400].replace("Surname2399", 'Surname2399"')  # a stray one closes it
    with pytest.raises(ImportRefused) as refused:
        read_register("\r\n".join(lines).encode())
    message = str(refused.value)
    assert refused.value.line == 58
    assert "line 58" in message and "runs on to line 2,401" in message
    assert "double quote" in message


def test_a_quote_that_never_closes_is_refused() -> None:
    data = b'first_name,last_name,social_media_consent\nNoor,"Baig,yes\nTobias,Reid,no\n'
    with pytest.raises(ImportRefused, match=r"line 2.*never closed"):
        read_register(data)


def test_a_cell_far_longer_than_any_name_is_refused() -> None:
    data = canonical([("Ffion", "Pritchard" * 40, "yes"), ("Marek", "Nowak", "no")])
    with pytest.raises(ImportRefused, match=r"line 2.*characters long"):
        read_register(data)


def test_quoted_commas_and_a_note_over_two_lines_still_load() -> None:
    # False-alarm trap: quoting used properly is not a broken file.
    data = (
        b"first_name,last_name,social_media_consent,notes\r\n"
        b'"Anne-Marie","O\'Dowd, Jr",yes,"collected by\r\ngran on Fridays"\r\n'
        b'Priyanka,Desai,no,""\r\n'
    )
    result = read_register(data)
    assert [p.last_name for p in result.pupils] == ["O'Dowd, Jr", "Desai"]
    assert result.pupils[1].line == 4  # the line numbers stay the file's own


# -- MIS exports as they come ------------------------------------------------------------


def test_a_sims_style_report_with_a_title_row() -> None:
    text = "Student Consent List,,,,,,\r\n" + csv_text(
        [
            "Adno",
            "Legal Surname",
            "Legal Forename",
            "Preferred Forename",
            "Reg",
            "Year",
            "Photograph Student - Social Media",
        ],
        [
            ["001204", "Carmody", "Elspeth", "", "4RB", "Year 4", "Yes"],
            ["001377", "Okonjo", "Rohan", "Ro", "6KL", "6", "No"],
        ],
    )
    result = read_register(text.encode())
    elspeth, rohan = result.pupils
    assert (elspeth.first_name, elspeth.last_name, elspeth.social_media) == (
        "Elspeth",
        "Carmody",
        True,
    )
    assert (rohan.preferred_name, rohan.class_name, rohan.group, rohan.pupil_id) == (
        "Ro",
        "6KL",
        "Year 6",
        "001377",
    )
    assert "header on line 2" in result.description


def test_an_arbor_style_export_with_iso_dates_and_preferred_surnames() -> None:
    data = csv_text(
        [
            "Legal First Name",
            "Legal Last Name",
            "Preferred First Name",
            "Preferred Last Name",
            "Registration Form",
            "Year Group",
            "Consent: Social media",
            "Consent: Website",
            "Consent expiry date",
        ],
        [
            [
                "Marek",
                "Żukowski",
                "",
                "Zukowski-Hale",
                "3M",
                "Year 3",
                "Granted",
                "Not granted",
                "2031-07-31",
            ]
        ],
    ).encode("utf-8-sig")
    (marek,) = read_register(data).pupils
    assert marek.preferred_last_name == "Zukowski-Hale"
    assert (marek.social_media, marek.website, marek.consent_expires) == (True, False, EXPIRY)


def test_a_bromcom_style_workbook_with_real_date_cells() -> None:
    data = xlsx(
        [
            "Admission Number",
            "First Name",
            "Last Name",
            "Tutor Group",
            "Year Group",
            "Social Media Permission",
            "Permission Ends",
        ],
        [
            [2201, "Ffion", "Pritchard", "5T", "5", "Yes", date(2031, 7, 31)],
            [2202, "Halvard", "Brønstad", "5T", "5", "No", None],
        ],
        title_rows=2,
    )
    result = read_register(data)
    assert names(data) == ["Ffion Pritchard", "Halvard Brønstad"]
    assert result.pupils[0].consent_expires == EXPIRY
    assert result.description.startswith("Excel workbook")


def test_scholarpack_and_integris_style_known_names() -> None:
    scholarpack = csv_text(
        ["Forename", "Surname", "Known As", "Class", "Photo Permission (social media)"],
        [["Oluwadamilare", "Adebayo", "Dami", "Kestrels", "Y"]],
    ).encode()
    (pupil,) = read_register(scholarpack).pupils
    assert (pupil.preferred_name, pupil.class_name, pupil.social_media) == (
        "Dami",
        "Kestrels",
        True,
    )
    integris = csv_text(
        ["KnownName", "LegalSurname", "Current Class", "NC Year", "SocialMediaConsent"],
        [["Gretchen", "Weiß", "Owls", "R", "Opted In"]],
    ).encode()
    (pupil,) = read_register(integris).pupils
    assert (pupil.first_name, pupil.group, pupil.social_media) == ("Gretchen", "Reception", True)


def test_a_single_name_column_in_surname_comma_forename_form() -> None:
    data = csv_text(
        ["Pupil Name", "Social Media"],
        [["Desai, Priyanka", "yes"], ["REID-MALLORY Tobias", "no"], ["Cher", "yes"]],
    ).encode()
    result = read_register(data)
    assert [(p.first_name, p.last_name) for p in result.pupils] == [
        ("Priyanka", "Desai"),
        ("Tobias", "Reid-Mallory"),
    ]
    (problem,) = result.problems
    assert problem.skipped and problem.line == 4 and "Cher" in problem.message


def test_a_consent_denied_column_is_read_the_other_way_round() -> None:
    data = csv_text(
        ["Forename", "Surname", "Social Media Consent Denied"],
        [["Isaac", "Newbold", "Yes"], ["Florence", "Adair", "No"], ["Neil", "Ashworth", ""]],
    ).encode()
    consent = {p.first_name: p.social_media for p in read_register(data).pupils}
    assert consent == {"Isaac": False, "Florence": True, "Neil": False}


def test_a_generic_photo_column_is_not_taken_as_social_media_consent() -> None:
    data = csv_text(["Forename", "Surname", "Photo Consent"], [["Kit", "Fletcher", "Yes"]]).encode()
    with pytest.raises(ImportRefused, match=r"no column for social_media_consent.*“Photo Consent”"):
        read_register(data)
    mapped = read_register(data, mapping=parse_mapping("Photo Consent=social_media_consent"))
    assert mapped.pupils[0].social_media is True


# -- Encodings and separators ------------------------------------------------------------


POLISH = [["Łucja", "Wiśniewska", "tak"], ["Michał", "Żółtowski", "nie"]]


def test_excel_unicode_text_utf16_with_tabs() -> None:
    text = csv_text(
        ["First Name", "Last Name", "Social Media"], [["Dagný", "Þorsteinsdóttir", "yes"]], "\t"
    )
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    result = read_register(data)
    assert names(data) == ["Dagný Þorsteinsdóttir"]
    assert "UTF-16" in result.description and "tab" in result.description


def test_semicolons_from_european_excel() -> None:
    data = csv_text(
        ["Voornaam", "Forename", "Surname", "Social Media Consent"],
        [["-", "Anouk", "van der Berg", "ja"], ["-", "Sem", "de Vries", "yes"]],
        ";",
    ).encode()
    result = read_register(data)
    assert [p.last_name for p in result.pupils] == ["van der Berg", "de Vries"]
    assert "semicolon" in result.description
    # "ja" is not an answer we know: loaded, as no consent, and said.
    assert result.pupils[0].social_media is False
    assert any("'ja'" in p.message for p in result.problems)


@pytest.mark.parametrize("codec", ["cp1250", "cp1252", "utf-8", "utf-8-sig"])
def test_code_pages_are_told_apart_by_the_names(codec: str) -> None:
    rows = POLISH if codec != "cp1252" else [["Søren", "Kjærgaard", "yes"], ["Iñés", "Muñoz", "no"]]
    text = csv_text(["Forename", "Surname", "Social Media"], rows)
    result = read_register(text.encode(codec))
    assert [p.first_name + " " + p.last_name for p in result.pupils] == [
        f"{a} {b}" for a, b, _ in rows
    ]


def test_a_single_central_european_name_is_not_mojibake() -> None:
    data = "first_name,last_name,social_media_consent\nPaweł,Kowalczyk,no\n".encode("cp1250")
    result = read_register(data)
    assert result.pupils[0].first_name == "Paweł"
    assert "1250" in result.description


def test_the_encoding_can_be_named() -> None:
    data = "first_name,last_name,social_media_consent\nRenée,Dupré,yes\n".encode("mac_roman")
    assert names(data, encoding="mac_roman") == ["Renée Dupré"]


# -- Dates and answers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "31/07/2031",
        "31/7/31",
        "31-Jul-2031",
        "31 July 2031",
        "2031-07-31",
        "31.07.2031",
        "2031-07-31T00:00:00",
    ],
)
def test_uk_and_iso_dates(written: str) -> None:
    data = csv_text(
        ["Forename", "Surname", "Social Media", "Consent Expires"],
        [["Kit", "Fletcher", "yes", written]],
    ).encode()
    (pupil,) = read_register(data).pupils
    assert pupil.consent_expires == EXPIRY and pupil.social_media


def test_a_month_first_date_is_refused_not_guessed() -> None:
    data = csv_text(
        ["Forename", "Surname", "Social Media", "Consent Expires"],
        [
            ["Kit", "Fletcher", "yes", "07/31/2031"],
            ["Brook", "Dawson", "yes", "04/05/2031"],
            ["Sunny", "Hill", "yes", "2031-09-01"],
        ],
    ).encode()
    result = read_register(data)
    kit, brook, sunny = result.pupils
    # Month first on one row makes 04/05 ambiguous on the next: both count as expired.
    assert not kit.social_media and not brook.social_media and sunny.social_media
    messages = " ".join(p.message for p in result.problems)
    assert "month first" in messages and "could be 4 May or 5 April" in messages


def test_day_first_dates_are_not_ambiguous_without_month_first_ones() -> None:
    # Trap: 04/05/2031 alone is 4 May, as UK exports write it.
    data = csv_text(
        ["Forename", "Surname", "Social Media", "Expiry"],
        [["Brook", "Dawson", "yes", "04/05/2031"]],
    ).encode()
    assert read_register(data).pupils[0].consent_expires == date(2031, 5, 4)


@pytest.mark.parametrize(
    ("answer", "consent"),
    [
        ("Given", True),
        ("Opted In", True),
        ("✓", True),
        ("Allow", True),
        ("Not Granted", False),
        ("Refused", False),
        ("Pending", False),
        ("", False),
        ("Withdrawn", False),
    ],
)
def test_consent_answers_from_different_systems(answer: str, consent: bool) -> None:
    data = csv_text(["Forename", "Surname", "Social Media"], [["Will", "Baker", answer]]).encode()
    result = read_register(data)
    assert result.pupils[0].social_media is consent
    assert result.problems == []  # each is a known answer


def test_a_pupil_listed_twice_loads_once_with_the_stricter_consent() -> None:
    data = csv_text(
        ["UPN", "Forename", "Surname", "Social Media"],
        [
            ["A123", "Hazel", "Wood", "yes"],
            ["B456", "Mark", "Carter", "yes"],
            ["A123", "Hazel", "Wood", "no"],
        ],
    ).encode()
    result = read_register(data)
    assert [(p.first_name, p.social_media) for p in result.pupils] == [
        ("Hazel", False),
        ("Mark", True),
    ]
    (problem,) = result.problems
    assert problem.reason == "duplicate" and problem.line == 4


def test_two_pupils_with_one_name_in_different_classes_are_both_kept() -> None:
    # Trap: a shared name is not a duplicate.
    data = csv_text(
        ["Forename", "Surname", "Class", "Social Media"],
        [["Leon", "Vasquez", "2B", "yes"], ["Leon", "Vasquez", "5R", "no"]],
    ).encode()
    assert len(read_register(data).pupils) == 2


# -- Mapping -----------------------------------------------------------------------------


def test_a_school_maps_its_own_headers() -> None:
    data = csv_text(
        ["Kid", "Family", "OK for Twitter?"], [["Tobias", "Reid-Mallory", "Y"]]
    ).encode()
    with pytest.raises(ImportRefused, match="no column for first_name, last_name"):
        read_register(data)
    mapping = parse_mapping("Kid=first_name, Family=last_name")
    (pupil,) = read_register(data, mapping=mapping).pupils
    assert (pupil.first_name, pupil.social_media) == ("Tobias", True)


def test_a_mapping_with_a_typo_is_refused() -> None:
    data = canonical([("Noor", "Baig-Hussain", "yes")])
    with pytest.raises(ImportRefused, match="not a register column"):
        parse_mapping("Surname=surname")
    with pytest.raises(ImportRefused, match="'Legal Surnme', not a column"):
        read_register(
            data, mapping={"Legal Surnme": "last_name"}, required_headers=["Legal Surnme"]
        )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"name,consent\nAnna,yes\n", "no column for"),
        (b"first_name,last_name,social_media_consent\n", "no row named a pupil"),
        (b"first_name,last_name,social_media_consent\n,,yes\n", "no row named a pupil"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, "old Excel .xls"),
        (b"PK\x03\x04garbage", "zip"),
        (b"\x00\x01\x02\x03binary\x00\x00", "not text"),
    ],
)
def test_files_that_cannot_be_a_register_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(ImportRefused, match=reason):
        read_register(data)


def test_hidden_characters_in_register_names_are_removed() -> None:
    data = "first_name,last_name,social_media_consent\nAme\x00lia,Thorn\u200bbury\u00ad,no\n"
    (pupil,) = read_register(data.encode()).pupils
    assert (pupil.first_name, pupil.last_name) == ("Amelia", "Thornbury")
