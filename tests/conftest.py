"""Shared fixtures: a fresh data directory with the test register, and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tweetguard.checks.engine import Checker
from tweetguard.stores.consent import ConsentRegister
from tweetguard.stores.register_import import read_register

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
REGISTER_CSV = DATA / "register.csv"


def run_cli(
    home: Path, *args: str, input: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = {**{k: v for k, v in os.environ.items() if k != "TWEETGUARD_HOME"}, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tweetguard", "--home", str(home), *args],
        input=input,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty data directory of the test's own."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def checker(tmp_path: Path) -> Iterator[Checker]:
    """An in-process Checker over tests/data/register.csv, for the rule families."""
    home = tmp_path / "checker-home"
    register = ConsentRegister(home / "register.sqlite3")
    register.replace(read_register(REGISTER_CSV.read_bytes()).pupils, source="test")
    register.close()
    checker = Checker(home)
    yield checker
    checker.close()


def write_policy(home: Path, text: str) -> None:
    (home / "policy.toml").write_text(text, encoding="utf-8")


@pytest.fixture
def registered_home(home: Path) -> Iterator[Path]:
    """A data directory with tests/data/register.csv imported."""
    result = run_cli(home, "consent", "import", str(REGISTER_CSV))
    assert result.returncode == 0, result.stderr.decode()
    yield home
