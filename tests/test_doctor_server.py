"""doctor's `server.reachable` against the real school server on loopback: the
machine enrolled with the real CLI, then the server stopped, then the device removed.
SQLite only: what is checked is the device's call, not the server's storage."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.device_sync import School, cli, make_school, out
from tweetguard.server import devices, notify
from tweetguard.server.db import open_database, upgrade


@pytest.fixture
def school(tmp_path: Path) -> Iterator[School]:
    url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    upgrade(url)
    db = open_database(url)
    made = make_school(db, tmp_path / "server-data", url)
    try:
        yield made
    finally:
        made.served.stop()
        notify.hub(db).close()
        db.dispose()


def server_check(home: Path) -> dict[str, str]:
    result = cli(home, "doctor", "--json", "--browser", "chrome")
    checks = {c["id"]: c for c in json.loads(result.stdout)["checks"]}
    return checks["server.reachable"]


def test_not_enrolled_is_fine(home: Path) -> None:
    check = server_check(home)
    assert check["status"] == "ok" and "not enrolled" in check["message"]


def test_enrolled_server_reachable_then_stopped_then_device_removed(
    school: School, home: Path
) -> None:
    enrolled = cli(home, "enrol", school.served.url, "--code", school.code())
    assert enrolled.returncode == 0, out(enrolled)
    check = server_check(home)
    assert check["status"] == "ok", check
    assert school.served.url in check["message"] and "Larkspur Lane Primary" in check["message"]

    school.served.stop()
    check = server_check(home)
    assert check["status"] == "fail"
    assert "cannot reach" in check["message"] and school.served.url in check["message"]
    assert "network" in check["fix"]

    school.served.start()
    assert server_check(home)["status"] == "ok"
    assert devices.revoke(school.db, school.school.id, _device_id(home))
    check = server_check(home)
    assert check["status"] == "fail" and "refused this device" in check["message"]
    assert "tweetguard enrol" in check["fix"]


def test_enrolled_without_its_credential(school: School, home: Path) -> None:
    enrolled = cli(home, "enrol", school.served.url, "--code", school.code())
    assert enrolled.returncode == 0, out(enrolled)
    (home / "secrets" / "server-credential.key").unlink()
    check = server_check(home)
    assert check["status"] == "fail" and "credential" in check["message"]


def _device_id(home: Path) -> str:
    return str(tomllib.loads((home / "server.toml").read_text())["device_id"])
