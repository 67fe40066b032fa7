"""What an import would change in the register in use, pupil by pupil.

A safeguarding lead should see "4,670 pupils removed" before it happens, not
after. Pupils are matched by their MIS id where both sides have one, else by
name and class.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from tweetguard.folding import fold as _fold
from tweetguard.stores.consent import Pupil


@dataclass
class Changes:
    added: list[Pupil] = field(default_factory=list)
    removed: list[Pupil] = field(default_factory=list)
    withdrawn: list[Pupil] = field(default_factory=list)  # social media consent yes -> no
    given: list[Pupil] = field(default_factory=list)  # no -> yes
    before: int = 0

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.withdrawn or self.given)


def compare(current: Iterable[Pupil], incoming: Iterable[Pupil], day: date) -> Changes:
    old = list(current)
    changes = Changes(before=len(old))
    by_key: dict[tuple[str, ...], list[Pupil]] = {}
    for pupil in old:
        by_key.setdefault(_key(pupil), []).append(pupil)
    ids = {p.pupil_id.lower(): p for p in old if p.pupil_id}
    matched: set[int] = set()
    for pupil in incoming:
        before = ids.get(pupil.pupil_id.lower()) if pupil.pupil_id else None
        if before is None or id(before) in matched:
            candidates = [p for p in by_key.get(_key(pupil), []) if id(p) not in matched]
            before = candidates[0] if candidates else None
        if before is None:
            changes.added.append(pupil)
            continue
        matched.add(id(before))
        was, now = before.social_media_consent_on(day), pupil.social_media_consent_on(day)
        if was and not now:
            changes.withdrawn.append(pupil)
        elif now and not was:
            changes.given.append(pupil)
    changes.removed = [p for p in old if id(p) not in matched]
    return changes


def _key(pupil: Pupil) -> tuple[str, ...]:
    return (_fold(pupil.first_name), _fold(pupil.last_name))
