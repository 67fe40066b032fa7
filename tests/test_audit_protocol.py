"""What the real host records in the audit: checks at posting, posts, sign-outs, its
own start and the policy; and what it does when the audit cannot be written."""

from __future__ import annotations

import hashlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_policy
from tests.hostproc import HostProcess
from tweetguard.checks.links import post_fingerprint
from tweetguard.stores.audit import AuditLog, AuditRow

ACCOUNT = {"handle": "Brightwater_Ac", "user_id": "5150"}
POLICY = '[[accounts]]\nhandle = "Brightwater_Ac"\nuser_id = "5150"\n'
WARN_TEXT = "What a hell of a comeback from the under-elevens at Fenwick Park."
THREAD = (
    "Our Year 6 choir sang at Marsden Court care home today.",
    "Thank you to the residents who joined in with the last verse!",
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def audit_rows(home: Path, *kinds: str) -> list[AuditRow]:
    log = AuditLog(home / "audit.sqlite3")
    try:
        return [r for r in log.rows() if not kinds or r.kind in kinds]
    finally:
        log.close()


@pytest.fixture
def host(registered_home: Path) -> Iterator[HostProcess]:
    write_policy(registered_home, POLICY)
    process = HostProcess(registered_home)
    yield process
    process.kill()


def test_hello_says_where_the_audit_is_and_the_start_is_recorded(
    host: HostProcess, registered_home: Path
) -> None:
    reply = host.ask({"id": 1, "type": "hello"})
    assert reply["audit"]["shared"] is True and reply["audit"]["ok"] is True
    assert "shared audit" in reply["audit"]["note"]
    (started,) = audit_rows(registered_home, "helper")
    assert started.detail["protocol"] == 1
    assert started.detail["origin"] == "(started by hand)"
    (policy,) = audit_rows(registered_home, "policy")
    assert policy.detail["sha256"] == sha(POLICY)


def test_a_typing_check_writes_nothing_and_a_posting_check_a_row(
    host: HostProcess, registered_home: Path
) -> None:
    typing = {"id": 1, "type": "check", "text": WARN_TEXT, "account": ACCOUNT, "stage": "typing"}
    assert host.ask(typing)["verdict"] == "warn"
    assert audit_rows(registered_home, "check") == []
    posting = host.ask({"id": 2, "type": "check", "text": WARN_TEXT, "account": ACCOUNT})
    assert posting["verdict"] == "warn"
    (row,) = audit_rows(registered_home, "check")
    assert row.verdict == "warn" and "language.profanity" in row.rules
    assert row.text is None and row.text_sha256 == sha(WARN_TEXT)
    assert (row.account, row.account_id) == ("brightwater_ac", "5150")
    assert row.detail == {"action": "post", "photos": 0}
    clean = {"id": 3, "type": "check", "text": THREAD[0], "account": ACCOUNT, "stage": "posting"}
    assert host.ask(clean)["verdict"] == "allow"
    assert audit_rows(registered_home, "check")[-1].verdict == "ok"
    bad = host.ask({"id": 4, "type": "check", "text": "x", "stage": "drafting"})
    assert bad["error"]["code"] == "bad_field"


def test_posted_records_each_post_hash(host: HostProcess, registered_home: Path) -> None:
    reply = host.ask(
        {"id": 7, "type": "posted", "account": ACCOUNT, "action": "post", "texts": list(THREAD)}
    )
    assert reply == {"id": 7, "ok": True, "recorded": True}
    (row,) = audit_rows(registered_home, "post")
    assert row.detail["posts_sha256"] == [post_fingerprint(t) for t in THREAD]
    assert row.detail["posts"] == 2 and row.detail["action"] == "post"
    assert row.text_sha256 == sha("\n\n".join(THREAD)) and row.text is None
    for bad in ([], "one post", [1], ["x"] * 26):
        answer = host.ask({"id": 8, "type": "posted", "account": ACCOUNT, "texts": bad})
        assert answer["error"]["code"] == "bad_field"
    assert len(audit_rows(registered_home, "post")) == 1


def test_a_hand_edit_of_the_policy_is_recorded_once(
    host: HostProcess, registered_home: Path
) -> None:
    host.ask({"id": 1, "type": "hello"})
    check = {"id": 2, "type": "check", "text": THREAD[1], "account": ACCOUNT}
    host.ask(check)
    assert len(audit_rows(registered_home, "policy")) == 1  # unchanged: no new row
    edited = POLICY + '[school]\nname = "Brightwater Academy"\n'
    write_policy(registered_home, edited)
    host.ask(check)
    host.ask(check)
    rows = audit_rows(registered_home, "policy")
    assert [r.detail["sha256"] for r in rows] == [sha(POLICY), sha(edited)]
    # A second host finds the policy already recorded.
    again = HostProcess(registered_home)
    try:
        again.ask({"id": 1, "type": "hello"})
    finally:
        again.kill()
    assert len(audit_rows(registered_home, "policy")) == 2


def test_cli_check_is_not_recorded(registered_home: Path) -> None:
    write_policy(registered_home, POLICY)
    result = run_cli(registered_home, "check", WARN_TEXT)
    assert result.returncode != 0 or result.stdout
    assert (
        not (registered_home / "audit.sqlite3").exists()
        or audit_rows(registered_home, "check") == []
    )


def test_acknowledged_rows_survive_sigkill(host: HostProcess, registered_home: Path) -> None:
    override = {
        "id": 1,
        "type": "override",
        "text": WARN_TEXT,
        "rules": ["language.profanity"],
        "reason": "Quoting the match report from the county paper",
        "account": ACCOUNT,
    }
    posted = {"id": 2, "type": "posted", "account": ACCOUNT, "texts": [WARN_TEXT]}
    host.send(override)
    host.send(posted)
    assert host.read()["recorded"] is True
    second = host.read()
    assert second.get("recorded") is True, (registered_home / "logs" / "host.log").read_text()[
        -3000:
    ]
    os.kill(host.proc.pid, signal.SIGKILL)
    host.proc.wait()
    log = AuditLog(registered_home / "audit.sqlite3")
    kinds = [r.kind for r in log.rows()]
    assert kinds[-2:] == ["override", "post"]
    assert log.verify().ok
    log.close()


@pytest.fixture
def broken_home(registered_home: Path) -> Path:
    """An audit that no one can open, root included: a folder where the file should be."""
    write_policy(registered_home, POLICY)
    for suffix in ("", "-wal", "-shm"):  # the import's own row
        (registered_home / f"audit.sqlite3{suffix}").unlink(missing_ok=True)
    (registered_home / "audit.sqlite3").mkdir()
    return registered_home


def test_an_unwritable_audit_refuses_overrides_but_not_checks_or_signouts(
    broken_home: Path,
) -> None:
    host = HostProcess(broken_home)
    try:
        check = host.ask({"id": 1, "type": "check", "text": WARN_TEXT, "account": ACCOUNT})
        assert check["ok"] is True and check["verdict"] == "warn"
        override = host.ask(
            {
                "id": 2,
                "type": "override",
                "text": WARN_TEXT,
                "rules": ["language.profanity"],
                "reason": "Quoting a parent",
                "account": ACCOUNT,
            }
        )
        assert override["error"]["code"] == "audit_unavailable"
        assert "tweetguard audit status" in override["error"]["message"]
        logout = host.ask({"id": 3, "type": "logout", "reason": "after-post"})
        assert logout["ok"] is True and logout["recorded"] is False
        hello = host.ask({"id": 4, "type": "hello"})
        assert hello["audit"]["ok"] is False
        assert "cannot be written" in hello["audit"]["note"]
        # A post that is out already: the message says it was not recorded, and
        # claims nothing about being refused.
        posted = host.ask({"id": 5, "type": "posted", "account": ACCOUNT, "texts": [THREAD[0]]})
        assert posted["error"]["code"] == "audit_unavailable"
        assert "was not recorded" in posted["error"]["message"]
        assert "refused" not in posted["error"]["message"]
    finally:
        host.kill()


def test_a_network_recheck_of_a_checked_post_is_not_a_second_check(
    host: HostProcess, registered_home: Path
) -> None:
    host.ask({"id": 1, "type": "hello"})
    composer = {"id": 2, "type": "check", "text": THREAD[0], "account": ACCOUNT}
    assert host.ask(composer)["verdict"] == "allow"
    network = {**composer, "id": 3, "stage": "network"}
    assert host.ask(network)["verdict"] == "allow"  # answered all the same
    assert len(audit_rows(registered_home, "check")) == 1
    # The trap: a held post no composer checked is a check, and says where it came from.
    unseen = {"id": 4, "type": "check", "text": THREAD[1], "account": ACCOUNT, "stage": "network"}
    assert host.ask(unseen)["verdict"] == "allow"
    rows = audit_rows(registered_home, "check")
    assert len(rows) == 2 and rows[1].detail["stage"] == "network"
    assert rows[1].text_sha256 == sha(THREAD[1])


def test_an_old_events_file_is_migrated_when_the_host_says_hello(registered_home: Path) -> None:
    write_policy(registered_home, POLICY)
    events = registered_home / "events.jsonl"
    events.write_text(
        '{"at": "2026-02-11T08:30:00+00:00", "event": "logout", "reason": "manual"}\n',
        encoding="utf-8",
    )
    host = HostProcess(registered_home)
    try:
        host.ask({"id": 1, "type": "hello"})
        # Before any check: the rows are in, the file is renamed.
        assert [r.detail.get("reason") for r in audit_rows(registered_home, "logout")] == ["manual"]
        assert not events.exists() and (registered_home / "events.jsonl.migrated").exists()
    finally:
        host.kill()
