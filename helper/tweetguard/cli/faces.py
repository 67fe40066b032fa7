"""`tweetguard consent enrol|forget|faces`: reference faces for opt-in face matching.

Enrolling stores face templates (biometric data) of a pupil who must never
appear in a post, so it is refused unless the policy has matching on with the
date the school's DPIA was signed off, and it refuses anything doubtful rather
than storing it: a name that fits two pupils, a photo with no face or with two,
photos that do not look like one person. Forgetting always works, with matching
on or off, and needs no face models: deleting biometric data must never wait on
an install.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tweetguard.cli.exits import EX_CONFIG, EX_DATAERR, EX_IOERR, EX_NOINPUT, fail

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from tweetguard.stores.consent import Pupil

COMMANDS = ("enrol", "forget", "faces")
# An enrolment photo's face must be at least this wide (pixels): smaller faces make
# templates that resemble everyone a little.
MIN_ENROL_FACE = 80
# Faces are found on a copy this size on its long side (dlib's HOG detector, which
# finds front-on faces only: what a reference photo should be).
DETECT_SIZE = 1600
# Candidates named when a name fits several pupils or none.
SHOWN_CANDIDATES = 6


def add(consent_sub: Any, parser_class: type) -> None:
    """Adds the subcommands to `tweetguard consent` (cli/consent.py calls this)."""
    enrol = consent_sub.add_parser(
        "enrol",
        help="store face templates of a pupil who must never appear (face matching)",
    )
    enrol.add_argument("name", metavar="NAME", help='as in the register, e.g. "Amelia Thornbury"')
    enrol.add_argument("photos", metavar="PHOTO", nargs="+", help="photos with only their face")
    forget = consent_sub.add_parser("forget", help="delete a pupil's face templates")
    who = forget.add_mutually_exclusive_group(required=True)
    who.add_argument("name", metavar="NAME", nargs="?", help="the pupil, as enrolled")
    who.add_argument(
        "--all", action="store_true", help="delete every face template and the store's key"
    )
    consent_sub.add_parser("faces", help="list the pupils with face templates")


def run(args: argparse.Namespace, home: Path) -> int:
    if args.consent_command == "enrol":
        return cmd_enrol(home, args.name, [Path(p) for p in args.photos])
    if args.consent_command == "forget":
        return cmd_forget(home, None if args.all else args.name)
    return cmd_faces(home)


# Finding the person a name means.


class NameProblem(Exception):
    """A name that fits no one, or more than one; the message names the candidates."""


def resolve_person(query: str, pupils: Sequence[Pupil]) -> Pupil:
    """The one pupil `query` names: "Amelia Thornbury", the name the pupil is known
    by ("Millie Thornbury"), with a middle name, or followed by their class, year or
    MIS id when two share a name ("Amelia Thornbury 4RB", "Amelia Thornbury (Year 4)").

    The one place a typed name becomes a person, so staff (and whatever else the
    register comes to hold) are added here.
    """
    from tweetguard.folding import fold

    wanted = _plain(fold(query))
    if not wanted:
        raise NameProblem("give the pupil's name, as in the register")
    found: list[Pupil] = []
    for pupil in pupils:
        labels = {_plain(fold(label)) for label in _labels(pupil)}
        for name in (_plain(fold(n)) for n in _names(pupil)):
            rest = wanted.removeprefix(name).strip() if wanted.startswith(name) else None
            if rest == "" or (rest and wanted[len(name)] == " " and rest in labels):
                found.append(pupil)
                break
    if len(found) == 1:
        return found[0]
    if found:
        shown = ", ".join(f"“{_full(p)}”" for p in found[:SHOWN_CANDIDATES])
        raise NameProblem(f"“{query}” fits {len(found)} pupils; say which: {shown}")
    words = set(wanted.split())
    near = [p for p in pupils if words & {_plain(fold(n)) for n in _name_words(p)}]
    if near:
        shown = ", ".join(f"“{_full(p)}”" for p in near[:SHOWN_CANDIDATES])
        more = f" and {len(near) - SHOWN_CANDIDATES} more" if len(near) > SHOWN_CANDIDATES else ""
        raise NameProblem(f"no pupil is called “{query}”; did you mean {shown}{more}?")
    raise NameProblem(f"no pupil in the register is called “{query}”")


def display_name(pupil: Pupil) -> str:
    """The name a teacher is told: the one the pupil is known by, with their class."""
    first = pupil.preferred_name or pupil.first_name
    last = pupil.preferred_last_name or pupil.last_name
    group = pupil.class_name or pupil.group
    return f"{first} {last}" + (f" ({group})" if group else "")


def _names(pupil: Pupil) -> list[str]:
    firsts = [pupil.first_name, *([pupil.preferred_name] if pupil.preferred_name else [])]
    lasts = [pupil.last_name, *([pupil.preferred_last_name] if pupil.preferred_last_name else [])]
    names = [f"{f} {s}" for f in firsts for s in lasts]
    if pupil.middle_names:
        names.append(f"{pupil.first_name} {pupil.middle_names} {pupil.last_name}")
    return names


def _name_words(pupil: Pupil) -> list[str]:
    return [w for n in _names(pupil) for w in n.split()]


def _labels(pupil: Pupil) -> list[str]:
    return [v for v in (pupil.class_name, pupil.group, pupil.year_group, pupil.pupil_id) if v]


def _full(pupil: Pupil) -> str:
    label = pupil.class_name or pupil.group or pupil.pupil_id
    return f"{pupil.first_name} {pupil.last_name}" + (f" {label}" if label else "")


def _plain(text: str) -> str:
    """Brackets and commas dropped, spaces collapsed: "Thornbury, Amelia (4RB)" reads
    as words."""
    return " ".join(text.replace("(", " ").replace(")", " ").replace(",", " ").split())


# Commands.


def cmd_enrol(home: Path, name: str, photos: list[Path]) -> int:
    from tweetguard.checks.photos.matching import available
    from tweetguard.stores.home import policy_path
    from tweetguard.stores.policy import PolicyError, load_policy

    try:
        policy = load_policy(policy_path(home))
    except PolicyError as exc:
        return fail(EX_CONFIG, f"{exc}; fix it (`tweetguard policy check`) before enrolling")
    if not policy.photos.matching:
        return fail(
            EX_CONFIG,
            f"face matching is off; once the school's data protection impact assessment is "
            f"signed off, set [photos] matching = true and dpia_signed = <its date> in "
            f"{policy_path(home)} (see docs/face-matching.md)",
        )
    reason = available()
    if reason:
        return fail(EX_CONFIG, reason)
    pupil_or_exit = _pupil(home, name)
    if isinstance(pupil_or_exit, int):
        return pupil_or_exit
    pupil = pupil_or_exit
    return _enrol(home, pupil, photos, policy.photos)


def _pupil(home: Path, name: str) -> Pupil | int:
    import sqlite3

    from tweetguard.stores.consent import ConsentRegister
    from tweetguard.stores.home import register_path

    register = ConsentRegister(register_path(home))
    if not register.path.exists():
        return fail(
            EX_NOINPUT,
            f"no consent register in {home}; import one with `tweetguard consent import FILE`",
        )
    try:
        pupils = register.load(derived=False)[0]
    except sqlite3.Error as exc:
        return fail(EX_IOERR, f"the consent register {register.path} cannot be read ({exc})")
    finally:
        register.close()
    try:
        return resolve_person(name, pupils)
    except NameProblem as exc:
        return fail(EX_DATAERR, str(exc))


def _enrol(home: Path, pupil: Pupil, photos: list[Path], settings: Any) -> int:
    import numpy as np

    from tweetguard.checks.photos.matching import describe
    from tweetguard.stores.consent import person_ref
    from tweetguard.stores.face_templates import FaceTemplates, TemplatesError
    from tweetguard.stores.secrets import SecretsError, secret_store

    new: list[npt.NDArray[np.float32]] = []
    for path in photos:
        found = _face(path)
        if isinstance(found, str):
            return fail(EX_DATAERR, f"{path}: {found}; nothing was enrolled")
        rgb, box = found
        descriptor = describe(rgb, [box])[0]
        if descriptor is None:
            return fail(EX_DATAERR, f"{path}: the face cannot be read; nothing was enrolled")
        new.append(descriptor)
    store = FaceTemplates(home)
    ref = person_ref(pupil)
    name = display_name(pupil)
    try:
        enrolled = store.people()
        own = [p.descriptors for p in enrolled if p.ref == ref]
        mine = np.vstack([*own, *[d.reshape(1, -1) for d in new]])
        # Photos of one person lie close together; one that does not is most likely
        # someone else's photo, and would make the matcher block the wrong child.
        for i, descriptor in enumerate(new):
            distances = np.linalg.norm(mine - descriptor, axis=1)
            worst = float(distances.max())
            if worst >= settings.uncertain_threshold:
                return fail(
                    EX_DATAERR,
                    f"{photos[i]} does not look like the same person as the other photo(s) "
                    f"of {name} (distance {worst:.2f}); check it is their photo. "
                    "Nothing was enrolled",
                )
        for other in enrolled:
            if other.ref == ref:
                continue
            nearest = min(float(np.linalg.norm(other.descriptors - d, axis=1).min()) for d in new)
            if nearest < settings.match_threshold:
                print(
                    f"Note: {name} looks very like {other.name}, who is enrolled too "
                    f"(distance {nearest:.2f}); the matcher may name either of them.",
                    file=sys.stderr,
                )
        total = store.add(ref, name, new)
        where = secret_store(home).describe()
    except (TemplatesError, SecretsError) as exc:
        return fail(EX_IOERR, f"{exc}; nothing was enrolled")
    print(
        f"Enrolled {name}: {len(new)} photo(s), {total} template(s) in all. Posts with a photo "
        f"that may show them are held. Templates are encrypted in {store.path}; the key is in "
        f"{where}. The photos themselves were not kept."
    )
    return 0


def _face(path: Path) -> tuple[npt.NDArray[np.uint8], tuple[int, int, int, int]] | str:
    """The picture and its one face's box, or why it cannot be enrolled."""
    import importlib

    import numpy as np
    from PIL import ImageOps

    from tweetguard.checks.photos.decode import Unreadable, open_picture

    try:
        # The same safe opening as an attached photo: header first, pixel cap, HEIC.
        opened = open_picture(path.read_bytes())
        picture = ImageOps.exif_transpose(opened).convert("RGB")
    except FileNotFoundError:
        return "no such file"
    except Unreadable as exc:
        return f"cannot be read as a photo ({exc})"[:160]
    except (OSError, ValueError, SyntaxError) as exc:
        return f"cannot be read as a photo ({exc})"[:160]
    scale = min(1.0, DETECT_SIZE / max(picture.size))
    small = picture.resize(
        (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    )
    dlib = importlib.import_module("dlib")
    rects = list(dlib.get_frontal_face_detector()(np.asarray(small), 1))
    if not rects:
        return "no front-on face found; use a clear photo of the pupil facing the camera"
    if len(rects) > 1:
        return f"{len(rects)} faces found; crop the photo to the pupil's face alone"
    r = rects[0]
    box = tuple(round(v / scale) for v in (r.left(), r.top(), r.right(), r.bottom()))
    if box[2] - box[0] < MIN_ENROL_FACE:
        return (
            f"the face is only {box[2] - box[0]} pixels wide; use a photo where it is "
            f"at least {MIN_ENROL_FACE}"
        )
    return np.asarray(picture), (box[0], box[1], box[2], box[3])


def cmd_forget(home: Path, name: str | None) -> int:
    from tweetguard.stores.face_templates import FaceTemplates, TemplatesError
    from tweetguard.stores.secrets import SecretsError

    store = FaceTemplates(home)
    if name is None:
        try:
            count = store.forget_all()
        except SecretsError as exc:
            return fail(EX_IOERR, f"the templates were deleted but not the key: {exc}")
        print(f"Deleted the face template store ({count} pupil(s)) and its key.")
        return 0
    try:
        enrolled = store.people()
    except (TemplatesError, SecretsError) as exc:
        return fail(EX_IOERR, str(exc))
    target = _forget_target(home, name, enrolled)
    if isinstance(target, int):
        return target
    ref, shown = target
    try:
        deleted = store.forget(ref)
    except (TemplatesError, SecretsError) as exc:
        return fail(EX_IOERR, str(exc))
    if not deleted:
        print(f"{shown} has no face templates; nothing to delete.")
        return 0
    print(f"Deleted every face template of {shown}.")
    return 0


def _forget_target(home: Path, name: str, enrolled: Sequence[Any]) -> tuple[str, str] | int:
    """The ref to forget: the register's pupil by that name, else an enrolled name (a
    pupil who has left the register can still be forgotten)."""
    from tweetguard.folding import fold
    from tweetguard.stores.consent import ConsentRegister, person_ref
    from tweetguard.stores.home import register_path

    register = ConsentRegister(register_path(home))
    problem: NameProblem | None = None
    try:
        pupils = register.load(derived=False)[0] if register.path.exists() else []
    finally:
        register.close()
    try:
        pupil = resolve_person(name, pupils)
        return person_ref(pupil), display_name(pupil)
    except NameProblem as exc:
        problem = exc
    wanted = _plain(fold(name))
    left = [
        p for p in enrolled if wanted in (_plain(fold(p.name)), _plain(fold(p.name.split(" (")[0])))
    ]
    if len(left) == 1:
        return left[0].ref, left[0].name
    if len(left) > 1:
        shown = ", ".join(f"“{p.name}”" for p in left)
        return fail(EX_DATAERR, f"“{name}” fits {len(left)} enrolled pupils; say which: {shown}")
    return fail(EX_DATAERR, str(problem))


def cmd_faces(home: Path) -> int:
    from tweetguard.stores.consent import ConsentRegister, person_ref
    from tweetguard.stores.face_templates import FaceTemplates, TemplatesError
    from tweetguard.stores.home import register_path
    from tweetguard.stores.secrets import SecretsError

    store = FaceTemplates(home)
    try:
        enrolled = store.people()
    except (TemplatesError, SecretsError) as exc:
        return fail(EX_IOERR, str(exc))
    register = ConsentRegister(register_path(home))
    try:
        pupils = register.load(derived=False)[0] if register.path.exists() else []
    finally:
        register.close()
    current = {person_ref(p) for p in pupils}
    for person in enrolled:
        gone = "" if person.ref in current else "\tnot in the register: forget them?"
        print(
            f"{person.name}\t{len(person.descriptors)} template(s)\t"
            f"enrolled {person.enrolled_at[:10]}{gone}"
        )
    print(f"{len(enrolled)} pupil(s) with face templates in {store.path}", file=sys.stderr)
    return 0
