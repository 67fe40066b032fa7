"""The sync's parts on their own: the HTTP client's refusals (redirects, answers
that are not the API, no answer, an untrusted certificate) against small servers
of the test's own on loopback; a policy or register the helper cannot use keeping
the last good copy; the loop's timing; damaged state files.

The device API itself is tested against the real server in test_device_sync.py;
the servers here only play the network's part (a redirect, a certificate).
"""

from __future__ import annotations

import json
import os
import random
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest

from tests.server.tls import self_signed
from tweetguard.stores.consent import ConsentRegister, Pupil
from tweetguard.sync import loop as loop_module
from tweetguard.sync.client import BadReply, PolicyReply, ServerClient, Unreachable, check_url
from tweetguard.sync.loop import SyncLoop
from tweetguard.sync.outcome import PROBLEM
from tweetguard.sync.policy_pull import pull_policy
from tweetguard.sync.register_pull import pull_register
from tweetguard.sync.rounds import NotEnrolled, RoundResult
from tweetguard.sync.state import (
    SERVER_FILE,
    STATE_FILE,
    Enrolment,
    EnrolmentError,
    SyncState,
    load_enrolment,
    load_state,
    save_enrolment,
)

# --- small loopback servers ------------------------------------------------------------


@dataclass
class Heard:
    headers: list[dict[str, str]] = field(default_factory=list)


def serve(
    answer: tuple[int, dict[str, str], bytes], tls: ssl.SSLContext | None = None
) -> tuple[ThreadingHTTPServer, Heard]:
    heard = Heard()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            heard.headers.append(dict(self.headers.items()))
            status, headers, body = answer
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, heard


@pytest.fixture
def servers() -> Iterator[list[ThreadingHTTPServer]]:
    started: list[ThreadingHTTPServer] = []
    yield started
    for server in started:
        server.shutdown()
        server.server_close()


def url_of(server: ThreadingHTTPServer, scheme: str = "http") -> str:
    return f"{scheme}://127.0.0.1:{server.server_address[1]}"


STATUS = json.dumps(
    {"device_id": "d_1", "school": {"id": "s_1", "name": "Larkspur Lane Primary"}, "audit": {}}
).encode()


def test_addresses_must_be_https_except_on_this_machine() -> None:
    assert (
        check_url("https://tweetguard.larkspur.example/") == "https://tweetguard.larkspur.example"
    )
    assert check_url("http://127.0.0.1:8750") == "http://127.0.0.1:8750"
    assert check_url("http://localhost:8750/tg/") == "http://localhost:8750/tg"
    for wrong, said in [
        ("http://tweetguard.larkspur.example", "not encrypted"),
        ("ftp://tweetguard.larkspur.example", "not a server address"),
        ("tweetguard.larkspur.example", "not a server address"),
        ("https://tweetguard.larkspur.example/?x=1", "more than a server address"),
    ]:
        with pytest.raises(ValueError, match=said):
            check_url(wrong)


def test_a_redirect_is_not_followed_so_the_credential_stays_put(
    servers: list[ThreadingHTTPServer],
) -> None:
    elsewhere, heard_elsewhere = serve((200, {"Content-Type": "application/json"}, STATUS))
    redirecting, heard = serve((302, {"Location": url_of(elsewhere) + "/api/v1/status"}, b""))
    servers += [elsewhere, redirecting]
    client = ServerClient(url_of(redirecting), credential="d_1.secret-of-larkspur")
    with pytest.raises(Unreachable, match="answered 302"):
        client.status()
    assert heard.headers[0]["Authorization"] == "Bearer d_1.secret-of-larkspur"
    assert heard_elsewhere.headers == []
    # Trap: the same answer served directly is read.
    assert ServerClient(url_of(elsewhere), credential="x").status()["device_id"] == "d_1"


def test_an_answer_that_is_not_the_api_is_said_plainly(
    servers: list[ThreadingHTTPServer],
) -> None:
    portal, _ = serve((200, {"Content-Type": "text/html"}, b"<html>Sign in to the Wi-Fi</html>"))
    servers.append(portal)
    with pytest.raises(BadReply, match="did not answer as a tweetguard server"):
        ServerClient(url_of(portal), credential="x").status()
    half, _ = serve((200, {}, b'{"device_id": "d_1"}'))
    servers.append(half)
    with pytest.raises(BadReply, match="no valid 'school'"):
        ServerClient(url_of(half), credential="x").status()


