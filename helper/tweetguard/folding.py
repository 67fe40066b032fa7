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


# Cyrillic and Greek letters that look Latin, for words that mix the two scripts
# ("Zаinab" with a Cyrillic а): a name disguised, not a Russian or Greek word.
_LOOKALIKES = str.maketrans(
    {
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "і": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "һ": "h",
        "ӏ": "l",
        "в": "b",
        "к": "k",
        "м": "m",
        "н": "h",
        "т": "t",
        "А": "A",
        "В": "B",
        "Е": "E",
        "К": "K",
        "М": "M",
        "Н": "H",
        "О": "O",
        "Р": "P",
        "С": "C",
        "Т": "T",
        "Х": "X",
        "У": "Y",
        "І": "I",
        "Ј": "J",
        "Ѕ": "S",
        "α": "a",
        "ο": "o",
        "ν": "v",
        "ι": "i",
        "κ": "k",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "Α": "A",
        "Β": "B",
        "Ε": "E",
        "Ζ": "Z",
        "Η": "H",
        "Ι": "I",
        "Κ": "K",
        "Μ": "M",
        "Ν": "N",
        "Ο": "O",
        "Ρ": "P",
        "Τ": "T",
        "Υ": "Y",
        "Χ": "X",
    }
)


def _mixed_scripts(text: str) -> bool:
    latin = any("a" <= c.lower() <= "z" for c in text)
    return latin and any("\u0370" <= c <= "\u04ff" for c in text)


def fold(text: str) -> str:
    """The form words are compared in: no accents, case-folded, plain letters,
    one apostrophe and one hyphen."""
    if text.isascii():
        return text.lower()
    if _mixed_scripts(text):
        text = text.translate(_LOOKALIKES)
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.casefold().translate(_LETTERS)
