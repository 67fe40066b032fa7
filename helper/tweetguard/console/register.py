"""The consent register: import an MIS export (preview first, then apply), edit
one person's consent, and see whose consent runs out soon.

The uploaded file is kept only between the preview and the decision, in the
data folder's console/uploads (0700), and deleted when the import is applied or
cancelled; the preview and the import read the same bytes, so what was shown is
what is applied. A preview left open (the tab closed) would leave pupils' data
behind, so uploads older than UPLOAD_HOURS are deleted at start and on each
preview.

Audit rows say what changed in counts and person refs, never names: the audit
is read by more people, for longer, than the register (docs/audit.md)."""

from __future__ import annotations

import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from tweetguard.console.auth import home, login_required
from tweetguard.console.recording import record
from tweetguard.stores.consent import (
    ConsentRegister,
    PersonNotFound,
    Pupil,
    RegisterUnwritable,
    person_ref,
)
from tweetguard.stores.home import policy_path, register_path
from tweetguard.stores.policy import PolicyError, load_policy
from tweetguard.stores.register_import import (
    Changes,
    ImportRefused,
    ImportResult,
    compare,
    read_register,
)

bp = Blueprint("register", __name__)

EXPIRING_DAYS = 30
SEARCH_LIMIT = 50
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_SUFFIXES = (".csv", ".txt", ".xlsx", ".tsv")
UPLOAD_HOURS = 1.0


@dataclass(frozen=True)
class Person:
    ref: str
    role: str
    pupil: Pupil

    @property
    def name(self) -> str:
        p = self.pupil
        shown = f"{p.preferred_name or p.first_name} {p.last_name}"
        return shown if not p.preferred_name else f"{shown} ({p.first_name})"


def _register() -> ConsentRegister:
    return ConsentRegister(register_path(home()))


def _people(register: ConsentRegister) -> list[Person]:
    pupils = [Person(person_ref(p), "pupil", p) for p in register.pupils()]
    staff = [Person(person_ref(p, "staff"), "staff", p) for p in register.staff()]
    return pupils + staff


def expiring(people: list[Person], today: date, days: int = EXPIRING_DAYS) -> list[Person]:
    """Consent that runs out within `days`: the people to ask again now."""
    end = today + timedelta(days=days)
    soon = [
        p
        for p in people
        if p.pupil.consent_expires is not None
        and today <= p.pupil.consent_expires <= end
        and (p.pupil.social_media or p.pupil.website or p.pupil.press)
    ]
    return sorted(soon, key=lambda p: (p.pupil.consent_expires or today, p.name))


def _uploads() -> Path:
    folder = home() / "console" / "uploads"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def remove_stale_uploads(data_folder: Path, hours: float = UPLOAD_HOURS) -> int:
    """Deletes uploads older than `hours`: previews nobody applied or cancelled."""
    folder = data_folder / "console" / "uploads"
    cutoff = time.time() - hours * 3600
    removed = 0
    try:
        entries = list(folder.iterdir())
    except OSError:
        return 0
    for path in entries:
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def _upload_path(token: str) -> Path | None:
    if not _TOKEN.match(token):
        return None
    for path in _uploads().glob(f"{token}.*"):
        return path
    return None


def _discard(token: str | None) -> None:
    if token and (path := _upload_path(token)) is not None:
        path.unlink(missing_ok=True)


def _read(data: bytes) -> ImportResult:
    try:
        mapping = load_policy(policy_path(home())).register_columns
    except PolicyError as exc:
        raise ImportRefused(f"the policy cannot be read, fix it first: {exc}") from None
    return read_register(data, mapping=mapping)


@bp.route("/")
@login_required
def index() -> str:
    register = _register()
    query = request.args.get("q", "").strip()
    try:
        summary = register.summary()
        people = _people(register)
    except sqlite3.Error as exc:
        register.close()
        return render_template(
            "register.html", broken=f"the register {register.path} cannot be read ({exc})"
        )
    register.close()
    today = date.today()
    found: list[Person] = []
    if query:
        words = query.casefold().split()
        found = [p for p in people if all(w in p.name.casefold() for w in words)]
    context: dict[str, Any] = {
        "summary": summary,
        "expiring": expiring(people, today),
        "query": query,
        "found": found[:SEARCH_LIMIT],
        "more": max(0, len(found) - SEARCH_LIMIT),
        "days": EXPIRING_DAYS,
        "broken": None,
    }
    return render_template("register.html", **context)


