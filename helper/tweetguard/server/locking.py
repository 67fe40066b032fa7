"""The row lock that serialises a read-then-write of one counter row.

A policy layer's version and a register's revision are read, a new one is made
from them and written back: two of these at once on PostgreSQL (READ COMMITTED)
would both read N and both write N+1 with different contents, and a device
holding the first N+1 would be told "unchanged" for ever. `lock` makes sure the
row exists (INSERT ... ON CONFLICT DO NOTHING, so two first writers cannot
collide) and then takes it FOR UPDATE, so the second writer waits and reads the
first one's result. On SQLite a write transaction already holds the database's
write lock from its BEGIN IMMEDIATE; FOR UPDATE is left out there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Column, Connection, Row, Table, select
from sqlalchemy.dialects import postgresql, sqlite


def lock(
    conn: Connection, table: Table, key: Column[Any], value: str, defaults: Mapping[str, Any]
) -> Row[Any]:
    """The row of `table` whose `key` is `value`, locked until the transaction ends;
    made from `defaults` first when missing."""
    values = {key.name: value, **defaults}
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(table).values(**values).on_conflict_do_nothing())
    else:
        conn.execute(sqlite.insert(table).values(**values).on_conflict_do_nothing())
    query = select(table).where(key == value)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).one()
