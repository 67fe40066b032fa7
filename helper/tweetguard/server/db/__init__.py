"""The server's data layer: one engine per process over SQLite or PostgreSQL.

SQLite is the embedded default for one school (WAL, foreign keys, a busy timeout,
writers taking the lock at BEGIN so two never deadlock upgrading a read lock);
PostgreSQL (psycopg 3) serves a trust from several processes. Both get the same
tables (`tables.py`) and the same Alembic migrations, run by `upgrade(url)` from
the package itself, with no alembic.ini to ship.

`Database.read()` and `Database.write()` are the only ways services touch the
engine, so the SQLite write lock and the PostgreSQL transaction are taken in one
place. `Database.notify(channel, payload)` tells other processes what changed
(server/notify.py): every database `open_database` returns announces its changes,
so a change made by the `tweetguard server` CLI reaches the running servers too.
Only listening starts a thread, and only when something subscribes.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url

from tweetguard.server.db import tables

__all__ = [
    "Database",
    "DatabaseError",
    "new_id",
    "normalise_url",
    "open_database",
    "tables",
    "upgrade",
]

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 30_000
# A few threads per process (gunicorn's threads, the live feed): enough connections
# that none waits on another, few enough that 150 processes stay under PostgreSQL's
# max_connections with pgbouncer or a raised limit (docs/server.md).
POOL_SIZE = 8
POOL_OVERFLOW = 4

Notifier = Callable[[str, str], None]


class DatabaseError(Exception):
    """The database URL is not one the server can use; the message says which forms are."""


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3 here (SQLAlchemy's default
    driver name for them is psycopg2, which is not installed)."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("sqlite:///", "postgresql+psycopg://")):
        return url
    raise DatabaseError(
        f"unsupported database URL {url.split('://')[0]!r}://...; "
        "use sqlite:///PATH or postgresql://USER@HOST/DBNAME"
    )


def new_id(prefix: str) -> str:
    """An opaque id such as d_3f9c0a1be2d47a55: unguessable, so an id alone grants nothing."""
    return f"{prefix}_{secrets.token_hex(8)}"


class Database:
    """One per process; thread-safe (the engine's pool hands each thread its own
    connection)."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self.dialect: str = engine.dialect.name
        self._notifier: Notifier | None = None
        self._lock = threading.Lock()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading; its transaction is rolled back at the end."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that commits at the end (or rolls back on an exception).
        On SQLite it starts with BEGIN IMMEDIATE, so it waits for the write lock
        (busy timeout) up front instead of failing halfway when a reader upgrades."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(tweetguard_write=True)
            with conn.begin():
                yield conn

    def set_notifier(self, notifier: Notifier | None) -> None:
        with self._lock:
            self._notifier = notifier

    def notify(self, channel: str, payload: str) -> None:
        """Tells every server process (LISTEN/NOTIFY on PostgreSQL, in-process on
        SQLite, once server/notify.py installs a notifier) that something changed."""
        notifier = self._notifier
        if notifier is not None:
            notifier(channel, payload)

    def dispose(self) -> None:
        """Writes the devices' last calls still held and stops that thread, stops this
        process's listener if one was started, and closes the pool: nothing of this
        database's keeps running (or retrying) after it."""
        from tweetguard.server import cache, notify

        cache.close(self)
        notify.close(self)
        self.engine.dispose()


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would BEGIN lazily; ours says when.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("tweetguard_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _postgresql_engine(url: str) -> Engine:
    return create_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def open_database(url: str) -> Database:
    """The database at `url` (sqlite:///PATH or postgresql://...); runs no
    migrations (`upgrade` does). A SQLite file's folder is made if missing.
    Its changes are announced (`notify.attach`): nothing may change a school
    without the servers' caches and feeds hearing of it."""
    from tweetguard.server import notify

    url = normalise_url(url)
    if url.startswith("sqlite:///"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        db = Database(url, _sqlite_engine(url))
    else:
        db = Database(url, _postgresql_engine(url))
    notify.attach(db)
    return db


def upgrade(url: str) -> None:
    """Brings the schema to the newest migration (idempotent: a current database is
    left as it is). Alembic is configured here, from the package's own folder."""
    from alembic import command
    from alembic.config import Config

    db = open_database(url)
    try:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with db.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    finally:
        db.dispose()


def current_revision(db: Database) -> str | None:
    """The migration the database is at (None before the first)."""
    from alembic.runtime.migration import MigrationContext

    with db.read() as conn:
        return MigrationContext.configure(conn).get_current_revision()
