"""Native messaging framing, byte by byte."""

from __future__ import annotations

import io
import json
import struct

import pytest

from tweetguard.transport.native import (
    MAX_INCOMING,
    MAX_OUTGOING,
    FrameError,
    FrameTooLarge,
    encode_frame,
    origin_allowed,
    read_frame,
)


class Trickle(io.RawIOBase):
    """A pipe that hands out one byte per read, as a slow pipe may."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if not self.data:
            return 0
        buffer[0] = self.data[0]
        self.data = self.data[1:]
        return 1


def frame(body: bytes) -> bytes:
    return struct.pack("<I", len(body)) + body


def test_frames_are_little_endian_and_read_across_short_reads() -> None:
    stream = Trickle(frame(b'{"a":1}') + frame(b"[]"))
    assert read_frame(stream) == b'{"a":1}'  # type: ignore[arg-type]
    assert read_frame(stream) == b"[]"  # type: ignore[arg-type]
    assert read_frame(stream) is None  # type: ignore[arg-type]


def test_empty_frame_is_a_frame() -> None:
    assert read_frame(io.BytesIO(frame(b""))) == b""


@pytest.mark.parametrize("data", [b"\x01", b"\x05\x00\x00\x00abc"])
def test_truncated_input_is_a_frame_error(data: bytes) -> None:
    with pytest.raises(FrameError):
        read_frame(io.BytesIO(data))


def test_oversized_length_is_refused_before_reading_the_body() -> None:
    with pytest.raises(FrameTooLarge):
        read_frame(io.BytesIO(struct.pack("<I", MAX_INCOMING + 1)))


def test_encoded_reply_is_utf8_json_with_length_prefix() -> None:
    data = encode_frame({"id": 1, "ok": True, "text": "Zoë 🎉"})
    (size,) = struct.unpack("<I", data[:4])
    assert size == len(data) - 4
    assert json.loads(data[4:].decode("utf-8"))["text"] == "Zoë 🎉"


def test_a_reply_over_one_megabyte_becomes_an_error() -> None:
    data = encode_frame({"id": 7, "ok": True, "blob": "x" * MAX_OUTGOING})
    assert len(data) < 1000
    reply = json.loads(data[4:])
    assert reply["id"] == 7 and reply["error"]["code"] == "reply_too_large"


@pytest.mark.parametrize(
    ("argv", "allowed"),
    [
        ([], True),
        (["chrome-extension://abc/"], True),
        (["chrome-extension://abc"], True),
        (["chrome-extension://abc/", "--parent-window=1234"], True),
        (["chrome-extension://evil/"], False),
        (["/path/to/manifest.json", "tg@example.org"], True),
        (["/path/to/manifest.json", "evil@example.org"], False),
        (["something"], False),
    ],
)
def test_origin_check(argv: list[str], allowed: bool) -> None:
    assert origin_allowed(argv, ["chrome-extension://abc/", "tg@example.org"]) is allowed
