"""Runs every rule family over a post and turns what they find into one verdict.

The Checker lives as long as the host process: it rebuilds the name index only
when the consent register's revision changes and re-reads the policy only when
the file changes, so a check costs the checks themselves and nothing more.
Policy overrides (enabled, severity) and account visibility are applied here,
once, rather than in each family.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from tweetguard.checks import (
    accounts,
    language,
    lexicon,
    links,
    names,
    personal,
    reposts,
    sensitive,
    setup,
    trips,
)
from tweetguard.checks import length as length_check
from tweetguard.checks.base import VERDICTS, Finding, Post, Rule, Severity
from tweetguard.checks.name_index import NameIndex
from tweetguard.checks.name_reading import NameContext
from tweetguard.checks.photos import rules as photo_rules
from tweetguard.checks.reposts import Source
from tweetguard.checks.tokens import Clean, clean
from tweetguard.stores.consent import ConsentRegister, RegisterMissing, RegisterSummary
from tweetguard.stores.home import policy_path, register_path
from tweetguard.stores.policy import Policy, PolicyError, load_policy

if TYPE_CHECKING:  # the photo modules load with the first photo, not with the helper
    from tweetguard.checks.photos.pictured import Attached
    from tweetguard.stores.people import People

# Every family with a check(post) function, in the order findings are listed.
FAMILIES = (setup, accounts, names, personal, trips, sensitive, language, links, lexicon)
# Families that read text: a post's, and each image description (alt text).
TEXT_FAMILIES = (names, personal, trips, sensitive, language, links, lexicon)
BUILTIN_RULES: tuple[Rule, ...] = (
    *length_check.RULES,
    *(rule for family in FAMILIES for rule in family.RULES),
    *photo_rules.RULES,
    *reposts.RULES,
)


def all_rules(policy: Policy) -> tuple[Rule, ...]:
    return (*BUILTIN_RULES, *lexicon.policy_rules(policy.lexicon))


def validate(policy: Policy) -> None:
    """Fails closed on a policy naming rules that do not exist (a typo would
    otherwise silently leave a rule at its default)."""
    known = {rule.id for rule in all_rules(policy)}
    unknown = sorted(set(policy.rules) - known)
    if unknown:
        raise PolicyError(
            f"unknown rule(s) in [rules]: {', '.join(unknown)}; `tweetguard rules` lists them"
        )


@dataclass(frozen=True)
class Report:
    verdict: str
    findings: list[Finding]
    length: length_check.Length
    text: str
    visibility: str = "public"  # of the account it would go out from (unknown: public)
    # Texts besides the post's own that go out with it, by (part, media, index):
    # alt texts, video titles, poll choices, the reposted or quoted post.
    parts: dict[tuple[str, int | None, int | None], str] = field(default_factory=dict)

    def findings_json(self) -> list[dict[str, object]]:
        maps: dict[tuple[str, int | None, int | None] | None, OffsetMap] = {
            None: OffsetMap(self.text)
        }
        out: list[dict[str, object]] = []
        for f in self.findings:
            item: dict[str, object] = {
                "rule": f.rule.id,
                "severity": (f.severity or f.rule.severity).label,
                "message": f.message,
                "start": 0,
                "end": 0,
                "fix": f.fix,
            }
            if f.part is not None:
                key = (f.part, f.media, f.index)
                if key not in maps:
                    maps[key] = OffsetMap(self.parts.get(key, ""))
                item["start"], item["end"] = maps[key](f.start), maps[key](f.end)
                item["field"] = f.part
            elif f.media is None:
                item["start"], item["end"] = maps[None](f.start), maps[None](f.end)
            if f.media is not None:
                item["media"] = f.media
            if f.index is not None:
                item["index"] = f.index
            out.append(item)
        return out

    def length_json(self) -> dict[str, object]:
        return {
            "weighted": self.length.weighted,
            "max": self.length.max,
            "valid": self.length.valid,
        }


class OffsetMap:
    """Code point offset -> UTF-16 code unit offset, which is what JavaScript indexes by."""

    def __init__(self, text: str) -> None:
        self._astral = [i for i, c in enumerate(text) if ord(c) > 0xFFFF] if text else []

    def __call__(self, offset: int) -> int:
        if not self._astral:
            return offset
        return offset + sum(1 for i in self._astral if i < offset)


def _to_typed_text(findings: list[Finding], view: Clean, length: int) -> list[Finding]:
    """Offsets into the clean view, mapped back to the text the teacher typed."""
    if view.starts is None:
        return findings
    return [
        replace(f, start=view.raw_start(f.start, length), end=view.raw_end(f.end)) for f in findings
    ]


def verdict_of(findings: list[Finding]) -> str:
    worst = max((f.severity or f.rule.severity for f in findings), default=None)
    return VERDICTS[worst]


def effective(rule: Rule, policy: Policy) -> tuple[bool, Severity]:
    """Whether the rule is on, and how severe, once the policy has had its say."""
    override = policy.rules.get(rule.id)
    if override is None:
        return rule.default_enabled, rule.severity
    enabled = rule.default_enabled if override.enabled is None else override.enabled
    severity = Severity.parse(override.severity) if override.severity else rule.severity
    return enabled, severity


def resolve(findings: list[Finding], policy: Policy, visibility: str) -> list[Finding]:
    """Applies the policy's per-rule settings and the account's visibility."""
    resolved = []
    for finding in findings:
        enabled, severity = effective(finding.rule, policy)
        if enabled and (visibility == "public" or not finding.rule.public_only):
            resolved.append(replace(finding, severity=severity))
    return resolved


class Checker:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.register = ConsentRegister(register_path(home))
        self._names: NameIndex | None = None
        self._names_version: tuple[tuple[int, int] | None, int] | None = None
        self._register_loaded = False  # as names() last found it
        self._policy: Policy | None = None
        self._policy_stamp: tuple[int, int] | None = None
        self._name_context = NameContext()
        self._people: People | None = None
        self._people_version: tuple[tuple[int, int] | None, int] | None = None

    def policy(self) -> Policy:
        """The current policy; raises PolicyError when the file is broken."""
        path = policy_path(self.home)
        try:
            st = os.stat(path)
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if self._policy is None or stamp != self._policy_stamp:
            self._policy = None
            policy = load_policy(path)
            validate(policy)
            self._name_context = NameContext.from_policy(
                policy.word_names, policy.staff, policy.staff_titles
            )
            self._policy, self._policy_stamp = policy, stamp
        return self._policy

    def names(self) -> NameIndex:
        # A set-up school without a register would silently check no names at all:
        # most likely the launcher points at another data folder. Hold instead.
        self._register_loaded = self.register.exists()
        if not self._register_loaded and self.policy().exists:
            raise RegisterMissing(f"no consent register at {self.register.path}")
        version = self.register.version()
        if self._names is None or version != self._names_version:
            self._names = self._load_names()
            self._names_version = version
        return self._names

    def _load_names(self) -> NameIndex:
        """The index the import stored; built here only for a register imported by
        an older helper (the next import stores it)."""
        pupils, derived = self.register.load()
        stored = derived.get(NameIndex.STORED_AS)
        index = NameIndex.load(stored, pupils) if stored is not None else None
        return index if index is not None else NameIndex(pupils)

    def people(self) -> People:
        """Pupils and staff for the "who is pictured" picker and photo consent."""
        from tweetguard.stores.people import People

        version = self.register.version()
        if self._people is None or version != self._people_version:
            pupils, _ = self.register.load(derived=False)
            self._people = People(pupils, self.register.staff())
            self._people_version = version
        return self._people

    def register_summary(self) -> RegisterSummary:
        return self.register.summary()

    def warm(self) -> None:
        """Runs one check that touches every family, so the next one is at full speed."""
        self.check("Warm-up at https://example.org 🎉 on Friday, 01632 960000 sh*t")

    def check(
        self,
        text: str,
        *,
        has_media: bool = False,
        account: tuple[str | None, str | None] | None = None,
        today: date | None = None,
        media: Sequence[Attached] = (),
        source: Source | None = None,
        poll: Sequence[str] = (),
        action: str = "post",
    ) -> Report:
        """Checks one post. `account` is (handle, user_id) when the caller knows who
        is signed in; the account rules run only then. `media` are its photos with
        the teacher's answers about them; `has_media` alone says there are photos
        the caller could not describe (they hold the post as unchecked)."""
        policy = self.policy()  # a broken policy holds every post
        handle, user_id = account or (None, None)
        approved = policy.account(handle, user_id)
        # An account the policy does not know is treated as public: the stricter case.
        visibility = approved.visibility if approved else "public"
        view = clean(text)
        names = self.names()  # also finds whether a register is loaded at all
        if media:
            # A name beside a photo matters when the photo may show the child: faces,
            # a video, or a file not (yet) looked at. A photo of a painting does not.
            has_media = any(
                a.report is None or a.report.faces or not a.report.readable or a.kind != "image"
                for a in media
            )
        post = Post(
            text=view.text,
            policy=policy,
            names=names,
            name_context=self._name_context,
            has_media=has_media,
            visibility=visibility,
            today=today or date.today(),
            account=account,
            register_loaded=self._register_loaded,
        )
        found = [finding for family in FAMILIES for finding in family.check(post)]
        findings = _to_typed_text(resolve(found, policy, visibility), view, len(text))
        if action != "repost":  # a repost has no text of its own to measure
            length = length_check.measure(text)
            findings += resolve(length_check.check(text, length), policy, visibility)
        else:
            length = length_check.measure(source.text if source else "")
        findings.sort(key=lambda f: (f.start, -(f.severity or f.rule.severity)))
        parts: dict[tuple[str, int | None, int | None], str] = {}
        extra: list[Finding] = []
        if source is not None:
            extra += reposts.check(source, action, policy)
            parts[("source", None, None)] = source.text
            extra += self._part_findings(source.text, post, "source", editable=False)
        for number, choice in enumerate(poll):
            if choice.strip():
                parts[("poll", None, number)] = choice
                extra += self._part_findings(choice, post, "poll", index=number)
        findings += resolve(extra, policy, visibility)
        if media:
            from tweetguard.checks.photos import pictured

            day = post.today
            photo_found: list[Finding] = []
            for index, item in enumerate(media):
                for pf in pictured.findings(item, self.people(), day):
                    fix = photo_rules.REMEDY.get(pf.rule.id)
                    photo_found.append(Finding(pf.rule, 0, 0, pf.params, fix, media=index))
                for part, value in (("alt", item.alt), ("title", item.title)):
                    if value and value.strip():
                        parts[(part, index, None)] = value
                        photo_found += self._part_findings(value, post, part, media=index)
            findings += resolve(photo_found, policy, visibility)
        return Report(
            verdict=verdict_of(findings),
            findings=findings,
            length=length,
            text=text,
            visibility=visibility,
            parts=parts,
        )

    def _part_findings(
        self,
        value: str,
        post: Post,
        part: str,
        *,
        media: int | None = None,
        index: int | None = None,
        editable: bool = True,
    ) -> list[Finding]:
        """Everything else that goes out with the post (an image description read
        aloud by screen readers, a poll choice, the post a school reposts) is checked
        like the text, minus length and account. A reposted post cannot be edited,
        so its findings offer no replacement."""
        view = clean(value)
        part_post = replace(post, text=view.text)
        found = [f for family in TEXT_FAMILIES for f in family.check(part_post)]
        return [
            replace(f, media=media, part=part, index=index, fix=f.fix if editable else None)
            for f in _to_typed_text(found, view, len(value))
        ]

    def close(self) -> None:
        self.register.close()


def preload() -> None:
    """Loads the libraries and word lists some posts need (about 150 ms), so the
    host can do it in the background while it answers its first requests."""
    length_check.extract_urls("preload.example")
    length_check.measure("🎉")
    personal.check_phone_library()
    language.words()
