"""A photo in a post: its own report plus the teacher's answers about who is in it.

The photo report says what the file shows (faces) and carries (metadata); here
that meets the consent register. Faces with no answer hold the post; everyone
named as pictured needs social media consent today; a face the opt-in matcher
links to a protected pupil holds the post unless the teacher says it is not them
(an uncertain match) - a confident one holds it whatever is said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tweetguard.checks.photos import rules as R
from tweetguard.checks.photos.report import PhotoFinding, PhotoReport
from tweetguard.stores.people import People


@dataclass(frozen=True)
class Attached:
    """One media item of a post, as the check request describes it."""

    report: PhotoReport | None  # None: the helper has not seen (or finished) this file
    pictured: tuple[str, ...] = ()
    nobody_identifiable: bool = False
    confirmed_not: tuple[str, ...] = ()
    alt: str | None = None
    kind: str = "image"
    title: str | None = None  # a video's title


def findings(item: Attached, people: People, today: date) -> list[PhotoFinding]:
    report = item.report
    if report is None:
        return [PhotoFinding(R.UNCHECKED)]
    # The report's own match findings are made again below, with the teacher's answers.
    answered_here = (R.WHO_PICTURED, R.FACE_MATCH, R.POSSIBLE_MATCH)
    found = [f for f in report.findings if f.rule not in answered_here]
    answered = bool(item.pictured) or item.nobody_identifiable
    if report.faces and not answered:
        found.extend(f for f in report.findings if f.rule is R.WHO_PICTURED)
    for ref in dict.fromkeys(item.pictured):
        person = people.get(ref)
        if person is None:
            found.append(PhotoFinding(R.NOT_IN_REGISTER))
        elif not person.consent_on(today):
            found.append(PhotoFinding(R.NO_CONSENT, {"name": person.name}))
    for match in report.matches or ():
        if match.confident:
            found.append(PhotoFinding(R.FACE_MATCH, {"name": match.name}))
        elif match.ref not in item.confirmed_not:
            found.append(PhotoFinding(R.POSSIBLE_MATCH, {"name": match.name}))
    return _unique(found)


def _unique(found: list[PhotoFinding]) -> list[PhotoFinding]:
    seen: set[tuple[str, tuple[tuple[str, str | int], ...]]] = set()
    out = []
    for finding in found:
        key = (finding.rule.id, tuple(sorted(finding.params.items())))
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out
