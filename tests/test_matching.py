"""Opt-in face matching: secrets, the encrypted template store, the [photos] policy,
the matcher on real photos, the blur remedy, and `consent enrol|forget|faces`.

Each claim has a trap beside it: a different person is not matched where the same
person is; a blurred face is not matched where the unblurred one is; the store's
file holds no name where the decrypted record does. No test touches the
developer's real keyring: in-process tests use an in-memory backend, CLI tests
turn keyring off (PYTHON_KEYRING_BACKEND=null), so the 0600 file fallback is used.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import keyring
import numpy as np
import numpy.typing as npt
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail as fail_backend
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from tests.conftest import ROOT, run_cli
from tweetguard.checks.photos import matching
from tweetguard.checks.photos.matching import FaceMatch, Matcher, MatchingOff
from tweetguard.cli.faces import NameProblem, resolve_person
from tweetguard.stores.consent import ConsentRegister, Pupil
from tweetguard.stores.face_templates import FaceTemplates, TemplatesError
from tweetguard.stores.policy import PhotoSettings, PolicyError, parse_policy
from tweetguard.stores.secrets import (
    SecretsError,
    delete_secret,
    get_or_create_secret,
    get_secret,
    secret_store,
)

PHOTOS = ROOT / "tests" / "data" / "photos"
ON = PhotoSettings(matching=True, dpia_signed=date(2026, 9, 14))
Box = tuple[int, int, int, int]
# CLI runs: keyring switched off, so secrets go to the data folder's 0600 file.
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}


class MemoryKeyring(KeyringBackend):
    """A keyring that lives and dies with the test."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if (service, username) not in self.entries:
            raise PasswordDeleteError(username)
        del self.entries[(service, username)]


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    keyring.set_keyring(fail_backend.Keyring())  # type: ignore[no-untyped-call]
    yield


# Photos and their faces (dlib's HOG detector, so these tests stand alone).


@cache
def picture(name: str) -> npt.NDArray[np.uint8]:
    with Image.open(PHOTOS / name) as opened:
        return np.asarray(ImageOps.exif_transpose(opened).convert("RGB"))


def hog_boxes(rgb: npt.NDArray[np.uint8]) -> list[Box]:
    dlib: Any = importlib.import_module("dlib")
    upsample = 1 if max(rgb.shape[:2]) < 1200 else 0
    rects = dlib.get_frontal_face_detector()(rgb, upsample)
    return sorted((r.left(), r.top(), r.right(), r.bottom()) for r in rects)


@cache
def faces_of(name: str) -> tuple[Box, ...]:
    return tuple(hog_boxes(picture(name)))


@cache
def descriptor(name: str, face: int = 0) -> npt.NDArray[np.float32]:
    found = matching.describe(picture(name), [faces_of(name)[face]])[0]
    assert found is not None
    return found


def enrol(home: Path, ref: str, name: str, *photos: tuple[str, int]) -> None:
    FaceTemplates(home).add(ref, name, [descriptor(p, f) for p, f in photos])


def matches(matcher: Matcher, rgb: npt.NDArray[np.uint8], boxes: list[Box]) -> list[FaceMatch]:
    return matcher.match(rgb, boxes)


# two_people.jpg: Obama on the left (face 0 after sorting by x), Biden on the right.
OBAMA_IN_TWO, BIDEN_IN_TWO = 0, 1


# Secrets.


