"""Reading a school's register export into pupils, without losing one.

Three jobs, one module each: reading.py turns a file (CSV in the encodings and
separators Excel writes, or an .xlsx workbook) into rows and refuses a broken
one; columns.py maps the MIS's header names to the register's; rows.py turns
each row into a Pupil and says what it could not read. diff.py compares the
result with the register in use. ConsentRegister stays the only writer of
register.sqlite3.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from tweetguard.stores.register_import.columns import (
    FIELDS,
    fold_header,
    header_score,
    layout,
    missing,
    parse_mapping,
)
from tweetguard.stores.register_import.diff import Changes, compare
from tweetguard.stores.register_import.model import Cell, ImportRefused, ImportResult, Problem
from tweetguard.stores.register_import.reading import HEADER_SEARCH_ROWS, read_tables
from tweetguard.stores.register_import.rows import read_rows

__all__ = [
    "FIELDS",
    "Changes",
    "ImportRefused",
    "ImportResult",
    "Problem",
    "compare",
    "parse_mapping",
    "read_register",
]


def read_register(
    data: bytes,
    *,
    mapping: Mapping[str, str] | None = None,
    required_headers: Collection[str] = (),
    encoding: str | None = None,
) -> ImportResult:
    """Pupils from an export. `mapping` (file header -> register column) wins over
    the built-in header names; `required_headers` must all be in the file (the
    ones IT named on the command line, where a typo must not pass silently).

    A workbook is read sheet by sheet: every sheet with a register header adds its
    pupils, and a sheet with names but not the columns needed refuses the file,
    because its pupils would otherwise be lost. Sheets with no header are said."""
    columns = dict(mapping or {})
    tables = read_tables(data, score=lambda cells: header_score(cells, columns), encoding=encoding)
    result = ImportResult()
    seen: dict[tuple[str, ...], int] = {}
    read: list[str] = []
    headers_seen: set[str] = set()
    for table in tables:
        rows = [(line, cells) for line, cells in table.rows if any(_filled(c) for c in cells)]
        position = _header_position(rows, columns)
        if table.sheet is not None and (not rows or position is None):
            result.ignored_sheets.append(table.sheet)
            continue
        if not rows:
            raise ImportRefused("the file has no rows; export the register with a header row")
        line, cells = rows[position or 0]
        headers = [str(c) for c in cells]
        headers_seen |= {fold_header(h) for h in headers}
        found = layout(headers, columns)
        absent = missing(found)
        in_sheet = f" (sheet “{table.sheet}”)" if table.sheet else ""
        if absent:
            raise ImportRefused(_missing_message(absent, headers, line) + in_sheet, line)
        where = f"header on line {line}" if position else "header on the first line"
        read.append(f"{table.description}, {where}")
        if not result.layout:
            result.layout = found.describe()
        result.ignored += [h for h in found.unknown if h.strip() and h not in result.ignored]
        read_rows(rows[(position or 0) + 1 :], found, result, seen, table.sheet)
    unknown = [h for h in required_headers if fold_header(h) not in headers_seen]
    if unknown:
        raise ImportRefused(
            f"--map names {', '.join(repr(h) for h in unknown)}, not a column of this file"
        )
    result.description = "; ".join(read)
    if not result.pupils:
        raise ImportRefused(
            "no row named a pupil, so the register would be empty; the current register is kept"
        )
    return result


def _filled(cell: object) -> bool:
    return not isinstance(cell, str) or bool(cell.strip())


def _header_position(rows: list[tuple[int, list[Cell]]], mapping: Mapping[str, str]) -> int | None:
    """The first of the early rows that reads as a header; None when none does."""
    for position, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if header_score([str(c) for c in cells], mapping):
            return position
    return None


def _missing_message(absent: list[str], headers: list[str], line: int) -> str:
    shown = ", ".join(f"“{h}”" for h in headers if h.strip()) or "nothing"
    hint = f'--map "HEADER={absent[0]}"'
    return (
        f"no column for {', '.join(absent)} ({'; '.join(FIELDS[c] for c in absent)}). "
        f"Line {line} has {shown}. Name the column that holds it with {hint}, "
        "or once for all imports under [register] columns in policy.toml"
    )
