"""Rows of a register file to pupils: what each row says, and what it could not.

A row the checks cannot name a pupil from is skipped and counted. A row whose
consent or expiry cannot be read still loads, as no consent: dropping it would
hide the child's name from the checks, which is the worse failure. A pupil listed
twice loads once, with the stricter consent of the two rows.
"""

from __future__ import annotations

from datetime import date

from tweetguard.folding import INVISIBLE
from tweetguard.folding import fold as _fold
from tweetguard.stores.consent import Pupil
from tweetguard.stores.register_import import values
from tweetguard.stores.register_import.columns import CONSENTS, Layout
from tweetguard.stores.register_import.model import Cell, ImportRefused, ImportResult, Problem
from tweetguard.stores.register_import.reading import MAX_CELL_CHARS
from tweetguard.stores.register_import.values import Answer, DateProblem


def read_rows(
    rows: list[tuple[int, list[Cell]]],
    found: Layout,
    result: ImportResult,
    seen: dict[tuple[str, ...], int],
    sheet: str | None = None,
) -> None:
    """Adds the rows' pupils to `result`; `seen` (identity -> index) spans the sheets."""
    width = max((use.index for use in found.uses), default=0) + 1
    expiry_uses = found.index("consent_expires")
    month_first = any(
        values.month_first_only(cells[use.index])
        for _, cells in rows
        for use in expiry_uses
        if use.index < len(cells)
    )
    ids: dict[str, Pupil] = {p.pupil_id.lower(): p for p in result.pupils if p.pupil_id}
    for line, cells in rows:
        if not any(_text(c) for c in cells):
            continue
        result.rows += 1
        _check_lengths(line, cells, found)
        pupil = _pupil(line, cells, found, width, month_first, result, sheet)
        if pupil is None:
            continue
        other = ids.get(pupil.pupil_id.lower()) if pupil.pupil_id else None
        if other is not None and _fold(other.first_name + other.last_name) != _fold(
            pupil.first_name + pupil.last_name
        ):
            result.problems.append(
                Problem(
                    line,
                    f"{pupil.first_name} {pupil.last_name} has the id {pupil.pupil_id} of "
                    f"{other.first_name} {other.last_name} (line {other.line}); both kept",
                    "shared id",
                    skipped=False,
                    sheet=sheet,
                )
            )
        elif pupil.pupil_id:
            ids[pupil.pupil_id.lower()] = pupil
        key = _identity(pupil)
        if key in seen:
            index = seen[key]
            first = result.pupils[index]
            result.pupils[index] = _stricter(first, pupil)
            result.problems.append(
                Problem(
                    line,
                    f"{pupil.first_name} {pupil.last_name} is listed again (first on line "
                    f"{first.line}); kept once, with the stricter consent",
                    "duplicate",
                    skipped=False,
                    sheet=sheet,
                )
            )
            continue
        seen[key] = len(result.pupils)
        result.pupils.append(pupil)


def _text(cell: Cell) -> str:
    return cell.strip() if isinstance(cell, str) else cell.isoformat()


def _check_lengths(line: int, cells: list[Cell], found: Layout) -> None:
    for use in found.uses:
        if use.index < len(cells):
            cell = cells[use.index]
            if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
                raise ImportRefused(
                    f"line {line:,}: the “{use.header}” cell is {len(cell):,} characters long, "
                    "far longer than any name; the file is broken (an unmatched quote?). "
                    "Export the register again.",
                    line,
                )


