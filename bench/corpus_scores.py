"""How the catalogue does on the development corpora: recall and false blocks.

    .venv/bin/python bench/corpus_scores.py [--misses]

Per corpus (and per class tag where a corpus has them): block recall (posts a
careful person blocks that are blocked), warn recall (posts they warn on that
are at least warned on), false blocks (posts they allow that are blocked) and
false warnings. --misses lists every post judged differently.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_corpus import CORPORA, checker_for

RANK = {"allow": 0, "warn": 1, "block": 2}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--misses", action="store_true", help="list every post judged otherwise")
    args = parser.parse_args()
    for corpus in CORPORA:
        with tempfile.TemporaryDirectory() as tmp:
            checker = checker_for(corpus, Path(tmp))
            rows = []
            for number, entry in corpus.entries():
                report = checker.check(
                    entry["text"],
                    has_media=bool(entry.get("media")),
                    today=corpus.today or date.today(),
                )
                rows.append((number, entry, report))
            checker.close()
        print(f"{corpus.name}: {len(rows)} posts")
        groups: dict[str, list[tuple[dict[str, str], str]]] = defaultdict(list)
        for _, entry, report in rows:
            groups["all"].append((entry, report.verdict))
            if "class" in entry:
                groups[entry["class"]].append((entry, report.verdict))
        for name, items in sorted(groups.items(), key=lambda kv: (kv[0] != "all", kv[0])):
            print(f"  {name:<24} {_scores(items)}")
        if args.misses:
            for number, entry, report in rows:
                if report.verdict != entry["expect"]:
                    found = "; ".join(f"{f.rule.id}: {f.message}" for f in report.findings)
                    print(
                        f"    line {number}: expected {entry['expect']}, got {report.verdict}: "
                        f"{entry['text']!r} [{entry['why']}] {found}"
                    )
    return 0


def _scores(items: list[tuple[dict[str, str], str]]) -> str:
    def share(hit: int, total: int) -> str:
        return f"{hit}/{total} ({100 * hit / total:.0f}%)" if total else "-"

    blocks = [v for e, v in items if e["expect"] == "block"]
    warns = [v for e, v in items if e["expect"] == "warn"]
    allows = [v for e, v in items if e["expect"] == "allow"]
    return (
        f"block recall {share(sum(v == 'block' for v in blocks), len(blocks)):<14} "
        f"warn recall {share(sum(RANK[v] >= 1 for v in warns), len(warns)):<12} "
        f"false blocks {share(sum(v == 'block' for v in allows), len(allows)):<12} "
        f"false warnings {share(sum(v == 'warn' for v in allows), len(allows))}"
    )


if __name__ == "__main__":
    sys.exit(main())
