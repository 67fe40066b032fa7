"""The one way names and words are compared: case, accents and look-alike letters folded.

Teachers type "Ciaran" for "Ciarán", "Lukasz" for "Łukasz", "Soren" for "Søren"
and "Strasse" for "Straße". Unicode decomposition strips the accents but leaves
the letters that are not accented forms (Ł, Ø, ß, Æ...), so those are mapped by
hand here: the list is short and fixed by the Latin alphabets themselves.
"""

from __future__ import annotations

import re
import unicodedata

# Characters that hide inside words and names: controls (not tab or newline),
# zero-width spaces and joiners, soft hyphens, direction marks, word joiners, BOMs,
# tag characters. "Ame\u200blia" is Amelia to a reader, so it is to the checks.
INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u206a-\u206f\ufeff\U000e0000-\U000e007f]"
)

_LETTERS = str.maketrans(
    {
        "ł": "l",
        "Ł": "l",
        "ø": "o",
        "Ø": "o",
        "ß": "ss",
        "ẞ": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "þ": "th",
        "Þ": "th",
        "ı": "i",
        "ħ": "h",
        "Ħ": "h",
        "ŧ": "t",
        "Ŧ": "t",
        "ŀ": "l",
        "Ŀ": "l",
        "ĸ": "k",
        "ŋ": "ng",
        "Ŋ": "ng",
        "ſ": "s",
        "ƒ": "f",
        # Apostrophes and dashes as typed on phones and by word processors.
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
        "´": "'",
        "′": "'",
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
        "―": "-",
        "−": "-",
    }
)


def fold(text: str) -> str:
    """The form words are compared in: no accents, case-folded, plain letters,
    one apostrophe and one hyphen."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.casefold().translate(_LETTERS)
