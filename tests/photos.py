"""Photos made by the tests: real faces from tests/data/photos placed into new
scenes, metadata written in, files broken on purpose. Nothing here comes from a
school; the faces are adults in public life (tests/data/photos/README.md)."""

from __future__ import annotations

import base64
import hashlib
import io
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

PHOTOS = Path(__file__).parent / "data" / "photos"


def load(name: str) -> Image.Image:
    return Image.open(PHOTOS / name).convert("RGB")


def jpeg(image: Image.Image, **options: object) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=90, **options)
    return out.getvalue()


def png(image: Image.Image, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", **options)
    return out.getvalue()


def scene(size: tuple[int, int] = (1600, 1000), seed: int = 3) -> Image.Image:
    """A plain outdoor-ish picture with no one in it: sky, field, a few shapes."""
    width, height = size
    image = Image.new("RGB", size, (120, 170, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height * 0.6, width, height), fill=(80, 140, 70))
    for i in range(6):
        x = (seed * 97 + i * 263) % width
        draw.rectangle((x, height * 0.45, x + 80, height * 0.6), fill=(150 - i * 10, 90, 60))
        draw.ellipse((x + 10, height * 0.3, x + 90, height * 0.47), fill=(40, 100 + i * 10, 40))
    return image


def group(
    people: Sequence[tuple[str, int, tuple[int, int]]], size: tuple[int, int] = (2400, 1600)
) -> tuple[Image.Image, list[tuple[int, int, int, int]]]:
    """A scene with each portrait pasted at (x, y), scaled to `height` pixels.

    Returns the picture and the rectangle each portrait occupies: every face
    found should lie inside exactly one of them.
    """
    image = scene(size)
    placed = []
    for name, height, (x, y) in people:
        portrait = load(name)
        width = round(portrait.width * height / portrait.height)
        image.paste(portrait.resize((width, height), Image.Resampling.LANCZOS), (x, y))
        placed.append((x, y, x + width, y + height))
    return image, placed


def exif_bytes(
    *,
    gps: tuple[float, float] | None = None,
    serial: str | None = None,
    owner: str | None = None,
    artist: str | None = None,
    taken: str | None = None,
    orientation: int | None = None,
    make: str | None = None,
) -> bytes:
    exif = Image.Exif()
    if make:
        exif[0x010F] = make
        exif[0x0110] = "Model 7"
    if artist:
        exif[0x013B] = artist
    if orientation:
        exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)
    if serial:
        sub[0xA431] = serial
    if owner:
        sub[0xA430] = owner
    if taken:
        sub[0x9003] = taken
    if gps:
        lat, lon = gps
        gps_ifd = exif.get_ifd(0x8825)
        gps_ifd[1] = "N" if lat >= 0 else "S"
        gps_ifd[2] = _dms(abs(lat))
        gps_ifd[3] = "E" if lon >= 0 else "W"
        gps_ifd[4] = _dms(abs(lon))
    return exif.tobytes()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 2)
    return (float(degrees), float(minutes), seconds)


def with_comment(jpeg_data: bytes, comment: bytes) -> bytes:
    """A JPEG with a COM segment right after SOI, as some cameras and editors write."""
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return jpeg_data[:2] + segment + jpeg_data[2:]


def with_xmp(jpeg_data: bytes, xmp: str) -> bytes:
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + xmp.encode("utf-8")
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg_data[:2] + segment + jpeg_data[2:]


def with_iptc(jpeg_data: bytes, datasets: dict[int, str]) -> bytes:
    """A JPEG with a Photoshop APP13 block holding IPTC record 2 datasets."""
    iptc = b"".join(
        b"\x1c\x02" + bytes([number]) + struct.pack(">H", len(v.encode())) + v.encode()
        for number, v in datasets.items()
    )
    resource = (
        b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    )
    if len(iptc) % 2:
        resource += b"\x00"
    payload = b"Photoshop 3.0\x00" + resource
    segment = b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg_data[:2] + segment + jpeg_data[2:]


def claimed_size_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def mp4_excerpt(iso6709: str | None, created: str | None = None) -> bytes:
    """The head of an MP4 as a phone writes it: ftyp, then moov/udta with a place and date."""

    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body) + 8) + kind + body

    udta = b""
    if iso6709:
        text = iso6709.encode()
        udta += box(b"\xa9xyz", struct.pack(">HH", len(text), 0x15C7) + text)
    if created:
        text = created.encode()
        udta += box(b"\xa9day", struct.pack(">HH", len(text), 0x15C7) + text)
    moov = box(b"moov", box(b"mvhd", b"\x00" * 100) + box(b"udta", udta))
    return box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41") + moov + box(b"mdat", b"\x00" * 4000)


def media_put(handler: Any, data: bytes, *, chunk: int = 1024 * 1024, kind: str = "image") -> Any:
    """Sends a file to a protocol Handler in media_put chunks, as the extension does;
    the last chunk's reply (with the photo report)."""
    sha = hashlib.sha256(data).hexdigest()
    reply: Any = {}
    for number, offset in enumerate(range(0, len(data), chunk)):
        reply = handler.handle(
            {
                "id": f"put-{number}",
                "type": "media_put",
                "sha256": sha,
                "mime": "image/jpeg",
                "name": "IMG_2207.jpg",
                "kind": kind,
                "size": len(data),
                "offset": offset,
                "data": base64.b64encode(data[offset : offset + chunk]).decode(),
            }
        )
        assert reply["ok"], reply
    return reply
