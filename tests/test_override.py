"""Overrides and logouts over the protocol, and their rows in the audit."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import write_policy
from tests.hostproc import HostProcess
from tweetguard.stores.audit import AuditLog, AuditRow

WARN_TEXT = "That was one hell of a match!"
ACCOUNT = {"handle": "OakfieldPrimary", "user_id": "123"}


@pytest.fixture
def host(registered_home: Path) -> Iterator[HostProcess]:
    write_policy(registered_home, '[[accounts]]\nhandle = "OakfieldPrimary"\nuser_id = "123"\n')
    process = HostProcess(registered_home)
    yield process
    process.kill()


def events(home: Path) -> list[AuditRow]:
    """The override and logout rows (the host also records its start and the policy)."""
    log = AuditLog(home / "audit.sqlite3")
    try:
        return [r for r in log.rows() if r.kind in ("override", "logout")]
    finally:
        log.close()


def override(
    host: HostProcess, text: str, rules: list[str], reason: object = "Quoting a parent"
) -> dict:
    return host.ask(
        {
            "id": 1,
            "type": "override",
            "text": text,
            "rules": rules,
            "reason": reason,
            "account": ACCOUNT,
        }
    )


def test_a_warning_can_be_overridden_with_a_reason(
    host: HostProcess, registered_home: Path
) -> None:
    reply = override(host, WARN_TEXT, ["language.profanity"])
    assert reply == {"id": 1, "ok": True, "recorded": True}
    (event,) = events(registered_home)
    assert event.kind == "override"
    assert event.rules == ("language.profanity",)
    assert event.detail["reason"] == "Quoting a parent"
    # By default only a hash of the text is kept ([audit] keep_text = "never").
    assert event.text is None
    assert event.text_sha256 == hashlib.sha256(WARN_TEXT.encode()).hexdigest()
    assert (event.account, event.account_id) == ("oakfieldprimary", "123")


def test_policy_may_keep_the_text_of_overrides(registered_home: Path) -> None:
    write_policy(
        registered_home,
        '[[accounts]]\nhandle = "OakfieldPrimary"\nuser_id = "123"\n'
        '[audit]\nkeep_text = "overrides"\n',
    )
    host = HostProcess(registered_home)
    try:
        assert override(host, WARN_TEXT, ["language.profanity"])["ok"] is True
        check = host.ask({"id": 4, "type": "check", "text": WARN_TEXT, "account": ACCOUNT})
        assert check["verdict"] == "warn"
    finally:
        host.kill()
    log = AuditLog(registered_home / "audit.sqlite3")
    kept = {r.kind: r.text for r in log.rows() if r.kind in ("override", "check")}
    assert kept == {"override": WARN_TEXT, "check": None}  # checks keep text only with "always"


def test_a_reason_is_required(host: HostProcess, registered_home: Path) -> None:
    assert (
        override(host, WARN_TEXT, ["language.profanity"], "  ")["error"]["code"]
        == "reason_required"
    )
    assert (
        override(host, WARN_TEXT, ["language.profanity"], None)["error"]["code"]
        == "reason_required"
    )
    assert events(registered_home) == []


def test_blocks_unnamed_findings_and_accounts_are_never_overridden(
    host: HostProcess, registered_home: Path
) -> None:
    blocked = "Well done Amelia Thornbury!"
    assert override(host, blocked, ["names.full-name"])["error"]["code"] == "override_not_allowed"
    # A warning the request did not name is not covered.
    assert override(host, WARN_TEXT, ["links.shortener"])["error"]["code"] == "override_not_allowed"
    wrong_account = host.ask(
        {
            "id": 2,
            "type": "override",
            "text": "hello",
            "rules": ["accounts.unapproved"],
            "reason": "it is mine",
            "account": {"handle": "Personal", "user_id": "9"},
        }
    )
    assert wrong_account["error"]["code"] == "override_not_allowed"
    assert events(registered_home) == []


def test_policy_decides_what_may_be_overridden(registered_home: Path) -> None:
    write_policy(
        registered_home,
        '[[accounts]]\nhandle = "OakfieldPrimary"\nuser_id = "123"\n'
        "[posting]\nallow_warn_override = false\nallow_block_override = true\n",
    )
    host = HostProcess(registered_home)
    try:
        assert override(host, WARN_TEXT, ["language.profanity"])["error"]["code"] == (
            "override_not_allowed"
        )
        assert override(host, "Well done Amelia Thornbury!", ["names.full-name"])["ok"] is True
    finally:
        host.kill()


def test_logout_is_recorded(host: HostProcess, registered_home: Path) -> None:
    reply = host.ask({"id": 5, "type": "logout", "reason": "idle", "account": ACCOUNT})
    assert reply == {"id": 5, "ok": True, "recorded": True}
    assert events(registered_home)[0].detail["reason"] == "idle"
    assert host.ask({"id": 6, "type": "logout", "reason": "bored"})["error"]["code"] == "bad_field"


def test_check_reply_says_which_account_and_how_visible(host: HostProcess) -> None:
    reply = host.ask({"id": 1, "type": "check", "text": "hi", "account": ACCOUNT})
    assert reply["account"] == {
        "handle": "OakfieldPrimary",
        "approved": True,
        "visibility": "public",
    }
    other = host.ask({"id": 2, "type": "check", "text": "hi", "account": {"handle": "Me"}})
    assert other["account"]["approved"] is False
    assert "account" not in host.ask({"id": 3, "type": "check", "text": "hi"})


def test_override_is_checked_with_the_photos_and_records_what_it_covered(
    host: HostProcess, registered_home: Path
) -> None:
    with_photo = host.ask(
        {
            "id": 1,
            "type": "override",
            "text": "Well done Amelia!",
            "rules": ["names.pictured", "made.up"],
            "reason": "parents said yes",
            "account": ACCOUNT,
            "media": [{"mime": "image/*"}],
        }
    )
    assert with_photo["error"]["code"] == "override_not_allowed"  # a block, by default
    nothing = override(host, "Well done Amelia!", ["made.up"])
    assert nothing["error"]["code"] == "bad_field"  # nothing to override
    assert override(host, WARN_TEXT, ["language.profanity", "made.up"])["ok"] is True
    assert events(registered_home)[-1].rules == ("language.profanity",)
    no_account = host.ask(
        {
            "id": 9,
            "type": "override",
            "text": WARN_TEXT,
            "rules": ["language.profanity"],
            "reason": "r",
        }
    )
    assert no_account["error"]["code"] == "bad_field"
