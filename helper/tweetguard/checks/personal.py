"""Personal data: phone numbers, email addresses, street addresses and postcodes.

A public school account is read by strangers; a number, an address or an email
lets one reach a child or a family. The school's own numbers, domains and
address are allowlisted in the policy.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from tweetguard.checks.base import Finding, Post, Rule, Severity
from tweetguard.checks.tokens import fold

PHONE = Rule(
    id="personal.phone",
    family="personal",
    severity=Severity.BLOCK,
    message="“{match}” is a phone number. Remove it, or give the school office number instead.",
    fix_hint="Remove the number or use the school's own (allowlisted) number.",
    description="Phone numbers (UK and international), except the school's own.",
)
EMAIL = Rule(
    id="personal.email",
    family="personal",
    severity=Severity.BLOCK,
    message="“{match}” is an email address. Remove it, or give the school office address instead.",
    fix_hint="Remove the address or use the school's own.",
    description="Email addresses outside the school's own domains.",
)
ADDRESS = Rule(
    id="personal.address",
    family="personal",
    severity=Severity.BLOCK,
    message="“{match}” looks like a home or street address. Remove it, or name the venue instead.",
    fix_hint="Remove the address.",
    description="Street addresses (house number and street) and UK postcodes, except the school's.",
)

RULES = (PHONE, EMAIL, ADDRESS)

# At least 7 digits in the text before the phone library is even loaded.
_DIGITS = re.compile(r"\d")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b")
_POSTCODE = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE
)
_STREET_SUFFIX = (
    r"(?:road|rd|street|st|lane|ln|avenue|ave|close|drive|dr|way|crescent|cres|place|pl|"
    r"court|ct|terrace|grove|gardens|gdns|square|sq|mews|row|walk|hill|rise|view|parade)"
)
# A house number, one to three capitalised words, then a street word in any case.
_STREET = re.compile(
    rf"\b\d{{1,4}}[A-Za-z]?,?\s+(?:[A-Z][\w'’-]*\s+){{1,3}}(?i:{_STREET_SUFFIX})\b"
)

# Welsh, Scottish Gaelic and Irish streets put the street word first: "14 Heol y Nant",
# "3 Ffordd Glyndŵr", "7 Sràid na h-Eaglais", "2 Bóthar an Locha".
_STREET_FIRST = re.compile(
    r"\b\d{1,4}[A-Za-z]?,?\s+(?:Heol|Ffordd|Stryd|Lôn|Lon|Rhodfa|Cilgant|Maes|Cae|"
    r"Sràid|Sraid|Rathad|Bóthar|Bothar|Sráid|Ascaill)\s+(?:[\w'’-]+\s+){0,2}[\w'’-]*[A-Z][\w'’-]*"
)

# Lower-case streets only with one or two plain words and a clear street word:
# "42 oak avenue", but not "30 trees along the road".
_STREET_LOWER = re.compile(
    r"\b\d{1,4}[a-z]?\s+(?!(?:the|a|an|of|on|in|to|by|up|down|along|across|around)\b)"
    r"[a-z][\w'’-]*(?:\s+(?!(?:the|a|an|of|on|in|to|by)\b)[a-z][\w'’-]*)?"
    r"\s+(?:road|street|avenue|lane|close|drive|crescent|terrace|grove)\b"
)
_CLASS_BEFORE = re.compile(r"(?i:\b(?:year|yr|class|room|group|table|ks|key stage|reception))\s*$")
_ORDINAL_INWARD = re.compile(r"(?i:\s\d(?:st|nd|rd|th)$)")
# Email addresses written out to dodge filters: "jo dot smith at gmail dot com".
_SPELLED_EMAIL = re.compile(
    r"(?i:\b[\w.-]+(?:\s+dot\s+[\w-]+)*\s+(?:at|\(at\)|\[at\])\s+[\w-]+(?:\s+dot\s+[\w-]+)+\b)"
)


@cache
def _phonenumbers() -> Any:
    import phonenumbers

    return phonenumbers


def check_phone_library() -> None:
    _phonenumbers()


def _normalise_number(raw: str) -> str | None:
    pn = _phonenumbers()
    try:
        number = pn.parse(raw, "GB")
    except pn.NumberParseException:
        return None
    return str(pn.format_number(number, pn.PhoneNumberFormat.E164))


def check(post: Post) -> list[Finding]:
    text = post.text
    findings: list[Finding] = []
    allow = post.policy.allow
    if len(_DIGITS.findall(text)) >= 7:
        pn = _phonenumbers()
        allowed = {_normalise_number(p) for p in allow.phones}
        # POSSIBLE, not VALID: unallocated and reserved numbers (07700 900xxx) are still
        # phone-shaped to a reader, so anything dialled like a phone number counts.
        for match in pn.PhoneNumberMatcher(text, "GB", leniency=pn.Leniency.POSSIBLE):
            if not _dialled_like_a_phone(match.raw_string):
                continue
            number = pn.format_number(match.number, pn.PhoneNumberFormat.E164)
            if number not in allowed:
                findings.append(Finding(PHONE, match.start, match.end, {"match": match.raw_string}))
    if "@" in text:
        for match in _EMAIL.finditer(text):
            domain = match.group(1).lower()
            if not _domain_allowed(domain, allow.domains):
                findings.append(
                    Finding(EMAIL, match.start(), match.end(), {"match": match.group()})
                )
    if " dot " in text.lower():
        for match in _SPELLED_EMAIL.finditer(text):
            findings.append(Finding(EMAIL, match.start(), match.end(), {"match": match.group()}))
    places = [fold(place) for place in allow.places]
    for pattern in (_STREET, _STREET_FIRST, _STREET_LOWER, _POSTCODE):
        for match in pattern.finditer(text):
            if _is_allowlisted(match.group(), places) or _not_an_address(text, match):
                continue
            findings.append(Finding(ADDRESS, match.start(), match.end(), {"match": match.group()}))
    return _merge_overlaps(findings)


def _dialled_like_a_phone(raw: str) -> bool:
    """0 or + then at least ten digits: UK and international numbers, not sums or years."""
    return raw[:1] in ("0", "+", "(") and sum(c.isdigit() for c in raw) >= 10


def _not_an_address(text: str, match: re.Match[str]) -> bool:
    """ "Year 2 Nature Walk" is a class; "Y5 2nd" is a class and a place in a race."""
    before = text[max(0, match.start() - 12) : match.start()]
    if _CLASS_BEFORE.search(before):
        return True
    found = match.group()
    return bool(_ORDINAL_INWARD.search(found)) and not found.isupper()


def _domain_allowed(domain: str, allowed: tuple[str, ...]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in allowed)


def _is_allowlisted(found: str, places: list[str]) -> bool:
    key = fold(" ".join(found.replace(",", " ").split()))
    return any(key in place or place in key for place in places)


def _merge_overlaps(findings: list[Finding]) -> list[Finding]:
    """One finding per stretch of text: a postcode inside an address is one problem."""
    findings.sort(key=lambda f: (f.start, -f.end))
    merged: list[Finding] = []
    for finding in findings:
        if merged and finding.start < merged[-1].end and finding.rule is merged[-1].rule:
            continue
        merged.append(finding)
    return merged
