"""The console's consent register page: an import previewed (with its problem
rows and line numbers) and applied only when confirmed, one person's consent
edited, and the consent that runs out soon."""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.registers import csv_text
from tests.test_console_support import no_keyring, post, signed_in, token
from tweetguard.stores.audit import AuditQuery, merged_rows
from tweetguard.stores.consent import ConsentRegister, PersonNotFound, Pupil, person_ref

__all__ = ["no_keyring"]

HEADER = ["Forename", "Surname", "Reg Group", "Social Media Consent", "Consent Expires"]
SOON = (date.today() + timedelta(days=12)).isoformat()
LATER = (date.today() + timedelta(days=400)).isoformat()


def _start(home: Path) -> ConsentRegister:
    register = ConsentRegister(home / "register.sqlite3")
    register.replace(
        [
            Pupil("Ingrid", "Vasquez-Holt", class_name="5W", social_media=True),
            Pupil("Kwabena", "Ashworth", class_name="3P", social_media=True),
            Pupil("Rosalind", "Pemberley", class_name="6A", social_media=False),
        ],
        source="test",
    )
    return register


def _export() -> bytes:
    rows = [
        ["Ingrid", "Vasquez-Holt", "5W", "no", LATER],  # consent withdrawn
        ["Kwabena", "Ashworth", "3P", "yes", SOON],
        ["Rosalind", "Pemberley", "6A", "yes", LATER],  # consent given
        ["Tobiah", "", "4K", "yes", LATER],  # line 5: no surname, skipped
        ["Marisol", "Quennell", "2B", "perhaps", LATER],  # line 6: unreadable consent
    ]
    return csv_text(HEADER, rows).encode("utf-8")


