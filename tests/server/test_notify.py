"""Change notifications (server/notify.py) and the caches they keep honest (server/cache.py).

Two `Database` objects over one PostgreSQL stand for two server processes: each has
its own engine, hub and LISTEN connection, exactly as two processes would. Waits are
on conditions, never fixed sleeps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests.server.pg import Cluster
from tweetguard.server import cache, devices, notify, policies, tenancy
from tweetguard.server.db import Database, open_database, upgrade
from tweetguard.server.db.tables import devices as devices_table


def wait_for(condition: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


@pytest.fixture
def pg_pair(pg_cluster: Cluster) -> Iterator[tuple[Database, Database]]:
    """Two 'processes' (engines, hubs, listeners) over one PostgreSQL database."""
    with pg_cluster.database() as url:
        upgrade(url)
        a, b = open_database(url), open_database(url)
        for db in (a, b):
            notify.install(db)
            assert notify.hub(db).wait_live(10)
        yield a, b
        for db in (a, b):
            notify.hub(db).close()
            db.dispose()


class Heard:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, channel: str, payload: str) -> None:
        with self.lock:
            self.items.append((channel, payload))


def test_a_change_in_one_process_reaches_the_other_only_once_committed(
    pg_pair: tuple[Database, Database],
) -> None:
    a, b = pg_pair
    heard = Heard()
    notify.hub(b).subscribe(notify.POLICY, heard)
    with a.write() as conn:
        notify.notify(conn, notify.POLICY, "s_held_until_commit")
        # Not before the commit: a process told now would re-read the old policy.
        with a.engine.connect() as other:
            other.execute(text("SELECT pg_sleep(0.2)"))
        assert heard.items == []
    wait_for(lambda: heard.items)
    assert heard.items == [(notify.POLICY, "s_held_until_commit")]


def test_a_rolled_back_change_tells_no_one(pg_pair: tuple[Database, Database]) -> None:
    a, b = pg_pair
    heard_b, heard_a = Heard(), Heard()
    notify.hub(b).subscribe(notify.REGISTER, heard_b)
    notify.hub(a).subscribe(notify.REGISTER, heard_a)
    with pytest.raises(RuntimeError), a.write() as conn:
        notify.notify(conn, notify.REGISTER, "s_rolled_back")
        raise RuntimeError("the change failed")
    # The trap: a committed one right after is heard, by both, and it is the only one.
    a.notify(notify.REGISTER, "s_committed")
    wait_for(lambda: heard_b.items and heard_a.items)
    assert heard_b.items == [(notify.REGISTER, "s_committed")]
    assert (notify.REGISTER, "s_rolled_back") not in heard_a.items


def test_this_process_hears_its_own_change_right_after_its_commit(database_url: str) -> None:
    """Both backends: on SQLite the hub is all there is; on PostgreSQL a poll to the
    same process right after the save must not wait for the listener."""
    upgrade(database_url)
    db = open_database(database_url)
    try:
        notify.install(db)
        heard = Heard()
        notify.hub(db).subscribe(notify.DEVICE, heard)
        with db.write() as conn:
            notify.notify(conn, notify.DEVICE, "d_inside")
            assert heard.items == []
        assert (notify.DEVICE, "d_inside") in heard.items  # no wait: told at check-in
        db.notify(notify.DEVICE, "d_after")
        assert (notify.DEVICE, "d_after") in heard.items
    finally:
        notify.hub(db).close()
        db.dispose()


def settle(a: Database, b: Database) -> None:
    """Waits until B has heard everything A committed so far (NOTIFYs arrive in
    commit order), so the setup's own notifications do not land mid-test."""
    heard = Heard()
    unsubscribe = notify.hub(b).subscribe(notify.DEVICE, heard)
    marker = f"d_settle_{time.monotonic_ns()}"
    a.notify(notify.DEVICE, marker)
    wait_for(lambda: (notify.DEVICE, marker) in heard.items)
    unsubscribe()


def _school(db: Database) -> tuple[str, str]:
    made = tenancy.create_trust(db, "Hollowmere Schools Partnership")
    school = tenancy.add_school(db, made.id, "Kestrel Lane Infants")
    return made.id, school.id


def test_a_policy_poll_costs_no_query_until_another_process_changes_it(
    pg_pair: tuple[Database, Database],
) -> None:
    a, b = pg_pair
    trust_id, school_id = _school(a)
    versions_b = cache.for_database(b)
    settle(a, b)
    loads: list[str] = []

    def version() -> str:
        found = policies.policy_version(b, school_id)
        loads.append(found)
        return found

    first = versions_b.policy_version(school_id, version)
    assert versions_b.policy_version(school_id, version) == first
    assert len(loads) == 1  # the second poll came from memory

    policies.save_school_layer(a, school_id, '[posting]\nsupport_contact = "Ms Okafor"\n', by=None)
    wait_for(lambda: versions_b.policy_version(school_id, version) != first, timeout=1.0)
    second = versions_b.policy_version(school_id, version)
    assert second == policies.policy_version(a, school_id)

    # The trust's layer changes every school's version: "trust:<id>" forgets them all.
    policies.save_trust_layer(a, trust_id, '[audit]\nkeep_text = "never"\n', [], by=None)
    wait_for(lambda: versions_b.policy_version(school_id, version) != second, timeout=1.0)
    # The trap: a notification for another school leaves this one in memory.
    count = len(loads)
    heard = Heard()
    notify.hub(b).subscribe(notify.POLICY, heard)
    a.notify(notify.POLICY, "s_some_other_school")
    wait_for(lambda: heard.items)
    versions_b.policy_version(school_id, version)
    assert len(loads) == count


