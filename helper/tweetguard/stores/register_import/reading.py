"""A register file to a table of cells, refusing a file whose structure is broken.

The danger in a CSV is a double quote that never closes: the csv module then
reads every following line, commas and all, into one cell, and thousands of
pupils vanish into one "surname". No name spans lines, so a cell that does,
and holds the separator or is longer than any name, means the file is broken,
and the whole import is refused with the line the quote is on. Excel workbooks
are read with openpyxl; the header row is found, not assumed, because exports
often start with a title.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime

from tweetguard.stores.register_import.decoding import decode, label
from tweetguard.stores.register_import.model import Cell, ImportRefused, Table

# Far larger than any school's register (5,000 pupils is about 500 KB).
MAX_FILE_BYTES = 64 * 1024 * 1024
# Longer than any name, class or date: a cell this long swallowed other rows.
MAX_CELL_CHARS = 200
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
# The header is looked for in the first rows: exports often start with a title.
HEADER_SEARCH_ROWS = 20

Score = Callable[[Sequence[str]], int]


def read_tables(data: bytes, *, score: Score, encoding: str | None = None) -> list[Table]:
    """The file's rows: one table for a CSV, one per sheet for a workbook."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRefused(
            f"the file is {len(data) // (1024 * 1024)} MB, far larger than a register; "
            "is it the right file?"
        )
    if not data.strip():
        raise ImportRefused("the file is empty; export the register with a header row")
    if data.startswith(b"PK\x03\x04"):
        return _read_workbook(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportRefused(
            "this is an old Excel .xls file; save it as Excel Workbook (.xlsx) or CSV UTF-8"
        )
    text, codec = decode(data, encoding)
    separator = _separator(text, score)
    rows = _csv_rows(text, separator)
    return [Table(rows=rows, description=f"{label(codec)} text, {SEPARATORS[separator]}-separated")]


def _separator(text: str, score: Score) -> str:
    """The separator under which some early row reads as the register's header;
    failing that, the one that splits the early lines most evenly."""
    sample = "\n".join(text.splitlines()[: HEADER_SEARCH_ROWS + 5])
    best: tuple[int, int, int] | None = None
    chosen = ","
    for order, separator in enumerate(SEPARATORS):
        try:
            rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=separator))
        except csv.Error:
            continue
        header = max((score(row) for row in rows[:HEADER_SEARCH_ROWS]), default=0)
        widths = Counter(len(row) for row in rows if len(row) > 1)
        even = widths.most_common(1)[0][1] if widths else 0
        rank = (header, even, -order)
        if best is None or rank > best:
            best, chosen = rank, separator
    return chosen


def _csv_rows(text: str, separator: str) -> list[tuple[int, list[Cell]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    rows: list[tuple[int, list[Cell]]] = []
    spanning: list[tuple[int, int, list[str]]] = []
    end = 0
    try:
        for row in reader:
            start, end = end + 1, reader.line_num
            if end > start:
                spanning.append((start, end, row))
            rows.append((start, list(row)))
    except csv.Error as exc:
        line = reader.line_num or 1
        raise ImportRefused(
            f"line {line} is not valid CSV ({exc}); fix that line or export the file again",
            line,
        ) from None
    widths = Counter(len(cells) for _, cells in rows if len(cells) > 1)
    width = widths.most_common(1)[0][0] if widths else 1
    for start, end, row in spanning:
        _check_spanning(row, start, end, separator, width, text)
    if rows and not spanning and _unclosed(text):
        line = rows[-1][0]
        raise ImportRefused(
            f'line {line:,}: a double quote (") opens a cell that is never closed. Fix that '
            "line, or export the register again, then import it again.",
            line,
        )
    return rows


def _check_spanning(
    row: list[str], start: int, end: int, separator: str, width: int, text: str
) -> None:
    """A row over several lines is fine as a quoted note or address with line breaks
    in it. It is a broken file when the cell runs to the end, is longer than any
    name, or holds lines shaped like whole rows: those rows were swallowed."""
    for cell in row:
        if "\n" not in cell and "\r" not in cell:
            continue
        row_shaped = any(
            line.count(separator) >= max(2, width - 1) for line in cell.splitlines()[1:]
        )
        if row_shaped or len(cell) > MAX_CELL_CHARS or _runs_to_end(text, start, end):
            total = text.count("\n") + (0 if text.endswith("\n") else 1)
            ending = (
                "is never closed" if _runs_to_end(text, start, end) else f"runs on to line {end:,}"
            )
            raise ImportRefused(
                f'line {start:,}: a double quote (") opens a cell that {ending}, so '
                f"{end - start + 1:,} lines would be read as one cell and the pupils on them "
                f"lost (the file has {total:,} lines). Likely cause: a stray or unmatched "
                f"double quote on line {start:,}. Fix it, or export the register again, "
                "then import it again.",
                start,
            )


def _runs_to_end(text: str, start: int, end: int) -> bool:
    tail = text.rstrip("\r\n")
    last_line = tail.count("\n") + 1
    return end >= last_line and not tail.endswith('"')


def _unclosed(text: str) -> bool:
    """The last line opens a quote it never closes ("Cat,Lee,\"yes")."""
    line = re.split(r"\r\n|\r|\n", text.rstrip("\r\n"))[-1]
    return line.count('"') % 2 == 1 and bool(re.search(r'(?:^|[,;\t|])\s*"[^"]*$', line))


def _read_workbook(data: bytes) -> list[Table]:
    """Every sheet: schools export a sheet per year group as often as one for all."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise ImportRefused("the file looks like a zip file but cannot be opened") from None
    if "mimetype" in names and b"opendocument" in archive.read("mimetype"):
        raise ImportRefused(
            "this is an OpenDocument spreadsheet (.ods); save it as Excel Workbook (.xlsx) or CSV"
        )
    if "xl/workbook.xml" not in names:
        raise ImportRefused("the file is a zip archive, not an Excel workbook (.xlsx) or CSV")
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ImportRefused(f"the Excel workbook cannot be read ({type(exc).__name__})") from None
    try:
        tables = [
            Table(
                rows=[
                    (number, [_cell(value) for value in values])
                    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
                ],
                description=f"Excel workbook, sheet “{sheet.title}”",
                sheet=sheet.title,
            )
            for sheet in book.worksheets
        ]
    except Exception as exc:
        raise ImportRefused(f"the Excel workbook cannot be read ({type(exc).__name__})") from None
    finally:
        book.close()
    if not tables:
        raise ImportRefused("the Excel workbook has no sheets")
    return tables


def _cell(value: object) -> Cell:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
