"""What a file says about itself beyond its pixels: where, who, when.

Read from EXIF (IFD0, the Exif and GPS sub-IFDs), XMP, IPTC, JPEG comments and
PNG text chunks; for a video, from the atoms QuickTime and MP4 keep their
location and date in. Only what can locate or identify is reported: the camera's
make and model are everywhere and say nothing about a child.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Pillow loads with the first photo, not with the helper
    from PIL import Image

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825

# (IFD, tag) -> what a teacher is told the field is.
_IDENTIFYING_EXIF = {
    (0, 0x013B): "Author",  # Artist
    (0, 0x8298): "Copyright holder",
    (0, 0x010E): "Description",
    (0, 0x9C9D): "Author",  # XPAuthor
    (0, 0x9C9C): "Comment",  # XPComment
    (0, 0x9C9F): "Subject",  # XPSubject
    (0, 0x9C9E): "Keywords",  # XPKeywords
    (_EXIF_IFD, 0xA430): "Camera owner",
    (_EXIF_IFD, 0xA431): "Camera serial number",
    (_EXIF_IFD, 0xA435): "Lens serial number",
    (_EXIF_IFD, 0x9286): "Comment",  # UserComment
    (_EXIF_IFD, 0xA420): "Photo ID",  # ImageUniqueID
}
_DATE_EXIF = ((_EXIF_IFD, 0x9003), (_EXIF_IFD, 0x9004), (0, 0x0132))

# IPTC IIM (record 2) datasets.
# A city or a sublocation leads to a place; a region or a country alone does not, but
# still says something about where the photo was taken, so it is listed as a detail.
_IPTC_PLACE = {(2, 90): "City", (2, 92): "Sublocation"}
_IPTC_IDENTIFYING = {
    (2, 95): "Region",
    (2, 101): "Country",
    (2, 80): "Author",
    (2, 116): "Copyright holder",
    (2, 120): "Caption",
    (2, 25): "Keywords",
    (2, 5): "Title",
    (2, 118): "Contact",
}

# XMP properties, by local name: place ones locate, the others identify.
_XMP_PLACE = {
    "City": "City",
    "Sublocation": "Sublocation",
    "Location": "Location",
    "LocationShown": "Location",
    "LocationCreated": "Location",
}
_XMP_IDENTIFYING = {
    "State": "Region",
    "CountryName": "Country",
    "creator": "Author",
    "rights": "Copyright holder",
    "description": "Caption",
    "PersonInImage": "People tagged",
    "SerialNumber": "Camera serial number",
    "LensSerialNumber": "Lens serial number",
    "OwnerName": "Camera owner",
    "CameraOwnerName": "Camera owner",
    "subject": "Keywords",
    "Name": "People tagged",  # mwg-rs face regions: Region/Name
}
_PNG_TEXT_IDENTIFYING = {
    "author": "Author",
    "comment": "Comment",
    "description": "Description",
    "copyright": "Copyright holder",
    "title": "Title",
    "location": "Location",
}


# What software writes into files on its own: it identifies a program, not a person.
_SOFTWARE = re.compile(
    r"(?i)^(?:applemark|screenshot|lead technologies.*|creator: gd-jpeg.*|"
    r"created with (?:gimp|the gimp).*|file written by adobe photoshop.*|"
    r"optimized by jpegmini.*|intel\(r\) jpeg library.*|acd systems.*|"
    r"digital camera|olympus digital camera|sony dsc|default|"
    r"ducky|photoshop icc profile|picasa|google|xmp core.*|microsoft.*|"
    r"(?:processed|edited) (?:by|with) .*|"
    r"compressed by jpeg-recompress|jfif|exif|ascii|unicode)$"
)


def says_nothing(value: str) -> bool:
    """A value that identifies no one: a program's signature, a placeholder, or a
    serial number of zeros."""
    bare = value.strip(" .,-_/:;0")
    return len(bare) <= 2 or bool(_SOFTWARE.match(value.strip()))


@dataclass(frozen=True)
class Field:
    name: str  # for a teacher: "Camera serial number"
    value: str
    locates: bool = False  # a place rather than a person


@dataclass
class Metadata:
    gps: tuple[float, float] | None = None  # latitude, longitude
    fields: list[Field] = field(default_factory=list)
    taken: str | None = None

    def add(self, name: str, value: object, *, locates: bool = False) -> None:
        text = _text(value)
        if not text or (not locates and says_nothing(text)):
            return
        if not any(f.name == name and f.value == text for f in self.fields):
            self.fields.append(Field(name, text, locates))

    def to_json(self) -> dict[str, object]:
        return {
            "gps": {"lat": round(self.gps[0], 6), "lon": round(self.gps[1], 6)}
            if self.gps
            else None,
            "fields": [{"name": f.name, "value": f.value} for f in self.fields]
            + ([{"name": "Date taken", "value": self.taken}] if self.taken else []),
        }


def read(image: Image.Image) -> Metadata:
    """Everything identifying in an opened picture. Damaged metadata is skipped,
    never fatal: the pixels may still be checked, and a clean copy drops it all."""
    found = Metadata()
    for reader in (_read_exif, _read_xmp, _read_iptc, _read_text_chunks):
        try:
            reader(image, found)
        except Exception:
            continue
    return found


def _read_exif(image: Image.Image, found: Metadata) -> None:
    exif = image.getexif()
    if not exif:
        return
    ifds: dict[int, Mapping[int, object]] = {0: exif}
    for ifd in (_EXIF_IFD, _GPS_IFD):
        try:
            ifds[ifd] = exif.get_ifd(ifd)
        except Exception:  # a damaged sub-IFD: read what else there is
            ifds[ifd] = {}
    for (ifd, tag), name in _IDENTIFYING_EXIF.items():
        value = ifds[ifd].get(tag)
        if value is not None:
            found.add(name, value)
    for ifd, tag in _DATE_EXIF:
        value = ifds[ifd].get(tag)
        if value and not found.taken:
            found.taken = _text(value)
    gps = ifds[_GPS_IFD]
    position = _gps_position(gps)
    if position:
        found.gps = position
    elif _dms(gps.get(2)) or _dms(gps.get(4)):
        # Half a position (a latitude alone) still narrows down where the photo was taken.
        found.add("GPS position (incomplete)", _gps_text(gps), locates=True)


def _gps_position(gps: Mapping[int, object]) -> tuple[float, float] | None:
    lat, lon = _dms(gps.get(2)), _dms(gps.get(4))
    if lat is None or lon is None:
        return None
    if str(gps.get(1, "N")).upper().startswith("S"):
        lat = -lat
    if str(gps.get(3, "E")).upper().startswith("W"):
        lon = -lon
    if lat == 0 and lon == 0:
        return None  # cameras write 0,0 when they had no fix
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def _gps_text(gps: Mapping[int, object]) -> str:
    parts = []
    for ref, tag in ((1, 2), (3, 4)):
        degrees = _dms(gps.get(tag))
        if degrees:
            parts.append(f"{degrees:.4f} {gps.get(ref, '')}".strip())
    return ", ".join(parts)


def _dms(value: object) -> float | None:
    """Degrees from EXIF's (degrees, minutes, seconds). A part written as 0/0 (some
    phones do, for seconds) counts as 0 rather than losing the whole position."""
    if not isinstance(value, tuple | list) or not value:
        return None
    parts = []
    for part in value[:3]:
        try:
            number = float(part)  # IFDRational converts
        except (TypeError, ValueError, ZeroDivisionError):
            number = 0.0
        parts.append(number if math.isfinite(number) else 0.0)
    if not math.isfinite(parts[0]):
        return None
    weights = (1.0, 1 / 60, 1 / 3600)
    return sum(p * w for p, w in zip(parts, weights, strict=False))


_XML_TAG = re.compile(r"<[^>]+>")
_XMP_GPS = re.compile(
    r"exif:GPS(Latitude|Longitude)(?:=\"|>)\s*(\d{1,3}),(\d{1,2}(?:\.\d+)?)(?:,(\d{1,2}(?:\.\d+)?))?([NSEW])"
)


def _xmp_values(xmp: str, local: str) -> list[str]:
    """Values of every property with this local name, as an element (its text, list
    items joined) or as an attribute, whatever the namespace prefix."""
    values = []
    element = rf"<[\w-]+:{local}\b[^>]*>(.*?)</[\w-]+:{local}>"
    for match in re.finditer(element, xmp, re.S):
        text = " ".join(html.unescape(_XML_TAG.sub(" ", match.group(1))).split())
        if text:
            values.append(text)
    for match in re.finditer(rf"\s[\w-]+:{local}=\"([^\"]*)\"", xmp):
        if match.group(1).strip():
            values.append(html.unescape(match.group(1)).strip())
    return values


def _xmp_bytes(image: Image.Image) -> bytes:
    for key in ("xmp", "XML:com.adobe.xmp"):
        value = image.info.get(key)
        if isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.encode("utf-8", "replace")
    return b""


def _read_xmp(image: Image.Image, found: Metadata) -> None:
    raw = _xmp_bytes(image)
    if not raw:
        return
    xmp = raw.decode("utf-8", "replace")
    for local, name in (*_XMP_PLACE.items(), *_XMP_IDENTIFYING.items()):
        if local == "Name" and "mwg-rs" not in xmp:
            continue  # "Name" is a person only inside a face region (Metadata Working Group)
        for value in _xmp_values(xmp, local):
            found.add(name, value, locates=local in _XMP_PLACE)
    if not found.taken:
        taken = _xmp_values(xmp, "DateTimeOriginal")
        if taken:
            found.taken = taken[0]
    if found.gps is None:
        coords: dict[str, float] = {}
        for axis, deg, minutes, seconds, hemisphere in _XMP_GPS.findall(xmp):
            angle = float(deg) + float(minutes) / 60 + (float(seconds) / 3600 if seconds else 0)
            coords[axis] = -angle if hemisphere in "SW" else angle
        if "Latitude" in coords and "Longitude" in coords:
            found.gps = (coords["Latitude"], coords["Longitude"])


def _read_iptc(image: Image.Image, found: Metadata) -> None:
    from PIL import IptcImagePlugin

    info = IptcImagePlugin.getiptcinfo(image)  # type: ignore[arg-type]
    if not info:
        return
    for key, name in _IPTC_PLACE.items():
        if key in info:
            found.add(name, info[key], locates=True)
    for key, name in _IPTC_IDENTIFYING.items():
        if key in info:
            found.add(name, info[key])


def _read_text_chunks(image: Image.Image, found: Metadata) -> None:
    comment = image.info.get("comment")
    if comment:
        found.add("Comment", comment)
    for key, value in image.info.items():
        if not isinstance(key, str) or not isinstance(value, str | bytes):
            continue
        name = _PNG_TEXT_IDENTIFYING.get(key.casefold())
        if name:
            found.add(name, value, locates=name == "Location")


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(t for t in (_text(v) for v in value) if t)
    if isinstance(value, bytes):
        # EXIF UserComment starts with an 8-byte character code ("ASCII\0\0\0", "UNICODE\0").
        if value[:8] in (b"ASCII\0\0\0", b"UNICODE\0", b"\0" * 8, b"JIS\0\0\0\0\0"):
            code, value = value[:8], value[8:]
            text = value.decode("utf-16" if code.startswith(b"UNICODE") else "latin-1", "replace")
        elif len(value) > 1 and value[1:2] == b"\0":
            text = value.decode("utf-16-le", "replace")  # Windows XP* tags
        else:
            text = value.decode("utf-8", "replace")
    else:
        text = str(value)
    text = " ".join(text.replace("\0", " ").split())
    return text[:200]


# Video: QuickTime/MP4 keep a position as an ISO 6709 string ("+51.5014-000.1419+010.000/")
# in the '©xyz' user-data atom, or under the Apple key com.apple.quicktime.location.ISO6709.
_ISO6709 = re.compile(rb"([+-]\d{1,2}(?:\.\d+)?)([+-]\d{1,3}(?:\.\d+)?)(?:[+-]\d+(?:\.\d+)?)?/")
_VIDEO_LOCATION_MARKERS = (b"\xa9xyz", b"location.ISO6709", b"loci")
_VIDEO_DATE = re.compile(rb"(?:\xa9day|creationdate).{0,40}?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)", re.S)
_VIDEO_OWNER = (
    (b"com.apple.quicktime.author", "Author"),
    (b"\xa9aut", "Author"),
    (b"\xa9ART", "Author"),
)


def read_video(excerpt: bytes) -> Metadata:
    """Location and date from the first and last few MiB of a video file, where
    MP4 and QuickTime keep their metadata atoms."""
    found = Metadata()
    for marker in _VIDEO_LOCATION_MARKERS:
        at = excerpt.find(marker)
        while at != -1 and found.gps is None:
            match = _ISO6709.search(excerpt, at, at + 200)
            if match:
                lat, lon = float(match.group(1)), float(match.group(2))
                if -90 <= lat <= 90 and -180 <= lon <= 180 and (lat, lon) != (0, 0):
                    found.gps = (lat, lon)
            at = excerpt.find(marker, at + 1)
    date = _VIDEO_DATE.search(excerpt)
    if date:
        found.taken = date.group(1).decode("ascii")
    for marker, name in _VIDEO_OWNER:
        at = excerpt.find(marker)
        if at != -1:
            tail = excerpt[at + len(marker) : at + len(marker) + 120]
            text = re.search(rb"[\x20-\x7e]{3,80}", tail.split(b"data", 1)[-1])
            if text:
                found.add(name, text.group(0))
    return found
