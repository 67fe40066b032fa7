"""What every device poll asks, answered from memory: the cheap 304.

150,000 devices polling every few minutes is about a thousand requests a second,
nearly all "has my school's policy changed?" with the answer "no". Each such poll
needs the device (from its credential) and its school's policy version; both
change rarely. This process keeps them in memory and forgets an entry when a
change notification for it arrives (`server/notify.py`: from this process at
commit, from the others through LISTEN/NOTIFY), so a poll with a current ETag
costs no database query at all.

Never trusted stale:
- on PostgreSQL, only while this process's listener is connected (`Hub.live`);
  when it is not, every lookup goes to the database and nothing is kept, and
  when it connects again everything held is dropped (notifications were missed);
- a lookup that raced a change cannot store what it read before the change: each
  entry is stored only if no notification touched the cache since the lookup
  began (a generation counter), so the next lookup reads again.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import bindparam, update

from tweetguard.server import notify
from tweetguard.server.db.tables import devices
from tweetguard.stores.audit.model import now

log = logging.getLogger("tweetguard.server.cache")

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MAX_ENTRIES = 500_000  # a trust of 3,000 schools x 50 devices is 150,000 credentials
# A safety net, not the mechanism: `Database.notify` runs just after its change
# commits, so a process killed between the two leaves others unwarned; nothing is
# then kept longer than this (3,000 schools re-read every 5 minutes: 10 queries/s).
MAX_AGE = 300.0


class Cached(Generic[K, V]):
    """One table of remembered answers, forgotten on notification."""

    def __init__(
        self, hub: notify.Hub, *, max_entries: int = MAX_ENTRIES, max_age: float = MAX_AGE
    ) -> None:
        self.hub = hub
        self.max_entries = max_entries
        self.max_age = max_age
        self._lock = threading.Lock()
        self._values: dict[K, tuple[V, float]] = {}
        self._generation = 0
        self.hits = 0
        self.misses = 0

    def get(self, key: K, load: Callable[[], V | None]) -> V | None:
        """The remembered answer for `key`, else `load()` (None answers are not kept)."""
        self.hub.check()
        if self.hub.live:
            with self._lock:
                found = self._values.get(key)
                if found is not None and time.monotonic() - found[1] < self.max_age:
                    self.hits += 1
                    return found[0]
                generation = self._generation
        else:
            generation = -1
        self.misses += 1
        value = load()
        if value is None or generation < 0:
            return value
        with self._lock:
            # A notification since the lookup began may mean `value` is already old.
            if generation == self._generation and self.hub.live:
                if len(self._values) >= self.max_entries:
                    self._values.clear()
                self._values[key] = (value, time.monotonic())
        return value

    def forget(self, key: K) -> None:
        with self._lock:
            self._generation += 1
            self._values.pop(key, None)

    def forget_where(self, matches: Callable[[K, V], bool]) -> None:
        with self._lock:
            self._generation += 1
            for key in [k for k, (v, _at) in self._values.items() if matches(k, v)]:
                del self._values[key]

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._values.clear()

    def __len__(self) -> int:
        return len(self._values)


class VersionCache:
    """The server's caches for one database in this process (`for_database`)."""

    def __init__(self, hub: notify.Hub) -> None:
        self.hub = hub
        self.policy: Cached[str, str] = Cached(hub)  # school id -> policy version
        # school id -> (version, policy.toml text): after a change every device of the
        # school fetches the same text; rendered once per school, not once per device.
        self.effective: Cached[str, tuple[str, str]] = Cached(hub, max_entries=20_000)
        # school id -> (version, the 200's encoded JSON body): what the fast path sends
        # every device of the school after a change (server/fastpoll.py).
        self.bodies: Cached[str, tuple[str, bytes]] = Cached(hub, max_entries=20_000)
        self.register: Cached[str, int] = Cached(hub)  # school id -> register revision
        self.devices: Cached[str, object] = Cached(hub)  # sha256(credential) -> Device
        hub.subscribe(notify.POLICY, self._policy_changed)
        hub.subscribe(notify.REGISTER, self._register_changed)
        hub.subscribe(notify.DEVICE, self._device_changed)
        hub.on_reset(self.clear)

    def policy_version(self, school_id: str, load: Callable[[], str]) -> str:
        found = self.policy.get(school_id, load)
        assert found is not None
        return found

    def effective_policy(
        self, school_id: str, load: Callable[[], tuple[str, str]]
    ) -> tuple[str, str]:
        found = self.effective.get(school_id, load)
        assert found is not None
        return found

    def policy_body(
        self, school_id: str, load: Callable[[], tuple[str, bytes]]
    ) -> tuple[str, bytes]:
        found = self.bodies.get(school_id, load)
        assert found is not None
        return found

    def register_revision(self, school_id: str, load: Callable[[], int]) -> int:
        found = self.register.get(school_id, load)
        assert found is not None
        return found

    def device(self, credential: str, load: Callable[[], object | None]) -> object | None:
        """The device of a credential (only devices found and not revoked are kept)."""
        key = hashlib.sha256(credential.encode()).hexdigest()
        return self.devices.get(key, load)

    def clear(self) -> None:
        self.policy.clear()
        self.effective.clear()
        self.bodies.clear()
        self.register.clear()
        self.devices.clear()

    def _policy_changed(self, channel: str, payload: str) -> None:
        if payload.startswith("trust:") or not payload:
            self.policy.clear()  # the trust's layer: every school of it (rare)
            self.effective.clear()
            self.bodies.clear()
        else:
            self.policy.forget(payload)
            self.effective.forget(payload)
            self.bodies.forget(payload)

    def _register_changed(self, channel: str, payload: str) -> None:
        self.register.forget(payload)

    def _device_changed(self, channel: str, payload: str) -> None:
        self.devices.forget_where(lambda _key, device: getattr(device, "id", None) == payload)


