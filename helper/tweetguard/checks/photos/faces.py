"""Counting faces: CenterFace (MIT, shipped in models/) through OpenCV's dnn module.

Missing a face is the dangerous error, so the detector was chosen for recall on
small and profile faces (docs/photos.md has the measurements). The model is
loaded on the first photo, not at start: most posts have none, and the helper's
idle memory stays small. One network per process, used under a lock (cv2.dnn
nets are not thread-safe; the photo worker is the only caller anyway).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy and Pillow load with the first photo, not with the helper
    from PIL import Image

MODEL = Path(__file__).with_name("models") / "centerface.onnx"
# Heatmap score above which a point is a face centre. 0.5 found every face of the
# measured group photos with no false ones (docs/photos.md).
THRESHOLD = 0.5
# Boxes overlapping more than this are one face.
NMS_OVERLAP = 0.3

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Face:
    box: Box  # x0, y0, x1, y1 in the upright original's pixels
    score: float


_lock = threading.Lock()


@cache
def _net() -> Any:
    import cv2

    cv2.setNumThreads(2)
    return cv2.dnn.readNetFromONNX(str(MODEL))


def loaded() -> bool:
    return _net.cache_info().currsize > 0


def release() -> None:
    """Drops the network and its buffers (about 200 MB at 1024 px) and hands the
    memory back to the system. The helper calls this once photos stop coming: it
    lives as long as the browser, and reloading costs about 20 ms."""
    with _lock:
        if not loaded():
            return
        _net.cache_clear()
    import gc

    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc (macOS, Windows): the allocator returns memory its own way


def detect(picture: Image.Image, scale_back: float = 1.0) -> list[Face]:
    """Faces in `picture` (RGB), with boxes multiplied by `scale_back` and rounded."""
    import cv2
    import numpy as np

    rgb = np.asarray(picture.convert("RGB"))
    height, width = rgb.shape[:2]
    # The network wants sides divisible by 32; pad rather than stretch.
    padded_h, padded_w = -(-height // 32) * 32, -(-width // 32) * 32
    if (padded_h, padded_w) != (height, width):
        canvas = np.zeros((padded_h, padded_w, 3), dtype=np.uint8)
        canvas[:height, :width] = rgb
        rgb = canvas
    blob = cv2.dnn.blobFromImage(rgb, 1.0, (padded_w, padded_h), (0, 0, 0), False, False)
    with _lock:
        net = _net()
        net.setInput(blob)
        heatmap, box_scale, offset, _landmarks = net.forward(["537", "538", "539", "540"])
    faces = _decode(heatmap, box_scale, offset, width, height)
    return [
        Face(
            box=(
                round(f.box[0] * scale_back),
                round(f.box[1] * scale_back),
                round(f.box[2] * scale_back),
                round(f.box[3] * scale_back),
            ),
            score=f.score,
        )
        for f in faces
    ]


def _decode(heatmap: Any, box_scale: Any, offset: Any, width: int, height: int) -> list[_RawFace]:
    import cv2
    import numpy as np

    heat = heatmap[0, 0]
    rows, cols = np.nonzero(heat > THRESHOLD)
    if not len(rows):
        return []
    scores = heat[rows, cols]
    s0 = np.exp(box_scale[0, 0, rows, cols]) * 4
    s1 = np.exp(box_scale[0, 1, rows, cols]) * 4
    o0 = offset[0, 0, rows, cols]
    o1 = offset[0, 1, rows, cols]
    x0 = np.clip((cols + o1 + 0.5) * 4 - s1 / 2, 0, width)
    y0 = np.clip((rows + o0 + 0.5) * 4 - s0 / 2, 0, height)
    x1 = np.minimum(x0 + s1, width)
    y1 = np.minimum(y0 + s0, height)
    rects = [
        [float(a), float(b), float(c - a), float(d - b)]
        for a, b, c, d in zip(x0, y0, x1, y1, strict=True)
    ]
    keep = cv2.dnn.NMSBoxes(rects, [float(s) for s in scores], THRESHOLD, NMS_OVERLAP)
    found = []
    for index in np.asarray(keep).reshape(-1):
        i = int(index)
        found.append(
            _RawFace((float(x0[i]), float(y0[i]), float(x1[i]), float(y1[i])), float(scores[i]))
        )
    found.sort(key=lambda f: (f.box[0], f.box[1]))
    return found


@dataclass(frozen=True)
class _RawFace:
    box: tuple[float, float, float, float]
    score: float
