"""`tweetguard server user reset-password` and `tweetguard server trust show|rename`:
what IT does from a terminal when a user is locked out or the trust changes name."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import run_cli
from tweetguard.server import tenancy
from tweetguard.server.console import lockout
from tweetguard.server.db import open_database

OLD = b"the first long password of the trust\n"


def _cli(
    home: Path, url: str, *args: str, input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return run_cli(home, "server", *args, "--database", url, input=input)


def _trust(home: Path, url: str) -> None:
    made = _cli(
        home,
        url,
        "init",
        "--trust",
        "Marshgate Trust",
        "--admin",
        "it@marshgate.example",
        input=OLD,
    )
    assert made.returncode == 0, made.stderr
    assert _cli(home, url, "school", "add", "Marshgate Nursery").returncode == 0
    added = _cli(
        home,
        url,
        "user",
        "add",
        "dsl@marshgate.example",
        "--role",
        "safeguarding_lead",
        "--school",
        "Marshgate Nursery",
        input=OLD,
    )
    assert added.returncode == 0, added.stderr


def test_reset_password_lets_a_locked_out_user_in_and_ends_their_sessions(
    home: Path, database_url: str
) -> None:
    _trust(home, database_url)
    db = open_database(database_url)
    try:
        email = "dsl@marshgate.example"
        for _ in range(lockout.LIMIT + 1):
            lockout.count_attempt(db, email, datetime.now(UTC))
        assert lockout.locked_until(db, email, datetime.now(UTC))
        user = tenancy.check_password(db, email, OLD.decode().strip())
        admin = tenancy.check_password(db, "it@marshgate.example", OLD.decode().strip())
        assert user is not None and admin is not None

        done = _cli(
            home, database_url, "user", "reset-password", email, input=b"a brand new passphrase\n"
        )
        assert done.returncode == 0, done.stderr
        assert b"signed out everywhere" in done.stdout
        assert tenancy.check_password(db, email, "a brand new passphrase") is not None
        assert tenancy.check_password(db, email, OLD.decode().strip()) is None
        assert lockout.locked_until(db, email, datetime.now(UTC)) is None
        after = tenancy.get_user(db, user.id)
        assert after is not None and after.session_epoch == user.session_epoch + 1
        # The trap: nobody else's password or sessions moved.
        other = tenancy.check_password(db, "it@marshgate.example", OLD.decode().strip())
        assert other is not None and other.session_epoch == admin.session_epoch
    finally:
        db.dispose()


def test_reset_password_refuses_what_it_cannot_do_and_never_takes_it_from_argv(
    home: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    _trust(home, url)
    unknown = _cli(home, url, "user", "reset-password", "nobody@marshgate.example", input=OLD)
    assert unknown.returncode != 0
    assert b"no user nobody@marshgate.example" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1
    short = _cli(home, url, "user", "reset-password", "dsl@marshgate.example", input=b"tiny\n")
    assert short.returncode != 0 and b"too short" in short.stderr
    # A password on the command line is not an option at all (ps, shell history).
    argv = _cli(
        home, url, "user", "reset-password", "dsl@marshgate.example", "visible-in-ps-output"
    )
    assert argv.returncode != 0 and b"unrecognized arguments" in argv.stderr
    wrong_trust = _cli(
        home,
        url,
        "user",
        "reset-password",
        "dsl@marshgate.example",
        "--trust",
        "Elsewhere Trust",
        input=b"a brand new passphrase\n",
    )
    assert wrong_trust.returncode != 0 and b"no such trust" in wrong_trust.stderr
    db = open_database(url)
    try:  # none of the refusals changed the password
        assert tenancy.check_password(db, "dsl@marshgate.example", OLD.decode().strip())
    finally:
        db.dispose()


def test_trust_show_and_rename(home: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    _trust(home, url)
    shown = _cli(home, url, "trust", "show")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.decode().splitlines()
    assert lines[0].startswith("trust\tMarshgate Trust\tt_")
    assert "users\ttrust admin\t1" in lines and "users\tsafeguarding lead\t1" in lines
    assert any(line.startswith("school\tMarshgate Nursery\ts_") for line in lines)
    assert lines[-1].endswith("\t0 devices")

    renamed = _cli(home, url, "trust", "rename", "Marshgate and Fleet Schools Trust")
    assert renamed.returncode == 0, renamed.stderr
    assert b"'Marshgate and Fleet Schools Trust'" in renamed.stdout
    db = open_database(url)
    try:
        (only,) = tenancy.all_trusts(db)
        assert only.name == "Marshgate and Fleet Schools Trust"
        other = tenancy.create_trust(db, "Tidewater Federation")
    finally:
        db.dispose()
    # With two trusts, which one must be said; a name already taken is refused.
    vague = _cli(home, url, "trust", "show")
    assert vague.returncode != 0 and b"--trust NAME" in vague.stderr
    taken = _cli(
        home,
        url,
        "trust",
        "rename",
        "Tidewater Federation",
        "--trust",
        "Marshgate and Fleet Schools Trust",
    )
    assert taken.returncode != 0 and b"already called 'Tidewater Federation'" in taken.stderr
    # The trap: the other trust is shown by its own name, untouched.
    theirs = _cli(home, url, "trust", "show", "--trust", "Tidewater Federation")
    assert theirs.returncode == 0
    assert theirs.stdout.decode().splitlines()[0] == f"trust\tTidewater Federation\t{other.id}"
