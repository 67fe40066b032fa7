"""Face matching: how long a 12-megapixel photo takes, and where the thresholds come from.

    .venv/bin/python bench/matching.py                 # speed, medians (tests/data/photos)
    .venv/bin/python bench/matching.py --calibrate DIR # distances, same vs different people

Speed: a 4000x3000 JPEG is built from the committed test photos (1, 2 or 6 real
faces, or a 30-face class photo of tiles) and taken through what the helper does:
decode (libjpeg's reduced decode), CenterFace on a 1.2 MP copy, then matching
every face against 50 enrolled people (3 templates each; one is really Obama,
the rest are random descriptors: comparing costs nothing next to describing).

Calibration: every front-on face dlib's HOG detector finds in DIR (the layout of
the project's shared faces folder: face_recognition's examples and group/) is
described, and the distances of pairs of the same person and of different people
are summarised. Who is who: face_recognition's photos by file name; dlib's
bald_guys.jpg holds six photos each of four men (labelled by eye, below); every
other face in group/ is a different person.
"""

from __future__ import annotations

import argparse
import io
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "helper"))
PHOTOS = ROOT / "tests" / "data" / "photos"

# bald_guys.jpg at 1600 px wide: face centres of each of the four men.
BALD_GUYS = {
    "A": [(117, 131), (106, 1104), (117, 375), (519, 416), (502, 158), (309, 240)],
    "B": [(117, 633), (324, 420), (396, 748), (319, 91), (762, 389), (762, 160)],
    "C": [(691, 726), (919, 676), (957, 922), (355, 1099), (690, 1077), (109, 850)],
    "D": [(1220, 1137), (932, 1121), (1514, 400), (1369, 606), (1285, 216), (1517, 1104)],
}


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def load(path: Path) -> Image.Image:
    with Image.open(path) as opened:
        return ImageOps.exif_transpose(opened).convert("RGB")


def twelve_megapixels(faces: int) -> bytes:
    """A 4000x3000 JPEG with this many real faces (1, 2, 6 or 30)."""
    # A real photo's colours behind the faces (blurred past any face, with
    # sensor-like noise), so the JPEG costs what a camera's does to decode.
    blurred = load(PHOTOS / "two_people.jpg").resize((400, 300)).filter(ImageFilter.BoxBlur(40))
    background = np.asarray(blurred.resize((4000, 3000)), dtype=np.int16)
    noise = np.random.default_rng(12).normal(0, 6, background.shape).astype(np.int16)
    canvas = Image.fromarray(np.clip(background + noise, 0, 255).astype(np.uint8))
    if faces == 30:
        tile = load(PHOTOS / "obama2.jpg").crop((120, 200, 500, 640)).resize((380, 440))
        others = [
            load(PHOTOS / n).resize((380, 440))
            for n in ("alex-lacamoire.jpg", "lin-manuel-miranda.jpg", "obama_small.jpg")
        ]
        for i in range(30):
            x, y = 180 + (i % 10) * 380, 400 + (i // 10) * 760
            canvas.paste(tile if i % 4 == 0 else others[i % 3], (x, y))
    else:
        canvas.paste(load(PHOTOS / "obama2.jpg").resize((1252, 2400)), (100, 300))
        if faces >= 2:
            canvas.paste(load(PHOTOS / "two_people.jpg").resize((2252, 1322)), (1600, 200))
        if faces >= 6:
            canvas.paste(load(PHOTOS / "biden.jpg").resize((485, 1102)), (1650, 1700))
            canvas.paste(load(PHOTOS / "alex-lacamoire.jpg"), (2300, 1800))
            canvas.paste(load(PHOTOS / "lin-manuel-miranda.jpg"), (3000, 1700))
            canvas.paste(load(PHOTOS / "obama_small.jpg").resize((640, 480)), (2400, 2400))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=90)
    return out.getvalue()


