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

import hashlib
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from tweetguard.server import notify

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
        self.register.clear()
        self.devices.clear()

    def _policy_changed(self, channel: str, payload: str) -> None:
        if payload.startswith("trust:") or not payload:
            self.policy.clear()  # the trust's layer: every school of it (rare)
        else:
            self.policy.forget(payload)

    def _register_changed(self, channel: str, payload: str) -> None:
        self.register.forget(payload)

    def _device_changed(self, channel: str, payload: str) -> None:
        self.devices.forget_where(lambda _key, device: getattr(device, "id", None) == payload)


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
