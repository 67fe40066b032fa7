"""The development corpora: realistic school posts and what a careful person decides.

Each line of a corpus is a post as a teacher would write it, with the verdict a
careful primary-school safeguarding lead gives on a public account, with the
corpus's own register (and policy) loaded. The expectations are the judgement,
not whatever the checks currently do.

- corpus.jsonl, with register.csv and no policy;
- corpus_school.jsonl, with register_school.csv and policy_school.toml, written
  later and apart from the checks, one class of problem per `class` tag, with
  clean traps in every class. It is judged as of its writing day.
- corpus_holdout.jsonl, corpus_holdout2.jsonl and corpus_holdout3.jsonl (a primary
  school in England, a secondary school in Wales, an infant and nursery school in
  an English city), each written blind (by someone who had not read the
  checks or the other corpora) to measure how the checks generalise, then kept here.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tweetguard.checks.engine import Checker
from tweetguard.stores.consent import ConsentRegister
from tweetguard.stores.register_import import read_register

DATA = Path(__file__).parent / "data"
VERDICTS = {"allow", "warn", "block"}


@dataclass(frozen=True)
class Corpus:
    name: str
    register: str
    policy: str | None
    today: date | None  # None: judged as of today

    def entries(self) -> list[tuple[int, dict[str, Any]]]:
        entries = []
        path = DATA / self.name
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            entry = json.loads(line)
            assert entry["expect"] in VERDICTS, f"line {number}: bad expect {entry['expect']!r}"
            entries.append((number, entry))
        return entries


CORPORA = (
    Corpus("corpus.jsonl", "register.csv", None, None),
    Corpus("corpus_school.jsonl", "register_school.csv", "policy_school.toml", date(2026, 11, 28)),
    Corpus(
        "corpus_holdout.jsonl", "register_holdout.csv", "policy_holdout.toml", date(2026, 11, 28)
    ),
    Corpus(
        "corpus_holdout2.jsonl", "register_holdout2.csv", "policy_holdout2.toml", date(2026, 11, 28)
    ),
    Corpus(
        "corpus_holdout3.jsonl", "register_holdout3.csv", "policy_holdout3.toml", date(2026, 11, 28)
    ),
)


def checker_for(corpus: Corpus, home: Path) -> Checker:
    register = ConsentRegister(home / "register.sqlite3")
    register.replace(read_register((DATA / corpus.register).read_bytes()).pupils, source="test")
    register.close()
    if corpus.policy:
        shutil.copy(DATA / corpus.policy, home / "policy.toml")
    return Checker(home)


@pytest.fixture(scope="module")
def checkers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Checker]]:
    made = {c.name: checker_for(c, tmp_path_factory.mktemp(c.name)) for c in CORPORA}
    yield made
    for checker in made.values():
        checker.close()


@pytest.mark.parametrize("corpus", CORPORA, ids=[c.name for c in CORPORA])
def test_corpus_is_balanced(corpus: Corpus) -> None:
    counts = dict.fromkeys(VERDICTS, 0)
    for _, entry in corpus.entries():
        counts[entry["expect"]] += 1
    assert counts["allow"] >= 60
    assert counts["warn"] + counts["block"] >= 60


# Lines the checks still judge otherwise, and why; strict, so a fix is noticed.
KNOWN_MISSES = {
    ("corpus_holdout2.jsonl", 141): "a lower-case caption, word-name and word-surname, "
    "with nothing but a dash before the news ('maple woods – 100% on...')",
    ("corpus_holdout2.jsonl", 174): "a poet's full name in a Title Case sentence "
    "('Dylan Thomas Day!'): in Title Case a capital says nothing, so it is not 'someone else'",
    ("corpus_holdout3.jsonl", 17): "a famous person in a CamelCase tag ('#MoFarah'): in a tag "
    "every part is capitalised, so another surname cannot be told from an ordinary word",
    ("corpus_holdout3.jsonl", 175): "film characters named as visitors ('Elsa and Anna from "
    "Frozen'): 'from' a title reads like 'from' a place or class",
    ("corpus_holdout3.jsonl", 202): "make-believe said only in a later aside ('(It's made of "
    "cardboard.)')",
    ("corpus_holdout3.jsonl", 230): "judged otherwise on purpose: 'sh*t' is Ofcom's medium, "
    "not strong, so it warns (language.profanity); a school can raise it in policy.toml",
}

CASES = [
    pytest.param(
        corpus,
        entry,
        id=f"{corpus.name.removesuffix('.jsonl')}-line{number:03d}",
        marks=[pytest.mark.xfail(reason=KNOWN_MISSES[(corpus.name, number)], strict=True)]
        if (corpus.name, number) in KNOWN_MISSES
        else [],
    )
    for corpus in CORPORA
    for number, entry in corpus.entries()
]


@pytest.mark.parametrize(("corpus", "entry"), CASES)
def test_corpus_line(checkers: dict[str, Checker], corpus: Corpus, entry: dict[str, Any]) -> None:
    checker = checkers[corpus.name]
    report = checker.check(
        entry["text"], has_media=bool(entry.get("media")), today=corpus.today or date.today()
    )
    found = [f"{f.rule.id}: {f.message}" for f in report.findings]
    assert report.verdict == entry["expect"], (
        f"{entry['text']!r} ({entry['why']}): expected {entry['expect']}, "
        f"got {report.verdict}; findings {found}"
    )
