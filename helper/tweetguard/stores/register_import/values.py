"""Reading one cell: a consent answer or a date, as UK schools write them.

Consent answers differ by system: SIMS exports a tick, iSAMS "Opted In", Juniper
"Granted"/"Not Granted", apps "Allow"/"Deny". Anything that is not clearly a yes
is no consent. Dates are read day first, as UK exports write them
(31/07/2027, 31-Jul-2027) or in ISO order; a date that only makes sense month
first (07/31/2027) is refused rather than guessed, and so is one that could be
either when its column shows month-first dates elsewhere.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from enum import Enum

from tweetguard.stores.register_import.model import Cell


class Answer(Enum):
    YES = "yes"
    NO = "no"
    BLANK = "no answer"  # not asked, not returned, pending: no consent
    UNREADABLE = "unreadable"


_YES = {
    "yes",
    "y",
    "true",
    "t",
    "1",
    "x",
    "✓",
    "✔",
    "☑",
    "given",
    "granted",
    "consented",
    "consent given",
    "agreed",
    "accepted",
    "allow",
    "allowed",
    "permitted",
    "permission given",
    "opted in",
    "opt in",
    "ok",
    "yes consent given",
    "approved",
}
_NO = {
    "no",
    "n",
    "false",
    "f",
    "0",
    "refused",
    "declined",
    "denied",
    "deny",
    "withheld",
    "withdrawn",
    "not given",
    "not granted",
    "not consented",
    "no consent",
    "opted out",
    "opt out",
    "not permitted",
    "not allowed",
    "rejected",
    "not approved",
    "✗",
    "✘",
    "☐",
}
_BLANK = {
    "",
    "-",
    "pending",
    "requested",
    "not returned",
    "awaiting",
    "awaiting response",
    "unknown",
    "not known",
    "n a",
    "na",
    "none",
    "not asked",
    "tbc",
    "no response",
    "not recorded",
    "not applicable",
    "no reply",
    "not yet returned",
}


def answer(cell: Cell) -> Answer:
    if isinstance(cell, date):
        return Answer.UNREADABLE
    key = " ".join(re.sub(r"[^\w✓✔☑✗✘☐]+", " ", cell.lower()).split())
    if key in _YES:
        return Answer.YES
    if key in _NO:
        return Answer.NO
    if key in _BLANK:
        return Answer.BLANK
    return Answer.UNREADABLE


class DateProblem(Exception):
    pass


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_ISO = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?Z?"
)
_NUMERIC = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?: 0?0:00(?::00)?)?")
_NAMED = re.compile(
    r"(\d{1,2})(?:st|nd|rd|th)?[\s-]+([a-z]+)\.?,?[\s-]+(\d{2}|\d{4})|"
    r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})"
)
# Excel counts days from 30 December 1899; 20000-80000 is 1954-2119.
_EXCEL_EPOCH = date(1899, 12, 30)


def month_first_only(cell: Cell) -> bool:
    """A numeric date that is only valid month first: 07/31/2027."""
    if not isinstance(cell, str):
        return False
    match = _NUMERIC.fullmatch(cell.strip())
    return match is not None and int(match[1]) <= 12 < int(match[2]) <= 31


def parse_date(cell: Cell, *, month_first_column: bool = False) -> date:
    """The date in a cell, or DateProblem saying why it cannot be read safely."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    raw = cell.strip()
    lowered = raw.lower()
    if match := _ISO.fullmatch(raw):
        return _make(int(match[1]), int(match[2]), int(match[3]), raw)
    if match := _NUMERIC.fullmatch(raw):
        day, month, year = int(match[1]), int(match[2]), _year(match[3])
        if day <= 12 < month <= 31:
            raise DateProblem(
                f"'{raw}' reads month first (US order); write it day first "
                f"({month:02d}/{day:02d}/{year}) or as {year}-{day:02d}-{month:02d}"
            )
        if month_first_column and day <= 12 and month <= 12 and day != month:
            raise DateProblem(
                f"'{raw}' could be {day} {_month_name(month)} or {month} {_month_name(day)}: "
                "this column has month-first (US) dates elsewhere; write dates as YYYY-MM-DD"
            )
        return _make(year, month, day, raw)
    if match := _NAMED.fullmatch(lowered):
        if match[1]:
            day, month_name, year = int(match[1]), match[2], _year(match[3])
        else:
            month_name, day, year = match[4], int(match[5]), int(match[6])
        named = _MONTHS.get(month_name)
        if named is None:
            raise DateProblem(f"'{raw}': {month_name!r} is not a month")
        month = named
        return _make(year, month, day, raw)
    if re.fullmatch(r"\d{5}(?:\.0+)?", raw) and 20000 <= float(raw) <= 80000:
        return _EXCEL_EPOCH + timedelta(days=int(float(raw)))
    raise DateProblem(f"'{raw}' is not a date (use 31/07/2027 or 2027-07-31)")


def _year(text: str) -> int:
    """ "31/07/27" is 2027; "31/07/99" is 1999 (so it has long expired), not 2099."""
    if len(text) != 2:
        return int(text)
    return 2000 + int(text) if int(text) < 70 else 1900 + int(text)


def _make(year: int, month: int, day: int, raw: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DateProblem(f"'{raw}' is not a real date") from None


_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _month_name(number: int) -> str:
    return _MONTH_NAMES[number - 1]
