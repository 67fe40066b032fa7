"""The native host as the browser meets it: a real process, real pipes, real frames."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostproc import HostProcess
from tweetguard import identity
from tweetguard.protocol import MAX_FINDINGS, PROTOCOL_VERSION
from tweetguard.transport.native import MAX_INCOMING


@pytest.fixture
def host(registered_home: Path) -> Iterator[HostProcess]:
    process = HostProcess(registered_home, identity.CHROME_ORIGIN)
    yield process
    process.kill()


def test_hello_reports_versions_school_and_register(host: HostProcess) -> None:
    reply = host.ask({"id": "h1", "type": "hello", "extension_version": "0.1.0"})
    assert reply["id"] == "h1"
    assert reply["ok"] is True
    assert reply["protocol"] == PROTOCOL_VERSION
    assert reply["helper_version"]
    assert reply["school"] == "Your school"
    assert reply["policy"]["register"]["pupils"] == 14
    assert reply["policy"]["configured"] is False


def test_check_allow_and_block(host: HostProcess) -> None:
    clean = host.ask({"id": 1, "type": "check", "text": "Year 4 made volcanoes today!"})
    assert clean == {
        "id": 1,
        "ok": True,
        "verdict": "allow",
        "findings": [],
        "length": {"weighted": 28, "max": 280, "valid": True},
    }
    held = host.ask({"id": 2, "type": "check", "text": "🎉 Well done Amelia Thornbury!"})
    assert held["verdict"] == "block"
    (finding,) = held["findings"]
    assert finding["rule"] == "names.full-name"
    assert finding["severity"] == "block"
    assert finding["fix"] == "Amelia (Year 4)"
    # UTF-16 offsets: the emoji before the name counts 2 code units, as in JavaScript.
    assert (finding["start"], finding["end"]) == (13, 29)
    assert "full name" in finding["message"]


@pytest.mark.parametrize(
    ("frame", "code", "reply_id"),
    [
        (b"{not json", "bad_json", None),
        (b"\xff\xfe\x00garbage", "bad_json", None),
        (b"[" * 100_000 + b"]" * 100_000, "bad_json", None),
        (b"[1, 2, 3]", "bad_request", None),
        (b'"hello"', "bad_request", None),
        (b'{"type": "check", "text": "hi"}', "bad_request", None),
        (b'{"id": true, "type": "check", "text": "hi"}', "bad_request", None),
        (b'{"id": 7, "type": 3}', "bad_request", 7),
        (b'{"id": 8, "type": "launch_missiles"}', "unknown_type", 8),
        (b'{"id": "t", "type": "check", "text": 42}', "bad_field", "t"),
        (b'{"id": 9, "type": "check"}', "bad_field", 9),
        (b'{"id": 10, "type": "check", "text": "x", "account": "me"}', "bad_field", 10),
        (b'{"id": 11, "type": "check", "text": "x", "account": {"user_id": 12}}', "bad_field", 11),
        (b'{"id": 12, "type": "check", "text": "x", "media": {}}', "bad_field", 12),
        (b'{"id": 13, "type": "check", "text": "x", "media": [{"mime": 1}]}', "bad_field", 13),
        (
            b'{"id": 14, "type": "check", "text": "x", "media": [' + b"{}, " * 8 + b"{}]}",
            "bad_field",
            14,
        ),
        (b'{"id": 15, "type": "hello", "extension_version": []}', "bad_field", 15),
    ],
)
def test_bad_frames_get_an_error_and_the_host_goes_on(
    host: HostProcess, frame: bytes, code: str, reply_id: object
) -> None:
    host.send_bytes(frame)
    reply = host.read()
    assert reply["ok"] is False
    assert reply["id"] == reply_id
    assert reply["error"]["code"] == code
    assert reply["error"]["message"]  # a sentence a teacher can read
    # Still alive and answering.
    assert host.ask({"id": "after", "type": "check", "text": "ok"})["verdict"] == "allow"


def test_text_over_the_limit_is_refused_but_the_host_goes_on(host: HostProcess) -> None:
    reply = host.ask({"id": 1, "type": "check", "text": "a" * 60_000})
    assert reply["error"]["code"] == "text_too_long"
    assert host.ask({"id": 2, "type": "hello"})["ok"] is True


def test_large_photo_frame_under_the_cap_is_read(host: HostProcess) -> None:
    data = "A" * (20 * 1024 * 1024)  # a 15 MB photo, base64
    reply = host.ask(
        {
            "id": 1,
            "type": "check",
            "text": "Sports day",
            "media": [{"mime": "image/jpeg", "data": data}],
        }
    )
    assert reply["ok"] is True


def test_replies_stay_under_chromes_limit(host: HostProcess) -> None:
    text = " ".join(["Amelia Thornbury"] * 2000)
    host.send({"id": 1, "type": "check", "text": text})
    body = host.read_raw_reply()
    assert body is not None and len(body) < 1024 * 1024
    reply = json.loads(body)
    assert reply["verdict"] == "block"
    assert len(reply["findings"]) == MAX_FINDINGS
    assert reply["findings_total"] == 2001  # 2000 names and the length


def test_oversized_frame_ends_the_host_promptly(host: HostProcess) -> None:
    host.send_raw((MAX_INCOMING + 1).to_bytes(4, "little"))
    reply = host.read()
    assert reply["error"]["code"] == "frame_too_large"
    assert host.wait(timeout=5) == 1


def test_truncated_frame_ends_the_host_promptly(host: HostProcess) -> None:
    host.send_raw((100).to_bytes(4, "little") + b'{"id": 1, "ty')
    host.close_stdin()
    assert host.wait(timeout=5) == 1
    assert host.read_raw_reply() is None


def test_truncated_header_ends_the_host_promptly(host: HostProcess) -> None:
    host.send_raw(b"\x10\x00")
    host.close_stdin()
    assert host.wait(timeout=5) == 1


def test_clean_eof_exits_zero(host: HostProcess) -> None:
    assert host.ask({"id": 1, "type": "hello"})["ok"]
    host.close_stdin()
    assert host.wait(timeout=5) == 0


def test_stdout_carries_only_frames_and_logs_go_to_the_data_directory(
    registered_home: Path,
) -> None:
    host = HostProcess(registered_home, identity.CHROME_ORIGIN)
    try:
        host.send_bytes(b"{broken")
        host.send({"id": 2, "type": "check", "text": "hi"})
        host.close_stdin()
        assert host.wait() == 0
        assert host.proc.stdout is not None
        out = host.proc.stdout.read()
    finally:
        host.kill()
    # Exactly two well-formed frames and nothing else.
    replies = []
    while out:
        size = int.from_bytes(out[:4], "little")
        replies.append(json.loads(out[4 : 4 + size]))
        out = out[4 + size :]
    assert [r["ok"] for r in replies] == [False, True]
    log = (registered_home / "logs" / "host.log").read_text()
    assert "bad_json" in log and "browser closed the connection" in log


def test_wrong_extension_origin_is_refused(registered_home: Path) -> None:
    host = HostProcess(registered_home, "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/")
    try:
        reply = host.ask({"id": 1, "type": "check", "text": "Amelia Thornbury"})
        assert reply["error"]["code"] == "forbidden_origin"
    finally:
        host.kill()


def test_firefox_style_arguments_are_checked(registered_home: Path) -> None:
    manifest = "/usr/lib/mozilla/native-messaging-hosts/org.tweetguard.helper.json"
    good = HostProcess(registered_home, manifest, identity.FIREFOX_ADDON_ID)
    bad = HostProcess(registered_home, manifest, "evil@example.com")
    try:
        assert good.ask({"id": 1, "type": "hello"})["ok"] is True
        assert bad.ask({"id": 1, "type": "hello"})["error"]["code"] == "forbidden_origin"
    finally:
        good.kill()
        bad.kill()


def test_register_reimport_is_picked_up_by_a_running_host(
    host: HostProcess, registered_home: Path, tmp_path: Path
) -> None:
    from tests.conftest import run_cli

    assert host.ask({"id": 1, "type": "check", "text": "Go Priya Raman!"})["verdict"] == "allow"
    csv = tmp_path / "new.csv"
    csv.write_text("first_name,last_name,social_media_consent\nPriya,Raman,yes\n")
    assert run_cli(registered_home, "consent", "import", str(csv)).returncode == 0
    assert host.ask({"id": 2, "type": "check", "text": "Go Priya Raman!"})["verdict"] == "block"


def test_broken_policy_holds_every_post(host: HostProcess, registered_home: Path) -> None:
    (registered_home / "policy.toml").write_text("[school\nname = ")
    reply = host.ask({"id": 1, "type": "check", "text": "A lovely day"})
    assert reply["ok"] is False
    assert reply["error"]["code"] == "policy_invalid"
    (registered_home / "policy.toml").write_text('[school]\nname = "Oakfield Primary"\n')
    assert host.ask({"id": 2, "type": "check", "text": "A lovely day"})["verdict"] == "allow"
    assert host.ask({"id": 3, "type": "hello"})["school"] == "Oakfield Primary"


def test_corrupt_register_holds_posts_with_a_clear_error(home: Path) -> None:
    (home / "register.sqlite3").write_bytes(b"this is not a database" * 100)
    host = HostProcess(home)
    try:
        reply = host.ask({"id": 1, "type": "check", "text": "hello"})
        assert reply["error"]["code"] == "register_unavailable"
        assert "consent import" in reply["error"]["message"]
        assert host.ask({"id": 2, "type": "check", "text": "hello"})["ok"] is False
    finally:
        host.kill()


def test_a_policy_without_a_register_holds_posts(home: Path) -> None:
    """A set-up school whose register is missing (wrong data folder?) checks no names."""
    (home / "policy.toml").write_text('[school]\nname = "Oakfield"\n')
    host = HostProcess(home)
    try:
        reply = host.ask({"id": 1, "type": "check", "text": "Well done Amelia Thornbury"})
        assert reply["error"]["code"] == "register_unavailable"
        assert "no consent register" in reply["error"]["detail"]
    finally:
        host.kill()
