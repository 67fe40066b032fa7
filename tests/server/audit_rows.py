"""Audit rows for push tests, written by the helper's real audit store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tweetguard.stores.audit import AuditLog


def chain(folder: Path, count: int, start_text: str = "Sports day photos") -> list[dict[str, Any]]:
    """`count` rows as a device would push them (AuditRow.to_json() without source)."""
    folder.mkdir(parents=True, exist_ok=True)
    with AuditLog(folder / "audit.sqlite3", source="shared") as log:
        for number in range(count):
            log.append(
                "check",
                account="alderbrookpri",
                verdict="ok" if number % 3 else "warn",
                rules=["names.full-name"] if number % 3 == 0 else [],
                text=f"{start_text}, part {number}",
                detail={"stage": "compose", "n": number},
            )
        rows = log.rows()
    pushed = []
    for row in rows:
        data = row.to_json()
        data.pop("source")
        pushed.append(data)
    return pushed
