"""Runs every rule family over a post and turns what they find into one verdict.

The Checker lives as long as the host process: it rebuilds the name index only
when the consent register's revision changes and re-reads the policy only when
the file changes, so a check costs the checks themselves and nothing more.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tweetguard.checks import length as length_check
from tweetguard.checks.base import VERDICTS, Finding, Rule, Severity
from tweetguard.checks.names import RULES as NAME_RULES
from tweetguard.checks.names import NameIndex
from tweetguard.stores.consent import ConsentRegister, RegisterSummary
from tweetguard.stores.home import policy_path, register_path
from tweetguard.stores.policy import Policy, load_policy

ALL_RULES: tuple[Rule, ...] = (*length_check.RULES, *NAME_RULES)


@dataclass(frozen=True)
class Report:
    verdict: str
    findings: list[Finding]
    length: length_check.Length
    text: str

    def findings_json(self) -> list[dict[str, object]]:
        to_utf16 = utf16_offsets(self.text)
        return [
            {
                "rule": f.rule.id,
                "severity": f.rule.severity.label,
                "message": f.message,
                "start": to_utf16(f.start),
                "end": to_utf16(f.end),
                "fix": f.fix,
            }
            for f in self.findings
        ]

    def length_json(self) -> dict[str, object]:
        return {
            "weighted": self.length.weighted,
            "max": self.length.max,
            "valid": self.length.valid,
        }


def utf16_offsets(text: str) -> OffsetMap:
    return OffsetMap(text)


class OffsetMap:
    """Code point offset -> UTF-16 code unit offset, which is what JavaScript indexes by."""

    def __init__(self, text: str) -> None:
        self._astral = [i for i, c in enumerate(text) if ord(c) > 0xFFFF] if text else []

    def __call__(self, offset: int) -> int:
        if not self._astral:
            return offset
        return offset + sum(1 for i in self._astral if i < offset)


def verdict_of(findings: list[Finding]) -> str:
    worst = max((f.rule.severity for f in findings), default=None)
    return VERDICTS[worst]


class Checker:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.register = ConsentRegister(register_path(home))
        self._names: NameIndex | None = None
        self._names_revision = -1
        self._policy: Policy | None = None
        self._policy_stamp: tuple[int, int] | None = None

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
            self._policy, self._policy_stamp = policy, stamp
        return self._policy

    def names(self) -> NameIndex:
        revision = self.register.revision()
        if self._names is None or revision != self._names_revision:
            self._names = NameIndex(self.register.pupils())
            self._names_revision = revision
        return self._names

    def register_summary(self) -> RegisterSummary:
        return self.register.summary()

    def check(self, text: str) -> Report:
        self.policy()  # a broken policy holds every post
        length = length_check.measure(text)
        findings = [*length_check.check(text, length), *self.names().find(text)]
        findings.sort(key=lambda f: (f.start, -f.rule.severity))
        return Report(verdict=verdict_of(findings), findings=findings, length=length, text=text)

    def close(self) -> None:
        self.register.close()


__all__ = ["ALL_RULES", "Checker", "Report", "Severity", "verdict_of"]