def test_a_lost_listener_drops_the_cache_and_keeps_nothing_until_back(
    pg_pair: tuple[Database, Database],
) -> None:
    a, b = pg_pair
    _, school_id = _school(a)
    hub_b = notify.hub(b)
    versions_b = cache.for_database(b)
    loads: list[int] = []

    def version() -> str:
        loads.append(1)
        return policies.policy_version(b, school_id)

    versions_b.policy_version(school_id, version)
    listener = hub_b._listener
    assert listener is not None and listener.backend_pid is not None
    with a.engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": listener.backend_pid})
    wait_for(lambda: listener.reconnects >= 1 or not hub_b.live)
    # While deaf (or just back), nothing remembered from before is trusted.
    before = len(loads)
    versions_b.policy_version(school_id, version)
    assert len(loads) == before + 1
    # A change made while B may have been deaf is seen once B listens again.
    policies.save_school_layer(a, school_id, '[posting]\nsupport_contact = "Mr Adeyemi"\n', by=None)
    assert hub_b.wait_live(10)
    wait_for(
        lambda: (
            versions_b.policy_version(school_id, version) == policies.policy_version(a, school_id)
        )
    )
    assert listener.reconnects == 1


def test_a_lookup_racing_a_change_does_not_keep_what_it_read_before(database_url: str) -> None:
    upgrade(database_url)
    db = open_database(database_url)
    try:
        versions = cache.for_database(db)
        assert versions.hub.wait_live(10)

        def slow_old() -> str:
            # The change commits and is told while this lookup is still reading.
            versions._policy_changed(notify.POLICY, "s_racing")
            return "1.1"

        assert versions.policy_version("s_racing", slow_old) == "1.1"
        assert versions.policy_version("s_racing", lambda: "1.2") == "1.2"  # read again
        # The trap: an undisturbed lookup is kept.
        assert versions.policy_version("s_racing", lambda: "1.3") == "1.2"
    finally:
        notify.hub(db).close()
        db.dispose()


def test_device_lookups_are_kept_until_the_device_is_removed(database_url: str) -> None:
    upgrade(database_url)
    db = open_database(database_url)
    try:
        notify.install(db)
        _, school_id = _school(db)
        code = devices.make_code(db, school_id, created_by="u_test")
        device, credential = devices.enrol(db, code, name="library-pc-3", kind="helper")
        code2 = devices.make_code(db, school_id, created_by="u_test")
        other, other_credential = devices.enrol(db, code2, name="hall-laptop", kind="helper")
        versions = cache.for_database(db)
        assert versions.hub.wait_live(10)

        def lookup(given: str) -> object | None:
            return versions.device(given, lambda: devices.authenticate(db, given))

        assert getattr(lookup(credential), "id", None) == device.id
        assert lookup(credential + "x") is None  # a wrong secret is never found
        assert len(versions.devices) == 1
        lookup(other_credential)
        devices.revoke(db, school_id, device.id)
        assert lookup(credential) is None
        # The trap: the other device is still answered from memory.
        assert len(versions.devices) == 1
        assert getattr(lookup(other_credential), "id", None) == other.id
    finally:
        notify.hub(db).close()
        db.dispose()


def test_calls_are_noted_in_one_batch(database_url: str) -> None:
    upgrade(database_url)
    db = open_database(database_url)
    try:
        _, school_id = _school(db)
        made = [
            devices.enrol(
                db, devices.make_code(db, school_id, created_by="u"), name=n, kind="helper"
            )[0]
            for n in ("art-room-1", "art-room-2")
        ]
        buffer = cache.SeenBuffer(db, flush_seconds=3600)
        buffer.note(made[0].id, helper_version="0.9.1", policy_version="3.1")
        buffer.note(made[0].id)
        assert buffer.flush() == 1
        with db.read() as conn:
            rows = {
                r.id: r
                for r in conn.execute(
                    select(
                        devices_table.c.id,
                        devices_table.c.last_seen,
                        devices_table.c.helper_version,
                        devices_table.c.policy_version,
                    )
                )
            }
        assert rows[made[0].id].helper_version == "0.9.1"
        assert rows[made[0].id].policy_version == "3.1"
        assert rows[made[0].id].last_seen
        assert rows[made[1].id].last_seen is None  # the trap: a device that did not call
    finally:
        db.dispose()


def test_sqlite_processes_on_one_file_drop_their_caches_when_another_changes_it(
    tmp_path: Path,
) -> None:
    """gunicorn's workers on one SQLite file: no LISTEN, but a change by one is never
    answered stale by another (the stamp file beside the database)."""
    url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    upgrade(url)
    a, b = open_database(url), open_database(url)
    try:
        for db in (a, b):
            notify.install(db)
        _, school_id = _school(a)
        versions_b = cache.for_database(b)
        loads: list[int] = []

        def version() -> str:
            loads.append(1)
            return policies.policy_version(b, school_id)

        first = versions_b.policy_version(school_id, version)
        versions_b.policy_version(school_id, version)
        assert len(loads) == 1  # the trap: unchanged, it stays in memory
        policies.save_school_layer(
            a, school_id, '[posting]\nsupport_contact = "Mr Lindqvist"\n', by=None
        )
        assert versions_b.policy_version(school_id, version) != first
        assert versions_b.policy_version(school_id, version) == policies.policy_version(
            a, school_id
        )
    finally:
        a.dispose()
        b.dispose()
