"""What a check is and what it answers, shared by every family of checks.

Checks are data (an id, a title and a function) rather than code paths inside one
long command, so `tweetguard doctor`, its `--json` for fleet tools and docs/doctor.md
list the same things under the same ids, and a family that finds several of
something (browsers, manifests) simply returns one check per thing it found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Status = Literal["ok", "warn", "fail"]
OK: Status = "ok"
WARN: Status = "warn"
FAIL: Status = "fail"


@dataclass(frozen=True)
class Result:
    """One answer: `message` says what was found, `fix` what to do (empty when ok)."""

    status: Status
    message: str
    fix: str = ""


def ok(message: str) -> Result:
    return Result(OK, message)


def warn(message: str, fix: str) -> Result:
    return Result(WARN, message, fix)


def fail(message: str, fix: str) -> Result:
    return Result(FAIL, message, fix)


@dataclass
class Context:
    """What every check may look at: the data folder, the browsers asked about and
    the ids the manifests must allow. `cache` lets a later check reuse what an
    earlier one read (a manifest, a launcher) instead of reading it twice."""

    home: Path
    browsers: list[str] | None = None  # None: the installed ones and those with manifests
    chrome_ids: list[str] = field(default_factory=list)
    firefox_ids: list[str] = field(default_factory=list)
    hello_timeout: float = 10.0  # a healthy host answers in about a second
    server_timeout: float = 10.0
    cache: dict[str, object] = field(default_factory=dict)


# A check answers None when it does not apply (the hello of a launcher already
# reported missing): the broken link is reported once, where it breaks.
Run = Callable[[Context], Result | None]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    run: Run


@dataclass(frozen=True)
class Outcome:
    id: str
    title: str
    status: Status
    message: str
    fix: str

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "message": self.message,
            "fix": self.fix,
        }


# A family looks at the context and says which checks to run (one per browser
# manifest found, say); its checks then run in that order.
Family = Callable[[Context], list[Check]]
