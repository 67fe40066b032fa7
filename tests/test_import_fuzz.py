"""Bad input never crashes the importer: damaged exports either read or are refused.

Seeded, so a failure repeats: real export shapes, cut and corrupted at random
(bytes flipped, quotes and separators thrown in, lines dropped or doubled, other
encodings), must each give pupils or an ImportRefused with a message; nothing else.
"""

from __future__ import annotations

import codecs
import random

from tests.registers import csv_text, xlsx
from tweetguard.stores.register_import import ImportRefused, read_register

HEADERS = [
    [
        "Legal Forename",
        "Legal Surname",
        "Reg",
        "Year",
        "Photograph Student - Social Media",
        "Consent Expires",
    ],
    ["first_name", "last_name", "preferred_name", "class", "social_media_consent"],
    ["Pupil Name", "Social Media Consent Denied", "Expiry"],
]
NAMES = ["Łucja", "O'Dowd", "Reid-Mallory", "Zoë", "Þóra", "Kit", "“Sam”", "Ng", "", "x" * 250]
VALUES = [
    "Yes",
    "no",
    "Given",
    "",
    "maybe",
    "31/07/2031",
    "07/31/2031",
    "2031-13-40",
    "46599",
    "✓",
    ";",
    ",",
    '"',
    "\t",
    "\n",
]


def sample(rng: random.Random) -> bytes:
    header = rng.choice(HEADERS)
    rows = [[rng.choice(NAMES + VALUES) for _ in header] for _ in range(rng.randrange(0, 30))]
    text = csv_text(header, rows, rng.choice([",", ";", "\t"]))
    codec = rng.choice(["utf-8", "utf-8-sig", "cp1252", "cp1250", "utf-16"])
    data = text.encode(codec, errors="replace")
    for _ in range(rng.randrange(0, 6)):
        data = mutate(rng, data)
    return data


def mutate(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    where = rng.randrange(len(data))
    kind = rng.randrange(6)
    if kind == 0:
        return data[:where] + bytes([rng.randrange(256)]) + data[where + 1 :]
    if kind == 1:
        return data[:where] + rng.choice([b'"', b",", b";", b"\r", b"\n", b"\x00"]) + data[where:]
    if kind == 2:
        return data[:where]
    if kind == 3:
        return data + data[where:]
    if kind == 4:
        return codecs.BOM_UTF16_LE + data
    return data[where:]


def test_damaged_csv_exports_are_read_or_refused() -> None:
    rng = random.Random(20261128)
    outcomes = {"read": 0, "refused": 0}
    for _ in range(1500):
        data = sample(rng)
        try:
            result = read_register(data)
        except ImportRefused as exc:
            assert str(exc), data
            outcomes["refused"] += 1
            continue
        assert result.pupils, data
        for pupil in result.pupils:
            assert pupil.first_name.strip() and pupil.last_name.strip()
            assert "\n" not in pupil.first_name + pupil.last_name
        outcomes["read"] += 1
    assert outcomes["read"] > 40 and outcomes["refused"] > 100  # both paths exercised


def test_damaged_workbooks_are_refused_not_crashed() -> None:
    rng = random.Random(7)
    good = xlsx(["First Name", "Last Name", "Social Media"], [["Kit", "Fletcher", "yes"]])
    assert read_register(good).pupils
    for _ in range(150):
        data = good
        for _ in range(rng.randrange(1, 4)):
            data = mutate(rng, data)
        try:
            read_register(data)
        except ImportRefused as exc:
            assert str(exc)
