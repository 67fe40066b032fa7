"""Sign-in lockout per email address, in the database so every server process
counts the same failures: five wrong passwords in 15 minutes lock that address
for 15 minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tweetguard.server.db import Database
from tweetguard.server.db.tables import sign_in_failures
from tweetguard.stores.audit.model import format_time

LIMIT = 5
WINDOW = timedelta(minutes=15)


def locked_until(db: Database, email: str, moment: datetime) -> str | None:
    with db.read() as conn:
        row = conn.execute(
            select(sign_in_failures.c.locked_until).where(sign_in_failures.c.email == email)
        ).first()
    if row and row.locked_until and row.locked_until > format_time(moment):
        return str(row.locked_until)
    return None


def count_attempt(db: Database, email: str, moment: datetime) -> bool:
    """Counts an attempt before the password is compared (guesses sent at once
    cannot pass the limit); False when the address is now locked. The count is
    added in the database (INSERT ... ON CONFLICT DO NOTHING, then failures + 1
    RETURNING), so guesses sent at once from several processes are each counted
    and two first attempts cannot collide on the row."""
    stamp = format_time(moment)
    table = sign_in_failures
    fresh = {"email": email, "failures": 0, "first_at": stamp}
    with db.write() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(postgresql.insert(table).values(**fresh).on_conflict_do_nothing())
        else:
            conn.execute(sqlite.insert(table).values(**fresh).on_conflict_do_nothing())
        # A window older than WINDOW starts again (a concurrent reset re-reads the
        # row after waiting for it and finds it already fresh).
        conn.execute(
            update(table)
            .where(table.c.email == email, table.c.first_at < format_time(moment - WINDOW))
            .values(failures=0, first_at=stamp, locked_until=None)
        )
        failures = conn.execute(
            update(table)
            .where(table.c.email == email)
            .values(
                failures=table.c.failures + 1,
                locked_until=case(
                    (table.c.failures + 1 > LIMIT, format_time(moment + WINDOW)),
                    else_=table.c.locked_until,
                ),
            )
            .returning(table.c.failures)
        ).scalar_one()
    return int(failures) <= LIMIT


def succeeded(db: Database, email: str) -> None:
    with db.write() as conn:
        conn.execute(delete(sign_in_failures).where(sign_in_failures.c.email == email))


def now() -> datetime:
    return datetime.now(UTC)
