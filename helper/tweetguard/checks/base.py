"""What every check shares: rules as data, and the findings they produce.

A rule carries its id, severity, the one line a teacher reads and how to fix it,
so the same words appear in the composer panel, the CLI and the docs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Severity(IntEnum):
    INFO = 1
    WARN = 2
    BLOCK = 3

    @property
    def label(self) -> str:
        return self.name.lower()


VERDICTS = {None: "allow", Severity.INFO: "allow", Severity.WARN: "warn", Severity.BLOCK: "block"}


@dataclass(frozen=True)
class Rule:
    id: str
    family: str
    severity: Severity
    # str.format templates filled from the finding's parameters.
    message: str
    fix_hint: str
    description: str


@dataclass(frozen=True)
class Finding:
    rule: Rule
    start: int  # code point offsets into the checked text; the engine converts
    end: int  # them to UTF-16 for the browser.
    params: dict[str, str | int]
    fix: str | None = None

    @property
    def message(self) -> str:
        return self.rule.message.format(**self.params)
