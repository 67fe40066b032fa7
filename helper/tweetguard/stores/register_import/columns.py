"""The register's columns, and the names MIS exports give them.

MIS exports are reports a school builds, so captions vary: SIMS says "Legal
Surname" and "Reg", Bromcom "Tutor Group", iSAMS "NC Year", Arbor's API
"KnownAsFirstName". Headers are compared after folding case, punctuation and
camelCase to plain words, then looked up in ALIASES; consent columns, which
schools name after their own consent types ("Photos on social media", "Consent
Denied - Website"), are recognised by the words in them. A school whose export
says something else maps it once, with --map or [register] columns in policy.toml.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

from tweetguard.stores.register_import.model import ImportRefused

# Every column the register understands, and what it holds.
FIELDS: dict[str, str] = {
    "first_name": "legal first name (forename)",
    "last_name": "legal surname",
    "preferred_name": "the first name the pupil is known by",
    "preferred_last_name": "the surname the pupil is known by, if different",
    "middle_names": "middle name(s)",
    "full_name": 'the whole name as "Surname, Forename", when there are no separate columns',
    "class": "registration group, form or class",
    "year": "year group (7, Year 7, Y7, R, N2)",
    "pupil_id": "UPN, admission number or MIS id",
    "social_media_consent": "consent to photos and names on social media",
    "website_consent": "consent for the school website",
    "press_consent": "consent for the press (newspapers)",
    "consent_expires": "the date the consent runs out",
}
IGNORE = "ignore"
CONSENTS = ("social_media_consent", "website_consent", "press_consent")

# Header names, folded, by the column they are (data in mis_headers.toml).
ALIASES: dict[str, tuple[str, ...]] = {
    column: tuple(names)
    for column, names in tomllib.loads(
        resources.files("tweetguard.stores.register_import")
        .joinpath("mis_headers.toml")
        .read_text("utf-8")
    ).items()
}
_BY_ALIAS = {alias: column for column, aliases in ALIASES.items() for alias in aliases}

# Words that make a header a consent for one purpose ("Photos - Social Media").
_PURPOSES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("social_media_consent", re.compile(r"\b(?:social|twitter|facebook|instagram|x com)\b")),
    ("website_consent", re.compile(r"\b(?:web ?site|web|internet)\b")),
    ("press_consent", re.compile(r"\b(?:press|newspapers?|print|local media|tv|television)\b")),
)
# "Online Material" (Consent2Go) covers the website and social media both.
_ONLINE = re.compile(r"\bonline\b")
_CONSENTISH = re.compile(
    r"\b(?:consents?|permissions?|permitted|photos?|photographs?|images?|pictures?|videos?|"
    r"media|allowed|agreed|opt(?:ed)? (?:in|out)|material|ok|okay)\b"
)
# "Permission Ends", "Consent valid until", "Expiry": when the consent runs out.
_EXPIRY = re.compile(r"\b(?:expir\w*|valid (?:until|to|till)|ends?|end date|until|lapses?)\b")
# A consent column that says the opposite: "Consent Denied", "Opted out of...".
_NEGATED = re.compile(
    r"\b(?:denied|refused|withheld|withdrawn|declined|no consent|not permitted|opt(?:ed)? out|"
    r"objection|objects?|exclude[ds]?|exclusion|do not|don ?t|not consented|not given|"
    r"not allowed|restrict\w*|without|never|ban(?:ned)?|prohibit\w*|block(?:ed)?)\b|^no\b"
)


def fold_header(header: str) -> str:
    """ "KnownAsFirstName" and "Known As - First Name" alike: "known as first name"."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", header.strip())
    return " ".join(re.sub(r"[^0-9a-z]+", " ", spaced.lower()).split())


@dataclass(frozen=True)
class Use:
    """One file column read into one register column."""

    column: str  # a FIELDS key
    index: int  # position in the row
    header: str  # as the file wrote it
    inverted: bool = False  # "Consent Denied": yes means no consent
    purpose: str | None = None  # an expiry's consent: "Website consent expires" is website's


@dataclass
class Layout:
    """Which of the file's columns are read, and into what."""

    uses: list[Use] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # headers nothing reads

    def index(self, column: str) -> list[Use]:
        return [use for use in self.uses if use.column == column]

    def has(self, column: str) -> bool:
        return any(use.column == column for use in self.uses)

    def describe(self) -> str:
        parts = []
        for use in self.uses:
            note = " (inverted: yes = no consent)" if use.inverted else ""
            parts.append(f"“{use.header}” → {use.column}{note}")
        return ", ".join(parts)


def parse_mapping(text: str) -> dict[str, str]:
    """ "Legal Surname=last_name, Known As=preferred_name" from --map."""
    mapping = {}
    for part in text.split(","):
        if not part.strip():
            continue
        header, sep, column = part.rpartition("=")
        if not sep or not header.strip() or not column.strip():
            raise ImportRefused(
                f"--map item {part.strip()!r} is not HEADER=COLUMN, "
                'e.g. --map "Legal Surname=last_name"'
            )
        mapping[header.strip()] = column.strip()
    check_mapping(mapping, "--map")
    return mapping


