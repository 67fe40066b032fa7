"""The development corpus: realistic school posts and what a careful person decides.

Each line of tests/data/corpus.jsonl is a post as a teacher would write it, with the
verdict a careful primary-school safeguarding lead gives on a public account with
tests/data/register.csv loaded and no policy file. The expectations are the
judgement, not whatever the checks currently do.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tweetguard.checks.engine import Checker

CORPUS = Path(__file__).parent / "data" / "corpus.jsonl"
VERDICTS = {"allow", "warn", "block"}


def load_corpus() -> list[tuple[int, dict[str, Any]]]:
    entries = []
    for number, line in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        entry = json.loads(line)
        assert entry["expect"] in VERDICTS, f"line {number}: bad expect {entry['expect']!r}"
        entries.append((number, entry))
    return entries


ENTRIES = load_corpus()


def test_corpus_is_balanced() -> None:
    counts = {verdict: 0 for verdict in VERDICTS}
    for _, entry in ENTRIES:
        counts[entry["expect"]] += 1
    assert counts["allow"] >= 60
    assert counts["warn"] + counts["block"] >= 60


@pytest.mark.parametrize(
    "entry",
    [entry for _, entry in ENTRIES],
    ids=[f"line{number:03d}" for number, _ in ENTRIES],
)
def test_corpus_line(checker: Checker, entry: dict[str, Any]) -> None:
    report = checker.check(entry["text"], has_media=bool(entry.get("media")), today=date.today())
    found = [f"{f.rule.id}: {f.message}" for f in report.findings]
    assert report.verdict == entry["expect"], (
        f"{entry['text']!r} ({entry['why']}): expected {entry['expect']}, "
        f"got {report.verdict}; findings {found}"
    )
