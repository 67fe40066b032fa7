"""The school's own word rules from policy.toml, compliance-lexicon style.

exact: any listed word or phrase; prefix: words starting with a listed stem;
near: a listed word within N words of a `near` word. Each entry becomes a rule
`lexicon.<id>` with the school's own message and severity.
"""

from __future__ import annotations

from functools import cache

from tweetguard.checks.base import Finding, Post, Rule, Severity
from tweetguard.checks.tokens import Word, fold
from tweetguard.stores.policy import LexiconEntry

RULES: tuple[Rule, ...] = ()  # built-in: none; the policy brings them


@cache
def rule_for(entry: LexiconEntry) -> Rule:
    return Rule(
        id=f"lexicon.{entry.id}",
        family="lexicon",
        severity=Severity.parse(entry.severity),
        message=entry.message.replace("{", "{{").replace("}", "}}"),
        fix_hint=entry.message,
        description=f"School lexicon ({entry.kind}): {', '.join(entry.words)}"
        + (
            f" within {entry.within} words of {', '.join(entry.near)}"
            if entry.kind == "near"
            else ""
        ),
    )


def policy_rules(entries: tuple[LexiconEntry, ...]) -> tuple[Rule, ...]:
    return tuple(rule_for(entry) for entry in entries)


def check(post: Post) -> list[Finding]:
    findings = []
    tokens = post.words
    for entry in post.policy.lexicon:
        rule = rule_for(entry)
        for start, end in _matches(entry, tokens):
            findings.append(Finding(rule, tokens[start].start, tokens[end].end))
    return findings


def _phrases(words: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [tuple(fold(part) for part in word.split()) for word in words]


def _matches(entry: LexiconEntry, tokens: list[Word]) -> list[tuple[int, int]]:
    """(first, last) token indices of each match."""
    hits = _phrase_hits(_phrases(entry.words), tokens, prefix=entry.kind == "prefix")
    if entry.kind != "near":
        return hits
    near = _phrase_hits(_phrases(entry.near), tokens, prefix=False)
    found = []
    for start, end in hits:
        for near_start, near_end in near:
            if 0 < abs(start - near_start) <= entry.within:
                found.append((min(start, near_start), max(end, near_end)))
                break
    return found


def _phrase_hits(
    phrases: list[tuple[str, ...]], tokens: list[Word], *, prefix: bool
) -> list[tuple[int, int]]:
    hits = []
    for index in range(len(tokens)):
        for phrase in phrases:
            n = len(phrase)
            window = tokens[index : index + n]
            if len(window) < n:
                continue
            if all(
                (w.key.startswith(p) if prefix and k == n - 1 else w.key == p)
                for k, (w, p) in enumerate(zip(window, phrase, strict=True))
            ):
                hits.append((index, index + n - 1))
                break
    return hits