def mapping_problem(mapping: Mapping[Any, Any], where: str) -> str | None:
    """What is wrong with a header mapping (from --map or policy.toml), or None."""
    for header, column in mapping.items():
        if not isinstance(header, str) or not isinstance(column, str):
            return f'{where} must map header names to column names, as "Header" = "column"'
        if column != IGNORE and column not in FIELDS:
            return (
                f"{where} maps {header!r} to {column!r}, which is not a register column; "
                f"use one of {', '.join(FIELDS)}, or {IGNORE}"
            )
    return None


def check_mapping(mapping: Mapping[str, str], where: str) -> None:
    problem = mapping_problem(mapping, where)
    if problem:
        raise ImportRefused(problem)


def layout(headers: Sequence[str], mapping: Mapping[str, str] = {}) -> Layout:
    """How a header row is read. A mapped header wins over the built-in names."""
    mapped = {fold_header(k): v for k, v in mapping.items()}
    result = Layout()
    taken: set[str] = set()
    pending: list[tuple[int, str, str]] = []
    for index, header in enumerate(headers):
        folded = fold_header(header)
        if not folded:
            continue
        if folded in mapped:
            column = mapped[folded]
            if column != IGNORE:
                result.uses.append(_use(column, index, header, folded))
                taken.add(column)
            continue
        pending.append((index, header, folded))
    for index, header, folded in pending:
        columns = _recognise(folded)
        columns = [c for c in columns if c not in taken or c in _SEVERAL]
        if not columns:
            result.unknown.append(header)
            continue
        for column in columns:
            if column in taken and column not in _SEVERAL:
                continue
            result.uses.append(_use(column, index, header, folded))
            taken.add(column)
    # A column read twice would be ambiguous ("Forename" and "Legal Forename"):
    # keep the first, by how specific its header is.
    found = _one_per_column(result)
    # Integris exports the known-as name and no legal first name: it is the name to use.
    for legal, known in (("first_name", "preferred_name"), ("last_name", "preferred_last_name")):
        if not found.has(legal) and found.has(known):
            found.uses = [replace(u, column=legal) if u.column == known else u for u in found.uses]
    return found


def _use(column: str, index: int, header: str, folded: str) -> Use:
    purposes = _purposes(folded) if column == "consent_expires" else []
    return Use(column, index, header, _negated(folded, column), purposes[0] if purposes else None)


def _recognise(folded: str) -> list[str]:
    column = _BY_ALIAS.get(folded)
    if column is not None:
        return [column]
    if _EXPIRY.search(folded) and _CONSENTISH.search(folded):
        return ["consent_expires"]
    if _NEGATED.search(folded) and not _purposes(folded):
        return []
    if _ONLINE.search(folded) and _CONSENTISH.search(folded):
        return ["social_media_consent", "website_consent"]
    purposes = _purposes(folded)
    if purposes and (_CONSENTISH.search(folded) or len(folded.split()) <= 2):
        return purposes[:1]
    return []


def _purposes(folded: str) -> list[str]:
    return [column for column, pattern in _PURPOSES if pattern.search(folded)]


# Columns a file may have several of: a consent given in two columns must be given in
# both, and of several expiry dates the earliest counts.
_SEVERAL = (*CONSENTS, "consent_expires")


def _negated(folded: str, column: str) -> bool:
    return column in CONSENTS and bool(_NEGATED.search(folded))


_SPECIFIC = ("legal", "preferred", "known", "chosen")


def _one_per_column(result: Layout) -> Layout:
    kept: dict[str, Use] = {}
    extra: list[str] = []
    consents = [use for use in result.uses if use.column in _SEVERAL]
    for use in result.uses:
        if use.column in _SEVERAL:
            continue  # several consent (or expiry) columns: all are read
        earlier = kept.get(use.column)
        if earlier is None:
            kept[use.column] = use
            continue
        # "Legal Forename" beats a plain "Forename" for the legal name.
        if any(w in fold_header(use.header) for w in _SPECIFIC) and not any(
            w in fold_header(earlier.header) for w in _SPECIFIC
        ):
            kept[use.column] = use
            extra.append(earlier.header)
        else:
            extra.append(use.header)
    uses = sorted(
        [*kept.values(), *consents], key=lambda u: (u.index, list(FIELDS).index(u.column))
    )
    return Layout(uses=uses, unknown=result.unknown + extra)


def header_score(headers: Sequence[str], mapping: Mapping[str, str] = {}) -> int:
    """How much a row looks like the register's header: 0 when it cannot be one."""
    found = layout(headers, mapping)
    names = (found.has("first_name") and found.has("last_name")) or found.has("full_name")
    if not names:
        return 0
    return 2 * len({use.column for use in found.uses}) + 3 * found.has("social_media_consent")


def missing(found: Layout) -> list[str]:
    absent = []
    if not found.has("full_name"):
        absent += [c for c in ("first_name", "last_name") if not found.has(c)]
    if not found.has("social_media_consent"):
        absent.append("social_media_consent")
    return absent
