"""The console's sign-in, lockout, CSRF, headers and live-feed authorisation,
through Flask's test client on a real data folder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.test_console_support import PASSWORD, no_keyring, post, setup_path, signed_in, token
from tweetguard.console import create_app
from tweetguard.console.admin import PASSWORD_SECRET, LockoutStore
from tweetguard.console.security import COOKIE_NAME, feed_authorizer
from tweetguard.stores.secrets import get_secret

__all__ = ["no_keyring"]


def test_first_run_asks_for_a_password_and_keeps_only_its_hash(
    home: Path, no_keyring: None
) -> None:
    app = create_app(home, testing=True)
    client = app.test_client()
    assert client.get("/").headers["Location"] == "/setup"
    assert client.get("/policy/").headers["Location"] == "/setup"
    setup = setup_path(app)
    short = post(client, setup, {"password": "tulip", "confirm": "tulip"})
    assert short.status_code == 200 and "at least 12" in short.get_data(as_text=True)
    differ = post(client, setup, {"password": PASSWORD, "confirm": PASSWORD + "!"})
    assert "differ" in differ.get_data(as_text=True)
    assert get_secret(home, PASSWORD_SECRET) is None
    done = post(client, setup, {"password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 302
    stored = get_secret(home, PASSWORD_SECRET)
    assert stored is not None and stored.startswith(b"scrypt:")
    assert PASSWORD.encode() not in stored
    assert (home / "secrets" / f"{PASSWORD_SECRET}.key").stat().st_mode & 0o077 == 0
    # First run is over: the setup page cannot be used to replace the password.
    again = post(client, "/setup", {"password": "another long phrase", "confirm": "x"}, "/login")
    assert again.headers["Location"] == "/login"
    assert get_secret(home, PASSWORD_SECRET) == stored


def test_sign_in_sign_out_and_cookie_flags(home: Path, no_keyring: None) -> None:
    _app, client = signed_in(home)
    page = client.get("/")
    assert page.status_code == 200
    assert "file readable only by this user" in page.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token(client, "/")})
    assert client.get("/").headers["Location"].startswith("/login")
    wrong = post(client, "/login", {"password": "plum orchard lantern 43"})
    assert wrong.status_code == 401 and "4 more wrong tries" in wrong.get_data(as_text=True)
    right = post(client, "/login", {"password": PASSWORD, "next": "/audit/"})
    assert right.headers["Location"] == "/audit/"
    cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie
    # An open redirect to another site is not followed after signing in.
    client.post("/logout", data={"csrf_token": token(client, "/")})
    away = post(client, "/login", {"password": PASSWORD, "next": "//evil.example/"})
    assert away.headers["Location"] == "/"


def test_a_copied_cookie_is_dead_after_sign_out(home: Path, no_keyring: None) -> None:
    app, client = signed_in(home)
    cookie = client.get_cookie(COOKIE_NAME, domain="127.0.0.1")
    assert cookie is not None
    authorize = feed_authorizer(app)
    assert authorize(cookie.value)
    client.post("/logout", data={"csrf_token": token(client, "/")})
    assert not authorize(cookie.value)
    thief = app.test_client()
    thief.set_cookie(COOKIE_NAME, cookie.value)
    assert thief.get("/").status_code == 302
    assert not authorize(cookie.value[:-2] + "xx")
    assert not authorize(None)


def test_five_wrong_passwords_lock_the_console_across_a_restart(
    home: Path, no_keyring: None
) -> None:
    signed_in(home)
    app = create_app(home, testing=True)
    client = app.test_client()
    for _ in range(4):
        assert post(client, "/login", {"password": "wrong horse"}).status_code == 401
    locked = post(client, "/login", {"password": "wrong horse"})
    assert locked.status_code == 429
    assert "locked until" in locked.get_data(as_text=True)
    # The right password is refused while locked, in this console and a restarted one.
    assert post(client, "/login", {"password": PASSWORD}).status_code == 429
    restarted = create_app(home, testing=True).test_client()
    assert post(restarted, "/login", {"password": PASSWORD}).status_code == 429
    assert "locked until" in restarted.get("/login").get_data(as_text=True)
    # Once the lock runs out, the right password works and the count starts again.
    store = LockoutStore(home)
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert not store.state(later).locked(later)


def test_lockout_counts_only_wrong_passwords_in_a_row(home: Path) -> None:
    store = LockoutStore(home, max_failures=3, minutes=1)
    start = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    store.failed(start)
    store.failed(start)
    store.succeeded()
    assert not store.failed(start).locked(start)  # 1 of 3 again, not 3
    (home / "console" / "lockout.json").write_text("{not json")
    assert store.state(start + timedelta(seconds=1)).locked(start + timedelta(seconds=1))


def test_a_form_without_its_token_is_refused_with_a_plain_message(
    home: Path, no_keyring: None
) -> None:
    _app, client = signed_in(home)
    before = (home / "policy.toml").exists()
    forged = client.post("/policy/accounts", data={"handle": "HollyLaneAcad"})
    assert forged.status_code == 400
    text = forged.get_data(as_text=True)
    assert "did not come from a console page" in text and "Traceback" not in text
    assert (home / "policy.toml").exists() == before
    stale = client.post("/logout", data={"csrf_token": "IjE2ZjY.forged.token"})
    assert stale.status_code == 400
    # False-alarm trap: the same form with its token goes through.
    assert (
        post(client, "/policy/accounts", {"handle": "HollyLaneAcad"}, "/policy/").status_code == 302
    )


def test_every_page_sends_the_security_headers(home: Path, no_keyring: None) -> None:
    app, client = signed_in(home)
    app.config["TWEETGUARD_FEED_URL"] = "ws://127.0.0.1:8741"
    for url in ("/", "/policy/", "/register/", "/audit/", "/help/", "/accounts/", "/login"):
        response = client.get(url)
        assert response.status_code in (200, 302), url
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "form-action 'self'" in csp and "connect-src 'self' ws://127.0.0.1:8741" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"


def test_a_request_for_another_host_name_is_refused(home: Path, no_keyring: None) -> None:
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: refused."""
    _app, client = signed_in(home)
    assert client.get("/", headers={"Host": "rebind.example:8740"}).status_code == 400
    assert client.get("/", headers={"Host": "127.0.0.1:8740"}).status_code != 400


