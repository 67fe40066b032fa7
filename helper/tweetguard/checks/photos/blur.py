"""Blurring faces beyond recognition.

A light Gaussian blur leaves a face recognisable to people and to face matchers
alike. Each face (with a margin for hair and ears) is first reduced to a mosaic
a few cells across, which throws the detail away for good, then smoothed so the
result looks deliberate rather than broken. tests/test_matching.py checks that
the matcher no longer recognises a blurred face.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFilter

from tweetguard.checks.photos.clean import CleanFile, encode, upright_pixels

# The box grows by this share of its size on each side: detectors box the face tightly.
MARGIN = 0.25
# Mosaic cells across a face: six leave nothing to recognise (the matcher puts a blurred
# face well past its "maybe" threshold; tests/test_matching.py).
CELLS = 6


def blur_faces(image: Image.Image, boxes: Sequence[tuple[int, int, int, int]]) -> Image.Image:
    """A copy of `image` with each box blurred; boxes are in `image`'s pixels."""
    out = image.copy()
    for x0, y0, x1, y1 in boxes:
        w, h = x1 - x0, y1 - y0
        if w <= 0 or h <= 0:
            continue
        left = max(0, int(x0 - w * MARGIN))
        top = max(0, int(y0 - h * MARGIN))
        right = min(image.width, int(x1 + w * MARGIN) + 1)
        bottom = min(image.height, int(y1 + h * MARGIN) + 1)
        region = out.crop((left, top, right, bottom))
        rw, rh = region.size
        cells = (max(1, CELLS), max(1, round(CELLS * rh / max(rw, 1))))
        mosaic = region.resize(cells, Image.Resampling.BOX).resize(
            (rw, rh), Image.Resampling.NEAREST
        )
        smooth = mosaic.filter(ImageFilter.GaussianBlur(radius=max(rw, rh) / (CELLS * 2)))
        mask = Image.new("L", (rw, rh), 0)
        ImageDraw.Draw(mask).ellipse((0, 0, rw - 1, rh - 1), fill=255)
        mask = mask.filter(ImageFilter.GaussianBlur(radius=max(1, min(rw, rh) // 20)))
        region.paste(smooth, (0, 0), mask)
        out.paste(region, (left, top))
    return out


def blurred_copy(data: bytes, boxes: Sequence[tuple[int, int, int, int]]) -> CleanFile:
    """A clean copy (no metadata) with the given faces blurred; boxes are in the
    upright original's pixels, as the photo report gives them."""
    picture, fmt = upright_pixels(data)
    return encode(blur_faces(picture, boxes), fmt)
