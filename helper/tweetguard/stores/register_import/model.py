"""What an import produces and how it fails, shared by the reading, mapping and row steps."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from tweetguard.stores.consent import Pupil

# A cell is text from a CSV file; an .xlsx cell may also be a real date.
Cell = str | date


class ImportRefused(Exception):
    """The file as a whole cannot be trusted as a register; nothing was changed.

    `line` is the first line that shows the problem, when there is one.
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Table:
    """A file read into rows, before any column has a meaning."""

    rows: list[tuple[int, list[Cell]]]  # (1-based line or sheet row, cells)
    description: str  # how it was read, for the person importing: "UTF-8 text, comma-separated"
    sheet: str | None = None  # the workbook sheet these rows are from


@dataclass(frozen=True)
class Problem:
    line: int  # the file's own line (or sheet row) number
    message: str
    reason: str  # short label the summary counts by: "no surname", "consent unreadable"
    skipped: bool  # True when the row could not be loaded at all
    sheet: str | None = None  # in a workbook, the sheet the line is on


@dataclass
class ImportResult:
    pupils: list[Pupil] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    description: str = ""  # how the file was read and which columns were used
    layout: str = ""  # “Legal Surname” → last_name, ...
    ignored: list[str] = field(default_factory=list)  # the file's headers nothing reads
    ignored_sheets: list[str] = field(default_factory=list)  # workbook sheets with no register
    rows: int = 0  # data rows read (not counting blank lines and the header)

    def skipped_by_reason(self) -> Counter[str]:
        return Counter(p.reason for p in self.problems if p.skipped)

    def loaded_with_problems(self) -> Counter[str]:
        return Counter(p.reason for p in self.problems if not p.skipped)

    def with_consent(self, day: date) -> int:
        return sum(1 for p in self.pupils if p.social_media_consent_on(day))
