"""A copy of a photo with nothing in it but the picture.

The pixels are copied into a new image, upright, so no EXIF, XMP, IPTC, ICC text
or JPEG comment can ride along (a plain `exif_transpose(im).save()` keeps the
comment block). Colours in a camera's own profile (an iPhone's Display P3) are
converted to sRGB first, so the copy looks as the original did.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps

from tweetguard.checks.photos.decode import Unreadable, open_picture, to_rgb

# What each format is written back as: an animated GIF keeps only its first frame.
_OUTPUT = {
    "JPEG": ("JPEG", "image/jpeg", ".jpg"),
    "MPO": ("JPEG", "image/jpeg", ".jpg"),
    "PNG": ("PNG", "image/png", ".png"),
    "WEBP": ("WEBP", "image/webp", ".webp"),
    "GIF": ("PNG", "image/png", ".png"),
}
_DEFAULT_OUTPUT = ("JPEG", "image/jpeg", ".jpg")


@dataclass(frozen=True)
class CleanFile:
    data: bytes
    mime: str
    suffix: str  # ".jpg"


def upright_pixels(data: bytes) -> tuple[Image.Image, str]:
    """The full-size picture, upright, in sRGB, with no metadata attached, and its format."""
    source = open_picture(data)
    fmt = source.format or "unknown"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            source.load()
            upright = ImageOps.exif_transpose(source)
            icc = source.info.get("icc_profile")
            if icc and upright.mode in ("RGB", "RGBA"):
                upright = _to_srgb(upright, icc)
            upright = _plain_mode(upright)
    except MemoryError:
        raise Unreadable("too large to open") from None
    except Exception as exc:
        raise Unreadable(f"damaged file: {exc}"[:120]) from None
    # frombytes makes an image with an empty info dict: nothing of the source survives.
    return Image.frombytes(upright.mode, upright.size, upright.tobytes()), fmt


def _plain_mode(image: Image.Image) -> Image.Image:
    """RGB, RGBA or L, keeping transparency (a palette's, or a tRNS colour's) as alpha
    and scaling 16-bit greyscale rather than clipping it to white."""
    if "transparency" in image.info or image.mode in ("LA", "PA", "La", "RGBa"):
        return image.convert("RGBA")
    if image.mode in ("RGB", "RGBA", "L"):
        return image
    if image.mode.startswith("I") or image.mode == "F":
        return to_rgb(image).convert("L")
    return image.convert("RGB")


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        srgb = ImageCms.createProfile("sRGB")
        converted = ImageCms.profileToProfile(image, source, srgb, outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image
    return converted if converted is not None else image


def encode(picture: Image.Image, fmt: str) -> CleanFile:
    out_format, mime, suffix = _OUTPUT.get(fmt, _DEFAULT_OUTPUT)
    if out_format == "JPEG" and picture.mode != "RGB" and picture.mode != "L":
        picture = picture.convert("RGB")
    buffer = io.BytesIO()
    options: dict[str, object] = {}
    if out_format == "JPEG":
        options = {"quality": 92, "subsampling": 0 if fmt == "PNG" else -1, "optimize": False}
    elif out_format == "WEBP":
        options = {"quality": 92}
    picture.save(buffer, format=out_format, **options)
    return CleanFile(buffer.getvalue(), mime, suffix)


def clean_copy(data: bytes) -> CleanFile:
    picture, fmt = upright_pixels(data)
    return encode(picture, fmt)
