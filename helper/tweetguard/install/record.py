"""What an install wrote, so that uninstalling removes exactly that.

`<data dir>/native-host/installed.json` lists one record per manifest location an
install wrote: the manifest, the launcher it points at, the ids that launcher
allows, the Windows registry key and view naming it, and the folders the install
had to create. `uninstall-host` removes what the records name (and those folders
once empty) and nothing else: a manifest someone else put in the same folder, or
another browser's, stays. `tweetguard doctor` reads the same records to know what
should be there.

Paths in a record are the final paths on the machine (with `--root`, the file and
everything it names are written under the root, but the content names the paths
the installed system will use), so a record written into a package's staging root
is still right once the package is installed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RECORD_VERSION = 1


class RecordError(ValueError):
    """The record file exists but cannot be used; the message says what to do."""


@dataclass
class InstallRecord:
    browser: str
    scope: str  # "user" | "system" | "snap" | "user-data-dir" (see install/browsers.py)
    manifest: Path
    launcher: Path
    # The ids this install asked for (chrome-extension://ID/ origins, or Firefox add-on
    # ids). The launcher and manifest allow exactly these, except where two browsers
    # read one manifest (Brave reads Chrome's system folder): it allows the union of
    # the records that name it.
    allowed: list[str]
    registry_key: str | None = None  # Windows: "HKCU\\Software\\...\\org.tweetguard.helper"
    registry_view: str | None = None  # Windows: "32" | "64"; None where there is one view
    platform: str = "linux"  # "linux" | "macos" | "windows"
    created_dirs: list[Path] = field(default_factory=list)  # made by this install, deepest last

    def to_json(self) -> dict[str, Any]:
        return {
            "browser": self.browser,
            "scope": self.scope,
            "manifest": str(self.manifest),
            "launcher": str(self.launcher),
            "allowed": list(self.allowed),
            "registry_key": self.registry_key,
            "registry_view": self.registry_view,
            "platform": self.platform,
            "created_dirs": [str(p) for p in self.created_dirs],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InstallRecord:
        return cls(
            browser=str(data["browser"]),
            scope=str(data["scope"]),
            manifest=Path(data["manifest"]),
            launcher=Path(data["launcher"]),
            allowed=[str(a) for a in data["allowed"]],
            registry_key=data.get("registry_key"),
            registry_view=data.get("registry_view"),
            platform=str(data.get("platform", "linux")),
            created_dirs=[Path(p) for p in data.get("created_dirs", [])],
        )


def record_path(home: Path) -> Path:
    return home / "native-host" / "installed.json"


def read_records(home: Path) -> list[InstallRecord]:
    """Every record of installs made with this data folder; [] when nothing was installed.

    `home` is the data folder as seen by this process (under `--root`, the rooted one).
    """
    path = record_path(home)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    try:
        data = json.loads(text)
        return [InstallRecord.from_json(item) for item in data["records"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise RecordError(
            f"{path} is damaged ({exc}); run tweetguard install-host again to rewrite it"
        ) from exc


def write_records(home: Path, records: list[InstallRecord]) -> Path | None:
    """Replace the record file atomically; with no records left, remove it."""
    path = record_path(home)
    if not records:
        try:
            path.unlink()
        except FileNotFoundError:
            return None
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"version": RECORD_VERSION, "records": [r.to_json() for r in records]}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
