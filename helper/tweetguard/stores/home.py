"""The one data directory that holds the register, the policy, logs and the launcher.

IT may point every machine at a fixed place (`--home` or $TWEETGUARD_HOME); the
launcher written by `install-host` pins the directory in force at install time so
the browser-started helper reads the same data as the CLI.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "TWEETGUARD_HOME"


def resolve_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser().absolute()
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return Path(from_env).expanduser().absolute()
    from platformdirs import user_data_dir

    return Path(user_data_dir("tweetguard", appauthor=False))


def register_path(home: Path) -> Path:
    return home / "register.sqlite3"


def policy_path(home: Path) -> Path:
    return home / "policy.toml"


def audit_path(home: Path) -> Path:
    """The shared audit; a user who cannot write it writes elsewhere (stores/audit.py)."""
    return home / "audit.sqlite3"


def log_dir(home: Path) -> Path:
    return home / "logs"
