"""Opt-in face matching inside a post's check: enrolled pupils who must never
appear hold the post by name, uncertain matches ask the teacher, blurring lets it
go, and a computer that cannot match holds photos with faces rather than pass them.

Keyring: switched off here and in the CLI (PYTHON_KEYRING_BACKEND=null), so the
key is the data folder's 0600 file and never the developer's own keyring."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import null

from tests.conftest import run_cli, write_policy
from tests.hostproc import HostProcess
from tests.photos import PHOTOS, media_put
from tests.registers import csv_text
from tweetguard.checks.engine import Checker
from tweetguard.checks.photos import pictured
from tweetguard.checks.photos.report import Match, PhotoReport
from tweetguard.protocol import handlers
from tweetguard.protocol.handlers import Handler
from tweetguard.stores.people import People

NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
MATCHING_ON = "[photos]\nmatching = true\ndpia_signed = 2026-09-01\n"
PUPILS = csv_text(
    ["Forename", "Surname", "Reg Group", "Social Media Consent"],
    [
        ["Idris", "Okonkwo-Lamb", "6T", "No"],
        ["Saoirse", "Penhaligon", "6T", "Yes"],
    ],
)


@pytest.fixture(autouse=True)
def without_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    before = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())  # type: ignore[no-untyped-call]
    for key, value in NO_KEYRING.items():
        monkeypatch.setenv(key, value)
    yield
    keyring.set_keyring(before)


@pytest.fixture
def school(home: Path, tmp_path: Path) -> Path:
    pupils = tmp_path / "pupils.csv"
    pupils.write_text(PUPILS, encoding="utf-8")
    assert run_cli(home, "consent", "import", str(pupils)).returncode == 0
    write_policy(home, MATCHING_ON)
    enrolled = run_cli(
        home, "consent", "enrol", "Idris Okonkwo-Lamb", str(PHOTOS / "obama.jpg"), env=NO_KEYRING
    )
    assert enrolled.returncode == 0, enrolled.stderr.decode()
    return home


@pytest.fixture
def handler(school: Path) -> Iterator[Handler]:
    checker = Checker(school)
    yield Handler(checker)
    checker.close()


def put(handler: Handler, data: bytes) -> dict[str, Any]:
    photo: dict[str, Any] = media_put(handler, data)["photo"]
    return photo


def held_by(reply: dict[str, Any]) -> list[str]:
    return [f["rule"] for f in reply["findings"] if f["severity"] == "block"]


def saoirse(handler: Handler) -> str:
    ref: str = handler.handle({"id": 2, "type": "people", "query": "saoirse"})["people"][0]["ref"]
    return ref


def test_an_enrolled_pupil_in_another_photo_holds_the_post_by_name(handler: Handler) -> None:
    photo = put(handler, (PHOTOS / "obama2.jpg").read_bytes())
    assert photo["matching"]["state"] == "done"
    [match] = photo["matching"]["matches"]
    assert match["confident"] is True and "Idris Okonkwo-Lamb" in match["name"]
    # Even when the teacher says someone with consent is pictured.
    reply = handler.handle(
        {
            "id": 3,
            "type": "check",
            "text": "Class assembly",
            "media": [{"sha256": photo["sha256"], "pictured": [saoirse(handler)]}],
        }
    )
    [found] = [f for f in reply["findings"] if f["rule"] == "photos.face-match"]
    assert "Idris Okonkwo-Lamb" in found["message"] and found["fix"] == "blur"
    assert found["severity"] == "block"


def test_someone_else_is_not_matched(handler: Handler) -> None:
    photo = put(handler, (PHOTOS / "biden.jpg").read_bytes())
    assert photo["matching"]["matches"] == []
    reply = handler.handle(
        {
            "id": 3,
            "type": "check",
            "text": "Class assembly",
            "media": [{"sha256": photo["sha256"], "pictured": [saoirse(handler)]}],
        }
    )
    assert "photos.face-match" not in held_by(reply)
    assert "photos.possible-match" not in held_by(reply)


def test_blurring_the_enrolled_pupil_lets_the_post_go(handler: Handler) -> None:
    photo = put(handler, (PHOTOS / "two_people.jpg").read_bytes())
    faces = [m["face"] for m in photo["matching"]["matches"] if m["confident"]]
    assert faces == [0]  # the left face
    blurred = handler.handle(
        {"id": 4, "type": "photo_blur", "sha256": photo["sha256"], "faces": faces}
    )["photo"]
    assert blurred["faces"] == 1 and blurred["matching"]["matches"] == []
    reply = handler.handle(
        {
            "id": 5,
            "type": "check",
            "text": "x",
            "media": [{"sha256": blurred["sha256"], "pictured": [saoirse(handler)]}],
        }
    )
    assert reply["verdict"] == "allow"


def test_an_enrolment_after_the_photo_was_checked_is_seen_at_the_check(
    handler: Handler, school: Path
) -> None:
    photo = put(handler, (PHOTOS / "biden.jpg").read_bytes())
    assert photo["matching"]["matches"] == []
    extra = csv_text(
        ["Forename", "Surname", "Reg Group", "Social Media Consent"],
        [["Idris", "Okonkwo-Lamb", "6T", "No"], ["Tobiah", "Wren", "3W", "No"]],
    )
    (school / "more.csv").write_text(extra, encoding="utf-8")
    assert run_cli(school, "consent", "import", str(school / "more.csv")).returncode == 0
    enrolled = run_cli(
        school, "consent", "enrol", "Tobiah Wren", str(PHOTOS / "biden.jpg"), env=NO_KEYRING
    )
    assert enrolled.returncode == 0, enrolled.stderr.decode()
    reply = handler.handle(
        {"id": 6, "type": "check", "text": "x", "media": [{"sha256": photo["sha256"]}]}
    )
    assert "photos.face-match" in held_by(reply)


def test_an_uncertain_match_holds_until_the_teacher_says_it_is_not_them() -> None:
    report = PhotoReport(sha256="0" * 64, kind="image", mime="", name="", size=1)
    report.boxes = [(10, 10, 50, 50)]
    report.matches = [Match(face=0, ref="pupil:abc", name="Tobiah Wren (3W)", confident=False)]
    people = People([], [])
    today = __import__("datetime").date(2026, 11, 28)
    unsure = pictured.Attached(report=report, nobody_identifiable=True)
    assert [f.rule.id for f in pictured.findings(unsure, people, today)] == [
        "photos.possible-match"
    ]
    confirmed = pictured.Attached(
        report=report, nobody_identifiable=True, confirmed_not=("pupil:abc",)
    )
    assert pictured.findings(confirmed, people, today) == []
    report.matches = [Match(face=0, ref="pupil:abc", name="Tobiah Wren (3W)", confident=True)]
    sure = pictured.Attached(report=report, nobody_identifiable=True, confirmed_not=("pupil:abc",))
    assert [f.rule.id for f in pictured.findings(sure, people, today)] == ["photos.face-match"]


def test_matching_that_cannot_run_here_holds_photos_with_faces_only(
    handler: Handler, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers, "_matching_unavailable", lambda matching: "dlib is missing")
    with_faces = put(handler, (PHOTOS / "obama_small.jpg").read_bytes())
    assert [f["rule"] for f in with_faces["findings"]] == [
        "photos.who-pictured",
        "photos.matching-unavailable",
    ]
    from tests.photos import jpeg, scene

    without = put(handler, jpeg(scene()))
    assert without["findings"] == [] and without["verdict"] == "allow"


def test_matching_off_loads_no_matching_models(home: Path) -> None:
    host = HostProcess(home)
    try:
        data = (PHOTOS / "obama.jpg").read_bytes()
        reply = host.ask(
            {
                "id": 1,
                "type": "media_put",
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "offset": 0,
                "data": base64.b64encode(data).decode(),
            }
        )
        assert reply["photo"]["faces"] == 1 and reply["photo"]["matching"] is None
        maps = Path(f"/proc/{host.proc.pid}/maps").read_text()
        assert "cv2" in maps and "dlib" not in maps
    finally:
        host.kill()


def test_the_host_reports_progress_while_it_matches(school: Path) -> None:
    host = HostProcess(school)
    try:
        data = (PHOTOS / "two_people.jpg").read_bytes()
        host.send(
            {
                "id": "put",
                "type": "media_put",
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "offset": 0,
                "data": base64.b64encode(data).decode(),
            }
        )
        frames = [host.read()]
        while frames[-1].get("id") != "put":
            frames.append(host.read())
        progress = [f for f in frames if f.get("type") == "progress"]
        assert [(p["for"], p["done"], p["total"]) for p in progress] == [
            ("put", 1, 2),
            ("put", 2, 2),
        ]
        assert all("id" not in p for p in progress)  # never taken for the reply
        assert frames[-1]["photo"]["matching"]["matches"]
    finally:
        host.kill()
