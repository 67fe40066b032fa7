"""A throwaway PostgreSQL cluster for the server's tests.

initdb in a temp dir, started on a free loopback port with its socket in that dir,
stopped and removed afterwards. PostgreSQL refuses to run as root, so as root the
cluster runs as the `postgres` user (else `nobody`) with the data dir owned by it.
Where there are no PostgreSQL binaries the tests that need them skip and say why,
except under CI, where they fail: CI must run them.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

SUPERUSER = "tweetguard"


def pg_bin() -> Path | None:
    given = os.environ.get("TWEETGUARD_PG_BIN")
    candidates = [given] if given else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists():
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def unavailable(reason: str) -> None:
    """Skips, or fails under CI (which must run the PostgreSQL tests)."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot run under CI: {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """One running cluster; `database()` gives each test its own database in it."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="tweetguard-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    self.owner = pwd.getpwnam(name)
                    break
                except KeyError:
                    continue
            if self.owner is None:
                raise RuntimeError("running as root and no postgres or nobody user to run as")
            os.chown(self.root, self.owner.pw_uid, self.owner.pw_gid)
        self.root.chmod(0o700)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self.owner is not None:
            command = [
                "setpriv",
                f"--reuid={self.owner.pw_uid}",
                f"--regid={self.owner.pw_gid}",
                "--clear-groups",
                *command,
            ]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=120, check=False, cwd=self.root
        )

    def start(self) -> None:
        made = self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        if made.returncode != 0:
            raise RuntimeError(f"initdb failed: {made.stderr.strip() or made.stdout.strip()}")
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        started = self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "start",
        )
        if started.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {started.stderr.strip()} {log[-2000:]}")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(sql.encode())

    @contextmanager
    def database(self) -> Iterator[str]:
        """A new, empty database for one test, dropped after (connections forced off)."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        self._admin(f'CREATE DATABASE "{name}"')
        try:
            yield self.url(name)
        finally:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def cluster() -> Iterator[Cluster]:
    """A started cluster, or a skip (a failure under CI) saying why there is none."""
    bin_dir = pg_bin()
    if bin_dir is None:
        unavailable("no PostgreSQL binaries (initdb); install Debian's postgresql")
        raise AssertionError("unreachable")
    running = Cluster(bin_dir)
    try:
        running.start()
    except (RuntimeError, OSError) as exc:
        running.stop()
        unavailable(str(exc))
    try:
        yield running
    finally:
        running.stop()
