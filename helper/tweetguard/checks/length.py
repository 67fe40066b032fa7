"""Post length by X's own weighting (twitter-text v3): links 23, CJK and emoji 2.

twitter-text-parser implements the rules and passes their conformance cases, but
loading it costs about 200 ms (it compiles an emoji pattern of thousands of
sequences) and its emoji scan half a millisecond a post. Most school posts are
Latin text, links and single emoji, where the weighting is one or two per
character and 23 per link, so those take a fast path; emoji sequences (skin
tones, families, flags) and text needing normalisation go to the library.
tests/test_length.py holds both to the conformance cases and to each other.
"""

from __future__ import annotations

import re
import threading
import unicodedata
import warnings
from dataclasses import dataclass
from functools import cache

from tweetguard.checks.base import Finding, Rule, Severity

MAX_WEIGHTED = 280
URL_WEIGHT = 23

TOO_LONG = Rule(
    id="length.too-long",
    family="length",
    severity=Severity.BLOCK,
    message=(
        "This post is {weighted} characters; X allows {max}. Cut {over} or split it into a thread."
    ),
    fix_hint="Shorten the post or split it into a thread.",
    description="Weighted length over 280 by X's counting (links count 23; CJK and emoji 2).",
)

RULES = (TOO_LONG,)


@dataclass(frozen=True)
class Url:
    url: str
    start: int  # code points
    end: int


@dataclass(frozen=True)
class Length:
    weighted: int
    max: int
    valid: bool
    valid_end: int  # code points of the text that still fit


def _weight_one(char: str) -> bool:
    """Characters that weigh 1 and can never be (part of) an emoji."""
    code = ord(char)
    if code < 0x1100:
        return code not in (0xA9, 0xAE)  # © and ® are emoji too
    return 0x2000 <= code <= 0x200D or 0x2010 <= code <= 0x201F or 0x2032 <= code <= 0x2037


# twitter-text imports itself in a circle: two threads importing it at once (the
# host's preload and a check) can see it half-built and fail. One import at a time.
_LIBRARY_LOCK = threading.Lock()


@cache
def _library() -> tuple[object, object]:
    # It also reads its emoji table through pkg_resources, whose import warns on
    # setuptools 81 (pyproject pins <82, where it still exists): a warning on every
    # teacher's terminal that nobody there can act on.
    with _LIBRARY_LOCK, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
        from twitter_text import parse_tweet
        from twitter_text.extract_urls import extract_urls_with_indices

    return parse_tweet, extract_urls_with_indices


# Something a link could be: a dot between letters or digits and a letter ("sch.uk",
# "bit.ly"), not the dot that ends a sentence. Only then is the library asked.
_MAYBE_URL = re.compile(r"[^\s.]\.[^\W_]")


def extract_urls(text: str) -> list[Url]:
    """Links as X finds them (with or without a scheme), shared with the link checks."""
    if not _MAYBE_URL.search(text):
        return []
    extract = _library()[1]
    return [Url(u["url"], *u["indices"]) for u in extract(text)]  # type: ignore[operator]


def measure(text: str, urls: list[Url] | None = None) -> Length:
    urls = extract_urls(text) if urls is None else urls
    fast = _fast_measure(text, urls)
    return fast if fast is not None else _library_measure(text)


def _fast_measure(text: str, urls: list[Url]) -> Length | None:
    """The length by twitter-text's weights, where one pass over the characters is
    enough; None where only the library measures right. Also where the post is far
    too long: the library's emoji scan of a 50,000-character text takes half a second."""
    if not unicodedata.is_normalized("NFC", text) or "\r" in text:
        return None
    weight = 0
    valid_end: int | None = None  # the first character (or link) past the limit
    position = 0
    for url in [*urls, None]:
        segment = text[position : url.start if url else len(text)]
        if segment.isascii() and (valid_end is not None or weight + len(segment) <= MAX_WEIGHTED):
            weight += len(segment)
        else:
            for offset, char in enumerate(segment):
                if _SEQUENCE_PARTS.match(char) or char in "\ufeff\ufffe\uffff":
                    return None
                weight += 1 if _weight_one(char) else 2
                if valid_end is None and weight > MAX_WEIGHTED:
                    valid_end = position + offset
        if url is None:
            break
        weight += URL_WEIGHT
        if valid_end is None and weight > MAX_WEIGHTED:
            valid_end = url.start
        position = url.end
    return Length(
        weighted=weight,
        max=MAX_WEIGHTED,
        valid=0 < weight <= MAX_WEIGHTED,
        valid_end=len(text) if valid_end is None else valid_end,
    )


# What joins code points into one emoji: variation selectors, ZWJ, keycaps, skin
# tones, regional indicators (flags), tag characters. Every multi-code-point emoji
# holds one of these; without them each emoji is one code point, which weighs 2
# on its own (twitter-text's weight-1 ranges hold no emoji but © and ®).
_SEQUENCE_PARTS = re.compile(
    "[\ufe0e\ufe0f\u200d\u20e3\U0001f3fb-\U0001f3ff\U0001f1e6-\U0001f1ff\U000e0020-\U000e007f]"
)


def _library_measure(text: str) -> Length:
    parse_tweet = _library()[0]
    parsed = parse_tweet(text)  # type: ignore[operator]
    valid_end = _utf16_to_codepoints(text, parsed.validRangeEnd + 1) if text else 0
    return Length(
        weighted=parsed.weightedLength,
        max=MAX_WEIGHTED,
        valid=bool(parsed.valid),
        valid_end=valid_end,
    )


def check(text: str, length: Length) -> list[Finding]:
    """Over-length, pointing into `text`, the post as typed (not the clean view)."""
    if length.weighted <= length.max:
        return []
    return [
        Finding(
            rule=TOO_LONG,
            start=length.valid_end,
            end=len(text),
            params={
                "weighted": length.weighted,
                "max": length.max,
                "over": length.weighted - length.max,
            },
        )
    ]


def _utf16_to_codepoints(text: str, units: int) -> int:
    count = 0
    for index, char in enumerate(text):
        if count >= units:
            return index
        count += 2 if ord(char) > 0xFFFF else 1
    return len(text)
