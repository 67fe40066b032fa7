"""The Windows registry side of host installation: keys, views, and .reg files.

On Windows a browser finds a host through a registry key whose default value is
the manifest's path: under HKCU for one login, under HKLM for every login. HKLM's
SOFTWARE is split by WOW64 into a 64-bit and a 32-bit view
(SOFTWARE\\WOW6432Node); Chromium and Firefox look in both, and a 32-bit browser
on a 64-bit Windows sees only the 32-bit one through the plain path, so a system
install writes the key in both views. HKCU\\Software is shared by both views.

Three implementations of one small interface:
- `WinRegistry`: the real registry through `winreg` (Windows only);
- `FileRegistry`: a JSON stand-in kept at `<root>/windows-registry.json` when a
  Windows layout is written into a `--root` (packaging, tests, another OS), so that
  install, uninstall and doctor run the same code everywhere;
- `.reg` export (`export_reg`) for IT to import with `regedit /s` or Group Policy
  Preferences, and `parse_reg` to read one back.

The .reg format written is regedit's own: "Windows Registry Editor Version 5.00",
UTF-16LE with a byte-order mark, CRLF line ends (what `regedit /e` writes; an
ANSI REGEDIT4 file would mangle a path with non-ASCII letters, e.g. a user folder
named after its owner).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

REG_HEADER = "Windows Registry Editor Version 5.00"
STAND_IN = "windows-registry.json"
_HIVES = {"HKCU": "HKEY_CURRENT_USER", "HKLM": "HKEY_LOCAL_MACHINE"}


class Registry(Protocol):
    def get(self, key: str, view: str | None) -> str | None: ...
    def set(self, key: str, view: str | None, value: str) -> None: ...
    def delete(self, key: str, view: str | None) -> bool: ...


def split_key(key: str) -> tuple[str, str]:
    """ "HKLM\\Software\\X" -> ("HKLM", "Software\\X")."""
    hive, _, rest = key.partition("\\")
    if hive not in _HIVES or not rest:
        raise ValueError(f"registry key {key!r} must start with HKCU\\ or HKLM\\")
    return hive, rest


def view_path(key: str, view: str | None) -> str:
    """The key's full path as regedit (64-bit) shows it: the 32-bit view of
    HKLM\\SOFTWARE is HKLM\\SOFTWARE\\WOW6432Node."""
    hive, rest = split_key(key)
    if hive == "HKLM" and view == "32":
        first, _, tail = rest.partition("\\")
        rest = f"{first}\\WOW6432Node\\{tail}"
    return f"{_HIVES[hive]}\\{rest}"


class FileRegistry:
    """The keys a `--root` install would set, kept in one JSON file in that root."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {str(k): str(v) for k, v in data.items()}

    def _save(self, data: dict[str, str]) -> None:
        if not data:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    def get(self, key: str, view: str | None) -> str | None:
        return self._load().get(view_path(key, view))

    def set(self, key: str, view: str | None, value: str) -> None:
        data = self._load()
        data[view_path(key, view)] = value
        self._save(data)

    def delete(self, key: str, view: str | None) -> bool:
        data = self._load()
        found = data.pop(view_path(key, view), None) is not None
        self._save(data)
        return found


class EmptyRegistry:
    """Windows keys seen from another OS without a root: there are none."""

    def get(self, key: str, view: str | None) -> str | None:
        return None

    def set(self, key: str, view: str | None, value: str) -> None:
        raise OSError("the Windows registry exists only on Windows; use --root or --export-reg")

    def delete(self, key: str, view: str | None) -> bool:
        return False


