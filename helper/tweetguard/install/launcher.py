"""The small script a manifest's `path` names: this installation's Python, the data
folder, and exactly the ids that manifest allows.

Browsers start a host with a bare environment (no PATH worth the name, no
virtualenv, no $TWEETGUARD_HOME) and with the launcher's folder as working folder,
so the script names everything by absolute path. Each manifest gets its own
launcher, in its own folder `<data dir>/native-host/<browser>-<scope>/`: a second
install for another browser or another extension id writes a second launcher and
never changes what the first manifest's launcher accepts.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Sequence
from pathlib import PurePath, PureWindowsPath

POSIX_NAME = "tweetguard-host"
WINDOWS_NAME = "tweetguard-host.bat"


def slot(browser: str, scope: str, manifest: PurePath | None = None) -> str:
    """The launcher's folder name. A `--user-data-dir` manifest lives wherever that
    profile is, so its slot carries a short hash of the manifest's path."""
    name = f"{browser}-{scope}"
    if scope == "user-data-dir" and manifest is not None:
        name += "-" + hashlib.sha256(str(manifest).encode()).hexdigest()[:8]
    return name


def launcher_path(home: PurePath, slot_name: str, platform: str) -> PurePath:
    name = WINDOWS_NAME if platform == "windows" else POSIX_NAME
    return home / "native-host" / slot_name / name


def launcher_text(python: str, home: PurePath, allowed: Sequence[str], platform: str) -> str:
    """The launcher's content. `--` ends tweetguard's own options, so what the browser
    appends (Chromium: the origin, and `--parent-window=N` on Windows; Firefox: the
    manifest's path and the add-on id) reaches the host as its arguments."""
    allow = [arg for origin in allowed for arg in ("--allow", origin)]
    if platform == "windows":
        args = " ".join(
            _bat_quote(a) for a in ["-m", "tweetguard", "--home", str(home), "host", *allow, "--"]
        )
        return f"@echo off\r\n{_bat_quote(python)} {args} %*\r\n"
    command = shlex.join([python, "-m", "tweetguard", "--home", str(home), "host", *allow])
    return f'#!/bin/sh\nexec {command} -- "$@"\n'


def _bat_quote(value: str) -> str:
    return f'"{value}"'


def parse_allowed(text: str) -> list[str]:
    """The ids a launcher passes with --allow (doctor compares them with the manifest)."""
    if text.startswith("@echo off"):
        words = [w.strip('"') for w in text.split()]
    else:
        line = next((ln for ln in text.splitlines() if ln.startswith("exec ")), "")
        words = shlex.split(line)
    return [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--allow"]


def python_of(text: str) -> str | None:
    """The interpreter a launcher runs (doctor checks it still exists)."""
    if text.startswith("@echo off"):
        line = text.splitlines()[1] if len(text.splitlines()) > 1 else ""
        return line.split('"')[1] if line.count('"') >= 2 else None
    line = next((ln for ln in text.splitlines() if ln.startswith("exec ")), "")
    words = shlex.split(line)
    return words[1] if len(words) > 1 else None


def is_windows_path(path: PurePath) -> bool:
    return isinstance(path, PureWindowsPath)