def _upload(client, data: bytes, name: str = "sims-export.csv"):  # type: ignore[no-untyped-def]
    return client.post(
        "/register/preview",
        data={"csrf_token": token(client, "/register/"), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_preview_shows_changes_and_problem_rows_and_changes_nothing(
    home: Path, no_keyring: None
) -> None:
    register = _start(home)
    revision = register.revision()
    _, client = signed_in(home)
    preview = _upload(client, _export())
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    problems = re.findall(r'<tr><td class="num">(\d+)</td><td>(.*?)</td>', text)
    lines = {int(line): message for line, message in problems}
    assert "surname is empty" in lines[5]
    assert "perhaps" in lines[6] and "not yes or no" in lines[6]
    withdrawn = re.search(r'<ul id="withdrawn">(.*?)</ul>', text, re.S)
    assert withdrawn and "Ingrid Vasquez-Holt" in withdrawn.group(1)
    given = re.search(r'<ul id="given">(.*?)</ul>', text, re.S)
    assert given and "Rosalind Pemberley" in given.group(1)
    added = re.search(r'<ul id="added">(.*?)</ul>', text, re.S)
    assert added and "Marisol Quennell" in added.group(1)
    # Nothing changed yet; the upload waits in the data folder, readable by its owner only.
    assert register.revision() == revision
    waiting = list((home / "console" / "uploads").iterdir())
    assert len(waiting) == 1 and waiting[0].stat().st_mode & 0o077 == 0
    cancel = post(client, "/register/cancel", {}, "/register/")
    assert cancel.status_code == 302
    assert list((home / "console" / "uploads").iterdir()) == []
    assert register.revision() == revision
    assert merged_rows(home, AuditQuery(kind="register")) == []


def test_apply_imports_what_was_previewed_and_records_it(home: Path, no_keyring: None) -> None:
    register = _start(home)
    _, client = signed_in(home)
    preview = _upload(client, _export())
    upload = re.search(r'name="token" value="([^"]+)"', preview.get_data(as_text=True))
    assert upload
    # A forged or stale token applies nothing.
    assert post(client, "/register/apply", {"token": "x" * 32}, "/register/").status_code == 302
    assert {p.first_name for p in register.pupils()} == {"Ingrid", "Kwabena", "Rosalind"}
    applied = post(client, "/register/apply", {"token": upload.group(1)}, "/register/")
    assert applied.status_code == 302
    pupils = {p.first_name: p for p in register.pupils()}
    assert set(pupils) == {"Ingrid", "Kwabena", "Rosalind", "Marisol"}
    assert not pupils["Ingrid"].social_media and pupils["Rosalind"].social_media
    assert list((home / "console" / "uploads").iterdir()) == []
    (row,) = merged_rows(home, AuditQuery(kind="register"))
    assert "sims-export.csv" in row.detail["what"] and "1 consent withdrawn" in row.detail["what"]
    assert (row.detail["added"], row.detail["withdrawn"], row.detail["people"]) == (1, 1, 4)
    assert "marisol" not in json.dumps(row.to_json()).casefold()  # counts, never names
    # Kwabena's consent runs out in 12 days: on the list; Rosalind's in 400: not.
    page = client.get("/register/").get_data(as_text=True)
    soon = re.search(r'<table id="expiring">(.*?)</table>', page, re.S)
    assert soon and "Kwabena Ashworth" in soon.group(1) and "Rosalind" not in soon.group(1)


def test_a_file_that_is_not_a_register_is_refused_whole(home: Path, no_keyring: None) -> None:
    register = _start(home)
    _, client = signed_in(home)
    refused = _upload(client, b"Colour,Shape\r\nteal,round\r\n")
    assert refused.status_code == 400
    assert "nothing was changed" in refused.get_data(as_text=True)
    assert not (home / "console" / "uploads").exists() or not any(
        (home / "console" / "uploads").iterdir()
    )
    assert len(list(register.pupils())) == 3


def test_editing_one_person_bumps_the_revision_and_is_audited(home: Path, no_keyring: None) -> None:
    register = _start(home)
    revision = register.revision()
    ref = person_ref(Pupil("Rosalind", "Pemberley", class_name="6A"))
    _, client = signed_in(home)
    found = client.get("/register/?q=pember").get_data(as_text=True)
    assert f"/register/person/{ref}" in found and "Kwabena" not in found
    saved = post(
        client,
        f"/register/person/{ref}",
        {"social_media": "yes", "press": "yes", "consent_expires": SOON},
    )
    assert saved.status_code == 302
    rosalind = next(p for p in register.pupils() if p.first_name == "Rosalind")
    assert (rosalind.social_media, rosalind.website, rosalind.press) == (True, False, True)
    assert rosalind.consent_expires == date.fromisoformat(SOON)
    assert register.revision() == revision + 1
    assert "Rosalind Pemberley" in client.get(saved.headers["Location"]).get_data(as_text=True)
    # The audit gets the person's ref and the consent flags, never the name.
    (row,) = merged_rows(home, AuditQuery(kind="register"))
    assert row.detail["person"] == ref and row.detail["role"] == "pupil"
    assert row.detail["consent"] == {"social_media": True, "website": False, "press": True}
    assert row.detail["consent_expires"] == SOON
    stored = json.dumps(row.to_json()).casefold()
    assert (
        "rosalind" not in stored and "pemberley" not in stored and "ros" not in row.detail["what"]
    )
    bad = post(client, f"/register/person/{ref}", {"consent_expires": "31/02/2027"})
    assert bad.status_code == 400


def test_update_person_finds_staff_and_refuses_a_stranger(home: Path) -> None:
    register = _start(home)
    register.replace_staff([Pupil("Fenella", "Okoro", social_media=False)], source="staff.csv")
    ref = person_ref(Pupil("Fenella", "Okoro"), "staff")
    updated = register.update_person(
        ref, social_media=True, website=True, press=False, consent_expires=None
    )
    assert updated.social_media and register.staff()[0].website
    assert register.person(ref) == ("staff", register.staff()[0])
    with pytest.raises(PersonNotFound):
        register.update_person(
            "pupil:000000000000",
            social_media=True,
            website=True,
            press=True,
            consent_expires=None,
        )


def test_abandoned_uploads_are_deleted_after_an_hour(home: Path, no_keyring: None) -> None:
    import os
    import time

    from tweetguard.console import create_app

    _start(home)
    uploads = home / "console" / "uploads"
    uploads.mkdir(parents=True)
    old = uploads / ("a" * 32 + ".csv")
    old.write_text("First name,Last name\nPerpetua,Langridge\n")
    hour_ago = time.time() - 3601
    os.utime(old, (hour_ago, hour_ago))
    recent = uploads / ("b" * 32 + ".csv")
    recent.write_text("First name,Last name\nCassius,Ferndale\n")
    create_app(home, testing=True)  # at start
    assert not old.exists()
    assert recent.exists()  # false-alarm trap: a preview open now is kept
    ten_past = time.time() - 3700
    os.utime(recent, (ten_past, ten_past))
    _, client = signed_in(home)
    assert _upload(client, _export()).status_code == 200  # and on each preview
    assert not recent.exists()
    assert len(list(uploads.iterdir())) == 1  # the new preview's own file
