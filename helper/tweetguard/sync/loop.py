"""Sync rounds while the helper runs: one at start, then every poll interval.

The host starts the loop after its first reply is out (transport/native.py's
`load_the_rest`), on a thread of its own, so the teacher's first check never waits
for the network. The interval is the server's `poll_seconds`, each wait moved by
up to ±10% so a school's machines started together by the bell do not all poll
in the same second. A browser may start several hosts (two browsers, profiles):
a round is skipped when another process finished one less than half an interval
ago, and rounds never overlap (rounds.py's lock), so the school's server sees
about one poll per machine per interval.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tweetguard.sync.rounds import RoundResult

log = logging.getLogger("tweetguard.sync")

JITTER = 0.1
# state.SERVER_FILE and state.STATE_FILE, named here so that starting the loop imports
# nothing: the sync modules (TLS, TOML, the audit) load on the sync thread, not on the
# host's main thread between the first reply and the next request.
SERVER_FILE, STATE_FILE = "server.toml", "sync-state.json"


class SyncLoop:
    def __init__(
        self,
        home: Path,
        *,
        interval: float | None = None,
        jitter: float = JITTER,
        rounds: Callable[[Path], RoundResult] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """`interval` replaces the server's poll interval (tests); `rounds` the round."""
        self.home = home
        self.interval = interval
        self.jitter = jitter
        self.rounds = rounds or _round
        self.rng = rng or random.Random()
        self.done = 0  # rounds finished by this loop (tests wait on it)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._own_write = 0.0  # when this loop last wrote the state file (its mtime)
        self.thread = threading.Thread(target=self._run, name="sync", daemon=True)

    def start(self) -> SyncLoop:
        self.thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """No round starts after this; one under way is let finish (it is atomic)."""
        self._stop.set()
        self._wake.set()
        if timeout is not None and self.thread.is_alive():
            self.thread.join(timeout)

    def wake(self) -> None:
        """Runs the next round now rather than at the end of the wait."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._one():
                return
            self._wake.wait(self._wait())
            self._wake.clear()

    def _one(self) -> bool:
        """One round unless another process just did one; False: stop looping."""
        from tweetguard.sync.rounds import Busy, NotEnrolled

        if self._recently_synced_elsewhere():
            return True
        try:
            self.rounds(self.home)
        except NotEnrolled:
            log.info("sync: this machine is no longer enrolled; the loop ends")
            return False
        except Busy as exc:
            log.info("sync: round skipped: %s", exc)
        except Exception:  # the loop outlives any one round's bug; said in the log
            log.exception("sync round failed")
        self._own_write = _mtime(self.home / STATE_FILE)
        self.done += 1
        return True

    def _poll_seconds(self) -> float:
        from tweetguard.sync.state import EnrolmentError, load_enrolment

        if self.interval is not None:
            return self.interval
        try:
            enrolment = load_enrolment(self.home)
        except EnrolmentError:
            enrolment = None
        return float(enrolment.poll_seconds) if enrolment else 180.0

    def _wait(self) -> float:
        spread = self._poll_seconds() * self.jitter
        return max(0.0, self._poll_seconds() + self.rng.uniform(-spread, spread))

    def _recently_synced_elsewhere(self) -> bool:
        written = _mtime(self.home / STATE_FILE)
        if written == 0.0 or written == self._own_write:
            return False
        return time.time() - written < self._poll_seconds() / 2


def start_sync(home: Path) -> SyncLoop | None:
    """The host's loop, when this machine is enrolled (a stat when it is not) and this
    user may write the data folder. A teacher's helper reading a folder that IT keeps
    (a school-wide install) does not sync: IT's `tweetguard sync` service does, and
    the hello reads the state it writes."""
    if not (home / SERVER_FILE).exists():
        return None
    if not os.access(home, os.W_OK | os.X_OK):
        log.info("sync: %s is not writable by this user; the folder's owner syncs it", home)
        return None
    return SyncLoop(home).start()


def _round(home: Path) -> RoundResult:
    from tweetguard.sync.rounds import run_round

    return run_round(home, lock_wait=0)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
