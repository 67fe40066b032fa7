"""Photos over the protocol: chunks, hashes, the check with who is pictured, the
remedies and the people picker; in process, and through the real host."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli, write_policy
from tests.hostproc import HostProcess
from tests.photos import PHOTOS, exif_bytes, jpeg, load, media_put, scene
from tests.registers import csv_text
from tweetguard.checks.engine import Checker
from tweetguard.protocol.handlers import Handler
from tweetguard.protocol.media import MAX_CHUNK

PUPILS = csv_text(
    ["Forename", "Surname", "Reg Group", "Social Media Consent", "Consent Expiry"],
    [
        ["Ffion", "Baptiste", "2B", "Yes", ""],
        ["Kasimir", "Oyelaran", "5K", "No", ""],
        ["Rhiannon", "Baptiste", "5K", "Yes", "2020-07-31"],
        ["Ffion", "Delacroix-Hughes", "5K", "Yes", ""],
    ],
)
STAFF = csv_text(
    ["Forename", "Surname", "Social Media Consent"],
    [["Grace", "Mbatha", "Yes"], ["Declan", "Furlong", "No"]],
)


@pytest.fixture
def school(home: Path, tmp_path: Path) -> Path:
    pupils = tmp_path / "pupils.csv"
    pupils.write_text(PUPILS, encoding="utf-8")
    staff = tmp_path / "staff.csv"
    staff.write_text(STAFF, encoding="utf-8")
    assert run_cli(home, "consent", "import", str(pupils)).returncode == 0
    result = run_cli(home, "consent", "import", "--staff", str(staff))
    assert result.returncode == 0, result.stderr
    return home


@pytest.fixture
def handler(school: Path) -> Iterator[Handler]:
    checker = Checker(school)
    yield Handler(checker)
    checker.close()


def put(handler: Handler, data: bytes, *, chunk: int = MAX_CHUNK, kind: str = "image") -> Any:
    return media_put(handler, data, chunk=chunk, kind=kind)


def ref(handler: Handler, query: str) -> str:
    people = handler.handle({"id": 1, "type": "people", "query": query})["people"]
    assert len(people) == 1, people
    return str(people[0]["ref"])


def check(handler: Handler, text: str, *items: dict[str, Any]) -> dict[str, Any]:
    return handler.handle({"id": 9, "type": "check", "text": text, "media": list(items)})


def rules(reply: dict[str, Any]) -> list[str]:
    return [f["rule"] for f in reply["findings"] if f["severity"] != "info"]


TWO = (PHOTOS / "two_people.jpg").read_bytes()


def test_a_photo_sent_in_chunks_comes_back_with_its_report(handler: Handler) -> None:
    reply = put(handler, TWO, chunk=100_000)
    photo = reply["photo"]
    assert reply["received"] == len(TWO)
    assert photo["faces"] == 2 and len(photo["boxes"]) == 2
    assert photo["needs_pictured"] is True and photo["verdict"] == "block"
    assert photo["width"] == 1126 and photo["height"] == 661


def test_faces_hold_the_post_until_the_teacher_says_who_is_pictured(handler: Handler) -> None:
    sha = put(handler, TWO)["photo"]["sha256"]
    held = check(handler, "Our assembly this morning", {"sha256": sha})
    assert held["verdict"] == "block"
    assert rules(held) == ["photos.who-pictured"]
    finding = held["findings"][-1]
    assert finding["media"] == 0 and finding["fix"] == "pictured"
    assert held["photos"][0]["faces"] == 2
    nobody = check(handler, "Our assembly", {"sha256": sha, "nobody_identifiable": True})
    assert nobody["verdict"] == "allow"


def test_a_pictured_pupil_without_consent_holds_the_post_and_one_with_consent_does_not(
    handler: Handler,
) -> None:
    sha = put(handler, TWO)["photo"]["sha256"]
    kasimir = ref(handler, "kasimir")
    ffion = ref(handler, "ffion 2b")
    held = check(handler, "Science week", {"sha256": sha, "pictured": [kasimir, ffion]})
    assert rules(held) == ["photos.no-consent"]
    assert "Kasimir Oyelaran" in held["findings"][-1]["message"]
    assert held["findings"][-1]["fix"] == "blur"
    fine = check(handler, "Science week", {"sha256": sha, "pictured": [ffion]})
    assert fine["verdict"] == "allow"


def test_expired_consent_and_staff_without_consent_hold_the_post(handler: Handler) -> None:
    sha = put(handler, TWO)["photo"]["sha256"]
    expired = check(handler, "x", {"sha256": sha, "pictured": [ref(handler, "rhiannon")]})
    assert rules(expired) == ["photos.no-consent"]
    declan = check(handler, "x", {"sha256": sha, "pictured": [ref(handler, "declan")]})
    assert rules(declan) == ["photos.no-consent"]
    grace = check(handler, "x", {"sha256": sha, "pictured": [ref(handler, "grace")]})
    assert grace["verdict"] == "allow"


def test_someone_no_longer_in_the_register_is_not_taken_as_consent(handler: Handler) -> None:
    sha = put(handler, TWO)["photo"]["sha256"]
    gone = "pupil:000000000000"
    reply = check(handler, "x", {"sha256": sha, "pictured": [gone]})
    assert rules(reply) == ["photos.not-in-register"]


def test_the_people_picker_finds_by_word_starts_pupils_first(handler: Handler) -> None:
    def names(query: str) -> list[str]:
        reply = handler.handle({"id": 1, "type": "people", "query": query})
        return [p["name"] for p in reply["people"]]

    assert names("ffi") == ["Ffion Baptiste", "Ffion Delacroix-Hughes"]
    assert names("ffi 5k") == ["Ffion Delacroix-Hughes"]
    assert names("bapt") == ["Ffion Baptiste", "Rhiannon Baptiste"]
    assert names("hughes") == ["Ffion Delacroix-Hughes"]
    assert names("delacroix-hu") == ["Ffion Delacroix-Hughes"]
    assert names("staff") == ["Declan Furlong", "Grace Mbatha"]
    assert names("") == []
    assert names("iff") == []  # inside a word is not a start
    person = handler.handle({"id": 1, "type": "people", "query": "kasimir"})["people"][0]
    assert person["consent"] is False and person["role"] == "pupil" and person["group"] == "5K"


def test_a_photo_with_gps_is_held_until_cleaned_and_the_clean_copy_passes(
    handler: Handler,
) -> None:
    dirty = jpeg(scene(), exif=exif_bytes(gps=(50.7192, -1.8808), serial="8812"))
    sha = put(handler, dirty)["photo"]["sha256"]
    held = check(handler, "Beach day!", {"sha256": sha})
    assert rules(held) == ["photos.location", "photos.hidden-details"]
    assert held["findings"][0]["fix"] == "clean"
    cleaned = handler.handle({"id": 3, "type": "photo_clean", "sha256": sha})
    assert cleaned["ok"], cleaned
    clean_sha = cleaned["photo"]["sha256"]
    assert clean_sha != sha and cleaned["photo"]["findings"] == []
    data = b""
    offset = 0
    while True:
        part = handler.handle({"id": 4, "type": "media_get", "sha256": clean_sha, "offset": offset})
        assert part["ok"] and len(part["data"]) <= 700_000
        chunk = base64.b64decode(part["data"])
        data += chunk
        offset += len(chunk)
        if part["done"]:
            break
    assert hashlib.sha256(data).hexdigest() == clean_sha
    assert b"Exif" not in data
    assert check(handler, "Beach day!", {"sha256": clean_sha})["verdict"] == "allow"


def test_a_large_copy_comes_back_in_chunks_under_chromes_limit(handler: Handler) -> None:
    import io

    import numpy as np
    from PIL import Image

    noise = np.random.default_rng(7).integers(0, 255, (1500, 2000, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(noise).save(out, format="PNG")
    sha = put(handler, out.getvalue())["photo"]["sha256"]
    clean_sha = handler.handle({"id": 3, "type": "photo_clean", "sha256": sha})["photo"]["sha256"]
    sizes = []
    offset = 0
    while True:
        part = handler.handle({"id": 4, "type": "media_get", "sha256": clean_sha, "offset": offset})
        sizes.append(len(part["data"]))
        offset += len(base64.b64decode(part["data"]))
        if part["done"]:
            break
    assert len(sizes) > 2 and max(sizes) < 1_000_000


def test_blurring_a_pupil_without_consent_lets_the_post_go(handler: Handler) -> None:
    sha = put(handler, TWO)["photo"]["sha256"]
    blurred = handler.handle({"id": 5, "type": "photo_blur", "sha256": sha, "faces": "all"})
    assert blurred["ok"], blurred
    photo = blurred["photo"]
    assert photo["faces"] == 0 and photo["needs_pictured"] is False
    assert check(handler, "Science week", {"sha256": photo["sha256"]})["verdict"] == "allow"
    one = handler.handle({"id": 6, "type": "photo_blur", "sha256": sha, "faces": [1]})["photo"]
    assert one["faces"] == 1
    assert rules(check(handler, "x", {"sha256": one["sha256"]})) == ["photos.who-pictured"]


def test_a_photo_the_helper_has_not_seen_holds_the_post(handler: Handler) -> None:
    unknown = check(handler, "Lovely day", {"sha256": "ab" * 32})
    assert rules(unknown) == ["photos.unchecked"]
    unread = check(handler, "Lovely day", {"mime": "image/*", "name": "blob:https://x.com/1"})
    assert rules(unread) == ["photos.unchecked"]
    missing = handler.handle({"id": 7, "type": "photo_clean", "sha256": "cd" * 32})
    assert missing["error"]["code"] == "media_unknown"


def test_chunks_out_of_order_with_a_wrong_hash_or_too_large_are_refused(handler: Handler) -> None:
    sha = hashlib.sha256(TWO).hexdigest()

    def chunk(offset: int, size: int, data: bytes, digest: str = sha) -> dict[str, Any]:
        return handler.handle(
            {
                "id": 1,
                "type": "media_put",
                "sha256": digest,
                "size": size,
                "offset": offset,
                "data": base64.b64encode(data).decode(),
            }
        )

    gap = chunk(1000, len(TWO), TWO[1000:2000])
    assert gap["error"]["code"] == "bad_field"
    wrong = chunk(0, len(TWO), TWO, digest="0" * 64)
    assert wrong["error"]["code"] == "media_mismatch"
    huge = chunk(0, 21 * 1024 * 1024, TWO[:10])
    assert huge["error"]["code"] == "media_too_large"
    not_base64 = handler.handle(
        {"id": 1, "type": "media_put", "sha256": sha, "size": 4, "offset": 0, "data": "@@@@"}
    )
    assert not_base64["error"]["code"] == "bad_field"
    assert put(handler, TWO)["photo"]["faces"] == 2  # and the helper goes on


def test_a_file_already_sent_is_answered_at_once(handler: Handler) -> None:
    sha = put(handler, TWO)["photo"]["sha256"]
    again = handler.handle(
        {"id": 2, "type": "media_put", "sha256": sha, "size": len(TWO), "offset": 0, "data": ""}
    )
    assert again["photo"]["sha256"] == sha


def test_an_image_description_is_checked_like_the_post(handler: Handler) -> None:
    sha = put(handler, jpeg(scene()))["photo"]["sha256"]
    alt = "Kasimir Oyelaran holding the cup"
    reply = check(handler, "Well done!", {"sha256": sha, "alt": alt})
    alt_findings = [f for f in reply["findings"] if f.get("field") == "alt"]
    assert {f["rule"] for f in alt_findings} >= {"names.full-name"}
    first = alt_findings[0]
    assert first["media"] == 0 and alt[first["start"] : first["end"]] == "Kasimir Oyelaran"
    calm = check(handler, "Well done!", {"sha256": sha, "alt": "A silver cup on a table"})
    assert calm["verdict"] == "allow"


def test_the_policy_can_change_a_photo_rules_severity(handler: Handler, school: Path) -> None:
    write_policy(school, '[rules."photos.hidden-details"]\nseverity = "block"\n')
    dirty = jpeg(scene(), exif=exif_bytes(owner="Brynmor Eddowes"))
    sha = put(handler, dirty)["photo"]["sha256"]
    reply = check(handler, "x", {"sha256": sha})
    assert reply["verdict"] == "block"
    assert reply["photos"][0]["findings"][0]["severity"] == "block"


# --- through the real host ------------------------------------------------------------


@pytest.fixture
def host(school: Path) -> Iterator[HostProcess]:
    process = HostProcess(school)
    yield process
    process.kill()


def send_put(host: HostProcess, data: bytes, request_id: str) -> int:
    """Sends every chunk without waiting; returns how many replies to expect."""
    sha = hashlib.sha256(data).hexdigest()
    offsets = range(0, len(data), MAX_CHUNK)
    for number, offset in enumerate(offsets):
        host.send(
            {
                "id": request_id if offset == offsets[-1] else f"{request_id}-{number}",
                "type": "media_put",
                "sha256": sha,
                "size": len(data),
                "offset": offset,
                "data": base64.b64encode(data[offset : offset + MAX_CHUNK]).decode(),
            }
        )
    return len(offsets)


def test_text_checks_are_answered_while_a_photo_is_analysed(host: HostProcess) -> None:
    big = jpeg(load("two_people.jpg").resize((4000, 2348)))
    sha = hashlib.sha256(big).hexdigest()
    host.ask({"id": "hello", "type": "hello"})
    host.ask({"id": "warm", "type": "check", "text": "Warm-up after the hello"})
    chunks = send_put(host, big, "put")
    host.send({"id": "text", "type": "check", "text": "Lovely work, Year 2"})
    replies = [host.read() for _ in range(chunks + 1)]
    order = [r["id"] for r in replies]
    assert order.index("text") < order.index("put"), "the text check waited for the photo"
    assert replies[order.index("put")]["photo"]["faces"] == 2
    reply = host.ask({"id": "check", "type": "check", "text": "x", "media": [{"sha256": sha}]})
    assert [f["rule"] for f in reply["findings"]] == ["photos.who-pictured"]


def test_a_check_naming_a_photo_still_being_analysed_waits_for_it(host: HostProcess) -> None:
    data = jpeg(load("obama.jpg").resize((3640, 4548)))
    sha = hashlib.sha256(data).hexdigest()
    chunks = send_put(host, data, "put")
    assert chunks > 1
    host.send({"id": "check", "type": "check", "text": "x", "media": [{"sha256": sha}]})
    replies = {r["id"]: r for r in (host.read() for _ in range(chunks + 1))}
    assert replies["put"]["photo"]["faces"] == 1
    assert [f["rule"] for f in replies["check"]["findings"]] == ["photos.who-pictured"]


def test_the_helper_idles_without_loading_photo_libraries(host: HostProcess) -> None:
    host.ask({"id": 1, "type": "hello"})
    host.ask({"id": 2, "type": "check", "text": "Sports day on Friday"})
    maps = Path(f"/proc/{host.proc.pid}/maps").read_text()
    assert "cv2" not in maps and "numpy" not in maps and "PIL" not in maps
    put = {"id": 3, "type": "media_put", "sha256": hashlib.sha256(TWO).hexdigest()}
    host.ask({**put, "size": len(TWO), "offset": 0, "data": base64.b64encode(TWO).decode()})
    assert "cv2" in Path(f"/proc/{host.proc.pid}/maps").read_text()


def test_a_name_beside_a_photo_with_faces_is_held_but_beside_a_photo_of_work_is_not(
    handler: Handler,
) -> None:
    faces = put(handler, TWO)["photo"]["sha256"]
    work = put(handler, jpeg(scene(seed=5)))["photo"]["sha256"]
    text = "Ffion's painting won the art prize!"
    with_faces = check(handler, text, {"sha256": faces, "nobody_identifiable": True})
    assert "names.pictured" in rules(with_faces)
    of_work = check(handler, text, {"sha256": work})
    assert "names.pictured" not in rules(of_work)
    unseen = check(handler, text, {"sha256": "ef" * 32})
    assert "names.pictured" in rules(unseen)


def test_consent_list_shows_staff_after_pupils(school: Path) -> None:
    listed = run_cli(school, "consent", "list")
    lines = listed.stdout.decode().splitlines()
    assert lines[-2:] == [
        "Grace Mbatha\tstaff\tsocial media: yes",
        "Declan Furlong\tstaff\tsocial media: no",
    ]
    assert "4 pupil(s), 2 member(s) of staff" in listed.stderr.decode()


def test_the_photo_worker_gives_the_detectors_memory_back_once_photos_stop() -> None:
    import io
    import threading

    from tweetguard.checks.photos import faces
    from tweetguard.protocol.handlers import Deferred
    from tweetguard.transport.native import PhotoWorker, _Writer

    released = threading.Event()
    out = io.BytesIO()
    worker = PhotoWorker(_Writer(out), on_idle=released.set, idle_seconds=0.2)
    done = Deferred("d", lambda progress: {"id": "d", "ok": True}, lambda i, work: work())
    worker.submit(done)
    assert released.wait(10), "the worker never went idle"
    assert b'"id":"d"' in out.getvalue()
    worker.finish(5)
    from tweetguard.checks.photos.report import analyse

    assert analyse(TWO).faces == 2 and faces.loaded()
    faces.release()
    assert not faces.loaded()
    assert analyse(TWO).faces == 2  # and it loads again when the next photo comes


def test_a_photo_whose_analysis_fails_holds_the_post_at_once(
    handler: Handler, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from tweetguard.checks.photos import report

    def broken(*args: object, **kwargs: object) -> None:
        raise struct_error("unpack requires a buffer of 4 bytes")

    struct_error = __import__("struct").error
    monkeypatch.setattr(report, "analyse", broken)
    photo = put(handler, jpeg(scene(seed=9)))["photo"]
    assert [f["rule"] for f in photo["findings"]] == ["photos.unreadable"]
    assert "could not be checked" in photo["findings"][0]["message"]
    started = time.monotonic()
    held = check(handler, "Sunny day", {"sha256": photo["sha256"]})
    assert time.monotonic() - started < 2  # never waits for an analysis that will not come
    assert rules(held) == ["photos.unreadable"]


def test_a_file_sent_as_a_video_excerpt_is_not_taken_for_a_photo(handler: Handler) -> None:
    excerpt = put(handler, TWO, kind="video")["photo"]
    assert excerpt["kind"] == "video" and excerpt["faces"] == 0
    as_photo = check(handler, "x", {"sha256": excerpt["sha256"], "kind": "image"})
    assert rules(as_photo) == ["photos.unchecked"]
    as_video = check(handler, "x", {"sha256": excerpt["sha256"], "kind": "video"})
    assert "photos.unchecked" not in rules(as_video)
