"""Bytes of a text export to text, without turning "Łukasz" into "£ukasz".

What Excel and MIS exports are written in: UTF-8 (with or without a byte order
mark), UTF-16 with a BOM (Excel's "Unicode text"), and a Windows code page:
1252 in Western Europe, 1250 in Central Europe; older Excel for Mac wrote Mac
Roman. A byte order mark or valid UTF-8 settles it. Otherwise charset-normalizer
proposes the code pages the bytes could be and how messy each reading is; on a
short register it often cannot tell 1250 from 1252, because both read as letters.
So the readings are also scored as names would be: a symbol glued to letters
("£ukasz", "Micha³"), a capital inside a word ("RenŽe"), or a word whose accents
belong to no single language ("Dvoøák") marks the wrong reading.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from tweetguard.stores.register_import.model import ImportRefused

# The code pages a register without BOM or UTF-8 is read in, most likely first.
CODE_PAGES = ("cp1252", "cp1250", "mac_roman")
NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16 (Excel Unicode text)",
    "utf-16-le": "UTF-16 little-endian, no BOM",
    "utf-16-be": "UTF-16 big-endian, no BOM",
    "utf-32": "UTF-32",
    "cp1252": "Windows-1252 (Western European)",
    "cp1250": "Windows-1250 (Central European)",
    "mac_roman": "Mac Roman",
}

# The accented letters of the languages whose names UK registers hold, by the
# alphabets that use them; a word whose accents fit none was read wrongly.
_ALPHABETS = tuple(
    frozenset(letters + letters.upper())
    for letters in (
        "ąćęłńóśźż",  # Polish
        "áčďéěíňóřšťúůýž",  # Czech
        "áäčďéíĺľňóôŕšťúýž",  # Slovak
        "áéíóöőúüű",  # Hungarian
        "čćđšž",  # Croatian, Bosnian, Serbian, Slovene
        "ăâîșşțţ",  # Romanian
        "äöüß",  # German
        "àâæçéèêëîïôœùûüÿ",  # French
        "áéíñóúü",  # Spanish
        "áâãàçéêíóôõú",  # Portuguese
        "àèéìíîòóùú",  # Italian
        "åæøäöé",  # Danish, Norwegian, Swedish
        "áéíóúýþæöð",  # Icelandic
        "çğıöşü",  # Turkish
        "áéíóú",  # Irish
        "âêîôûŵŷäëïöü",  # Welsh
        "ëç",  # Albanian
        "éëïöü",  # Dutch
        "āčēģīķļņšūž",  # Latvian
        "ąčęėįšųūž",  # Lithuanian
    )
)
_WORD = re.compile(r"[^\s,;\t|\"]+")


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text and the codec it was read with. Raises ImportRefused for non-text."""
    text, codec = _decode(data, encoding)
    if _controls(text):
        raise ImportRefused(
            f"the file is not text (read as {label(codec)} it holds control characters); "
            "export the register as CSV or .xlsx"
        )
    return text, codec


def _decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding:
        return _decode_as(data, encoding), encoding
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return _decode_as(data, codec), codec
    if b"\x00" in data[:4096]:
        wide = _utf16_without_bom(data)
        if wide is not None:
            return _decode_as(data, wide), wide
        nuls = data.count(b"\x00")
        if nuls > 16 and nuls * 100 > len(data):
            raise ImportRefused(
                "the file is not text (it holds NUL bytes); export the register as CSV or .xlsx"
            )
        # A stray NUL or two in a name (copied from another system): text all the same;
        # the rows step removes them from the names.
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    return _best_code_page(data)


def _decode_as(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except LookupError:
        raise ImportRefused(f"unknown encoding {codec!r}; try utf-8, cp1252 or cp1250") from None
    except UnicodeDecodeError as exc:
        raise ImportRefused(
            f"the file is not valid {label(codec)} text (byte {exc.start}: {exc.reason}); "
            "save it as CSV UTF-8, or name its encoding with --encoding"
        ) from None


def _utf16_without_bom(data: bytes) -> str | None:
    """Text in UTF-16 has a NUL in every other byte when it is mostly ASCII."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0) / len(sample[0::2])
    odd = sample[1::2].count(0) / len(sample[1::2])
    if odd > 0.4 and even < 0.05:
        return "utf-16-le"
    if even > 0.4 and odd < 0.05:
        return "utf-16-be"
    return None


def _best_code_page(data: bytes) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    chaos = {
        match.encoding: match.chaos
        for match in from_bytes(data, cp_isolation=list(CODE_PAGES), threshold=0.5)
    }
    readings = []
    for order, codec in enumerate(CODE_PAGES):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue  # cp1252 and cp1250 each leave a few bytes undefined
        if _controls(text):
            continue
        readings.append((_implausibility(text), chaos.get(codec, 1.0), order, codec, text))
    if not readings:
        raise ImportRefused(
            "the file is not text in UTF-8, UTF-16 or a Windows code page; "
            "export the register as CSV UTF-8 or .xlsx"
        )
    _, _, _, codec, text = min(readings)
    return text, codec


def _controls(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in "\t\r\n\x00" for c in text)


def _implausibility(text: str) -> int:
    """How unlike a register of names this reading is: 0 for clean names."""
    score = 0
    for word in _WORD.findall(text):
        if word.isascii():
            continue
        letters = set()
        for index, char in enumerate(word):
            if char.isascii():
                continue
            if not char.isalpha():
                near = word[max(0, index - 1) : index] + word[index + 1 : index + 2]
                if any(c.isalpha() for c in near):
                    score += 10  # "£ukasz", "Micha³": a symbol inside a name
                continue
            if char.isupper() and index and word[index - 1].islower():
                score += 5  # "RenŽe"
            letters.add(char)
        if letters and not any(letters <= alphabet for alphabet in _ALPHABETS):
            score += 5  # "Dvoøák": accents from two languages in one word
    return score


def label(codec: str) -> str:
    return NAMES.get(codec.lower().replace("_", "-") if codec != "mac_roman" else codec, codec)
