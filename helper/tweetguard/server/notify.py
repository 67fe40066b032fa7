"""Change notifications between server processes: PostgreSQL LISTEN/NOTIFY.

Several server processes (gunicorn workers, or servers behind a load balancer)
share one PostgreSQL and nothing else. When one of them changes a school's
policy, register, audit or devices, the others must hear of it: their caches
(`server/cache.py`) drop what is stale and their live feeds fetch the new rows.

- A change calls `notify(conn_or_db, channel, payload)`. Given the SQLAlchemy
  connection of the change's own transaction, PostgreSQL sends the NOTIFY only if
  and when that transaction commits, so no process ever hears of a change it
  cannot read yet, nor of one rolled back. This process's own subscribers are told
  right after the commit too (not a few milliseconds later through the listener),
  so a poll to the same process sees its own change at once.
- Each process keeps ONE extra connection that LISTENs on the channels, read by a
  daemon thread (`Listener`) that hands each notification to the subscribers of
  `Hub`. Request threads never wait on it. If the connection is lost, every
  subscriber is told to forget what it holds (`on_reset`), the hub says it is not
  `live` (caches then answer nothing from memory), and the thread reconnects with
  backoff; once listening again it resets subscribers once more, as anything sent
  meanwhile was missed.
- On SQLite there is no LISTEN. Subscribers in this process are told at commit as
  above; other processes sharing the file (gunicorn's workers) learn only that
  *something* changed: each commit that notified appends a byte to a stamp file
  beside the database, and `check()` (one stat, before every cached answer) drops
  every cache when the stamp moved. The live feed on SQLite sees only its own
  process's pushes, so a SQLite server that wants it runs one worker (docs/server.md).

Channels and payloads (issue 11 contract): `tweetguard_policy` (school id, or
`trust:<id>`), `tweetguard_register` (school id), `tweetguard_audit` (JSON
{school_id, device_id, source, last_seq}), `tweetguard_device` (device id).
Subscribers must be quick and must not raise (they run on the listener thread);
a subscriber that raises is logged and the others still run.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine, make_url

log = logging.getLogger("tweetguard.server.notify")

POLICY = "tweetguard_policy"
REGISTER = "tweetguard_register"
AUDIT = "tweetguard_audit"
DEVICE = "tweetguard_device"
CHANNELS = (POLICY, REGISTER, AUDIT, DEVICE)

# PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more; ours are ids.
MAX_PAYLOAD = 7999
BACKOFF_FIRST = 0.1
BACKOFF_MAX = 5.0
WAIT_SECONDS = (
    0.5  # how often the listener thread looks up from the socket to see if it should stop
)

Handler = Callable[[str, str], None]  # (channel, payload)
Reset = Callable[[], None]


class DatabaseLike(Protocol):
    """What notify needs of `server.db.Database` (typed loosely so this module stands alone)."""

    @property
    def engine(self) -> Engine: ...


class Hub:
    """The subscribers of one process for one database, and its listener."""

    def __init__(self, url: str, dialect: str) -> None:
        self.url = url
        self.dialect = dialect
        self._lock = threading.Lock()
        self._handlers: dict[str, list[Handler]] = {c: [] for c in CHANNELS}
        self._resets: list[Reset] = []
        self._listener: Listener | None = None
        self._pid = os.getpid()
        self._stamp = _stamp_path(url) if dialect == "sqlite" else None
        self._stamp_seen = self._stamp_now()

    # --- subscribers --------------------------------------------------------------

    def subscribe(self, channel: str, handler: Handler) -> Callable[[], None]:
        """Calls `handler(channel, payload)` for each notification; returns the unsubscribe."""
        if channel not in self._handlers:
            raise ValueError(
                f"unknown notify channel {channel!r}: use one of {', '.join(CHANNELS)}"
            )
        with self._lock:
            self._handlers[channel] = [*self._handlers[channel], handler]
        self.ensure_listening()

        def unsubscribe() -> None:
            with self._lock:
                self._handlers[channel] = [h for h in self._handlers[channel] if h is not handler]

        return unsubscribe

    def on_reset(self, handler: Reset) -> Callable[[], None]:
        """Calls `handler()` whenever notifications may have been missed (listener lost)."""
        with self._lock:
            self._resets = [*self._resets, handler]
        self.ensure_listening()

        def unsubscribe() -> None:
            with self._lock:
                self._resets = [h for h in self._resets if h is not handler]

        return unsubscribe

    @property
    def live(self) -> bool:
        """True when every change made by any process reaches this one's subscribers."""
        if self.dialect != "postgresql":
            return True
        listener = self._listener
        return listener is not None and self._pid == os.getpid() and listener.listening

    def check(self) -> None:
        """On SQLite, drops every cache when another process committed a change."""
        if self._stamp is None:
            return
        now = self._stamp_now()
        if now != self._stamp_seen:
            self._stamp_seen = now
            self.reset()

    def bump(self) -> None:
        """On SQLite, tells the other processes on this file that something changed.
        Under a lock, so a change of another process just before is still noticed
        here while this process's own change does not empty its own caches."""
        if self._stamp is None:
            return
        try:
            with self._stamp.open("ab") as stamp:
                fcntl.flock(stamp, fcntl.LOCK_EX)
                self.check()
                stamp.write(b".")
                stamp.flush()
                if stamp.tell() > 4096:
                    stamp.truncate(0)  # its size and time still move
                found = os.fstat(stamp.fileno())
                self._stamp_seen = (found.st_ino, found.st_size, found.st_mtime_ns)
        except OSError as exc:
            log.warning(
                "could not mark a change in %s (%s): check its folder's rights",
                self._stamp,
                _one_line(exc),
            )

    def _stamp_now(self) -> tuple[int, int, int] | None:
        if self._stamp is None:
            return None
        try:
            found = self._stamp.stat()
        except FileNotFoundError:
            return (0, 0, 0)
        except OSError:
            return None
        return (found.st_ino, found.st_size, found.st_mtime_ns)

    def publish(self, channel: str, payload: str) -> None:
        """Tells this process's subscribers (the listener's thread, or a committing request)."""
        for handler in self._handlers.get(channel, ()):
            try:
                handler(channel, payload)
            except Exception:
                log.exception("a %s subscriber failed on %r", channel, payload)

    def reset(self) -> None:
        for handler in self._resets:
            try:
                handler()
            except Exception:
                log.exception("a notify reset subscriber failed")

    # --- the listener ---------------------------------------------------------------

    def ensure_listening(self) -> None:
        """Starts this process's listener on PostgreSQL (again after a fork: gunicorn)."""
        if self.dialect != "postgresql":
            return
        with self._lock:
            if self._listener is not None and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._listener = Listener(self)
            self._listener.start()

    def wait_live(self, timeout: float) -> bool:
        """Waits until the listener listens (tests, and a server that wants it before serving)."""
        self.ensure_listening()
        listener = self._listener
        if listener is None:
            return True
        return listener.ready.wait(timeout)

    def close(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None and self._pid == os.getpid():
            listener.stop()


class Listener:
    """The one LISTEN connection of a process, read by a daemon thread."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.listening = False
        self.ready = threading.Event()
        self.reconnects = 0
        self._stop = threading.Event()
        self._conn: Any = None
        self._thread = threading.Thread(target=self._run, name="tweetguard-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(WAIT_SECONDS * 4)

    @property
    def backend_pid(self) -> int | None:
        """The PostgreSQL backend serving this listener (tests end it to cut the line)."""
        conn = self._conn
        return None if conn is None else int(conn.info.backend_pid)

    def _run(self) -> None:
        delay = BACKOFF_FIRST
        while not self._stop.is_set():
            try:
                self._listen()
                delay = BACKOFF_FIRST
            except Exception as exc:
                if self._stop.is_set():
                    break
                log.warning(
                    "lost the database's change notifications (%s); retrying in %.1f s — "
                    "caches answer from the database meanwhile",
                    _one_line(exc),
                    delay,
                )
                self._stop.wait(delay)
                delay = min(delay * 2, BACKOFF_MAX)
            finally:
                self._went_deaf()

    def _went_deaf(self) -> None:
        was = self.listening
        self.listening = False
        self.ready.clear()
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()
        if was:
            self.reconnects += 1
            self.hub.reset()

    def _listen(self) -> None:
        import psycopg  # the [server] extra; only PostgreSQL servers get here

        conn = psycopg.connect(_conninfo(self.hub.url), autocommit=True, connect_timeout=5)
        self._conn = conn
        for channel in CHANNELS:
            conn.execute(f"LISTEN {channel}")
        # Anything held from before this connection may be stale: forget it, then
        # let caches fill again from here on.
        self.hub.reset()
        self.listening = True
        self.ready.set()
        while not self._stop.is_set():
            for note in conn.notifies(timeout=WAIT_SECONDS):
                self.hub.publish(note.channel, note.payload)
                if self._stop.is_set():
                    break
            if conn.closed or conn.broken:
                raise ConnectionError("the listening connection closed")


def _conninfo(url: str) -> str:
    """A libpq URL from SQLAlchemy's (postgresql+psycopg://... → postgresql://...)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _stamp_path(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + "-changes")


def _unknown(channel: str) -> str:
    return f"unknown notify channel {channel!r}: use one of {', '.join(CHANNELS)}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# --- one hub per database per process ---------------------------------------------------

_hubs: weakref.WeakKeyDictionary[Engine, Hub] = weakref.WeakKeyDictionary()
_hubs_lock = threading.Lock()


def hub(db: DatabaseLike | Engine) -> Hub:
    """This process's hub for a database (made on first use)."""
    engine = db if isinstance(db, Engine) else db.engine
    with _hubs_lock:
        found = _hubs.get(engine)
        if found is None:
            url = engine.url.render_as_string(hide_password=False)
            found = _hubs[engine] = Hub(url, engine.dialect.name)
            _watch_commits(engine, found)
        return found


def notify(conn_or_db: Connection | DatabaseLike | Engine, channel: str, payload: str) -> None:
    """Tells every server process that something changed.

    Given the `Connection` of the change's transaction, the notification goes out
    when (and only if) it commits; given the database, at once in a transaction of
    its own (for a change already committed)."""
    if channel not in CHANNELS:
        raise ValueError(_unknown(channel))
    if len(payload.encode()) > MAX_PAYLOAD:
        raise ValueError(f"a {channel} payload must stay under 8,000 bytes, not {len(payload)}")
    if isinstance(conn_or_db, Connection):
        hub(conn_or_db.engine)  # its commit watch is in place before this commit
        conn_or_db.info.setdefault(_PENDING, []).append((channel, payload))
        if conn_or_db.dialect.name == "postgresql":
            conn_or_db.execute(text("SELECT pg_notify(:c, :p)"), {"c": channel, "p": payload})
        return
    engine = conn_or_db if isinstance(conn_or_db, Engine) else conn_or_db.engine
    with engine.begin() as conn:
        notify(conn, channel, payload)


_PENDING = "tweetguard_notify_pending"  # in this transaction, not yet committed
_COMMITTED = "tweetguard_notify_committed"  # committed, to tell this process at check-in


def _watch_commits(engine: Engine, found: Hub) -> None:
    """Tells this process's subscribers of committed changes, once truly committed.

    SQLAlchemy's "commit" event fires just BEFORE the COMMIT: telling a cache then
    would let a poll re-read the old row and keep it. So the notifications are
    set aside at "commit" and handed over when the connection goes back to the
    pool (after the COMMIT, at the end of the `with engine.begin()` block or
    request); a rollback drops them, as PostgreSQL drops its NOTIFY."""

    def committed(conn: Connection) -> None:
        pending = conn.info.pop(_PENDING, None)
        if pending:
            conn.info.setdefault(_COMMITTED, []).extend(pending)

    def rolled_back(conn: Connection) -> None:
        conn.info.pop(_PENDING, None)

    def checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info.pop(_PENDING, None)  # never committed: the change is not there either
        committed = record.info.pop(_COMMITTED, ())
        if committed:
            found.bump()
        for channel, payload in committed:
            found.publish(channel, payload)

    event.listen(engine, "commit", committed)
    event.listen(engine, "rollback", rolled_back)
    event.listen(engine.pool, "checkin", checked_in)


class Notifiable(DatabaseLike, Protocol):
    def set_notifier(self, notifier: Callable[[str, str], None] | None) -> None: ...


def attach(db: Notifiable) -> Hub:
    """Makes `db.notify(channel, payload)` reach every process; starts no thread
    (`open_database` calls it, so a CLI change is announced as the server's are).

    `db.notify` is called after the change's own transaction committed, so it sends in
    a transaction of its own; code holding the change's connection may instead call
    `notify(conn, ...)` inside it, which also covers a crash between the two."""
    found = hub(db)
    engine = db.engine
    db.set_notifier(lambda channel, payload: notify(engine, channel, payload))
    return found


def install(db: Notifiable) -> Hub:
    """As `attach`, and listens for the other processes' changes (a serving app)."""
    found = attach(db)
    found.ensure_listening()
    return found


def close(db: DatabaseLike | Engine) -> None:
    """Stops this process's listener for `db`, if it has one (on dispose)."""
    engine = db if isinstance(db, Engine) else db.engine
    with _hubs_lock:
        found = _hubs.get(engine)
    if found is not None:
        found.close()