@bp.route("/preview", methods=["POST"])
@login_required
def preview() -> Response | tuple[str, int]:
    upload = request.files.get("file")
    _discard(session.pop("upload", None))
    remove_stale_uploads(home())
    if upload is None or not upload.filename:
        flash("Choose the register file (CSV or Excel) exported from the school's MIS.")
        return redirect(url_for("register.index"))
    filename = Path(upload.filename).name
    suffix = Path(filename).suffix.lower()
    if suffix not in _SUFFIXES:
        flash(f"{filename} is not a CSV or Excel (.xlsx) file; export the register as one.")
        return redirect(url_for("register.index"))
    data = upload.read()
    try:
        result = _read(data)
    except ImportRefused as exc:
        return render_template("register_refused.html", filename=filename, error=str(exc)), 400
    token = secrets.token_urlsafe(24)
    path = _uploads() / f"{token}{suffix}"
    path.write_bytes(data)
    path.chmod(0o600)
    session["upload"] = token
    session["upload_name"] = filename
    register = _register()
    try:
        changes = compare(list(register.pupils()), result.pupils, date.today())
    except sqlite3.Error as exc:
        changes = Changes()
        flash(f"The register in use cannot be read ({exc}); the import would replace it.")
    finally:
        register.close()
    return (
        render_template(
            "register_preview.html",
            filename=filename,
            result=result,
            changes=changes,
            token=token,
            today=date.today(),
            shrink=changes.before and len(changes.removed) > changes.before / 2,
        ),
        200,
    )


@bp.route("/apply", methods=["POST"])
@login_required
def apply() -> Response:
    token = request.form.get("token", "")
    if token != session.get("upload"):
        flash("That preview is no longer open; upload the file again.")
        return redirect(url_for("register.index"))
    filename = str(session.pop("upload_name", "the upload"))
    session.pop("upload", None)
    path = _upload_path(token)
    if path is None:
        flash("The uploaded file has gone (the console restarted?); upload it again.")
        return redirect(url_for("register.index"))
    try:
        data = path.read_bytes()
    finally:
        path.unlink(missing_ok=True)
    try:
        result = _read(data)
    except ImportRefused as exc:
        flash(f"Import refused, the register is unchanged: {exc}")
        return redirect(url_for("register.index"))
    from tweetguard.checks.name_index import NameIndex

    register = _register()
    try:
        before = list(register.pupils())
        changes = compare(before, result.pupils, date.today())
        register.replace(
            result.pupils,
            source=f"console upload: {filename}",
            derived={NameIndex.STORED_AS: NameIndex(result.pupils).dump()},
        )
    except (RegisterUnwritable, sqlite3.Error) as exc:
        flash(f"Import failed, the register is unchanged: {exc}")
        return redirect(url_for("register.index"))
    finally:
        register.close()
    what = (
        f"imported {filename}: {len(result.pupils)} pupil(s); {len(changes.added)} added, "
        f"{len(changes.removed)} removed, {len(changes.withdrawn)} consent withdrawn, "
        f"{len(changes.given)} consent given; {len(result.problems)} problem row(s)"
    )
    record(
        "register",
        what,
        file=filename,
        people=len(result.pupils),
        added=len(changes.added),
        removed=len(changes.removed),
        withdrawn=len(changes.withdrawn),
        given=len(changes.given),
    )
    flash(f"Done: {what}.")
    return redirect(url_for("register.index"))


@bp.route("/cancel", methods=["POST"])
@login_required
def cancel() -> Response:
    _discard(session.pop("upload", None))
    session.pop("upload_name", None)
    flash("Import cancelled; the register is unchanged and the uploaded file was deleted.")
    return redirect(url_for("register.index"))


@bp.route("/person/<ref>", methods=["GET", "POST"])
@login_required
def person(ref: str) -> Response | tuple[str, int]:
    register = _register()
    try:
        found = register.person(ref)
    finally:
        register.close()
    if found is None:
        flash("That person is no longer in the register (it was imported again); search again.")
        return redirect(url_for("register.index"))
    role, who = found
    shown = Person(ref, role, who)
    if request.method == "POST":
        raw = request.form.get("consent_expires", "").strip()
        expires = None
        if raw:
            try:
                expires = date.fromisoformat(raw)
            except ValueError:
                return (
                    render_template(
                        "register_person.html",
                        person=shown,
                        error=f"{raw!r} is not a date; use the date picker or YYYY-MM-DD.",
                    ),
                    400,
                )
        consent = {k: request.form.get(k) == "yes" for k in ("social_media", "website", "press")}
        register = _register()
        try:
            register.update_person(ref, consent_expires=expires, **consent)
        except PersonNotFound:
            flash("That person is no longer in the register; search again.")
            return redirect(url_for("register.index"))
        except RegisterUnwritable as exc:
            return (
                render_template("register_person.html", person=shown, error=f"Not saved: {exc}"),
                400,
            )
        finally:
            register.close()
        given = [k.replace("_", " ") for k, v in consent.items() if v] or ["none"]
        until = f" until {expires.isoformat()}" if expires else ""
        said = f"consent {', '.join(given)}{until}"
        # The audit gets the person's ref and the flags; the name stays on this page.
        record(
            "register",
            f"edited one {role}'s consent: {said}",
            person=ref,
            role=role,
            consent=consent,
            consent_expires=expires.isoformat() if expires else None,
        )
        flash(f"Saved: {shown.name} ({role}): {said}.")
        return redirect(url_for("register.person", ref=ref))
    return render_template("register_person.html", person=shown, error=None), 200
