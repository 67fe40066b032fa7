"""The `tweetguard` command-line contract that IT scripts rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tweetguard import __version__


def test_version(home: Path) -> None:
    result = run_cli(home, "version")
    assert result.returncode == 0
    assert result.stdout.decode().strip() == f"tweetguard {__version__} (protocol 1)"


@pytest.mark.parametrize(
    ("text", "code", "verdict"),
    [
        ("Year 4 made volcanoes today!", 0, "allow"),
        ("Well done Amelia Thornbury!", 2, "block"),
        ("x" * 300, 2, "block"),
    ],
)
def test_check_exit_codes_and_json(
    registered_home: Path, text: str, code: int, verdict: str
) -> None:
    result = run_cli(registered_home, "check", "--text", text, "--json")
    assert result.returncode == code
    reply = json.loads(result.stdout)
    assert reply["ok"] is True and reply["verdict"] == verdict


def test_check_human_output(registered_home: Path) -> None:
    result = run_cli(registered_home, "check", "--text", "Well done Amelia Thornbury!")
    out = result.stdout.decode()
    assert out.startswith("BLOCK: 1 finding(s), length 27/280")
    assert "names.full-name" in out and "fix: replace with “Amelia (Year 4)”" in out


def test_check_reads_a_file_and_stdin(registered_home: Path, tmp_path: Path) -> None:
    post = tmp_path / "post.txt"
    post.write_text("Hope Carrington sang", encoding="utf-8")
    assert run_cli(registered_home, "check", "--text-file", str(post)).returncode == 2
    assert run_cli(registered_home, "check", "-", input=b"Hope Carrington sang").returncode == 2
    assert run_cli(registered_home, "check", "-", input=b"A fine day").returncode == 0


def test_check_usage_and_input_errors(registered_home: Path, tmp_path: Path) -> None:
    assert run_cli(registered_home, "check").returncode == 64
    assert run_cli(registered_home, "check", "--text", "a", "--text-file", "b").returncode == 64
    assert run_cli(registered_home, "nonsense").returncode == 64
    assert run_cli(registered_home, "check", "--text-file", str(tmp_path / "nope")).returncode == 66
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\xfa")
    assert run_cli(registered_home, "check", "--text-file", str(binary)).returncode == 65
    assert (
        run_cli(registered_home, "check", "--batch", str(binary)).returncode == 64
    )  # needs --json


def test_check_with_a_broken_policy_fails_closed(registered_home: Path) -> None:
    (registered_home / "policy.toml").write_text("school = [")
    result = run_cli(registered_home, "check", "--text", "A fine day")
    assert result.returncode == 78
    assert "policy file is broken" in result.stdout.decode()


def test_batch_keeps_order_and_reports_bad_lines(registered_home: Path, tmp_path: Path) -> None:
    batch = tmp_path / "posts.jsonl"
    lines = [
        json.dumps({"text": "Amelia Thornbury won"}),
        json.dumps({"text": "A fine day"}),
        "not json",
        json.dumps({"text": 5}),
        "",
        json.dumps({"text": "Hope"}),
    ]
    batch.write_text("\n".join(lines) + "\n")
    result = run_cli(registered_home, "check", "--json", "--batch", str(batch))
    replies = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r.get("verdict") for r in replies] == ["block", "allow", None, None, "allow"]
    assert [r["id"] for r in replies] == [1, 2, 3, 4, 6]
    assert replies[2]["error"]["code"] == "bad_json"
    assert replies[3]["error"]["code"] == "bad_field"
    assert result.returncode == 65
    assert b"line 3" in result.stderr


def test_batch_exit_code_is_the_worst_verdict(registered_home: Path, tmp_path: Path) -> None:
    batch = tmp_path / "posts.jsonl"
    batch.write_text(
        json.dumps({"text": "fine"}) + "\n" + json.dumps({"text": "Hope Carrington"}) + "\n"
    )
    assert run_cli(registered_home, "check", "--json", "--batch", str(batch)).returncode == 2
