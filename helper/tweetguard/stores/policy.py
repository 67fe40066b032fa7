"""The school's policy file (policy.toml in the data directory).

A policy that cannot be read never means "allow everything": loading raises
PolicyError and the helper holds every post until IT fixes the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VISIBILITIES = ("public", "protected")


class PolicyError(Exception):
    pass


@dataclass(frozen=True)
class ApprovedAccount:
    handle: str
    user_id: str | None
    visibility: str


@dataclass(frozen=True)
class Policy:
    school: str
    accounts: tuple[ApprovedAccount, ...]
    exists: bool  # False until IT writes a policy file

    def summary(self) -> dict[str, Any]:
        return {
            "configured": self.exists,
            "accounts": [{"handle": a.handle, "visibility": a.visibility} for a in self.accounts],
        }


DEFAULT_SCHOOL = "Your school"


def load_policy(path: Path) -> Policy:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Policy(school=DEFAULT_SCHOOL, accounts=(), exists=False)
    except OSError as exc:
        raise PolicyError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PolicyError(f"{path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path} is not valid TOML: {exc}") from None
    return _from_toml(data, path)


def _from_toml(data: dict[str, Any], path: Path) -> Policy:
    school_table = data.get("school", {})
    if not isinstance(school_table, dict):
        raise PolicyError(f"{path}: [school] must be a table")
    school = school_table.get("name", DEFAULT_SCHOOL)
    if not isinstance(school, str) or not school.strip():
        raise PolicyError(f"{path}: school.name must be a non-empty string")
    raw_accounts = data.get("accounts", [])
    if not isinstance(raw_accounts, list):
        raise PolicyError(f"{path}: accounts must be an array of tables ([[accounts]])")
    accounts = []
    for number, item in enumerate(raw_accounts, start=1):
        where = f"{path}: accounts #{number}"
        if not isinstance(item, dict):
            raise PolicyError(f"{where} must be a table")
        handle = item.get("handle")
        if not isinstance(handle, str) or not handle.strip("@ "):
            raise PolicyError(f"{where}: handle must be a non-empty string")
        user_id = item.get("user_id")
        if user_id is not None and not (isinstance(user_id, str) and user_id.isdigit()):
            raise PolicyError(f"{where}: user_id must be a string of digits")
        visibility = item.get("visibility", "public")
        if visibility not in VISIBILITIES:
            raise PolicyError(f"{where}: visibility must be one of {', '.join(VISIBILITIES)}")
        accounts.append(ApprovedAccount(handle.strip("@ "), user_id, visibility))
    return Policy(school=school.strip(), accounts=tuple(accounts), exists=True)