def test_a_secret_lives_in_the_keyring_and_is_the_same_every_time(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    key = get_or_create_secret(tmp_path, "face-templates")
    assert len(key) == 32 and get_or_create_secret(tmp_path, "face-templates") == key
    assert secret_store(tmp_path).kind == "keyring"
    assert "MemoryKeyring" in secret_store(tmp_path).describe()
    assert len(memory_keyring.entries) == 1
    # The trap: nothing was written to the data folder.
    assert not (tmp_path / "secrets").exists()
    # Another data folder has a key of its own.
    other = get_or_create_secret(tmp_path / "other", "face-templates")
    assert other != key and len(memory_keyring.entries) == 2
    assert (
        delete_secret(tmp_path, "face-templates") and get_secret(tmp_path, "face-templates") is None
    )
    assert not delete_secret(tmp_path, "face-templates")


def test_without_a_keyring_the_secret_is_a_private_file_and_says_so(
    tmp_path: Path, no_keyring: None
) -> None:
    store = secret_store(tmp_path)
    assert store.kind == "file" and "no OS keyring" in store.describe()
    key = get_or_create_secret(tmp_path, "face-templates")
    path = tmp_path / "secrets" / "face-templates.key"
    assert path.is_file() and get_secret(tmp_path, "face-templates") == key
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        # A key file others can read is refused, not used.
        path.chmod(0o644)
        with pytest.raises(SecretsError, match="chmod 600"):
            get_secret(tmp_path, "face-templates")


def test_a_keyring_that_exists_but_fails_is_an_error_not_a_file(
    tmp_path: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keyring.errors import KeyringLocked

    def locked(service: str, username: str) -> str | None:
        raise KeyringLocked("the keyring is locked")

    monkeypatch.setattr(memory_keyring, "get_password", locked)
    with pytest.raises(SecretsError, match="locked"):
        get_or_create_secret(tmp_path, "face-templates")
    assert not (tmp_path / "secrets").exists()


# The template store.


def vectors(seed: int, n: int = 2) -> list[npt.NDArray[np.float32]]:
    return list(np.random.default_rng(seed).normal(0, 0.1, (n, 128)).astype(np.float32))


def test_templates_are_kept_per_person_and_encrypted(tmp_path: Path) -> None:
    store = FaceTemplates(tmp_path)
    assert store.people() == [] and store.version() == ("", 0)
    assert store.add("pupil:aaaaaaaaaaaa", "Amelia Thornbury (4RB)", vectors(1)) == 2
    assert store.add("pupil:bbbbbbbbbbbb", "Kai Mensah (3K)", vectors(2, 1)) == 1
    assert store.add("pupil:aaaaaaaaaaaa", "Amelia Thornbury (4RB)", vectors(3, 1)) == 3
    people = {p.ref: p for p in store.people()}
    assert people["pupil:aaaaaaaaaaaa"].name == "Amelia Thornbury (4RB)"
    assert people["pupil:aaaaaaaaaaaa"].descriptors.shape == (3, 128)
    assert np.array_equal(people["pupil:bbbbbbbbbbbb"].descriptors[0], vectors(2, 1)[0])
    raw = store.path.read_bytes()
    # The trap: the decrypted records hold these, the file does not.
    for secret in (b"Amelia", b"Thornbury", b"pupil:aaaa", vectors(1)[0].tobytes()[:16]):
        assert secret not in raw
    if sys.platform != "win32":
        assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_forget_deletes_one_person_and_leaves_no_ciphertext_behind(tmp_path: Path) -> None:
    store = FaceTemplates(tmp_path)
    store.add("pupil:aaaaaaaaaaaa", "Amelia Thornbury", vectors(1))
    store.add("pupil:bbbbbbbbbbbb", "Kai Mensah", vectors(2))
    with sqlite3.connect(store.path) as conn:
        (gone,) = conn.execute("SELECT data FROM people ORDER BY id LIMIT 1").fetchone()
    conn.close()
    before = store.version()
    assert store.forget("pupil:aaaaaaaaaaaa")
    assert [p.ref for p in store.people()] == ["pupil:bbbbbbbbbbbb"]
    assert store.version() != before
    assert bytes(gone)[:32] not in store.path.read_bytes()
    assert not store.forget("pupil:aaaaaaaaaaaa")  # nothing left to forget


def test_a_store_without_its_key_or_with_swapped_rows_is_refused(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    store = FaceTemplates(tmp_path)
    store.add("pupil:aaaaaaaaaaaa", "Amelia Thornbury", vectors(1))
    store.add("pupil:bbbbbbbbbbbb", "Kai Mensah", vectors(2))
    with sqlite3.connect(store.path) as conn:
        rows = conn.execute("SELECT id, nonce, data FROM people ORDER BY id").fetchall()
        (a, na, da), (b, nb, db) = rows
        conn.execute("UPDATE people SET nonce = ?, data = ? WHERE id = ?", (nb, db, a))
        conn.execute("UPDATE people SET nonce = ?, data = ? WHERE id = ?", (na, da, b))
    conn.close()
    with pytest.raises(TemplatesError, match="cannot open"):
        FaceTemplates(tmp_path).people()
    memory_keyring.entries.clear()
    with pytest.raises(TemplatesError, match="forget --all"):
        FaceTemplates(tmp_path).people()
    assert FaceTemplates(tmp_path).forget_all() == 2
    assert not store.path.exists() and FaceTemplates(tmp_path).people() == []


def test_the_store_has_no_way_out() -> None:
    """Templates are never exported (docs/face-matching.md): no method offers it."""
    public = [n for n in dir(FaceTemplates) if not n.startswith("_")]
    assert not [n for n in public if any(w in n for w in ("export", "dump", "backup", "copy"))]
    assert "people" in public  # the trap: the listing does find the reading method


# The [photos] policy.


def photos_policy(table: str) -> PhotoSettings:
    import tomllib

    return parse_policy(tomllib.loads(f"[photos]\n{table}"), "policy.toml").photos


def test_matching_is_off_unless_the_policy_turns_it_on_with_a_signed_dpia() -> None:
    assert parse_policy({}, "policy.toml").photos == PhotoSettings()
    assert not PhotoSettings().matching
    on = photos_policy("matching = true\ndpia_signed = 2026-09-14")
    assert on.matching and on.dpia_signed == date(2026, 9, 14)
    with pytest.raises(PolicyError, match=r"needs photos\.dpia_signed.*biometric"):
        photos_policy("matching = true")
    with pytest.raises(PolicyError, match="without quotes"):
        photos_policy('matching = true\ndpia_signed = "2026-09-14"')
    with pytest.raises(PolicyError, match="without quotes"):
        photos_policy("matching = true\ndpia_signed = 2026-09-14T10:00:00")
    tomorrow = date.today() + timedelta(days=1)
    with pytest.raises(PolicyError, match="in the future"):
        photos_policy(f"matching = true\ndpia_signed = {tomorrow.isoformat()}")
    # Off, a date may already be written (the assessment is done, matching not yet on).
    assert not photos_policy("dpia_signed = 2026-09-14").matching


def test_thresholds_are_read_and_checked() -> None:
    settings = photos_policy("match_threshold = 0.4\nuncertain_threshold = 0.55")
    assert (settings.match_threshold, settings.uncertain_threshold) == (0.4, 0.55)
    with pytest.raises(PolicyError, match="must not be above"):
        photos_policy("match_threshold = 0.7\nuncertain_threshold = 0.5")
    with pytest.raises(PolicyError, match=r"between 0 and 1\.5"):
        photos_policy('match_threshold = "0.4"')
    with pytest.raises(PolicyError, match="unknown setting"):
        photos_policy("matchng = true")


# The matcher on real photos.


def test_matching_is_available_here_and_says_why_when_not(monkeypatch: pytest.MonkeyPatch) -> None:
    assert matching.available() is None
    real = importlib.import_module

    def no_dlib(name: str, package: str | None = None) -> object:
        if name == "dlib":
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", no_dlib)
    reason = matching.available()
    assert reason and "dlib" in reason and "\n" not in reason


def test_a_matcher_is_refused_while_matching_is_off(tmp_path: Path) -> None:
    with pytest.raises(MatchingOff):
        Matcher(tmp_path, PhotoSettings())


def test_the_same_person_in_another_photo_is_matched_and_others_are_not(tmp_path: Path) -> None:
    enrol(tmp_path, "pupil:obama", "Barack Obama", ("obama.jpg", 0))
    matcher = Matcher(tmp_path, ON)
    assert matcher.enrolled() == 1
    found = matches(matcher, picture("obama2.jpg"), list(faces_of("obama2.jpg")))
    assert [(m.face, m.ref, m.name, m.confident) for m in found] == [
        (0, "pupil:obama", "Barack Obama", True)
    ]
    assert found[0].distance < ON.match_threshold
    # The traps: three other people, alone and beside him.
    for other in ("biden.jpg", "alex-lacamoire.jpg", "lin-manuel-miranda.jpg"):
        assert matches(matcher, picture(other), list(faces_of(other))) == [], other
    both = matches(matcher, picture("two_people.jpg"), list(faces_of("two_people.jpg")))
    assert [(m.face, m.ref) for m in both] == [(OBAMA_IN_TWO, "pupil:obama")]


def test_each_face_gets_the_nearest_person_and_progress_is_reported(tmp_path: Path) -> None:
    enrol(tmp_path, "pupil:obama", "Barack Obama", ("obama.jpg", 0), ("obama_small.jpg", 0))
    enrol(tmp_path, "pupil:biden", "Joe Biden", ("biden.jpg", 0))
    seen: list[tuple[int, int]] = []
    found = Matcher(tmp_path, ON).match(
        picture("two_people.jpg"),
        list(faces_of("two_people.jpg")),
        lambda done, total: seen.append((done, total)),
    )
    assert [(m.face, m.ref) for m in found] == [
        (OBAMA_IN_TWO, "pupil:obama"),
        (BIDEN_IN_TWO, "pupil:biden"),
    ]
    assert seen == [(1, 2), (2, 2)]


def test_an_uncertain_match_is_reported_not_dropped(tmp_path: Path) -> None:
    enrol(tmp_path, "pupil:obama", "Barack Obama", ("obama.jpg", 0))
    rgb, boxes = picture("obama2.jpg"), list(faces_of("obama2.jpg"))
    distance = Matcher(tmp_path, ON).match(rgb, boxes)[0].distance
    strict = PhotoSettings(
        matching=True, dpia_signed=ON.dpia_signed, match_threshold=distance - 0.05
    )
    (uncertain,) = Matcher(tmp_path, strict).match(rgb, boxes)
    assert uncertain.ref == "pupil:obama" and not uncertain.confident
    # Past the uncertain threshold too, the face is nobody enrolled.
    stricter = PhotoSettings(
        matching=True,
        dpia_signed=ON.dpia_signed,
        match_threshold=distance - 0.1,
        uncertain_threshold=distance - 0.05,
    )
    assert Matcher(tmp_path, stricter).match(rgb, boxes) == []


def transformed(rgb: npt.NDArray[np.uint8], how: str) -> npt.NDArray[np.uint8]:
    image = Image.fromarray(rgb)
    if how == "rotated":
        image = image.rotate(12, resample=Image.Resampling.BICUBIC, expand=True)
    elif how == "scaled":
        image = image.resize((image.width // 3, image.height // 3), Image.Resampling.LANCZOS)
    elif how == "darkened":
        image = ImageEnhance.Brightness(image).enhance(0.45)
    elif how == "cropped":
        box = faces_of("obama2.jpg")[0]
        w = box[2] - box[0]
        image = image.crop((box[0] - w // 3, box[1] - w // 2, box[2] + w // 3, box[3] + w // 4))
    elif how == "mirrored":
        image = ImageOps.mirror(image)
    return np.asarray(image)


@pytest.mark.parametrize("how", ["rotated", "scaled", "darkened", "cropped", "mirrored"])
def test_an_altered_copy_of_the_person_still_matches(tmp_path: Path, how: str) -> None:
    enrol(tmp_path, "pupil:obama", "Barack Obama", ("obama.jpg", 0))
    matcher = Matcher(tmp_path, ON)
    rgb = transformed(picture("obama2.jpg"), how)
    boxes = hog_boxes(rgb)
    assert len(boxes) == 1
    (found,) = matcher.match(rgb, boxes)
    assert found.ref == "pupil:obama" and found.confident, found
    # The trap: the same change to someone else's photo matches no one.
    other = transformed(picture("biden.jpg"), "scaled" if how == "cropped" else how)
    assert matcher.match(other, hog_boxes(other)) == []


def test_any_detectors_box_gives_the_same_answer(tmp_path: Path) -> None:
    """The helper's detector boxes faces taller than dlib's (forehead to chin); the
    matcher re-boxes each face from its landmarks, so the answer does not move."""
    enrol(tmp_path, "pupil:obama", "Barack Obama", ("obama.jpg", 0))
    matcher = Matcher(tmp_path, ON)
    x0, y0, x1, y1 = faces_of("obama2.jpg")[0]
    h = y1 - y0
    tall = (x0 + 8, y0 - h * 3 // 10, x1 - 8, y1 + h // 10)
    shifted = (x0 + h // 10, y0 + h // 10, x1 + h // 10, y1 + h // 10)
    plain = matcher.match(picture("obama2.jpg"), [(x0, y0, x1, y1)])[0].distance
    for box in (tall, shifted):
        (found,) = matcher.match(picture("obama2.jpg"), [box])
        assert found.confident and abs(found.distance - plain) < 0.08, (box, found, plain)
    # The trap: a box on the background is no one.
    assert matcher.match(picture("obama2.jpg"), [(0, 0, 120, 120)]) == []


def test_a_blurred_face_is_no_longer_recognised(tmp_path: Path) -> None:
    from tweetguard.checks.photos.blur import blur_faces

    enrol(tmp_path, "pupil:obama", "Barack Obama", ("obama.jpg", 0))
    enrol(tmp_path, "pupil:biden", "Joe Biden", ("biden.jpg", 0))
    matcher = Matcher(tmp_path, ON)
    rgb, boxes = picture("two_people.jpg"), list(faces_of("two_people.jpg"))
    # The trap first: unblurred, both are matched.
    assert {m.ref for m in matcher.match(rgb, boxes)} == {"pupil:obama", "pupil:biden"}
    blurred = np.asarray(blur_faces(Image.fromarray(rgb), [boxes[OBAMA_IN_TWO]]).convert("RGB"))
    # The same boxes are compared: the matcher looks at the blurred face itself.
    found = matcher.match(blurred, boxes)
    assert [(m.face, m.ref) for m in found] == [(BIDEN_IN_TWO, "pupil:biden")]
    # And on a photo of him alone, as the remedy copy would be posted.
    alone, box = picture("obama2.jpg"), list(faces_of("obama2.jpg"))
    assert matcher.match(alone, box)
    # The trap: a light blur, which people see through, does not fool the matcher.
    light = Image.fromarray(alone)
    light.paste(light.crop(box[0]).filter(ImageFilter.GaussianBlur(4)), box[0][:2])
    assert matcher.match(np.asarray(light), box)
    blurred_alone = np.asarray(blur_faces(Image.fromarray(alone), box).convert("RGB"))
    assert matcher.match(blurred_alone, box) == []
    assert matcher.match(blurred_alone, hog_boxes(blurred_alone)) == []


def test_enrolments_and_forgets_reach_a_running_matcher(tmp_path: Path) -> None:
    matcher = Matcher(tmp_path, ON)
    rgb, boxes = picture("obama_small.jpg"), list(faces_of("obama_small.jpg"))
    assert matcher.enrolled() == 0 and matcher.match(rgb, boxes) == []
    enrol(tmp_path, "pupil:obama", "Barack Obama", ("obama.jpg", 0))
    assert matcher.enrolled() == 1 and matcher.match(rgb, boxes)
    FaceTemplates(tmp_path).forget("pupil:obama")
    assert matcher.enrolled() == 0 and matcher.match(rgb, boxes) == []


def test_models_load_only_when_there_is_matching_to_do(tmp_path: Path) -> None:
    """In a fresh process: importing, a matcher with nobody enrolled, and matching
    turned off load neither dlib nor its models."""
    code = f"""
import sys
import numpy as np
from pathlib import Path
from tweetguard.checks.photos import matching
from tweetguard.stores.policy import PhotoSettings
from datetime import date
try:
    matching.Matcher(Path({str(tmp_path)!r}), PhotoSettings())
except matching.MatchingOff:
    pass
on = PhotoSettings(matching=True, dpia_signed=date(2026, 9, 14))
m = matching.Matcher(Path({str(tmp_path)!r}), on)
assert m.match(np.zeros((50, 50, 3), np.uint8), [(10, 10, 40, 40)]) == []
assert "dlib" not in sys.modules and not matching.models_loaded(), "loaded"
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        env={**os.environ, **NO_KEYRING},
        timeout=60,
        check=False,
    )
    assert result.stdout.strip() == b"ok", result.stderr.decode()


# Who a name means.

REGISTER = [
    Pupil("Amelia", "Thornbury", class_name="4RB", year_group="4"),
    Pupil("Amelia", "Thornbury", class_name="3K", year_group="3"),
    Pupil("Kai", "Mensah", preferred_name="Kofi", class_name="5P", middle_names="Ato"),
    Pupil("Zoë", "Ó Briain", class_name="2W"),
    Pupil("Barack", "Obama", class_name="6T"),
]


def test_a_name_means_one_pupil_or_is_refused_naming_the_candidates() -> None:
    assert resolve_person("Kai Mensah", REGISTER) is REGISTER[2]
    assert resolve_person("kofi mensah", REGISTER) is REGISTER[2]
    assert resolve_person("Kai Ato Mensah", REGISTER) is REGISTER[2]
    assert resolve_person("Zoe O Briain", REGISTER) is REGISTER[3]
    assert resolve_person("Amelia Thornbury 4RB", REGISTER) is REGISTER[0]
    assert resolve_person("Amelia Thornbury (Year 3)", REGISTER) is REGISTER[1]
    with pytest.raises(NameProblem, match=r"fits 2 pupils.*“Amelia Thornbury 4RB”.*3K"):
        resolve_person("Amelia Thornbury", REGISTER)
    with pytest.raises(NameProblem, match="did you mean “Kai Mensah 5P”"):
        resolve_person("Kai Smith", REGISTER)
    with pytest.raises(NameProblem, match="no pupil in the register"):
        resolve_person("Nobody Known", REGISTER)
    # The trap: a name that starts like a pupil's is not theirs.
    with pytest.raises(NameProblem):
        resolve_person("Kai Mensahson", REGISTER)
    with pytest.raises(NameProblem):
        resolve_person("Amelia Thornbury 9Z", REGISTER)


# The commands.


def school(home: Path, matching_on: bool) -> None:
    register = ConsentRegister(home / "register.sqlite3")
    register.replace(REGISTER, source="test")
    register.close()
    photos = "matching = true\ndpia_signed = 2026-09-14\n" if matching_on else ""
    (home / "policy.toml").write_text(
        f'[school]\nname = "Test School"\n[photos]\n{photos}', encoding="utf-8"
    )


def cli(home: Path, *args: str) -> tuple[int, str, str]:
    result = run_cli(home, "consent", *args, env=NO_KEYRING)
    out, err = result.stdout.decode(), result.stderr.decode()
    assert "Traceback" not in out + err, err
    return result.returncode, out, err


def test_enrol_is_refused_while_matching_is_off(home: Path) -> None:
    school(home, matching_on=False)
    code, _, err = cli(home, "enrol", "Barack Obama", str(PHOTOS / "obama.jpg"))
    assert code == 78 and "face matching is off" in err and "dpia_signed" in err
    assert not (home / "faces.sqlite3").exists()


def test_enrol_list_and_forget_from_the_command_line(home: Path) -> None:
    school(home, matching_on=True)
    code, out, _ = cli(home, "enrol", "Barack Obama", str(PHOTOS / "obama.jpg"))
    assert code == 0 and "Enrolled Barack Obama (6T): 1 photo(s), 1 template(s)" in out
    assert "no OS keyring" in out  # said plainly where the key went
    key = home / "secrets" / "face-templates.key"
    if sys.platform != "win32":
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    code, out, _ = cli(home, "enrol", "Barack Obama 6T", str(PHOTOS / "obama2.jpg"))
    assert code == 0 and "2 template(s) in all" in out
    # Refused, and nothing stored: two faces, someone else, an ambiguous name.
    code, _, err = cli(home, "enrol", "Barack Obama", str(PHOTOS / "two_people.jpg"))
    assert code == 65 and "2 faces found" in err
    code, _, err = cli(home, "enrol", "Barack Obama", str(PHOTOS / "biden.jpg"))
    assert code == 65 and "does not look like the same person" in err
    code, _, err = cli(home, "enrol", "Amelia Thornbury", str(PHOTOS / "biden.jpg"))
    assert code == 65 and "fits 2 pupils" in err
    code, out, _ = cli(home, "faces")
    assert code == 0 and out.startswith("Barack Obama (6T)\t2 template(s)")
    assert len(out.splitlines()) == 1
    # Forgetting works with matching turned off again.
    school(home, matching_on=False)
    code, out, _ = cli(home, "forget", "Barack Obama")
    assert code == 0 and "Deleted every face template of Barack Obama (6T)" in out
    code, out, _ = cli(home, "faces")
    assert code == 0 and out == ""
    code, out, _ = cli(home, "forget", "--all")
    assert code == 0 and not key.exists() and not (home / "faces.sqlite3").exists()
