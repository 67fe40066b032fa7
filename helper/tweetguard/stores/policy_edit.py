"""Edits to policy.toml made by commands (`tweetguard accounts ...`) and the console.

tomlkit keeps IT's comments and layout; every edit is validated as a whole and
written atomically, so a command can never leave a half-written or invalid policy.
The console passes a `check` as well (the rule ids the checks know), which the
stores cannot import themselves.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Comment, Table, Whitespace

from tweetguard.stores.policy import SEVERITIES, VISIBILITIES, Policy, PolicyError, parse_policy

# Further validation of a candidate policy before it is written (raises PolicyError).
Check = Callable[[Policy], None]

_HANDLE = re.compile(r"^@?([A-Za-z0-9_]{1,15})$")


def normalise_handle(handle: str) -> str:
    match = _HANDLE.match(handle.strip())
    if not match:
        raise PolicyError(f"{handle!r} is not an X handle (letters, digits and _, 1 to 15)")
    return match.group(1)


def _load(path: Path) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        document = tomlkit.document()
        document.add(
            tomlkit.comment("tweetguard policy; `tweetguard policy init` writes a full example.")
        )
        return document
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError) as exc:
        raise PolicyError(f"cannot edit {path}: {exc}") from None


def _save(path: Path, document: tomlkit.TOMLDocument, check: Check | None = None) -> None:
    write_policy_text(path, tomlkit.dumps(document), check)


def write_policy_text(path: Path, text: str, check: Check | None = None) -> Policy:
    """Writes `text` as the policy, only if the helper would load it: the candidate is
    read back with the policy loader (and `check`) first, and replaces the file in
    one rename, so the file is either untouched or the new, valid one."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path} would not be valid TOML: {exc}") from None
    policy = parse_policy(data, str(path))  # never write a policy the helper would refuse
    if check is not None:
        check(policy)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    return policy


def edit_policy(
    path: Path, change: Callable[[tomlkit.TOMLDocument], None], check: Check | None = None
) -> None:
    """Applies `change` to the parsed file (comments kept) and saves it validated."""
    document = _load(path)
    change(document)
    _save(path, document, check)


def _append_after(previous: object, table: Table) -> None:
    """Before `table` goes after `previous`: the comments at the end of `previous`
    (tomlkit keeps the next section's introduction there) move to the end of
    `table`, so IT's "# Face matching ..." stays above [photos], not above the new entry."""
    if not isinstance(previous, Table):
        return
    body = previous.value.body
    trailing: list[Any] = []
    while body and body[-1][0] is None and isinstance(body[-1][1], Comment | Whitespace):
        trailing.insert(0, body.pop()[1])
    previous.add(tomlkit.nl())
    if not trailing:
        return
    for item in trailing:
        table.value.body.append((None, item))


def _super_table(document: tomlkit.TOMLDocument, key: str) -> Table:
    existing = document.get(key)
    if existing is None:
        table = tomlkit.table(is_super_table=True)
        document.add(key, table)
        return table
    if not isinstance(existing, Table):
        raise PolicyError(f"[{key}] in policy.toml must be a table")
    return existing


def set_rule(
    document: tomlkit.TOMLDocument, rule_id: str, enabled: bool | None, severity: str | None
) -> None:
    """[rules."ID"]: None leaves that setting to the rule's default; both None removes it."""
    if severity is not None and severity not in SEVERITIES:
        raise PolicyError(f"severity must be one of {', '.join(SEVERITIES)}")
    rules = _super_table(document, "rules")
    entry = rules.get(rule_id)
    if enabled is None and severity is None:
        if entry is not None:
            del rules[rule_id]
        return
    new = not isinstance(entry, Table)
    if not isinstance(entry, Table):
        entry = tomlkit.table()
    for key, value in (("enabled", enabled), ("severity", severity)):
        if value is None:
            if key in entry:
                del entry[key]
        else:
            entry[key] = value
    if new:
        last = next((v for v in reversed(list(rules.values())) if isinstance(v, Table)), None)
        _append_after(last, entry)
        rules[rule_id] = entry