SEEN_FLUSH_SECONDS = 30.0


class SeenBuffer:
    """Which devices called, written to the database in one batch every half minute.

    Every poll notes the device's last call (and its helper and policy versions,
    shown in the console). Written at each poll that is a transaction per request,
    ~830 a second for 150,000 devices polling every 3 minutes; kept here and
    written together it is one batch of UPDATEs per process every 30 s, and
    `last_seen` is at most that late. What a process holds when killed is lost
    (the device's next poll notes it again)."""

    def __init__(self, db: Any, *, flush_seconds: float = SEEN_FLUSH_SECONDS) -> None:
        self.db = db
        self.flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._pending: dict[str, dict[str, str]] = {}
        self._pid = 0
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def note(
        self,
        device_id: str,
        *,
        helper_version: str | None = None,
        policy_version: str | None = None,
    ) -> None:
        values = {"last_seen": now()}
        if helper_version:
            values["helper_version"] = helper_version[:64]
        if policy_version:
            values["policy_version"] = policy_version[:64]
        with self._lock:
            if self._stopped:  # its database is disposed: nobody is left to write this
                return
            self._pending.setdefault(device_id, {}).update(values)
            if self._pid != os.getpid():  # first note in this process (gunicorn forks)
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="tweetguard-seen", daemon=True
                )
                self._thread.start()
                atexit.register(self._at_exit)

    def flush(self, *, last: bool = False, final: bool = False) -> int:
        """Writes what is held; returns how many devices. Safe from any thread.
        `last`: at exit, where a database already gone is not worth a warning;
        `final`: at dispose, where what cannot be written is dropped, said once."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return 0
        groups: dict[tuple[str, ...], list[dict[str, str]]] = {}
        for device_id, values in pending.items():
            groups.setdefault(tuple(sorted(values)), []).append({"b_id": device_id, **values})
        try:
            with self.db.write() as conn:
                for columns, rows in groups.items():
                    statement = (
                        update(devices)
                        .where(devices.c.id == bindparam("b_id"))
                        .values({c: bindparam(c) for c in columns})
                    )
                    conn.execute(statement, rows)
        except Exception as exc:
            if last:
                return 0
            if final:
                log.warning(
                    "could not note %d devices' last call as the server stopped (%s); "
                    "their next poll notes it again",
                    len(pending),
                    " ".join(str(exc).split())[:300],
                )
                return 0
            log.warning(
                "could not note %d devices' last call (%s); trying again in %.0f s",
                len(pending),
                " ".join(str(exc).split())[:300],
                self.flush_seconds,
            )
            with self._lock:
                for device_id, values in pending.items():
                    self._pending[device_id] = {**values, **self._pending.get(device_id, {})}
        return len(pending)

    def stop(self) -> None:
        """Writes what is held, once, and ends the thread: `Database.dispose()` calls
        it before closing the pool, so no thread outlives its database to retry
        against one that is gone. A write that fails here is said once, not retried."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            thread = self._thread if self._pid == os.getpid() else None
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(10)
        atexit.unregister(self._at_exit)
        self.flush(final=True)

    def _at_exit(self) -> None:
        self.flush(last=True)

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            if self._stopped:
                return  # stop() writes the last batch itself, once
            self.flush()


_seen: weakref.WeakKeyDictionary[notify.Hub, SeenBuffer] = weakref.WeakKeyDictionary()


def seen_buffer(db: notify.DatabaseLike) -> SeenBuffer:
    """This process's buffer of device calls for `db`."""
    found_hub = notify.hub(db)
    with _caches_lock:
        found = _seen.get(found_hub)
        if found is None:
            found = _seen[found_hub] = SeenBuffer(db)
        return found


def close(db: notify.DatabaseLike) -> None:
    """Writes and stops `db`'s buffer of device calls (on dispose). The stopped
    buffer stays in place, so a request still in flight notes nothing and starts
    no new thread against a database that is going away."""
    found_hub = notify.hub(db)
    with _caches_lock:
        found = _seen.get(found_hub)
        if found is None:
            found = _seen[found_hub] = SeenBuffer(db)
    found.stop()


_caches: weakref.WeakKeyDictionary[notify.Hub, VersionCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def for_database(db: notify.DatabaseLike) -> VersionCache:
    """This process's cache for `db` (one per hub, made on first use)."""
    found_hub = notify.hub(db)
    with _caches_lock:
        found = _caches.get(found_hub)
        if found is None:
            found = _caches[found_hub] = VersionCache(found_hub)
        return found