def test_the_help_page_covers_what_staff_must_do(home: Path, no_keyring: None) -> None:
    _app, client = signed_in(home)
    text = client.get("/help/").get_data(as_text=True)
    for needed in (
        "Block @handle",
        "Delete",
        "Change your password",
        "Log out all other sessions",
        "Connected apps",
        "Two-factor authentication",
        "Tell parents",
        "safeguarding lead",
        "at most 15 characters",
        "Location",
        "Website",
    ):
        assert needed in text, needed


def test_dashboard_says_when_its_port_is_taken(home: Path) -> None:
    import socket

    from tests.conftest import run_cli

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            home,
            "dashboard",
            "--port",
            str(port),
            env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"},
        )
    assert result.returncode == 69
    said = result.stderr.decode()
    assert f"127.0.0.1:{port}" in said and "--port N (0 = any free port)" in said
    assert result.stdout == b""
    bad = run_cli(home, "dashboard", "--port", "70000")
    assert bad.returncode == 64 and "not a port" in bad.stderr.decode()


def test_a_sign_in_ends_after_a_while_unused(home: Path, no_keyring: None) -> None:
    from tweetguard.console.sessions import Sessions

    clock = [1000.0]
    app = create_app(home, testing=True)
    app.extensions["tweetguard_sessions"] = Sessions(clock=lambda: clock[0])
    client = app.test_client()
    post(client, setup_path(app), {"password": PASSWORD, "confirm": PASSWORD})
    clock[0] += 29 * 60
    assert client.get("/audit/").status_code == 200  # used: the idle clock starts again
    clock[0] += 29 * 60
    assert client.get("/").status_code == 200
    clock[0] += 31 * 60
    gone = client.get("/policy/")
    assert gone.headers["Location"].startswith("/login?next=/policy/")
    assert "signed out after a while" in client.get("/login").get_data(as_text=True)