def set_allowlist(document: tomlkit.TOMLDocument, key: str, values: Sequence[str]) -> None:
    """allow.phones / allow.domains / allow.places, replaced as a whole."""
    if key not in ("phones", "domains", "places"):
        raise PolicyError(f"[allow] has no list {key!r}; it has phones, domains and places")
    allow = document.get("allow")
    if allow is None:
        allow = tomlkit.table()
        document.add("allow", allow)
    array = tomlkit.array()
    array.extend(v.strip() for v in values if v.strip())
    allow[key] = array


def set_lexicon(
    document: tomlkit.TOMLDocument, entry: dict[str, Any], replaces: str | None = None
) -> None:
    """Adds a [[lexicon]] entry, or replaces the one whose id is `replaces`."""
    existing = document.get("lexicon")
    if existing is None:
        existing = tomlkit.aot()
        document.append("lexicon", existing)
    if not isinstance(existing, AoT):
        raise PolicyError("lexicon in policy.toml must be an array of tables ([[lexicon]])")
    table = tomlkit.table()
    for key, value in entry.items():
        if value is not None:
            table[key] = value
    if replaces is not None:
        for number, old in enumerate(existing):
            if old.get("id") == replaces:
                existing[number] = table
                return
        raise PolicyError(f"there is no lexicon entry {replaces!r} to change; reload the page")
    _append_after(existing[-1] if len(existing) else None, table)
    existing.append(table)


def remove_lexicon(document: tomlkit.TOMLDocument, entry_id: str) -> None:
    existing = document.get("lexicon")
    if not isinstance(existing, AoT):
        raise PolicyError(f"there is no lexicon entry {entry_id!r}; reload the page")
    keep = [t for t in existing if t.get("id") != entry_id]
    if len(keep) == len(existing):
        raise PolicyError(f"there is no lexicon entry {entry_id!r}; reload the page")
    if keep:
        fresh = tomlkit.aot()
        for table in keep:
            fresh.append(table)
        document["lexicon"] = fresh
    else:
        del document["lexicon"]


def _accounts(document: tomlkit.TOMLDocument) -> AoT:
    existing = document.get("accounts")
    if existing is None:
        table = tomlkit.aot()
        document.add(tomlkit.nl())
        document.append("accounts", table)
        return table
    if not isinstance(existing, AoT):
        raise PolicyError("accounts in policy.toml must be an array of tables ([[accounts]])")
    return existing


def add_account(path: Path, handle: str, user_id: str | None, visibility: str) -> bool:
    """Adds or updates an approved account. Returns True when it was new."""
    handle = normalise_handle(handle)
    if user_id is not None and not user_id.isdigit():
        raise PolicyError(f"user id {user_id!r} must be digits (X's numeric account id)")
    if visibility not in VISIBILITIES:
        raise PolicyError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    document = _load(path)
    accounts = _accounts(document)
    for entry in accounts:
        if str(entry.get("handle", "")).lstrip("@").lower() == handle.lower():
            entry["handle"] = handle
            if user_id is not None:
                entry["user_id"] = user_id
            entry["visibility"] = visibility
            _save(path, document)
            return False
    entry = tomlkit.table()
    entry["handle"] = handle
    if user_id is not None:
        entry["user_id"] = user_id
    entry["visibility"] = visibility
    _append_after(accounts[-1] if len(accounts) else None, entry)
    accounts.append(entry)
    _save(path, document)
    return True


def remove_account(path: Path, handle: str) -> bool:
    handle = normalise_handle(handle)
    document = _load(path)
    accounts = document.get("accounts")
    if not isinstance(accounts, AoT):
        return False
    keep = [t for t in accounts if str(t.get("handle", "")).lstrip("@").lower() != handle.lower()]
    if len(keep) == len(accounts):
        return False
    if keep:
        fresh = tomlkit.aot()
        for table in keep:
            assert isinstance(table, Table)
            fresh.append(table)
        document["accounts"] = fresh
    else:
        del document["accounts"]
    _save(path, document)
    return True
