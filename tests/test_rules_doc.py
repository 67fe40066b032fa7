"""docs/rules.md carries the catalogue exactly as `tweetguard rules --markdown` prints it."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT, run_cli
from tweetguard.checks.engine import BUILTIN_RULES


def test_rules_table_in_docs_is_current(home: Path) -> None:
    result = run_cli(home, "rules", "--markdown")
    assert result.returncode == 0
    doc = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert result.stdout.decode() in doc, "regenerate the table in docs/rules.md"


def test_every_rule_is_described_once_with_a_message_and_fix() -> None:
    ids = [rule.id for rule in BUILTIN_RULES]
    assert len(ids) == len(set(ids))
    for rule in BUILTIN_RULES:
        assert rule.id.startswith(rule.family + ".")
        assert rule.message and rule.fix_hint and rule.description
