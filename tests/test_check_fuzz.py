"""Any text a browser can send is checked: no exception, and every finding points
into the text as typed (in UTF-16 units, as the extension slices it)."""

from __future__ import annotations

import random

from tweetguard.checks.engine import Checker
from tweetguard.protocol.handlers import Handler

PIECES = [
    "Amelia Thornbury",
    "Hope",
    "hope",
    "#WellDoneHope",
    "@amelia_thornbury",
    "Mrs May",
    " ",
    "\n",
    "  ",
    ".",
    "!",
    ",",
    "–",
    "—",
    "'",
    "’",
    "\u200b",
    "\u00ad",
    "\u0000",
    "\u2060",
    "\u200d",
    "\ufeff",
    "e\u0301",
    "🎉",
    "👨‍👩‍👧",
    "🇬🇧",
    "日本",
    "שלום",
    "\u202e",
    "Ł",
    "ß",
    "07700 900123",
    "https://bit.ly/x",
    "sh*t",
    "f**k",
    "tomorrow",
    "at Kew Gardens",
    "10am",
    "Year 3",
    "(Y4)",
    "broke her arm",
    "\ud800",
    "\udfff",
    "x" * 300,
    "©",
    "\t",
]


def test_random_texts_are_checked_with_offsets_into_the_typed_text(checker: Checker) -> None:
    handler = Handler(checker)
    rng = random.Random(11)
    for number in range(600):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 25)))
        reply = handler.handle({"id": number, "type": "check", "text": text})
        assert reply["ok"], (text, reply)
        typed = text.encode("utf-16-le", "surrogatepass")
        units = len(typed) // 2
        for finding in reply["findings"]:
            assert 0 <= finding["start"] <= finding["end"] <= units, (text, finding)
            if finding["rule"].startswith("names.") and finding["end"] > finding["start"]:
                span = typed[finding["start"] * 2 : finding["end"] * 2].decode(
                    "utf-16-le", "surrogatepass"
                )
                assert span[:1].isalnum() or span[:1] in "#@", (text, finding, span)
