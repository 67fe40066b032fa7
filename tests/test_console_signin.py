"""Sign-in edges found in review: the first-run token, where "next" may lead,
guesses sent at once, a damaged or unwritable lockout file, the localhost name
and a password reset while the console runs."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.test_console_support import PASSWORD, no_keyring, post, setup_path, signed_in, token
from tweetguard.console import admin, create_app
from tweetguard.console.admin import PASSWORD_SECRET, LockoutStore
from tweetguard.stores.secrets import delete_secret

__all__ = ["no_keyring"]


def test_setup_needs_the_printed_token(home: Path, no_keyring: None) -> None:
    app = create_app(home, testing=True)
    client = app.test_client()
    bare = client.get("/setup")
    assert bare.status_code == 403
    said = bare.get_data(as_text=True)
    assert "one-time setup link" in said and 'name="password"' not in said
    wrong = client.get("/setup?token=" + "x" * 43)
    assert wrong.status_code == 403
    # A POST without the token (the form's CSRF token taken from the real page) sets nothing.
    csrf = token(client, setup_path(app))
    forged = client.post(
        "/setup", data={"csrf_token": csrf, "password": PASSWORD, "confirm": PASSWORD}
    )
    assert forged.status_code == 403 and not admin.has_password(home)
    # Each start makes its own token: another console's is no good here.
    other = create_app(home, testing=True)
    fields = {"csrf_token": csrf, "password": PASSWORD, "confirm": PASSWORD}
    assert client.post(setup_path(other), data=fields).status_code == 403
    # False-alarm trap: the printed link works, and the form carries the token on.
    page = client.get(setup_path(app)).get_data(as_text=True)
    assert app.extensions["tweetguard_setup_token"] in page
    done = post(client, setup_path(app), {"password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 302 and admin.has_password(home)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/%09/evil.example",
        "/%2F/evil.example",
        "/%5Cevil.example",
        "http:evil.example",
        "https://evil.example/",
        "/\r\n/evil.example",
        " //evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_never_leaves_the_console(home: Path, no_keyring: None, target: str) -> None:
    _app, client = signed_in(home)
    client.post("/logout", data={"csrf_token": token(client, "/")})
    away = post(client, "/login", {"password": PASSWORD, "next": target}, "/login")
    assert away.status_code == 302
    assert away.headers["Location"] == "/", target


@pytest.mark.parametrize("target", ["/audit/?day=2026-11-01", "/policy/", "/audit/?rule=a%2Fb"])
def test_next_to_a_console_page_is_followed(home: Path, no_keyring: None, target: str) -> None:
    """False-alarm trap for the refusals above."""
    _app, client = signed_in(home)
    client.post("/logout", data={"csrf_token": token(client, "/")})
    back = post(client, "/login", {"password": PASSWORD, "next": target}, "/login")
    assert back.headers["Location"] == target


def test_guesses_sent_at_once_are_counted_before_the_slow_compare(
    home: Path, no_keyring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in(home)
    app = create_app(home, testing=True)
    app.config["WTF_CSRF_ENABLED"] = False  # each guess its own client, all at once
    real: Callable[[Path, str], bool] = admin.password_matches
    entered, answered = [], []
    changed = threading.Condition()
    release = threading.Event()

    def slow(where: Path, password: str) -> bool:
        with changed:
            entered.append(password)
            changed.notify_all()
        release.wait(10)
        return real(where, password)

    monkeypatch.setattr(admin, "password_matches", slow)

    def guess(password: str) -> None:
        reply = app.test_client().post("/login", data={"password": password})
        with changed:
            answered.append(reply.status_code)
            changed.notify_all()

    guesses = [f"hawthorn ember {n:02d}" for n in range(9)] + [PASSWORD]
    threads = [threading.Thread(target=guess, args=(g,)) for g in guesses]
    for thread in threads:
        thread.start()
    with changed:
        # Every request has either reached the compare or been answered.
        assert changed.wait_for(lambda: len(entered) + len(answered) == len(guesses), 10)
    release.set()
    for thread in threads:
        thread.join(10)
    assert len(entered) == admin.MAX_FAILURES  # not all ten
    assert answered.count(429) >= len(guesses) - admin.MAX_FAILURES


def test_a_right_password_clears_its_reserved_attempt(home: Path, no_keyring: None) -> None:
    """False-alarm trap: counting before the compare does not count a success."""
    _app, client = signed_in(home)
    for _ in range(3):
        client.post("/logout", data={"csrf_token": token(client, "/")})
        assert post(client, "/login", {"password": PASSWORD}, "/login").status_code == 302
    assert LockoutStore(home).state().failures == 0


def test_a_damaged_lockout_file_locks_once_and_the_lock_ends(home: Path) -> None:
    store = LockoutStore(home, max_failures=3, minutes=15)
    start = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    store.path.parent.mkdir(parents=True)
    store.path.write_text("{not json")
    assert store.state(start).locked(start)  # damage does not unlock...
    assert "{not json" not in store.path.read_text()  # ...it became one real lock
    later = start + timedelta(minutes=16)
    assert not store.state(later).locked(later)  # which ends, like any other
    allowed, state = store.reserve(later)
    assert allowed and state.failures == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_console_folder_refuses_sign_in_in_one_line(
    home: Path, no_keyring: None
) -> None:
    signed_in(home)
    client = create_app(home, testing=True).test_client()
    folder = home / "console"
    folder.mkdir(exist_ok=True)
    folder.chmod(0o500)
    try:
        reply = post(client, "/login", {"password": "hawthorn ember 77"}, "/login")
    finally:
        folder.chmod(0o700)
    said = reply.get_data(as_text=True)
    assert reply.status_code == 503 and "Traceback" not in said
    assert "cannot count wrong passwords" in said and "let this user write" in said


def test_an_unwritable_lockout_file_refuses_sign_in_in_one_line(
    home: Path, no_keyring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same refusal where permissions cannot be taken away (tests run as root):
    the lockout file's folder is a file, so nothing can be written under it."""
    signed_in(home)
    client = create_app(home, testing=True).test_client()
    store = LockoutStore(home)
    blocked = home / "not-a-folder"
    blocked.write_text("a file where a folder should be\n")
    monkeypatch.setattr(store, "path", blocked / "lockout.json")
    client.application.extensions["tweetguard_lockout"] = store
    reply = post(client, "/login", {"password": "hawthorn ember 78"}, "/login")
    said = reply.get_data(as_text=True)
    assert reply.status_code == 503 and "Traceback" not in said
    assert "Sign-in is refused: the lockout file" in said and "let this user read and write" in said
    # False-alarm trap: with a writable folder the same guess is simply wrong.
    client.application.extensions["tweetguard_lockout"] = LockoutStore(home)
    assert post(client, "/login", {"password": "hawthorn ember 78"}, "/login").status_code == 401


