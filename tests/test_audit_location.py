"""Where a user who cannot write the shared data folder records: audit.d, else their
own data folder, said in one line; and the console's reader finds every file.

Root ignores file modes, so as root (CI) the host runs as `nobody` through setpriv;
as anyone else the data folder is made read-only (0555) instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REGISTER_CSV, run_cli, write_policy
from tests.hostproc import HostProcess
from tweetguard.install.hosts import make_per_user_audit_dir
from tweetguard.stores.audit import AuditLog, audit_location, audit_sources, merged_rows

ACCOUNT = {"handle": "Kestrel_Vale", "user_id": "7001"}
POLICY = '[[accounts]]\nhandle = "Kestrel_Vale"\nuser_id = "7001"\n'
WARN_TEXT = "A hell of an effort on the cross-country course at Wyndle Fields."
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
SETPRIV = shutil.which("setpriv")

if IS_ROOT and not SETPRIV:
    pytest.skip(
        "running as root without setpriv: root ignores file modes, so an unwritable "
        "data folder cannot be made; install util-linux's setpriv",
        allow_module_level=True,
    )
if not hasattr(os, "geteuid"):
    pytest.skip("POSIX file modes only", allow_module_level=True)


class HostAs(HostProcess):
    """The real host, as another user when the test runs as root."""

    def __init__(self, home: Path, data_home: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k != "TWEETGUARD_HOME"}
        env["XDG_DATA_HOME"] = str(data_home)
        env["HOME"] = str(data_home)
        prefix = (
            [SETPRIV or "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
            if IS_ROOT
            else []
        )
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-m", "tweetguard", "--home", str(home), "host"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )


@pytest.fixture
def school() -> Iterator[tuple[Path, Path]]:
    """A shared data folder the host's user cannot write, and that user's own data
    folder. Under /tmp with world-readable parents, so `nobody` can reach both."""
    top = Path(tempfile.mkdtemp(prefix="tg-audit-loc-"))
    top.chmod(0o755)
    home = top / "shared"
    home.mkdir()
    write_policy(home, POLICY)
    assert run_cli(home, "consent", "import", str(REGISTER_CSV)).returncode == 0
    shared = AuditLog(home / "audit.sqlite3")
    shared.append("helper", detail={"note": "written by IT"})
    shared.close()
    mine = top / "own"
    mine.mkdir()
    if IS_ROOT:
        subprocess.run(["chown", "nobody:nogroup", str(mine)], check=True)
        home.chmod(0o755)
        (home / "audit.sqlite3").chmod(0o644)
    try:
        yield home, mine
    finally:
        home.chmod(0o755)
        shutil.rmtree(top, ignore_errors=True)


def read_only(home: Path) -> None:
    if not IS_ROOT:
        (home / "audit.sqlite3").chmod(0o444)
        home.chmod(0o555)


def override_through_host(home: Path, mine: Path) -> tuple[dict[str, object], dict[str, object]]:
    host = HostAs(home, mine)
    try:
        hello = host.ask({"id": 1, "type": "hello"})
        override = host.ask(
            {
                "id": 2,
                "type": "override",
                "text": WARN_TEXT,
                "rules": ["language.profanity"],
                "reason": "Quoting the coach",
                "account": ACCOUNT,
            }
        )
    finally:
        host.kill()
    return hello, override


def test_audit_d_takes_the_rows_of_who_cannot_write_the_shared_audit(
    school: tuple[Path, Path],
) -> None:
    home, mine = school
    folder = make_per_user_audit_dir(home)
    assert folder is not None and (folder.stat().st_mode & 0o7777) == 0o1777
    read_only(home)
    hello, override = override_through_host(home, mine)
    assert override["ok"] is True, override
    audit = hello["audit"]
    assert isinstance(audit, dict)
    assert audit["shared"] is False and audit["ok"] is True
    assert "not writable by" in audit["note"] and "audit.d" in audit["note"]
    files = list((home / "audit.d").glob("*.sqlite3"))
    assert len(files) == 1
    sources = {log.source: log for log in audit_sources(home)}
    user_source = f"user:{files[0].stem}"
    assert set(sources) >= {"shared", user_source}
    assert sources[user_source].verify().ok
    rows = merged_rows(home)
    assert [r.kind for r in rows if r.source == "shared"] == ["register", "helper"]  # untouched
    overrides = [r for r in rows if r.kind == "override"]
    assert [r.source for r in overrides] == [user_source]
    for log in sources.values():
        log.close()


def test_without_audit_d_the_users_own_folder_is_used_and_said(
    school: tuple[Path, Path],
) -> None:
    home, mine = school
    read_only(home)
    hello, override = override_through_host(home, mine)
    assert override["ok"] is True, override
    audit = hello["audit"]
    assert isinstance(audit, dict)
    assert audit["shared"] is False
    assert "on this machine only" in audit["note"] and "1777" in audit["note"]
    own = list((mine / "tweetguard" / "audit").glob("*.sqlite3"))
    assert len(own) == 1
    log = AuditLog(own[0])
    assert [r.kind for r in log.rows() if r.kind == "override"] == ["override"]
    assert log.verify().ok
    log.close()


def test_the_shared_audit_when_the_folder_is_writable(tmp_path: Path) -> None:
    """The false-alarm trap: a writable data folder is written, and said to be."""
    location = audit_location(tmp_path)
    assert location.shared is True and location.path == tmp_path / "audit.sqlite3"
    assert "shared audit" in location.why