class WinRegistry:  # pragma: no cover - exercised on Windows only
    """The real registry. A key's default value ("") holds the manifest's path."""

    def get(self, key: str, view: str | None) -> str | None:
        if sys.platform != "win32":
            raise OSError("the Windows registry exists only on Windows")
        import winreg

        hive, rest = split_key(key)
        root = winreg.HKEY_CURRENT_USER if hive == "HKCU" else winreg.HKEY_LOCAL_MACHINE
        try:
            with winreg.OpenKeyEx(root, rest, 0, winreg.KEY_READ | _wow64(view)) as handle:
                value, _ = winreg.QueryValueEx(handle, "")
                return str(value)
        except OSError:
            return None

    def set(self, key: str, view: str | None, value: str) -> None:
        if sys.platform != "win32":
            raise OSError("the Windows registry exists only on Windows")
        import winreg

        hive, rest = split_key(key)
        root = winreg.HKEY_CURRENT_USER if hive == "HKCU" else winreg.HKEY_LOCAL_MACHINE
        with winreg.CreateKeyEx(root, rest, 0, winreg.KEY_WRITE | _wow64(view)) as handle:
            winreg.SetValueEx(handle, "", 0, winreg.REG_SZ, value)

    def delete(self, key: str, view: str | None) -> bool:
        if sys.platform != "win32":
            raise OSError("the Windows registry exists only on Windows")
        import winreg

        hive, rest = split_key(key)
        root = winreg.HKEY_CURRENT_USER if hive == "HKCU" else winreg.HKEY_LOCAL_MACHINE
        try:
            winreg.DeleteKeyEx(root, rest, _wow64(view), 0)
        except FileNotFoundError:
            return False
        return True


def _wow64(view: str | None) -> int:  # pragma: no cover - Windows only
    """KEY_WOW64_32KEY / KEY_WOW64_64KEY (their values, the same on every Windows)."""
    return {"32": 0x0200, "64": 0x0100}.get(view or "", 0)


def open_registry(root: Path | None) -> Registry:
    """The registry an install into `root` (None: this machine) writes."""
    if root is not None:
        return FileRegistry(root / STAND_IN)
    if sys.platform == "win32":  # pragma: no cover
        return WinRegistry()
    return EmptyRegistry()


def browser_installed(browser: str) -> bool:  # pragma: no cover - Windows only
    """A browser's program under Program Files or the login's AppData."""
    relative = {
        "chrome": r"Google\Chrome\Application\chrome.exe",
        "chromium": r"Chromium\Application\chrome.exe",
        "edge": r"Microsoft\Edge\Application\msedge.exe",
        "brave": r"BraveSoftware\Brave-Browser\Application\brave.exe",
        "vivaldi": r"Vivaldi\Application\vivaldi.exe",
        "firefox": r"Mozilla Firefox\firefox.exe",
    }[browser]
    bases = [os.environ.get(v) for v in ("ProgramFiles", "ProgramFiles(x86)", "LOCALAPPDATA")]
    return any(b and Path(b, relative).exists() for b in bases)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def export_reg(entries: Iterable[tuple[str, str | None, str]]) -> bytes:
    """A .reg file setting each (key, view, manifest path), as regedit writes it."""
    lines = [REG_HEADER, ""]
    for key, view, value in entries:
        lines += [f"[{view_path(key, view)}]", f'@="{_escape(value)}"', ""]
    text = "\r\n".join(lines) + "\r\n"
    return b"\xff\xfe" + text.encode("utf-16-le")


def parse_reg(data: bytes) -> dict[str, dict[str, str]]:
    """{key path: {value name ("@" = default): string}} from a .reg file (5.00 or
    REGEDIT4; string values only, which is all a host registration has)."""
    if data.startswith(b"\xff\xfe"):
        text = data[2:].decode("utf-16-le")
    else:
        text = data.decode("utf-8-sig")
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() not in (REG_HEADER, "REGEDIT4"):
        raise ValueError("not a .reg file: the first line must be the regedit header")
    result: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in lines[1:]:
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = result.setdefault(line[1:-1], {})
            continue
        if current is None:
            raise ValueError(f"value outside a key in .reg file: {line!r}")
        name, sep, value = line.partition("=")
        if not sep or not (value.startswith('"') and value.endswith('"')):
            raise ValueError(f"unsupported .reg value: {line!r}")
        name = "@" if name == "@" else name.strip('"')
        current[name] = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return result
