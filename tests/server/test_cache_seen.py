"""The devices' last calls held in memory (cache.SeenBuffer) end with their database:
`Database.dispose()` writes what is held and stops the thread, so no thread is
left retrying ("could not note ... trying again in 30 s") against a database a
test or a server has already taken away."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from tweetguard.server import cache, devices, tenancy
from tweetguard.server.db import Database, open_database, upgrade
from tweetguard.server.db.tables import devices as devices_table


def _enrolled(db: Database, *names: str) -> list[devices.Device]:
    made = tenancy.create_trust(db, "Heathervale Schools Partnership")
    school = tenancy.add_school(db, made.id, "Gorsebank Infants")
    return [
        devices.enrol(db, devices.make_code(db, school.id, created_by="u"), name=n, kind="helper")[
            0
        ]
        for n in names
    ]


def _seen_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "tweetguard-seen" and t.is_alive()]


def _last_seen(url: str) -> dict[str, str | None]:
    fresh = open_database(url)
    try:
        with fresh.read() as conn:
            return {
                r.id: r.last_seen
                for r in conn.execute(select(devices_table.c.id, devices_table.c.last_seen))
            }
    finally:
        fresh.dispose()


def test_dispose_writes_what_is_held_and_ends_the_thread(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    upgrade(database_url)
    db = open_database(database_url)
    called, quiet = _enrolled(db, "science-lab-2", "science-lab-3")
    before = set(_seen_threads())
    buffer = cache.seen_buffer(db)
    buffer.note(called.id, helper_version="0.9.7")
    started = [t for t in _seen_threads() if t not in before]
    assert len(started) == 1  # the half-minute writer of this database

    caplog.set_level(logging.WARNING, logger="tweetguard.server.cache")
    db.dispose()
    assert not started[0].is_alive()  # joined by dispose, not left behind
    seen = _last_seen(database_url)
    assert seen[called.id]  # written at dispose, not lost with the thread
    assert seen[quiet.id] is None  # the trap: a device that never called stays unseen

    # A request still in flight after dispose notes nothing and starts no thread.
    cache.seen_buffer(db).note(quiet.id)
    assert [t for t in _seen_threads() if t not in before] == []
    assert _last_seen(database_url)[quiet.id] is None
    assert not [r for r in caplog.records if "trying again" in r.getMessage()]


def test_a_database_gone_at_dispose_is_said_once_and_not_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'gone' / 'server.sqlite3'}"
    upgrade(url)
    db = open_database(url)
    (device,) = _enrolled(db, "hall-pc-9")
    buffer = cache.seen_buffer(db)
    buffer.note(device.id)
    with db.write() as conn:  # the table goes: the write at dispose cannot succeed
        conn.exec_driver_sql("DROP TABLE devices")
    caplog.set_level(logging.WARNING, logger="tweetguard.server.cache")
    db.dispose()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "as the server stopped" in messages[0]
    assert "next poll notes it again" in messages[0] and "trying again" not in messages[0]
    assert buffer._thread is not None and not buffer._thread.is_alive()


def test_a_buffer_still_writes_every_half_minute_while_its_database_lives(
    database_url: str,
) -> None:
    """The trap beside the fix: stopping is for dispose only; a live buffer's own
    flush (woken here instead of waiting 30 s) still writes and keeps running."""
    upgrade(database_url)
    db = open_database(database_url)
    try:
        (device,) = _enrolled(db, "reception-laptop")
        buffer = cache.seen_buffer(db)
        buffer.note(device.id)
        assert buffer.flush() == 1
        assert _last_seen(database_url)[device.id]
        assert buffer._thread is not None and buffer._thread.is_alive()
    finally:
        db.dispose()
