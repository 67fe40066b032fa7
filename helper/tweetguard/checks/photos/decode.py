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
import warnings
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageOps, UnidentifiedImageError

# X accepts photos up to 8192 x 8192 (67 MP); leave room, refuse beyond.
MAX_PIXELS = 100_000_000
# Face detection works on this long side; decoding much more is wasted time.
WORK_SIZE = 1024
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

    `image` is upright RGB, at most a little over WORK_SIZE on its long side when
    `reduced`; `width`/`height` are the upright original's, which boxes are given in.
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


def decode(data: bytes, *, reduce: bool = True) -> Decoded:
    """Opens and decodes the picture (the first frame of a GIF or animated WebP).

    With `reduce`, a large JPEG is decoded at 1/2, 1/4 or 1/8 size, never below
    WORK_SIZE on its long side.
    """
    source = open_picture(data)
    width, height = upright_size(source)
    fmt = source.format or "unknown"
    image = source
    try:
        if reduce and fmt == "JPEG" and max(source.size) > 2 * WORK_SIZE:
            long_side = max(source.size)
            scale = WORK_SIZE / long_side
            image.draft("RGB", (int(source.width * scale) + 1, int(source.height * scale) + 1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # palette transparency notes and the like
            image.load()
            upright = ImageOps.exif_transpose(image)
            rgb = upright.convert("RGB") if upright.mode != "RGB" else upright
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        why = str(exc) or type(exc).__name__
        if "truncated" in why:
            why = "the file is cut short"
        raise Unreadable(f"damaged file: {why}"[:120]) from None
    except MemoryError:
        raise Unreadable("too large to open") from None
    return Decoded(image=rgb, width=width, height=height, format=fmt, source=source)


def work_copy(decoded: Decoded) -> tuple[Image.Image, float]:
    """The picture at WORK_SIZE on its long side, and the factor back to original pixels."""
    image = decoded.image
    long_side = max(image.size)
    scale = WORK_SIZE / long_side
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    resized = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return resized, max(decoded.width, decoded.height) / WORK_SIZE
