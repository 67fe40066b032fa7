"""What every check shares: rules as data, the post being checked, and findings.

A rule carries its id, severity, the one line a teacher reads and how to fix it,
so the same words appear in the composer panel, the CLI and the docs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum
from functools import cached_property
from typing import TYPE_CHECKING

from tweetguard.checks.tokens import Word, words
from tweetguard.stores.policy import Policy

if TYPE_CHECKING:
    from tweetguard.checks.length import Url
    from tweetguard.checks.name_index import NameIndex, NameScan
    from tweetguard.checks.name_reading import NameContext


class Severity(IntEnum):
    INFO = 1
    WARN = 2
    BLOCK = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, label: str) -> Severity:
        return cls[label.upper()]


VERDICTS = {None: "allow", Severity.INFO: "allow", Severity.WARN: "warn", Severity.BLOCK: "block"}


@dataclass(frozen=True)
class Rule:
    id: str
    family: str
    severity: Severity
    # str.format template filled from the finding's parameters.
    message: str
    fix_hint: str
    description: str
    default_enabled: bool = True
    # Only on public accounts: a protected account's followers are approved parents.
    public_only: bool = False


@dataclass(frozen=True)
class Finding:
    rule: Rule
    start: int  # code point offsets into the checked text; the engine converts
    end: int  # them to UTF-16 for the browser.
    params: dict[str, str | int] = field(default_factory=dict)
    fix: str | None = None
    severity: Severity | None = None  # set by the engine from rule and policy
    # About the post's media item at this index rather than its text; with `part`
    # "alt", the offsets point into that item's image description.
    media: int | None = None
    part: str | None = None  # "alt", "title", "source" or "poll": where the offsets point
    index: int | None = None  # which poll choice

    @property
    def message(self) -> str:
        return self.rule.message.format(**self.params)


@dataclass
class Post:
    """One post as every check sees it; expensive views are computed once, on demand.

    `text` is the clean view of what the teacher typed (tokens.clean): findings
    point into it, and the engine maps them back to the typed text.
    """

    text: str
    policy: Policy
    names: NameIndex
    name_context: NameContext
    has_media: bool = False
    visibility: str = "public"
    today: date = field(default_factory=date.today)
    register_loaded: bool = True  # False when no register was ever imported here
    # (handle, user_id) of the signed-in account, or None when the caller did not say.
    account: tuple[str | None, str | None] | None = None

    @cached_property
    def words(self) -> list[Word]:
        return words(self.text)

    @cached_property
    def urls(self) -> list[Url]:
        from tweetguard.checks.length import extract_urls

        return extract_urls(self.text)

    @cached_property
    def name_scan(self) -> NameScan:
        return self.names.scan(self.text, self.words, self.name_context)
