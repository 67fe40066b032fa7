"""Importing the consent register: good files, bad rows, and files refused whole."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.conftest import REGISTER_CSV, run_cli
from tweetguard.stores.consent import ConsentRegister, RegisterRefused, parse_csv


def test_canonical_file_loads_every_value() -> None:
    parsed = parse_csv(REGISTER_CSV.read_bytes())
    assert parsed.problems == []
    by_name = {p.first_name: p for p in parsed.pupils}
    assert len(by_name) == 14
    seun = by_name["Oluwaseun"]
    assert (seun.preferred_name, seun.class_name, seun.social_media, seun.press) == (
        "Seun",
        "Year 6",
        True,
        False,
    )
    assert by_name["Zoë"].consent_expires == date(2030, 8, 31)
    assert by_name["Mary Jane"].social_media is True and by_name["Mary Jane"].website is False
    assert by_name["Hope"].social_media is False


def test_header_case_spaces_and_bom_are_accepted() -> None:
    data = "\ufeffFIRST NAME,Last-Name,SOCIAL_MEDIA_CONSENT\nAnna,Berg,Yes\n".encode()
    (pupil,) = parse_csv(data).pupils
    assert (pupil.first_name, pupil.last_name, pupil.social_media) == ("Anna", "Berg", True)


def test_windows_1252_export_is_read() -> None:
    data = "first_name,last_name,social_media_consent\nZoë,Ng,no\n".encode("cp1252")
    assert parse_csv(data).pupils[0].first_name == "Zoë"


def test_bad_rows_are_reported_by_line_and_the_rest_loads() -> None:
    data = (
        b"first_name,last_name,social_media_consent,consent_expires,house\n"
        b"Anna,Berg,yes,,Red\n"
        b",Nameless,yes,,Blue\n"
        b"Ben,Cole,perhaps,,Red\n"
        b"Cara,Dunn,yes,31/08/2027,Red\n"
        b"Dev,Egan,yes\n"
        b"\n"
        b"Eve,Fox,no,2027-08-31,Red,extra\n"
    )
    parsed = parse_csv(data)
    assert [p.first_name for p in parsed.pupils] == ["Anna", "Ben", "Cara", "Dev", "Eve"]
    problems = {(p.line, p.skipped): p.message for p in parsed.problems}
    assert "house" in problems[(1, False)]
    assert "first_name is empty" in problems[(3, True)]
    assert "'perhaps'" in problems[(4, False)]
    assert "31/08/2027" in problems[(5, False)]
    assert "cells" in problems[(6, False)]
    assert "cells" in problems[(8, False)]
    ben = parsed.pupils[1]
    cara = parsed.pupils[2]
    # Unreadable consent is no consent; the pupil's name is still protected.
    assert ben.social_media is False
    assert cara.social_media is False


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"name,consent\nAnna,yes\n", "missing column"),
        (b"first_name,last_name,social_media_consent\n", "no row"),
        (b"first_name,last_name,social_media_consent\n,,yes\n", "no row"),
        (b"\x81\x8d\x8f\x90\x9d", "neither UTF-8"),
    ],
)
def test_files_that_cannot_be_a_register_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(RegisterRefused, match=reason):
        parse_csv(data)


def test_cli_import_replaces_the_register_and_reports_problems(home: Path, tmp_path: Path) -> None:
    result = run_cli(home, "consent", "import", str(REGISTER_CSV))
    assert result.returncode == 0, result.stderr
    assert b"Imported 14 pupil(s)" in result.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("first_name,last_name,social_media_consent\nAnna,Berg,yes\n,Nameless,yes\n")
    result = run_cli(home, "consent", "import", str(bad))
    assert result.returncode == 1
    assert f"{bad}:3: first_name is empty; row skipped".encode() in result.stderr
    register = ConsentRegister(home / "register.sqlite3")
    assert [p.first_name for p in register.pupils()] == ["Anna"]
    assert register.summary().revision == 2


def test_cli_refusal_leaves_the_register_unchanged(home: Path, tmp_path: Path) -> None:
    assert run_cli(home, "consent", "import", str(REGISTER_CSV)).returncode == 0
    broken = tmp_path / "broken.csv"
    broken.write_text("name,consent\nAnna,yes\n")
    result = run_cli(home, "consent", "import", str(broken))
    assert result.returncode == 65
    assert b"import refused, the register is unchanged" in result.stderr
    strict = tmp_path / "strict.csv"
    strict.write_text("first_name,last_name,social_media_consent\nAnna,Berg,maybe\n")
    result = run_cli(home, "consent", "import", "--strict", str(strict))
    assert result.returncode == 65
    assert len(list(ConsentRegister(home / "register.sqlite3").pupils())) == 14
    assert run_cli(home, "consent", "import", str(tmp_path / "missing.csv")).returncode == 66


def test_consent_list_shows_the_register(registered_home: Path) -> None:
    result = run_cli(registered_home, "consent", "list")
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "Oluwaseun Adeyemi (Seun)\tYear 6\tsocial media: yes" in out
    assert "14 pupil(s)" in result.stderr.decode()
