"""The policy page: approved accounts, rule settings, allowlists, the school's
lexicon, and the file itself. Every save goes through stores/policy_edit.py:
the candidate is loaded by the same loader the helper uses (and the rule ids
checked against the checks' registry) before it replaces the file, so a refused
edit leaves policy.toml exactly as it was."""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import tomlkit
from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from tweetguard.checks.engine import all_rules, effective, validate
from tweetguard.console.auth import home, login_required
from tweetguard.console.recording import record
from tweetguard.stores import policy_edit
from tweetguard.stores.home import policy_path
from tweetguard.stores.policy import (
    LEXICON_KINDS,
    SEVERITIES,
    VISIBILITIES,
    Policy,
    PolicyError,
    load_policy,
)

bp = Blueprint("policy", __name__)

F = TypeVar("F", bound=Callable[..., Any])

ALLOWLISTS = (
    ("phones", "Phone numbers", "the school's own numbers, in any format"),
    ("domains", "Domains", "web and email domains that are the school's own"),
    ("places", "Places", "place names and addresses that are fine to name"),
)


@dataclass(frozen=True)
class RuleRow:
    id: str
    family: str
    description: str
    default_severity: str
    default_enabled: bool
    enabled: bool
    severity: str
    setting_enabled: str  # "default", "on", "off"
    setting_severity: str  # "default" or a severity


def path() -> Path:
    return policy_path(home())


def rule_rows(policy: Policy) -> list[RuleRow]:
    rows = []
    for rule in all_rules(policy):
        enabled, severity = effective(rule, policy)
        override = policy.rules.get(rule.id)
        setting_enabled = "default"
        if override is not None and override.enabled is not None:
            setting_enabled = "on" if override.enabled else "off"
        rows.append(
            RuleRow(
                rule.id,
                rule.family,
                rule.description,
                rule.severity.label,
                rule.default_enabled,
                enabled,
                severity.label,
                setting_enabled,
                (override.severity if override and override.severity else "default"),
            )
        )
    return rows


def file_sha256() -> str:
    """The policy file's hash as a page shows it; "" when there is no file yet."""
    try:
        return hashlib.sha256(path().read_bytes()).hexdigest()
    except FileNotFoundError:
        return ""


STALE = (
    "policy.toml changed after this page was loaded (another tab, or `tweetguard accounts "
    "verify` storing ids); nothing was saved: reload the page and make the change again."
)


def _stale() -> bool:
    """Whether the form was made from another version of the file than the one
    there now. Every form carries the hash it was made from: a form built from a
    stale view (the whole allowlist, every rule's setting, the raw text) would
    otherwise quietly undo what changed since."""
    given = request.form.get("policy_sha256", "")
    return not hmac.compare_digest(given.encode("ascii", "replace"), file_sha256().encode("ascii"))


