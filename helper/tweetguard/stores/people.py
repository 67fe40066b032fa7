"""Everyone who can be in a photo: pupils and staff from the consent register.

The extension's "who is pictured" picker searches here as the teacher types,
and the check looks people up by `ref` (stores.consent.person_ref), which stays
the same across re-imports. Searching is by word starts, accent- and case-blind,
over names, class and year, so "ame 4" finds Amélie in Year 4.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tweetguard.folding import fold
from tweetguard.stores.consent import Pupil, person_ref


@dataclass(frozen=True)
class Person:
    ref: str
    role: str  # "pupil" or "staff"
    record: Pupil

    @property
    def name(self) -> str:
        first = self.record.preferred_name or self.record.first_name
        last = self.record.preferred_last_name or self.record.last_name
        return f"{first} {last}".strip()

    @property
    def group(self) -> str | None:
        return self.record.group if self.role == "pupil" else (self.record.class_name or "Staff")

    def consent_on(self, day: date) -> bool:
        return self.record.social_media_consent_on(day)

    def to_json(self, day: date) -> dict[str, object]:
        expires = self.record.consent_expires
        return {
            "ref": self.ref,
            "name": self.name,
            "group": self.group,
            "role": self.role,
            "consent": self.consent_on(day),
            "expires": expires.isoformat() if expires else None,
        }


class People:
    def __init__(self, pupils: list[Pupil], staff: list[Pupil]) -> None:
        self.everyone = [Person(person_ref(p, "pupil"), "pupil", p) for p in pupils] + [
            Person(person_ref(s, "staff"), "staff", s) for s in staff
        ]
        self._by_ref = {p.ref: p for p in self.everyone}
        self._words = [_words(p) for p in self.everyone]

    def get(self, ref: str) -> Person | None:
        return self._by_ref.get(ref)

    def search(self, query: str, limit: int = 8) -> list[Person]:
        """People every word of whose query begins one of their words; pupils first,
        then by name. An empty query finds no one (a picker lists as you type)."""
        terms = fold(query).casefold().replace("-", " ").split()
        if not terms:
            return []
        found = [
            person
            for person, words in zip(self.everyone, self._words, strict=True)
            if all(any(w.startswith(t) for w in words) for t in terms)
        ]
        found.sort(key=lambda p: (p.role != "pupil", fold(p.name).casefold()))
        return found[:limit]


def _words(person: Person) -> list[str]:
    r = person.record
    parts = [
        r.first_name,
        r.last_name,
        r.preferred_name,
        r.preferred_last_name,
        r.middle_names,
        r.class_name,
        r.year_group,
        person.group,
        "staff" if person.role == "staff" else None,
    ]
    words: list[str] = []
    for part in parts:
        if part:
            words.extend(fold(part).casefold().replace("-", " ").split())
    # "Year 4" is also found by "y4" and "4"
    if person.role == "pupil" and r.year_group:
        label = r.group or ""
        digits = "".join(c for c in label if c.isdigit())
        if digits:
            words.extend([digits, f"y{digits}"])
    return words
