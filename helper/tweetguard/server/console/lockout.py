"""Sign-in lockout per email address, in the database so every server process
counts the same failures: five wrong passwords in 15 minutes lock that address
for 15 minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, update

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
    cannot pass the limit); False when the address is now locked."""
    stamp = format_time(moment)
    with db.write() as conn:
        row = conn.execute(
            select(sign_in_failures).where(sign_in_failures.c.email == email)
        ).first()
        if row is None or row.first_at < format_time(moment - WINDOW):
            if row is not None:
                conn.execute(delete(sign_in_failures).where(sign_in_failures.c.email == email))
            conn.execute(insert(sign_in_failures).values(email=email, failures=1, first_at=stamp))
            return True
        failures = int(row.failures) + 1
        values: dict[str, object] = {"failures": failures}
        if failures > LIMIT:
            values["locked_until"] = format_time(moment + WINDOW)
        conn.execute(
            update(sign_in_failures).where(sign_in_failures.c.email == email).values(**values)
        )
    return failures <= LIMIT


def succeeded(db: Database, email: str) -> None:
    with db.write() as conn:
        conn.execute(delete(sign_in_failures).where(sign_in_failures.c.email == email))


def now() -> datetime:
    return datetime.now(UTC)
