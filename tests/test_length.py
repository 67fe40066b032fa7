"""Weighted length agrees with twitter-text's v3 conformance cases.

Cases follow the shape of twitter-text's conformance suite (validate.yml,
WeightedTweetsWithDiscountedEmojiCounterTest), written out here so the suite
runs offline.
"""

from __future__ import annotations

import pytest

from tweetguard.checks.engine import Checker
from tweetguard.checks.length import measure

X = "xxxxxxxxxx-"


@pytest.mark.parametrize(
    ("text", "weighted", "valid"),
    [
        ("This is a test.", 15, True),
        ("http://test.com", 23, True),
        ("https://test.com", 23, True),
        ("test.com", 23, True),
        ("Test https://test.com test https://test.com test.com test", 86, True),
        ("H🐱☺👨‍👩‍👧‍👦", 7, True),  # ZWJ family counts as one emoji (2)
        ("😷👾😡🔥💩", 10, True),
        ("🙋🏽👨‍🎤", 4, True),  # skin tone and ZWJ sequences are single emoji
        ("저찀쯿쿿", 8, True),  # CJK weighs 2
        ("ÁB", 2, True),  # NFC: A + combining acute is one character
        ("のの" * 70, 280, True),
        ("のの" * 70 + "の", 282, False),
        ("285 chars-" + X * 25, 285, False),
        ("a" * 280, 280, True),
        ("a" * 281, 281, False),
        ("https://www.twitter.com/aloha " * 10, 240, True),
        ("", 0, False),
    ],
)
def test_weighted_length(text: str, weighted: int, valid: bool) -> None:
    length = measure(text)
    assert (length.weighted, length.valid) == (weighted, valid)
    assert length.max == 280


def test_too_long_finding_points_at_the_overflow(tmp_path) -> None:
    text = "é" * 279 + "abc"
    report = Checker(tmp_path).check(text)
    assert report.verdict == "block"
    (finding,) = [f for f in report.findings_json() if f["rule"] != "setup.no-register"]
    assert finding["rule"] == "length.too-long"
    assert (finding["start"], finding["end"]) == (280, 282)
    assert "282 characters" in finding["message"] and "Cut 2" in finding["message"]


def test_emoji_offsets_are_utf16(tmp_path) -> None:
    text = "🎉" * 150  # 300 weighted, 300 UTF-16 units, 150 code points
    findings = Checker(tmp_path).check(text).findings_json()
    (finding,) = [f for f in findings if f["rule"] == "length.too-long"]
    assert (finding["start"], finding["end"]) == (280, 300)


PIECES = [
    "Year 4 ",
    "café ",
    "“quoted” ",
    "it’s ",
    "— ",
    "\n",
    "https://oakfield.sch.uk/news ",
    "example.com ",
    "🌻",
    "👨‍👩‍👧",
    "日本語",
    "©",
    "x" * 40,
    "…",
    "e\u0301",  # not NFC
    "\u2066",
    "🎉",
    "❤️",
    "☺",
    "✨",
    "⭐",
    "™",
    "‼",
    "®",
    "🇬🇧",
    "👍🏽",
    "1️⃣",
    "#️⃣",
    "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    "Ł",
    "ß",
    "\u00a0",
]


def test_fast_path_agrees_with_twitter_text() -> None:
    """Generated mixes of the text teachers type, measured both ways."""
    import random

    from twitter_text import parse_tweet

    rng = random.Random(7)
    for number in range(2400):
        # A sixth of them far past the limit, where where it is crossed matters too.
        pieces = rng.randrange(0, 14) if number % 6 else rng.randrange(10, 60)
        text = "".join(rng.choice(PIECES) for _ in range(pieces))
        expected = parse_tweet(text)
        got = measure(text)
        assert (got.weighted, got.valid) == (expected.weightedLength, expected.valid), text
        if text:
            units = expected.validRangeEnd + 1
            assert got.valid_end == len(
                text.encode("utf-16-le")[: units * 2].decode("utf-16-le", "ignore")
            ), text
