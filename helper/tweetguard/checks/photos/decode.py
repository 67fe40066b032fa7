"""Opening an attached file as a picture, safely and fast.

Everything a teacher attaches is untrusted: the header is read first and a
picture claiming more than MAX_PIXELS is refused before any pixel is decoded
(a 50 kB PNG can claim 2 gigapixels). Large JPEGs are decoded at reduced size
(libjpeg's DCT scaling), which halves the time of a 12 MP photo, because face
detection runs at 1024 px anyway. The EXIF rotation is applied before anything
looks at the pixels, so boxes are in the picture as people see it.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageOps, UnidentifiedImageError

# X accepts photos up to 8192 x 8192 (67 MP); leave room, refuse beyond.
MAX_PIXELS = 100_000_000
# Faces are looked for in about this many pixels (1024 x 768 for a 4:3 photo):
# decoding much more is wasted time. A panorama keeps its height, up to MAX_WORK_SIDE.
WORK_AREA = 1280 * 960
MAX_WORK_SIDE = 4096
# Frames of an animation looked at (evenly spaced, the first always).
MAX_FRAMES = 8
# Orientations (EXIF 0x0112) that turn the picture a quarter, swapping width and height.
_QUARTER_TURNS = (5, 6, 7, 8)


class Unreadable(Exception):
    """The file cannot be read as a picture; the message says why, for a teacher."""


class TooManyPixels(Unreadable):
    def __init__(self, pixels: int) -> None:
        super().__init__(f"{pixels / 1e6:.0f} megapixels")
        self.pixels = pixels


@dataclass(frozen=True)
class Decoded:
    """A picture opened for checking.

    `image` is upright RGB, perhaps decoded at reduced size (a large JPEG);
    `width`/`height` are the upright original's, which boxes are given in.
    """

    image: Image.Image
    width: int
    height: int
    format: str
    source: Image.Image  # the opened file, for its metadata (not decoded further)


@cache
def _register_heif() -> bool:
    """HEIC (iPhone photos) through pillow-heif when it is installed."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        return False
    register_heif_opener()
    return True


def open_picture(data: bytes) -> Image.Image:
    """The file opened (header only), or Unreadable."""
    _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(_claimed_pixels(str(exc))) from None
    except Image.DecompressionBombWarning as exc:
        raise TooManyPixels(_claimed_pixels(str(exc))) from None
    except UnidentifiedImageError:
        kind = _looks_like(data)
        raise Unreadable(f"a damaged {kind} file" if kind else "not a picture file") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise Unreadable(f"damaged file: {exc}"[:120]) from None
    pixels = image.width * image.height
    if pixels > MAX_PIXELS:
        raise TooManyPixels(pixels)
    return image


_SIGNATURES = (
    (b"\xff\xd8", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF8", "GIF"),
    (b"RIFF", "WebP"),
)


def _looks_like(data: bytes) -> str | None:
    """What a file that Pillow cannot open says it is, so the teacher hears
    "a damaged PNG file" rather than "not a picture"."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[4:8] == b"ftyp":
        return "HEIC" if data[8:12] in (b"heic", b"heix", b"mif1", b"msf1") else "video"
    return None


def _claimed_pixels(message: str) -> int:
    digits = [int(w) for w in message.replace("(", " ").split() if w.isdigit()]
    return digits[0] if digits else MAX_PIXELS + 1


def upright_size(image: Image.Image) -> tuple[int, int]:
    orientation = image.getexif().get(0x0112, 1)
    if orientation in _QUARTER_TURNS:
        return image.height, image.width
    return image.width, image.height


def work_size(width: int, height: int) -> tuple[int, int]:
    """The size faces are looked for at: about WORK_AREA pixels whatever the shape,
    so a panorama's faces are not shrunk away (a long side of 1024 would make the
    faces of a 6000 x 1500 photo a quarter of their size in a 4:3 one)."""
    scale = math.sqrt(WORK_AREA / max(1, width * height))
    scale = min(scale, MAX_WORK_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def decode(data: bytes, *, reduce: bool = True) -> Decoded:
    """Opens and decodes the picture (the first frame of a GIF or animated WebP).

    With `reduce`, a large JPEG is decoded at 1/2, 1/4 or 1/8 size, never below
    the size faces are looked for at.
    """
    source = open_picture(data)
    width, height = upright_size(source)
    fmt = source.format or "unknown"
    image = source
    try:
        if reduce and fmt == "JPEG":
            target_w, target_h = work_size(source.width, source.height)
            if source.width > 2 * target_w:
                image.draft("RGB", (target_w + 1, target_h + 1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # palette transparency notes and the like
            image.load()
            upright = ImageOps.exif_transpose(image)
            rgb = to_rgb(upright)
    except MemoryError:
        raise Unreadable("too large to open") from None
    except Exception as exc:
        why = str(exc) or type(exc).__name__
        if "truncated" in why:
            why = "the file is cut short"
        raise Unreadable(f"damaged file: {why}"[:120]) from None
    return Decoded(image=rgb, width=width, height=height, format=fmt, source=source)


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB for the detector. 16- and 32-bit greyscale are scaled down rather
    than clipped: Pillow's own conversion turns every value over 255 white, and a
    detector shown a white picture finds no one."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        import numpy as np

        values = np.asarray(image, dtype=np.float64)
        if image.mode.startswith("I;16"):
            scaled = values / 257.0
        else:
            low, high = float(np.nanmin(values)), float(np.nanmax(values))
            scaled = (values - low) * (255.0 / (high - low)) if high > low else values * 0
        grey = Image.fromarray(np.clip(np.nan_to_num(scaled), 0, 255).astype(np.uint8))
        return grey.convert("RGB")
    if image.mode == "RGB":
        return image
    return image.convert("RGB")


def frames(data: bytes, limit: int = MAX_FRAMES) -> tuple[list[Image.Image], int]:
    """Up to `limit` frames of an animation, evenly spaced from the first, in RGB,
    and how many frames it has. X plays them all: a face in frame 30 is as public
    as one in frame 1."""
    source = open_picture(data)
    total = int(getattr(source, "n_frames", 1) or 1)
    step = max(1, total / limit)
    wanted = sorted({min(total - 1, int(i * step)) for i in range(min(limit, total))})
    out = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for index in wanted:
                source.seek(index)
                # A copy: the opened file is the same object for every frame.
                frame = source.convert("RGBA") if source.mode == "P" else source.copy()
                out.append(to_rgb(frame))
    except MemoryError:
        raise Unreadable("too large to open") from None
    except Exception as exc:
        if not out:
            raise Unreadable(f"damaged file: {exc}"[:120]) from None
    return out, total


def work_copy(decoded: Decoded) -> tuple[Image.Image, float]:
    """The picture at the size faces are looked for at, and the factor back to the
    upright original's pixels."""
    return scaled_for_work(decoded.image, decoded.width)


def scaled_for_work(image: Image.Image, original_width: int) -> tuple[Image.Image, float]:
    size = work_size(image.width, image.height)
    resized = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return resized, original_width / size[0]