def test_localhost_is_sent_on_to_127_0_0_1(home: Path, no_keyring: None) -> None:
    _app, client = signed_in(home)
    moved = client.get("/audit/?kind=check", base_url="http://localhost:8740/")
    assert moved.status_code == 308
    assert moved.headers["Location"] == "http://127.0.0.1:8740/audit/?kind=check"
    bare = client.get("/help/", base_url="http://localhost/")
    assert bare.headers["Location"] == "http://127.0.0.1/help/"
    # False-alarm trap: the console's own name is served, not sent on.
    assert client.get("/help/", base_url="http://127.0.0.1:8740/").status_code == 200


def test_a_password_reset_takes_effect_without_a_restart(home: Path, no_keyring: None) -> None:
    app, client = signed_in(home)
    client.post("/logout", data={"csrf_token": token(client, "/")})
    assert client.get("/login").status_code == 200
    delete_secret(home, PASSWORD_SECRET)  # what docs/console.md tells IT to do
    assert client.get("/login").headers["Location"] == "/setup"
    new = "quince harbour velvet 8"
    assert post(client, setup_path(app), {"password": new, "confirm": new}).status_code == 302
    assert admin.password_matches(home, new)


def test_a_lockout_file_that_cannot_be_written_refuses_sign_in(
    home: Path, no_keyring: None
) -> None:
    """The write path, even as root: the temporary file's name is taken by a folder."""
    signed_in(home)
    app = create_app(home, testing=True)
    client = app.test_client()
    csrf = token(client, "/login")
    store: LockoutStore = app.extensions["tweetguard_lockout"]
    store.path.unlink(missing_ok=True)
    # The test client answers on this thread, so the store's temporary name is known.
    (store.path.parent / f".lockout.{os.getpid()}.{threading.get_ident()}.tmp").mkdir(parents=True)
    reply = client.post("/login", data={"csrf_token": csrf, "password": "hawthorn ember 79"})
    said = reply.get_data(as_text=True)
    assert reply.status_code == 503 and "Traceback" not in said
    assert "cannot count wrong passwords" in said and "let this user write" in said
