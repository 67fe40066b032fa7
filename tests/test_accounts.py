"""Approved accounts: the CLI that manages them and the checks that enforce them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli, write_policy
from tweetguard.checks.engine import Checker
from tweetguard.stores.policy import load_policy


def rules(checker: Checker, account: tuple[str | None, str | None] | None) -> list[str]:
    report = checker.check("Year 4 made volcanoes today!", account=account)
    return [f.rule.id for f in report.findings]


def test_no_approved_account_holds_every_post(checker: Checker) -> None:
    assert rules(checker, ("OakfieldPrimary", "123")) == ["accounts.none-approved"]
    report = checker.check("hi", account=("OakfieldPrimary", None))
    assert "tweetguard accounts add" in report.findings[0].message
    assert rules(checker, None) == []  # the CLI without --account does not ask


def test_approved_unapproved_and_unknown_accounts(checker: Checker) -> None:
    write_policy(
        checker.home,
        '[[accounts]]\nhandle = "OakfieldPrimary"\nuser_id = "123"\n'
        '[[accounts]]\nhandle = "OakfieldParents"\nvisibility = "protected"\n'
        '[posting]\nsupport_contact = "Mr Patel in the office"\n',
    )
    assert rules(checker, ("OakfieldPrimary", "123")) == []
    # The policy knows the id, the page gave none: the handle alone is not enough.
    assert rules(checker, ("oakfieldprimary", None)) == ["accounts.unknown"]
    assert rules(checker, ("RenamedHandle", "123")) == []  # the id survives a rename
    assert rules(checker, ("OakfieldPrimary", "999")) == ["accounts.unapproved"]  # a look-alike
    assert rules(checker, ("OakfieldParents", "555")) == []
    report = checker.check("hi", account=("MsJonesPersonal", "42"))
    (finding,) = report.findings
    assert finding.rule.id == "accounts.unapproved"
    assert finding.message == (
        "You are signed in as @MsJonesPersonal, which is not a school account on this "
        "computer. Switch to @OakfieldPrimary or @OakfieldParents to post."
    )
    unknown = checker.check("hi", account=(None, None)).findings
    assert [f.rule.id for f in unknown] == ["accounts.unknown"]
    assert "Mr Patel in the office" in unknown[0].message


def test_accounts_commands_edit_the_policy_keeping_comments(registered_home: Path) -> None:
    home = registered_home
    assert run_cli(home, "policy", "init").returncode == 0
    result = run_cli(home, "accounts", "add", "@OakfieldPrimary", "--user-id", "123")
    assert result.returncode == 0, result.stderr
    assert (
        run_cli(home, "accounts", "add", "OakfieldParents", "--visibility", "protected").returncode
        == 0
    )
    assert (
        run_cli(home, "accounts", "add", "oakfieldparents", "--visibility", "public").returncode
        == 0
    )
    listed = run_cli(home, "accounts", "list").stdout.decode()
    assert listed.splitlines() == [
        "@OakfieldPrimary\t123\tpublic",
        "@oakfieldparents\t(no user id)\tpublic",
    ]
    text = (home / "policy.toml").read_text()
    assert "# How the extension behaves around a post." in text  # comments survive
    assert run_cli(home, "accounts", "remove", "OakfieldParents").returncode == 0
    assert [a.handle for a in load_policy(home / "policy.toml").accounts] == ["OakfieldPrimary"]
    assert run_cli(home, "accounts", "remove", "Nobody").returncode == 65
    assert run_cli(home, "check", "--account", "Nobody", "--text", "hi").returncode == 2
    assert run_cli(home, "check", "--account", "OakfieldPrimary", "--text", "hi").returncode == 2
    ok = run_cli(home, "check", "--account", "OakfieldPrimary", "--user-id", "123", "--text", "hi")
    assert ok.returncode == 0


def test_accounts_add_without_a_policy_creates_one(home: Path) -> None:
    assert run_cli(home, "accounts", "add", "OakfieldPrimary").returncode == 0
    assert run_cli(home, "policy", "check").returncode == 0


@pytest.mark.parametrize(
    "args",
    [
        ["accounts", "add", "not a handle"],
        ["accounts", "add", "ok", "--user-id", "12ab"],
        ["accounts", "add", "waytoolonghandle123"],
    ],
)
def test_bad_account_arguments_are_refused(home: Path, args: list[str]) -> None:
    result = run_cli(home, *args)
    assert result.returncode in (64, 78)
    assert not (home / "policy.toml").exists()


def test_accounts_commands_refuse_a_broken_policy(home: Path) -> None:
    write_policy(home, "[school\n")
    result = run_cli(home, "accounts", "add", "OakfieldPrimary")
    assert result.returncode == 78
    assert (home / "policy.toml").read_text() == "[school\n"  # untouched


def test_hello_sends_the_posting_settings(registered_home: Path) -> None:
    from tests.hostproc import HostProcess

    write_policy(registered_home, "[posting]\nidle_logout_minutes = 0.5\nconfirm_account = true\n")
    host = HostProcess(registered_home)
    try:
        settings = host.ask({"id": 1, "type": "hello"})["settings"]
    finally:
        host.kill()
    assert settings["idle_logout_minutes"] == 0.5
    assert settings["confirm_account"] is True
    assert settings["logout_after_post"] is True
