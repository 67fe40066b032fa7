"""Post length by X's own weighting (twitter-text v3): links 23, CJK and emoji 2."""

from __future__ import annotations

from dataclasses import dataclass

from twitter_text import parse_tweet

from tweetguard.checks.base import Finding, Rule, Severity

MAX_WEIGHTED = 280

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
class Length:
    weighted: int
    max: int
    valid: bool
    valid_end: int  # code points of the text that still fit


def measure(text: str) -> Length:
    parsed = parse_tweet(text)
    valid_end = _utf16_to_codepoints(text, parsed.validRangeEnd + 1) if text else 0
    return Length(
        weighted=parsed.weightedLength,
        max=MAX_WEIGHTED,
        valid=bool(parsed.valid),
        valid_end=valid_end,
    )


def check(text: str, length: Length) -> list[Finding]:
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
