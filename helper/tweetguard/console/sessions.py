"""Who is signed in to the console, kept on the server.

Flask's session is a signed cookie: on its own, a copied cookie would stay good
after "Sign out" until it expired. Each sign-in therefore gets a random id held
here; sign-out, the idle timeout and a restart of the console end it, and both
the pages and the live feed ask this registry, not the cookie alone.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable


class Sessions:
    def __init__(
        self, idle_seconds: float = 30 * 60, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.idle_seconds = idle_seconds
        self.clock = clock
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def start(self) -> str:
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._seen[sid] = self.clock()
        return sid

    def touch(self, sid: object) -> bool:
        """True (and the idle clock restarted) when `sid` is a live sign-in."""
        return self._check(sid, touch=True)

    def alive(self, sid: object) -> bool:
        """True when `sid` is a live sign-in; the idle clock is left alone (the feed
        keeps a page open, which is not the same as someone using it)."""
        return self._check(sid, touch=False)

    def end(self, sid: object) -> None:
        with self._lock:
            if isinstance(sid, str):
                self._seen.pop(sid, None)

    def _check(self, sid: object, *, touch: bool) -> bool:
        if not isinstance(sid, str):
            return False
        now = self.clock()
        with self._lock:
            seen = self._seen.get(sid)
            if seen is None:
                return False
            if now - seen > self.idle_seconds:
                del self._seen[sid]
                return False
            if touch:
                self._seen[sid] = now
            return True
