"""Register exports as real schools' systems write them, made by the tests.

Each builder returns the bytes of a file: the header names, separators,
encodings and date styles of a kind of MIS export, for pupils the tests choose.
None of it is copied from a real school.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any


def csv_text(header: Sequence[str], rows: Sequence[Sequence[str]], separator: str = ",") -> str:
    def cell(value: str) -> str:
        if any(c in value for c in (separator, '"', "\n")):
            return '"' + value.replace('"', '""') + '"'
        return value

    lines = [separator.join(cell(h) for h in header)]
    lines += [separator.join(cell(v) for v in row) for row in rows]
    return "\r\n".join(lines) + "\r\n"


def xlsx(header: Sequence[str], rows: Sequence[Sequence[Any]], *, title_rows: int = 0) -> bytes:
    """An Excel workbook as an MIS writes it: a title first, real date cells."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Pupils"
    for number in range(title_rows):
        sheet.append([f"Consent report {number + 1}", "printed 01/09/2026"])
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def canonical(rows: Sequence[tuple[str, str, str]]) -> bytes:
    """first_name,last_name,social_media_consent rows as tweetguard's own CSV."""
    return csv_text(
        ["first_name", "last_name", "social_media_consent"], [list(r) for r in rows]
    ).encode()


EXPIRY = date(2031, 7, 31)
