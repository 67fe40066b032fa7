"""The policy file: the example is valid, and every kind of mistake fails closed, clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli, write_policy
from tweetguard.checks.engine import Checker, validate
from tweetguard.stores.policy import PolicyError, load_policy


def test_init_writes_a_valid_commented_example(home: Path) -> None:
    result = run_cli(home, "policy", "init")
    assert result.returncode == 0, result.stderr
    text = (home / "policy.toml").read_text()
    assert text.count("#") > 10  # it explains itself
    policy = load_policy(home / "policy.toml")
    validate(policy)
    assert policy.school and policy.lexicon
    assert policy.accounts == ()  # IT approves real accounts; the example approves none
    assert policy.posting.support_contact.startswith("the school office")
    assert run_cli(home, "policy", "check").returncode == 0
    assert run_cli(home, "policy", "init").returncode == 73  # never overwrites silently
    assert run_cli(home, "policy", "init", "--force").returncode == 0


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[school\n", "not valid TOML"),
        ("colour = 'red'\n", "unknown setting(s) colour"),
        ("[school]\nname = ''\n", "school.name"),
        ("[[accounts]]\nhandle = 'not a handle!'\n", "handle"),
        ("[[accounts]]\nhandle = 'ok'\nvisibility = 'secret'\n", "visibility"),
        ("[[accounts]]\nhandle = 'ok'\nuser_id = 12\n", "user_id"),
        ("[rules.'names.full-name']\nseverity = 'panic'\n", "severity"),
        (
            "[rules.'names.ful-name']\nenabled = false\n",
            "unknown rule(s) in [rules]: names.ful-name",
        ),
        ("[rules.'names.full-name']\nenabled = 'no'\n", "enabled must be true or false"),
        ("[allow]\nphones = '0123'\n", "allow.phones"),
        ("[allow]\nwebsites = []\n", "unknown setting(s) websites"),
        ("[[lexicon]]\nid = 'x'\nwords = ['a']\n", "message"),
        ("[[lexicon]]\nid = 'x'\nmatch = 'near'\nwords = ['a']\nmessage = 'm'\n", "near"),
        ("[[lexicon]]\nid = 'Bad Id'\nwords = ['a']\nmessage = 'm'\n", "id must be"),
    ],
)
def test_broken_policies_fail_closed_with_a_clear_reason(
    checker: Checker, home: Path, toml: str, message: str
) -> None:
    write_policy(checker.home, toml)
    with pytest.raises(
        PolicyError,
        match=message.replace("(", r"\(")
        .replace(")", r"\)")
        .replace("[", r"\[")
        .replace("]", r"\]"),
    ):
        checker.check("A lovely day")
    write_policy(home, toml)
    result = run_cli(home, "policy", "check")
    assert result.returncode == 78
    assert b"every post is held" in result.stderr
    assert run_cli(home, "check", "--text", "A lovely day").returncode == 78


def test_severity_override_changes_the_verdict(checker: Checker) -> None:
    text = "That was one hell of a match!"
    assert checker.check(text).verdict == "warn"
    write_policy(checker.home, '[rules."language.profanity"]\nseverity = "block"\n')
    assert checker.check(text).verdict == "block"
    write_policy(checker.home, '[rules."language.profanity"]\nenabled = false\n')
    assert checker.check(text).verdict == "allow"


def test_lexicon_entries(checker: Checker) -> None:
    write_policy(
        checker.home,
        """
[[lexicon]]
id = "staff-home"
match = "near"
words = ["lives"]
near = ["Mr", "Mrs"]
within = 3
severity = "block"
message = "This may say where staff live. Leave it out."

[[lexicon]]
id = "ofsted"
match = "prefix"
words = ["ofsted"]
message = "Posts about inspections go through the head first."

[[lexicon]]
id = "phrase"
words = ["naughty table"]
severity = "info"
message = "Reword this."
""",
    )
    report = checker.check("Mrs Jones lives near the park")
    assert [(f.rule.id, f.severity.label if f.severity else "") for f in report.findings] == [
        ("lexicon.staff-home", "block")
    ]
    assert report.findings[0].message == "This may say where staff live. Leave it out."
    assert checker.check("Mrs Jones, who retired last year, lives near the park").verdict == "allow"
    assert checker.check("Our Ofsted-rated outstanding nursery").verdict == "warn"
    assert checker.check("No more naughty table!").verdict == "allow"  # info only
    assert [f.rule.id for f in checker.check("No more Naughty Table").findings] == [
        "lexicon.phrase"
    ]
    assert "lexicon.ofsted" in run_cli(checker.home, "rules").stdout.decode()