def test_no_answer_in_time_is_unreachable() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection, never answers
        client = ServerClient(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.3)
        with pytest.raises(Unreachable, match="no answer in time"):
            client.status()


def test_an_untrusted_certificate_is_refused_and_the_school_ca_file_trusted(
    servers: list[ThreadingHTTPServer], tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server, _ = serve((200, {"Content-Type": "application/json"}, STATUS), tls)
    servers.append(server)
    with pytest.raises(Unreachable, match=r"not trusted .*--ca-file"):
        ServerClient(url_of(server, "https"), credential="x").status()
    trusted = ServerClient(url_of(server, "https"), credential="x", ca_file=cert)
    assert trusted.status()["school"]["name"] == "Larkspur Lane Primary"


# --- what the server sends that this helper cannot use ----------------------------------


class Answers:
    """Plays ServerClient's part for one step: the answers a server could give."""

    def client(self) -> ServerClient:
        return cast(ServerClient, self)

    def __init__(self, policy: PolicyReply | None = None, register: Any = None) -> None:
        self._policy = policy
        self._register = register
        self.asked: list[Any] = []

    def policy(self, known_version: str | None) -> PolicyReply | None:
        self.asked.append(known_version)
        return self._policy

    def register(self, since: int) -> Any:
        self.asked.append(since)
        return self._register


GOOD = '[school]\nname = "Larkspur Lane Primary"\n'


def test_a_policy_the_helper_cannot_use_leaves_the_last_good_one(home: Path) -> None:
    state = SyncState()
    step, state = pull_policy(Answers(PolicyReply("4", GOOD)).client(), home, state)
    assert step.outcome == "ok"
    assert (home / "policy.toml").read_text() == GOOD
    bad = GOOD + '\n[rules."names.telepathy"]\nenabled = true\n'
    step, state = pull_policy(Answers(PolicyReply("5", bad)).client(), home, state)
    assert step.outcome == PROBLEM
    assert "the server's version 5 cannot be used by this helper" in step.line
    assert "names.telepathy" in step.line
    assert "the last good policy stays in use (version 4)" in step.line
    assert (home / "policy.toml").read_text() == GOOD
    assert state.policy_version == "4"
    # The refused version is what the next poll names, so it is not fetched again...
    again = Answers(None)
    step, state = pull_policy(again.client(), home, state)
    assert again.asked == ["5"]
    assert "still cannot be used here; version 4 stays in use" in step.line
    # ... until the server has another one (trap: a good version 6 is taken).
    fixed = GOOD + "\n[posting]\nidle_logout_minutes = 4\n"
    step, state = pull_policy(Answers(PolicyReply("6", fixed)).client(), home, state)
    assert step.line == "version 6 received and in use (was 4)"
    assert state.policy_rejected is None
    assert (home / "policy.toml").read_text() == fixed


def test_a_register_with_a_broken_person_leaves_the_last_good_one(home: Path) -> None:
    enrolment = Enrolment("https://tweetguard.larkspur.example", "d_1", "s_1", "Larkspur")
    pupil = {"ref": "", "role": "pupil", "first_name": "Wilhelmina", "last_name": "Dunmore"}
    first = Answers(register={"revision": 3, "full": True, "people": [pupil]})
    step, state = pull_register(first.client(), home, enrolment, SyncState())
    assert step.outcome == "ok", step.line
    broken = {**pupil, "first_name": "Percival", "social_media": "yes please"}
    change = {"op": "upsert", "person": broken}
    second = Answers(register={"revision": 4, "full": False, "changes": [change]})
    step, after = pull_register(second.client(), home, enrolment, state)
    assert step.outcome == PROBLEM
    assert "social_media of Percival Dunmore is not true or false" in step.line
    assert "the last good copy stays in use (revision 3)" in step.line
    assert after == state
    register = ConsentRegister(home / "register.sqlite3")
    try:
        assert [p.first_name for p in register.pupils()] == ["Wilhelmina"]
    finally:
        register.close()


# --- the loop ----------------------------------------------------------------------------


def test_the_loop_waits_its_interval_give_or_take_a_tenth(home: Path) -> None:
    loop = SyncLoop(home, interval=200.0, rng=random.Random(7))
    waits = [loop._wait() for _ in range(500)]
    assert min(waits) >= 180.0
    assert max(waits) <= 220.0
    assert max(waits) - min(waits) > 30.0  # spread, not one second for every machine


def test_the_loop_runs_rounds_and_ends_when_the_machine_is_unenrolled(home: Path) -> None:
    done = threading.Event()
    calls: list[Path] = []

    def rounds(path: Path) -> RoundResult:
        calls.append(path)
        if len(calls) == 3:
            done.set()
            raise NotEnrolled("unenrolled")
        return RoundResult()

    loop = SyncLoop(home, interval=0.01, rounds=rounds).start()
    assert done.wait(10)
    loop.thread.join(10)
    assert not loop.thread.is_alive()
    assert calls == [home, home, home]


def test_a_round_just_made_by_another_process_is_not_repeated(home: Path) -> None:
    calls: list[Path] = []

    def rounds(path: Path) -> RoundResult:
        calls.append(path)
        (path / STATE_FILE).write_text("{}")
        return RoundResult()

    (home / STATE_FILE).write_text("{}")  # another helper's round, just now
    loop = SyncLoop(home, interval=600.0, rounds=rounds)
    assert loop._one() is True
    assert calls == []
    # Trap: one made half an interval ago or more is not "just now".
    old = (home / STATE_FILE).stat().st_mtime - 301
    os.utime(home / STATE_FILE, (old, old))
    assert loop._one() is True
    assert calls == [home]
    # And this loop's own round does not hold back its next one.
    assert loop._one() is True
    assert calls == [home, home]


def test_the_loops_file_names_are_the_states() -> None:
    assert (loop_module.SERVER_FILE, loop_module.STATE_FILE) == (SERVER_FILE, STATE_FILE)


# --- state files ---------------------------------------------------------------------------


def test_damaged_state_files_say_what_to_do(home: Path) -> None:
    (home / STATE_FILE).write_text("{not json")
    assert load_state(home) == SyncState()  # a fresh start: everything is fetched again
    (home / SERVER_FILE).write_text('url = "https://tweetguard.larkspur.example"\n')
    with pytest.raises(EnrolmentError, match="has no device_id; run `tweetguard unenrol`"):
        load_enrolment(home)
    save_enrolment(home, Enrolment("https://tweetguard.larkspur.example", "d_9", "s_9", "Larkspur"))
    loaded = load_enrolment(home)
    assert loaded is not None
    assert loaded.device_id == "d_9"
    assert "credential" not in (home / SERVER_FILE).read_text().replace("credential is", "")


def test_replace_everyone_keeps_pupils_and_staff_in_step(home: Path) -> None:
    register = ConsentRegister(home / "register.sqlite3")
    try:
        register.replace([Pupil("Old", "Import", social_media=True)], source="local")
        summary = register.replace_everyone(
            [Pupil("Wilhelmina", "Dunmore")],
            [Pupil("Imelda", "Strawbridge", social_media=True)],
            source="server",
            meta={"server_revision": "s_1:9"},
        )
        assert summary.pupils == 1
        assert [p.first_name for p in register.staff()] == ["Imelda"]
        assert register.meta_value("server_revision") == "s_1:9"
        assert register.meta_value("no such key") is None
    finally:
        register.close()


def test_a_school_without_a_register_on_the_server_leaves_the_machines(home: Path) -> None:
    register = ConsentRegister(home / "register.sqlite3")
    try:
        register.replace([Pupil("Wilhelmina", "Dunmore")], source="a local import")
    finally:
        register.close()
    enrolment = Enrolment("https://tweetguard.larkspur.example", "d_1", "s_1", "Larkspur")
    empty = Answers(register={"revision": 0, "full": True, "people": []})
    step, state = pull_register(empty.client(), home, enrolment, SyncState())
    assert step.line == (
        "the school has no register on the server yet; this machine's own stays in use"
    )
    assert state.register_revision == 0
    # Trap: a register the school emptied on purpose (a revision, no one in it) is applied.
    emptied = Answers(register={"revision": 5, "full": True, "people": []})
    step, state = pull_register(emptied.client(), home, enrolment, SyncState())
    assert step.line.startswith("revision 5, the school's whole register: 0 pupils")
    register = ConsentRegister(home / "register.sqlite3")
    try:
        assert list(register.pupils()) == []
    finally:
        register.close()
