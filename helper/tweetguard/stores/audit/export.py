"""Audit rows out as CSV (for a spreadsheet) or JSON lines (for programs)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

from tweetguard.stores.audit.model import COLUMNS, AuditRow, canonical

EXPORT_COLUMNS = ("source", *COLUMNS)

# A spreadsheet runs a cell that starts with one of these as a formula (CSV
# injection): a teacher's override reason "=HYPERLINK(...)" must stay text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def export(rows: Iterable[AuditRow], fmt: str, out: TextIO) -> int:
    """Writes rows as "csv" (rules joined with spaces, detail as JSON, any cell that
    a spreadsheet would run as a formula prefixed with ') or "jsonl" (exact)."""
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown export format {fmt!r}; use csv or jsonl")
    count = 0
    writer = csv.writer(out) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        data = row.to_json()
        if writer is not None:
            data["rules"] = " ".join(row.rules)
            data["detail"] = canonical(row.detail)
            data["outside"] = "yes" if row.outside else "no"
            writer.writerow(["" if data[c] is None else _cell(data[c]) for c in EXPORT_COLUMNS])
        else:
            out.write(json.dumps(data, ensure_ascii=False, sort_keys=False) + "\n")
        count += 1
    return count
