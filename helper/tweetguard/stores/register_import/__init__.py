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
from tweetguard.stores.register_import.reading import HEADER_SEARCH_ROWS, read_table
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
    ones IT named on the command line, where a typo must not pass silently)."""
    columns = dict(mapping or {})
    table = read_table(data, score=lambda cells: header_score(cells, columns), encoding=encoding)
    rows = [(line, cells) for line, cells in table.rows if any(_filled(c) for c in cells)]
    if not rows:
        raise ImportRefused("the file has no rows; export the register with a header row")
    position = _header_position(rows, columns)
    line, cells = rows[position]
    headers = [str(c) for c in cells]
    found = layout(headers, columns)
    absent = missing(found)
    folded = {fold_header(h) for h in headers}
    unknown = [h for h in required_headers if fold_header(h) not in folded]
    if unknown:
        raise ImportRefused(
            f"--map names {', '.join(repr(h) for h in unknown)}, not a column of this file; "
            f"its columns are: {', '.join(h for h in headers if h.strip())}",
            line,
        )
    if absent:
        raise ImportRefused(_missing_message(absent, headers, line), line)
    where = f"header on line {line}" if position else "header on the first line"
    result = ImportResult(
        description=f"{table.description}, {where}",
        columns={use.column: use.header for use in found.uses},
        layout=found.describe(),
        ignored=[h for h in found.unknown if h.strip()],
    )
    read_rows(rows[position + 1 :], found, result)
    if not result.pupils:
        raise ImportRefused(
            "no row named a pupil, so the register would be empty; the current register is kept"
        )
    return result


def _filled(cell: object) -> bool:
    return not isinstance(cell, str) or bool(cell.strip())


def _header_position(rows: list[tuple[int, list[Cell]]], mapping: Mapping[str, str]) -> int:
    """The first of the early rows that reads as a header; else the first row."""
    for position, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if header_score([str(c) for c in cells], mapping):
            return position
    return 0


def _missing_message(absent: list[str], headers: list[str], line: int) -> str:
    shown = ", ".join(f"“{h}”" for h in headers if h.strip()) or "nothing"
    hint = f'--map "HEADER={absent[0]}"'
    return (
        f"no column for {', '.join(absent)} ({'; '.join(FIELDS[c] for c in absent)}). "
        f"Line {line} has {shown}. Name the column that holds it with {hint}, "
        "or once for all imports under [register] columns in policy.toml"
    )