def speed(runs: int) -> None:
    import keyring
    from keyring.backends import null

    from tweetguard.checks.photos import matching
    from tweetguard.checks.photos.decode import decode, work_copy
    from tweetguard.checks.photos.faces import detect
    from tweetguard.stores.face_templates import FaceTemplates
    from tweetguard.stores.policy import PhotoSettings

    keyring.set_keyring(null.Keyring())  # type: ignore[no-untyped-call]  # the bench never touches the real keyring
    home = Path(tempfile.mkdtemp(prefix="tweetguard-bench-"))
    start = time.perf_counter()
    obama = load(PHOTOS / "obama.jpg")
    boxes = [f.box for f in detect(obama)]
    print(f"models load + first descriptor: {(time.perf_counter() - start) * 1000:.0f} ms")
    real = matching.describe(np.asarray(obama), boxes)[0]
    assert real is not None
    store = FaceTemplates(home)
    rng = np.random.default_rng(8)
    store.add("pupil:obama", "Barack Obama", [real, real, real])
    for n in range(49):
        fake = rng.normal(0, 0.09, (3, 128)).astype(np.float32)
        store.add(f"pupil:{n:012d}", f"Pupil {n}", list(fake))
    settings = PhotoSettings(matching=True, dpia_signed=date(2026, 9, 14))
    matcher = matching.Matcher(home, settings)
    print(f"enrolled: {matcher.enrolled()} people, 150 templates; medians of {runs} runs\n")
    print("faces  decode  detect  match  per face  total (ms)  matched")
    print("       (12 MP)  (1.2 MP)   (50 people)")
    for faces in (1, 2, 6, 30):
        data = twelve_megapixels(faces)
        decoded = decode(data)
        rgb = np.asarray(decoded.image)
        work, back = work_copy(decoded)
        # Boxes in the decoded picture's pixels (decode reduces a 12 MP JPEG to half).
        to_decoded = back * decoded.image.width / decoded.width
        found = [
            tuple(round(v * to_decoded) for v in f.box)
            for f in detect(work)  # boxes in the work copy's pixels
        ]
        result = matcher.match(rgb, found)  # type: ignore[arg-type]
        t_decode = median_ms(lambda d=data: decode(d), runs)  # type: ignore[misc]
        t_detect = median_ms(lambda w=work: detect(w), runs)  # type: ignore[misc]
        t_match = median_ms(
            lambda p=rgb, b=found: matcher.match(p, b),  # type: ignore[misc]
            runs,
        )
        total = t_decode + t_detect + t_match
        names = sorted({m.name for m in result})
        print(
            f"{len(found):>5}  {t_decode:>6.0f}  {t_detect:>6.0f}  {t_match:>5.0f}  "
            f"{t_match / max(1, len(found)):>8.0f}  {total:>10.0f}  {', '.join(names) or '-'}"
        )


def calibrate(folder: Path) -> None:
    import importlib

    from tweetguard.checks.photos import matching

    dlib: Any = importlib.import_module("dlib")

    detector = dlib.get_frontal_face_detector()
    faces: list[tuple[str, str, np.ndarray, int]] = []  # who, where, descriptor, width
    files = sorted(folder.glob("*.jpg")) + sorted(folder.glob("*.png"))
    files += sorted((folder / "group").glob("*.jpg"))
    for path in files:
        image = load(path)
        scale = min(1.0, 1600 / max(image.size))
        image = image.resize((round(image.width * scale), round(image.height * scale)))
        rgb = np.asarray(image)
        boxes = [(r.left(), r.top(), r.right(), r.bottom()) for r in detector(rgb, 1)]
        for i, (box, vector) in enumerate(zip(boxes, matching.describe(rgb, boxes), strict=True)):
            if vector is None:
                continue
            faces.append((_who(path, box, i), f"{path.name}#{i}", vector, box[2] - box[0]))
    same: list[float] = []
    different: list[float] = []
    ref_same: list[float] = []
    ref_different: list[float] = []
    for (a, _, va, wa), (b, _, vb, wb) in itertools.combinations(faces, 2):
        distance = float(np.linalg.norm(va - vb))
        (same if a == b else different).append(distance)
        if max(wa, wb) >= 100:  # one of them is reference-like, as an enrolment photo is
            (ref_same if a == b else ref_different).append(distance)
    people = len({f[0] for f in faces})
    print(f"{len(faces)} faces of {people} people in {folder}")
    for label, s, d in (
        ("all pairs", same, different),
        ("one face >= 100 px", ref_same, ref_different),
    ):
        s_arr, d_arr = np.array(s), np.array(d)
        print(f"\n{label}: {len(s)} same-person pairs, {len(d)} different-person pairs")
        print(
            f"  same:      min {s_arr.min():.3f}  median {np.median(s_arr):.3f}  "
            f"95th pct {np.percentile(s_arr, 95):.3f}  max {s_arr.max():.3f}"
        )
        print(
            f"  different: min {d_arr.min():.3f}  1st pct {np.percentile(d_arr, 1):.3f}  "
            f"median {np.median(d_arr):.3f}  max {d_arr.max():.3f}"
        )
        print("  threshold  same missed  different under")
        for t in (0.40, 0.45, 0.50, 0.55, 0.60, 0.65):
            print(
                f"  {t:.2f}       {(s_arr >= t).mean():>6.1%}       "
                f"{int((d_arr < t).sum()):>4} ({(d_arr < t).mean():.2%})"
            )
    edges = np.arange(0.0, 1.25, 0.05)
    print("\nhistogram (all pairs), bins of 0.05 from 0:")
    print("  same:     ", np.histogram(same, edges)[0].tolist())
    print("  different:", np.histogram(different, edges)[0].tolist())


def _who(path: Path, box: tuple[int, int, int, int], index: int) -> str:
    name = path.name
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    if name.startswith("obama"):
        return "obama"
    if name == "biden.jpg":
        return "biden"
    if name == "two_people.jpg":  # Obama on the left, Biden on the right
        return "biden" if cx > 563 else "obama"
    if name == "dlib_bald_guys.jpg":
        return min(
            ((who, (cx - x) ** 2 + (cy - y) ** 2) for who, xs in BALD_GUYS.items() for x, y in xs),
            key=lambda item: item[1],
        )[0]
    return f"{name}#{index}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--calibrate", metavar="DIR", type=Path)
    args = parser.parse_args()
    if args.calibrate:
        calibrate(args.calibrate)
    else:
        speed(args.runs)


if __name__ == "__main__":
    main()
