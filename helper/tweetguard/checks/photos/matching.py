"""Opt-in face matching: is anyone in this photo a pupil who must never appear?

Off unless policy.toml's [photos] says `matching = true` with the date the
school's data protection impact assessment was signed off (stores/policy.py):
face templates of children are biometric data. When it is on, the safeguarding
lead enrols reference photos of the pupils who must never appear
(`tweetguard consent enrol`), and every face of an attached photo is compared
with them here.

How a face becomes a descriptor: dlib's 5-point shape predictor finds the eyes
and nose, and dlib's ResNet model turns the aligned 150x150 face chip into 128
numbers; the same person's numbers lie close together (Euclidean distance).
The models are the ones `face-recognition-models` ships (public domain, by
Davis King); the 68-point predictor in the same package is never loaded, its
training data forbids commercial use. dlib is called directly, without the
`face_recognition` package, which would build dlib from source.

Boxes come from whichever detector found the faces (CenterFace in the helper,
dlib's HOG detector at enrolment). Detectors draw boxes differently, and the
descriptor moves with the box by as much as 0.1, a fifth of the gap between
"same" and "different". So a box only seeds the landmarks: the face is then
re-boxed from its own eyes and nose, the way dlib's detector boxes faces, and
the landmarks found again in that box. Any detector's box then gives (nearly)
the same descriptor (docs/face-matching.md has the measurements).

The thresholds (policy: match_threshold, uncertain_threshold) were calibrated
on real photos; see docs/face-matching.md. The models load on the first match,
once per process, and only when matching is on: most schools never load them.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from tweetguard.stores.policy import PhotoSettings

Box = tuple[int, int, int, int]
Descriptor = npt.NDArray[np.float32]

# A face is re-boxed from its landmarks as dlib's HOG detector would box it: a
# square this many eye-distances wide, its centre this many eye-distances below
# the landmarks' centre (medians over 84 faces, docs/face-matching.md).
BOX_PER_EYES = 2.55
BOX_BELOW_EYES = 0.31
# A face larger than this (pixels across) is scaled down before the landmarks are
# found: the chip is 150 px, and scaling a 2000 px face down inside dlib costs
# more time than doing it here once.
MAX_FACE = 320
# A box narrower than this is not a face anyone can recognise, or compare.
MIN_FACE = 4
# Around each box, this much of its size on each side is taken with it, so the
# re-boxed square and the chip's padding fit inside the crop.
CROP_MARGIN = 1.0


class MatchingOff(Exception):
    """A Matcher was asked for while the policy has matching off."""


@dataclass(frozen=True)
class FaceMatch:
    """An enrolled person whom one face of the photo resembles.

    face: index into the boxes given to `match`; ref: the person's ref
    (stores.consent.person_ref); name: the name they were enrolled under, for the
    teacher; distance: between the face and the person's nearest template;
    confident: under the match threshold (block and name them), else under the
    uncertain threshold (ask the teacher, never pass silently).
    """

    face: int
    ref: str
    name: str
    distance: float
    confident: bool


def available() -> str | None:
    """None when matching can run here; otherwise one line for IT saying what is missing."""
    try:
        importlib.import_module("dlib")
    except ImportError:
        return "face matching needs dlib: install tweetguard[matching] (the dlib-bin wheel)"
    except Exception as exc:  # a broken binary wheel raises anything at import
        return f"dlib is installed but cannot load ({type(exc).__name__}: {exc})"
    try:
        paths = _model_paths()
    except ImportError:
        return "face matching needs face-recognition-models: install tweetguard[matching]"
    for path in paths:
        if not Path(path).is_file():
            return f"the face model {path} is missing: reinstall face-recognition-models"
    for module, package in (("cryptography", "cryptography"), ("keyring", "keyring")):
        try:
            importlib.import_module(module)
        except ImportError:
            return f"face matching needs {package}: install tweetguard[matching]"
    return None


def models_loaded() -> bool:
    """Whether this process has loaded the matching models (tests check it has not)."""
    return _models.cache_info().currsize > 0


def describe(
    rgb: npt.NDArray[np.uint8],
    boxes: Sequence[Box],
    progress: Callable[[int, int], None] | None = None,
) -> list[Descriptor | None]:
    """One descriptor per box (None for a box too small or outside the picture).

    rgb is the upright picture (H, W, 3); boxes are (x0, y0, x1, y1) in its pixels.
    `progress(done, total)` is called after each face: a class photo takes seconds.
    """
    picture = _checked(rgb)
    models = _models()
    total = len(boxes)
    out: list[Descriptor | None] = []
    for done, box in enumerate(boxes, start=1):
        out.append(_describe_one(models, picture, box))
        if progress is not None:
            progress(done, total)
    return out


class Matcher:
    """Compares faces with the enrolled templates of one data folder.

    Construct it only when the policy has matching on (MatchingOff otherwise).
    The templates are read from the encrypted store on first use and again
    whenever an enrolment or a forget has changed the store since.
    """

    def __init__(self, home: Path, settings: PhotoSettings) -> None:
        if not settings.matching:
            raise MatchingOff("face matching is off in policy.toml ([photos] matching)")
        from tweetguard.stores.face_templates import FaceTemplates

        self._store = FaceTemplates(home)
        self._match_threshold = settings.match_threshold
        self._uncertain_threshold = settings.uncertain_threshold
        self._version: tuple[str, int] | None = None
        self._refs: list[str] = []
        self._names: list[str] = []
        self._starts: npt.NDArray[np.intp] = np.zeros(0, dtype=np.intp)
        self._templates: npt.NDArray[np.float32] = np.zeros((0, 128), dtype=np.float32)
        self._lock = threading.Lock()

    def enrolled(self) -> int:
        """How many people are enrolled (reads the store when it has changed)."""
        with self._lock:
            self._refresh()
            return len(self._refs)

    def match(
        self,
        rgb: npt.NDArray[np.uint8],
        boxes: Sequence[Box],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[FaceMatch]:
        """At most one match per face: the nearest enrolled person, when nearer
        than the uncertain threshold. With nobody enrolled no model is loaded."""
        with self._lock:
            self._refresh()
            refs, names = self._refs, self._names
            starts, templates = self._starts, self._templates
        if not refs:
            if progress is not None:
                progress(len(boxes), len(boxes))
            return []
        matches = []
        for face, descriptor in enumerate(describe(rgb, boxes, progress)):
            if descriptor is None:
                continue
            distances = np.linalg.norm(templates - descriptor, axis=1)
            per_person = np.minimum.reduceat(distances, starts)
            nearest = int(np.argmin(per_person))
            distance = float(per_person[nearest])
            if distance < self._uncertain_threshold:
                matches.append(
                    FaceMatch(
                        face=face,
                        ref=refs[nearest],
                        name=names[nearest],
                        distance=round(distance, 4),
                        confident=distance < self._match_threshold,
                    )
                )
        return matches

    def _refresh(self) -> None:
        version = self._store.version()
        if version == self._version:
            return
        people = self._store.people()
        self._refs = [p.ref for p in people]
        self._names = [p.name for p in people]
        sizes = [len(p.descriptors) for p in people]
        self._starts = np.cumsum([0, *sizes[:-1]]).astype(np.intp)
        self._templates = (
            np.vstack([p.descriptors for p in people]).astype(np.float32)
            if people
            else np.zeros((0, 128), dtype=np.float32)
        )
        self._version = version


# The models, once per process.


@dataclass(frozen=True)
class _Models:
    shapes: Any  # dlib.shape_predictor (5 points)
    net: Any  # dlib.face_recognition_model_v1
    dlib: Any
    lock: threading.Lock


def _model_paths() -> tuple[str, str]:
    models = importlib.import_module("face_recognition_models")
    return (
        str(models.pose_predictor_five_point_model_location()),
        str(models.face_recognition_model_location()),
    )


@cache
def _models() -> _Models:
    dlib = importlib.import_module("dlib")
    shapes_path, net_path = _model_paths()
    return _Models(
        shapes=dlib.shape_predictor(shapes_path),
        net=dlib.face_recognition_model_v1(net_path),
        dlib=dlib,
        lock=threading.Lock(),
    )


def _checked(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    array = np.asarray(rgb)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(f"expected an RGB picture (H, W, 3) of uint8, got {array.shape}")
    return array


def _describe_one(models: _Models, picture: npt.NDArray[np.uint8], box: Box) -> Descriptor | None:
    height, width = picture.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    x0, x1 = max(0.0, min(x0, x1)), min(float(width), max(x0, x1))
    y0, y1 = max(0.0, min(y0, y1)), min(float(height), max(y0, y1))
    side = max(x1 - x0, y1 - y0)
    if x1 - x0 < MIN_FACE or y1 - y0 < MIN_FACE:
        return None
    # The crop: the box with a margin, cut out (and scaled down, for a large face)
    # so dlib never walks a 12-megapixel array.
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    reach = side * (0.5 + CROP_MARGIN)
    left, top = max(0, int(cx - reach)), max(0, int(cy - reach))
    right, bottom = min(width, int(cx + reach) + 1), min(height, int(cy + reach) + 1)
    crop = picture[top:bottom, left:right]
    scale = min(1.0, MAX_FACE / side)
    if scale < 1.0:
        from PIL import Image

        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        crop = np.asarray(
            Image.fromarray(crop).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
        )
    crop = np.ascontiguousarray(crop)
    # The seed: a square as wide as the box, on its centre (a detector's box may be
    # taller than wide, with forehead and chin).
    fx, fy = (cx - left) * scale, (cy - top) * scale
    half = (x1 - x0) * scale / 2
    dlib = models.dlib
    with models.lock:
        shape = models.shapes(crop, _rect(dlib, fx, fy, half))
        shape = models.shapes(crop, _reboxed(dlib, shape))
        vector = models.net.compute_face_descriptor(crop, shape, 0)
    return np.asarray(vector, dtype=np.float32)


def _rect(dlib: Any, cx: float, cy: float, half: float) -> Any:
    return dlib.rectangle(round(cx - half), round(cy - half), round(cx + half), round(cy + half))


def _reboxed(dlib: Any, shape: Any) -> Any:
    """The square dlib's detector would have drawn around these landmarks."""
    points = np.array([(shape.part(i).x, shape.part(i).y) for i in range(5)], dtype=float)
    eye_a, eye_b = points[0:2].mean(axis=0), points[2:4].mean(axis=0)
    eyes = max(1.0, float(np.linalg.norm(eye_a - eye_b)))
    cx, cy = points.mean(axis=0)
    return _rect(dlib, float(cx), float(cy) + BOX_BELOW_EYES * eyes, BOX_PER_EYES * eyes / 2)
