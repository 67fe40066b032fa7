"""Alembic's entry point: the connection comes from `upgrade()` (server/db), never
from an alembic.ini, so the package carries everything a migration needs."""

from __future__ import annotations

from alembic import context

from tweetguard.server.db.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through tweetguard.server.db.upgrade(url)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
