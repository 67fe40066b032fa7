"""Edits to policy.toml made by commands (`tweetguard accounts ...`).

tomlkit keeps IT's comments and layout; every edit is validated as a whole and
written atomically, so a command can never leave a half-written or invalid policy.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import tomlkit
from tomlkit.items import AoT, Table

from tweetguard.stores.policy import VISIBILITIES, PolicyError, parse_policy

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


def _save(path: Path, document: tomlkit.TOMLDocument) -> None:
    parse_policy(document.unwrap(), str(path))  # never write a policy the helper would refuse
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomlkit.dumps(document), encoding="utf-8")
    os.replace(tmp, path)


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
