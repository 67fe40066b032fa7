"""Whatever arrives as a media message or a file, the helper answers and goes on:
never `internal`, never an exception, and a real photo is still checked after."""

from __future__ import annotations

import base64
import hashlib
import random
from typing import Any

from tests.photos import PHOTOS, jpeg, scene
from tweetguard.checks.engine import Checker
from tweetguard.protocol.handlers import Handler

VALUES: list[Any] = [
    None,
    0,
    -1,
    1.5,
    True,
    "",
    "x",
    "0" * 64,
    "A" * 64,
    "abc",
    [],
    [0],
    ["pupil:1"],
    {},
    {"a": 1},
    "all",
    2**63,
    "image",
    "video",
    "@@@",
    base64.b64encode(b"\xff\xd8\xff").decode(),
]
FIELDS = ["sha256", "size", "offset", "data", "mime", "name", "kind", "faces", "query", "limit"]
TYPES = ["media_put", "media_get", "photo_clean", "photo_blur", "people", "check"]


def test_random_media_messages_get_a_reply_and_never_an_internal_error(
    checker: Checker,
) -> None:
    handler = Handler(checker)
    rng = random.Random(8)
    for number in range(1500):
        message: dict[str, Any] = {"id": number, "type": rng.choice(TYPES)}
        for field in rng.sample(FIELDS, rng.randrange(0, len(FIELDS))):
            message[field] = rng.choice(VALUES)
        if message["type"] == "check":
            message["text"] = "Hello"
            message["media"] = [
                {f: rng.choice(VALUES) for f in rng.sample(FIELDS, 3)}
                for _ in range(rng.randrange(0, 3))
            ]
        reply = handler.handle(message)
        assert reply["id"] == number
        assert reply["ok"] or reply["error"]["code"] != "internal", (message, reply)
    data = (PHOTOS / "obama_small.jpg").read_bytes()
    put = {"id": "p", "type": "media_put", "sha256": hashlib.sha256(data).hexdigest()}
    reply = handler.handle(
        {**put, "size": len(data), "offset": 0, "data": base64.b64encode(data).decode()}
    )
    assert reply["photo"]["faces"] == 1


def test_random_bytes_and_mangled_photos_are_reported_not_raised(checker: Checker) -> None:
    handler = Handler(checker)
    rng = random.Random(5)
    good = jpeg(scene((640, 400)))
    samples = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 3000))) for _ in range(20)]
    for _ in range(40):
        mangled = bytearray(good)
        for _ in range(rng.randrange(1, 30)):
            mangled[rng.randrange(len(mangled))] = rng.randrange(256)
        cut = rng.choice([len(mangled), rng.randrange(10, len(mangled))])
        samples.append(bytes(mangled[:cut]))
    read = 0
    for number, data in enumerate(samples):
        reply = handler.handle(
            {
                "id": number,
                "type": "check",
                "text": "Art week",
                "media": [{"name": "art.jpg", "data": base64.b64encode(data).decode()}],
            }
        )
        assert reply["ok"], reply
        photo = reply["photos"][0]
        rules = {f["rule"] for f in photo["findings"]}
        # Either read (a damaged JPEG often still decodes), or said plainly it was not.
        assert photo["width"] or rules & {"photos.unreadable", "photos.too-many-pixels"}
        read += bool(photo["width"])
    assert read >= 5  # some damage still decodes: those were checked, not just refused
