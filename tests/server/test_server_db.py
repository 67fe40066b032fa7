"""The schema: migrations from empty on both backends, and the tables they make
are exactly the ones the code uses."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from tweetguard.server.db import (
    DatabaseError,
    current_revision,
    normalise_url,
    open_database,
    upgrade,
)
from tweetguard.server.db.tables import metadata


def test_upgrade_from_empty_makes_every_table_and_is_idempotent(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)  # a second run changes nothing and does not fail
    db = open_database(database_url)
    try:
        with db.read() as conn:
            names = set(inspect(conn).get_table_names())
            assert set(metadata.tables) <= names
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == [], f"tables.py and the migrations differ: {diff}"
        assert current_revision(db) == "0002"
    finally:
        db.dispose()


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/wal.sqlite3"
    upgrade(url)
    db = open_database(url)
    try:
        with db.read() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        db.dispose()


def test_postgresql_urls_mean_psycopg_3() -> None:
    assert normalise_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_url("postgres://u@h:5/d") == "postgresql+psycopg://u@h:5/d"
    assert normalise_url("sqlite:////srv/tg.sqlite3") == "sqlite:////srv/tg.sqlite3"
    with pytest.raises(DatabaseError, match="use sqlite:///PATH or postgresql://"):
        normalise_url("mysql://u@h/d")


def test_notify_is_quiet_until_a_notifier_is_installed(database_url: str) -> None:
    db = open_database(database_url)
    try:
        db.notify("tweetguard_policy", "s_x")  # nothing installed: no error
        heard: list[tuple[str, str]] = []
        db.set_notifier(lambda channel, payload: heard.append((channel, payload)))
        db.notify("tweetguard_policy", "s_x")
        assert heard == [("tweetguard_policy", "s_x")]
    finally:
        db.dispose()


def test_an_older_schema_is_upgraded_in_place(database_url: str) -> None:
    """A server at 0001 with a user in it upgrades to head and keeps the user."""
    from alembic import command
    from alembic.config import Config

    from tweetguard.server import tenancy
    from tweetguard.server.db import MIGRATIONS

    db = open_database(database_url)
    try:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with db.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0001")
        with db.write() as conn:
            conn.execute(
                text("INSERT INTO trusts (id, name, created_at) VALUES ('t_1', 'Old Trust', 'x');")
            )
            conn.execute(
                text(
                    "INSERT INTO users (id, trust_id, email, name, password_hash, role, disabled,"
                    " created_at) VALUES ('u_1', 't_1', 'a@old.example', 'A', 'h', 'trust_admin',"
                    " false, 'x')"
                )
            )
        upgrade(database_url)
        found = tenancy.get_user(db, "u_1")
        assert found is not None and found.session_epoch == 0
        assert current_revision(db) == "0002"
    finally:
        db.dispose()