def _pupil(
    line: int,
    cells: list[Cell],
    found: Layout,
    width: int,
    month_first: bool,
    result: ImportResult,
    sheet: str | None,
) -> Pupil | None:
    def cell(column: str) -> str:
        for use in found.index(column):
            if use.index < len(cells):
                return _name(_text(cells[use.index]))
        return ""

    def problem(message: str, reason: str, skipped: bool = False) -> None:
        result.problems.append(Problem(line, message, reason, skipped, sheet))

    first, last = cell("first_name"), cell("last_name")
    if not (first or last) and cell("full_name"):
        first, last = _split_full_name(cell("full_name"))
        if not (first and last):
            problem(
                f"cannot tell the first name from the surname in “{cell('full_name')}”; "
                "export names as “Surname, Forename” or in two columns; row skipped",
                "name not split",
                skipped=True,
            )
            return None
    if not first or not last:
        if not first and not last:
            problem("no name in this row; row skipped", "no name", skipped=True)
        else:
            which = "first name" if not first else "surname"
            problem(f"the {which} is empty; row skipped", f"no {which}", skipped=True)
        return None
    if len(cells) < width:
        problem(
            f"has {len(cells)} cells, fewer than the columns read; the missing ones count as empty",
            "short row",
        )
    consents = {}
    for column in CONSENTS:
        given = True
        uses = found.index(column)
        for use in uses:
            raw = cells[use.index] if use.index < len(cells) else ""
            reply = values.answer(raw)
            if reply is Answer.UNREADABLE:
                problem(
                    f"“{use.header}” is '{raw}', not yes or no; treated as no consent",
                    "consent unreadable",
                )
            yes = reply is (Answer.NO if use.inverted else Answer.YES)
            given = given and yes
        consents[column] = bool(uses) and given
    expires: date | None = None
    for use in found.index("consent_expires"):
        if use.purpose not in (None, "social_media_consent"):
            continue  # "Website consent expires": not the consent the checks use
        raw = cells[use.index] if use.index < len(cells) else ""
        if not _text(raw):
            continue
        try:
            day = values.parse_date(raw, month_first_column=month_first)
        except DateProblem as exc:
            problem(f"“{use.header}” {exc}; treated as expired", "expiry unreadable")
            consents = dict.fromkeys(consents, False)
            continue
        expires = day if expires is None else min(expires, day)  # the stricter date
    preferred = cell("preferred_name")
    preferred_last = cell("preferred_last_name")
    return Pupil(
        first_name=first,
        last_name=last,
        preferred_name=preferred if preferred and preferred != first else None,
        preferred_last_name=preferred_last if preferred_last and preferred_last != last else None,
        middle_names=cell("middle_names") or None,
        class_name=cell("class") or None,
        year_group=cell("year") or None,
        pupil_id=cell("pupil_id") or None,
        social_media=consents["social_media_consent"],
        website=consents["website_consent"],
        press=consents["press_consent"],
        consent_expires=expires,
        line=line,
    )


def _name(text: str) -> str:
    """A cell with the invisible characters removed and spaces made plain."""
    cleaned = INVISIBLE.sub("", text)  # copied in from other systems
    return " ".join(cleaned.split())


def _split_full_name(text: str) -> tuple[str, str]:
    """ "Thornbury, Amelia" or "THORNBURY Amelia" (SIMS style); else not splittable."""
    if "," in text:
        last, _, first = text.partition(",")
        return first.strip(), last.strip()
    words = text.split()
    capitals = [w for w in words if w.isupper() and len(w) > 1]
    if capitals and len(capitals) < len(words) and words[: len(capitals)] == capitals:
        return " ".join(words[len(capitals) :]), " ".join(capitals).title()
    return "", ""


def _identity(pupil: Pupil) -> tuple[str, ...]:
    """One pupil listed twice: the same id and name, or (without ids) the same name,
    class and year. Two pupils who share an id by mistake stay two."""
    if pupil.pupil_id:
        return ("id", pupil.pupil_id.lower(), _fold(pupil.first_name), _fold(pupil.last_name))
    return (
        "name",
        _fold(pupil.first_name),
        _fold(pupil.last_name),
        _fold(pupil.class_name or ""),
        _fold(pupil.year_group or ""),
    )


def _stricter(first: Pupil, second: Pupil) -> Pupil:
    from dataclasses import replace

    expiries = [d for d in (first.consent_expires, second.consent_expires) if d]
    return replace(
        first,
        social_media=first.social_media and second.social_media,
        website=first.website and second.website,
        press=first.press and second.press,
        consent_expires=min(expiries) if expiries else None,
    )