def fresh(view: F) -> F:
    """Refuses a POST made from a stale view of the file (under login_required)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if request.method != "POST" or not _stale():
            return view(*args, **kwargs)
        if request.endpoint == "policy.raw":
            return _raw_page(STALE, 409, mine=request.form.get("text", ""))
        return _page(STALE, 409)

    return cast(F, wrapped)


def _recorded(what: str) -> None:
    """The audit row for a saved change, with the new file's hash: the helper
    records the policy whenever that hash changes, so it knows this edit already
    is in the audit and does not add a second, vaguer row for it."""
    data = path().read_bytes()
    record("policy", what, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def _page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    policy: Policy | None = None
    broken = None
    try:
        policy = load_policy(path())
        validate(policy)
    except PolicyError as exc:
        broken = str(exc)
    context: dict[str, Any] = {
        "policy": policy,
        "broken": broken,
        "error": error,
        "path": path(),
        "rules": rule_rows(policy) if policy else [],
        "allowlists": ALLOWLISTS,
        "visibilities": VISIBILITIES,
        "severities": SEVERITIES,
        "lexicon_kinds": LEXICON_KINDS,
        "sha256": file_sha256(),
    }
    return render_template("policy.html", **context), status


def _raw_page(
    error: str | None = None, status: int = 200, *, text: str | None = None, mine: str | None = None
) -> tuple[str, int]:
    """The file as text. `text` is what the editor holds (the file when None);
    `mine` is an unsaved text shown beside the file so it can be copied."""
    if text is None:
        try:
            text = path().read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
    page = render_template(
        "policy_raw.html",
        text=text,
        mine=mine,
        path=path(),
        error=error,
        sha256=file_sha256(),
    )
    return page, status


def _save(change: Any, what: str) -> Response | tuple[str, int]:
    """Applies `change` to the file, validated; records it; or shows why not."""
    try:
        policy_edit.edit_policy(path(), change, validate)
    except PolicyError as exc:
        return _page(f"Not saved, policy.toml is unchanged: {exc}", 400)
    _recorded(what)
    flash(f"Saved: {what}.")
    return redirect(url_for("policy.index"))


@bp.route("/")
@login_required
def index() -> tuple[str, int]:
    return _page()


@bp.route("/accounts", methods=["POST"])
@login_required
@fresh
def accounts() -> Response | tuple[str, int]:
    action = request.form.get("action", "")
    handle = request.form.get("handle", "")
    visibility = request.form.get("visibility", "public")
    try:
        if action == "remove":
            if not policy_edit.remove_account(path(), handle):
                return _page(f"@{handle} is not an approved account; nothing was removed.", 400)
            what = f"removed the approved account @{policy_edit.normalise_handle(handle)}"
        else:
            user_id = request.form.get("user_id", "").strip() or None
            new = policy_edit.add_account(path(), handle, user_id, visibility)
            name = policy_edit.normalise_handle(handle)
            what = (
                f"approved the account @{name} ({visibility})"
                if new
                else f"set @{name} to {visibility}"
            )
    except PolicyError as exc:
        return _page(f"Not saved, policy.toml is unchanged: {exc}", 400)
    _recorded(what)
    flash(f"Saved: {what}.")
    return redirect(url_for("policy.index"))


@bp.route("/rules", methods=["POST"])
@login_required
@fresh
def rules() -> Response | tuple[str, int]:
    try:
        current = load_policy(path())
    except PolicyError as exc:
        return _page(f"Fix the file first (below): {exc}", 400)
    changes: list[tuple[str, bool | None, str | None]] = []
    said: list[str] = []
    for row in rule_rows(current):
        enabled_choice = request.form.get(f"enabled:{row.id}", row.setting_enabled)
        severity_choice = request.form.get(f"severity:{row.id}", row.setting_severity)
        if (enabled_choice, severity_choice) == (row.setting_enabled, row.setting_severity):
            continue
        if enabled_choice not in ("default", "on", "off") or severity_choice not in (
            "default",
            *SEVERITIES,
        ):
            return _page(f"{row.id}: choose on, off or default, and a severity", 400)
        enabled = None if enabled_choice == "default" else enabled_choice == "on"
        severity = None if severity_choice == "default" else severity_choice
        changes.append((row.id, enabled, severity))
        said.append(f"{row.id} {enabled_choice}/{severity_choice}")
    if not changes:
        flash("No rule setting changed.")
        return redirect(url_for("policy.index"))

    def change(document: tomlkit.TOMLDocument) -> None:
        for rule_id, enabled, severity in changes:
            policy_edit.set_rule(document, rule_id, enabled, severity)

    return _save(change, "rule settings: " + ", ".join(said))


@bp.route("/allow", methods=["POST"])
@login_required
@fresh
def allow() -> Response | tuple[str, int]:
    key = request.form.get("list", "")
    values = [line.strip() for line in request.form.get("values", "").splitlines()]
    values = [v for v in values if v]

    def change(document: tomlkit.TOMLDocument) -> None:
        policy_edit.set_allowlist(document, key, values)

    shown = ", ".join(values) or "nothing"
    return _save(change, f"allowed {key}: {shown}")


@bp.route("/lexicon", methods=["POST"])
@login_required
@fresh
def lexicon() -> Response | tuple[str, int]:
    form = request.form
    original = form.get("original") or None
    if form.get("action") == "remove" and original:

        def remove(document: tomlkit.TOMLDocument) -> None:
            policy_edit.remove_lexicon(document, original)

        return _save(remove, f"removed the lexicon entry {original}")
    entry: dict[str, Any] = {
        "id": form.get("id", "").strip(),
        "match": form.get("match", "exact"),
        "words": _words(form.get("words", "")),
        "severity": form.get("severity", "warn"),
        "message": form.get("message", "").strip(),
    }
    if entry["match"] == "near":
        entry["near"] = _words(form.get("near", ""))
        within = form.get("within", "5").strip() or "5"
        if not within.isdigit():
            return _page(f"Not saved: within must be a whole number, not {within!r}", 400)
        entry["within"] = int(within)

    def change(document: tomlkit.TOMLDocument) -> None:
        policy_edit.set_lexicon(document, entry, original)

    verb = "changed" if original else "added"
    return _save(change, f"{verb} the lexicon entry {entry['id'] or '(no id)'}")


@bp.route("/raw", methods=["GET", "POST"])
@login_required
@fresh
def raw() -> Response | tuple[str, int]:
    if request.method == "POST":
        text = request.form.get("text", "").replace("\r\n", "\n")
        try:
            policy_edit.write_policy_text(path(), text, validate)
        except PolicyError as exc:
            return _raw_page(f"Not saved, policy.toml is unchanged: {exc}", 400, text=text)
        _recorded("edited policy.toml as text")
        flash("Saved: policy.toml, edited as text.")
        return redirect(url_for("policy.raw"))
    return _raw_page()


def _words(raw: str) -> list[str]:
    return [w.strip() for w in raw.replace("\n", ",").split(",") if w.strip()]
