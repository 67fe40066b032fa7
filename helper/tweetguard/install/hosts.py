"""Where each browser looks for native messaging host manifests, and writing them.

Chromium-family browsers read `<name>.json` from a NativeMessagingHosts folder
(on Windows, from a registry key that points at the file); Firefox uses its own
folder and an `allowed_extensions` list instead of `allowed_origins`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tweetguard import identity

BROWSERS = ("chrome", "chromium", "edge", "brave", "vivaldi", "firefox")

# Per browser: (Linux user dir under ~/.config, Linux system dir, macOS user dir
# under ~/Library/Application Support, macOS system dir, Windows registry key).
_LOCATIONS: dict[str, tuple[str, str, str, str, str]] = {
    "chrome": (
        "google-chrome",
        "/etc/opt/chrome/native-messaging-hosts",
        "Google/Chrome",
        "/Library/Google/Chrome/NativeMessagingHosts",
        r"Software\Google\Chrome\NativeMessagingHosts",
    ),
    "chromium": (
        "chromium",
        "/etc/chromium/native-messaging-hosts",
        "Chromium",
        "/Library/Application Support/Chromium/NativeMessagingHosts",
        r"Software\Chromium\NativeMessagingHosts",
    ),
    "edge": (
        "microsoft-edge",
        "/etc/opt/edge/native-messaging-hosts",
        "Microsoft Edge",
        "/Library/Microsoft/Edge/NativeMessagingHosts",
        r"Software\Microsoft\Edge\NativeMessagingHosts",
    ),
    "brave": (
        "BraveSoftware/Brave-Browser",
        "/etc/opt/chrome/native-messaging-hosts",
        "BraveSoftware/Brave-Browser",
        "/Library/Google/Chrome/NativeMessagingHosts",
        r"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts",
    ),
    "vivaldi": (
        "vivaldi",
        "/etc/opt/chrome/native-messaging-hosts",
        "Vivaldi",
        "/Library/Google/Chrome/NativeMessagingHosts",
        r"Software\Vivaldi\NativeMessagingHosts",
    ),
    "firefox": (
        "",  # Firefox uses ~/.mozilla, not ~/.config
        "/usr/lib/mozilla/native-messaging-hosts",
        "Mozilla",
        "/Library/Application Support/Mozilla/NativeMessagingHosts",
        r"Software\Mozilla\NativeMessagingHosts",
    ),
}

# Executables that tell us a browser is installed, for the default browser list.
_EXECUTABLES = {
    "chrome": ("google-chrome", "google-chrome-stable"),
    "chromium": ("chromium", "chromium-browser"),
    "edge": ("microsoft-edge", "microsoft-edge-stable"),
    "brave": ("brave-browser", "brave"),
    "vivaldi": ("vivaldi", "vivaldi-stable"),
    "firefox": ("firefox", "firefox-esr"),
}


@dataclass(frozen=True)
class Target:
    browser: str
    manifest: Path
    registry_key: str | None = None  # Windows: the key whose default value names the manifest
    system: bool = False  # Windows: HKLM rather than HKCU


def platform_name() -> str:
    if sys.platform.startswith("win"):
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    return "linux"


def manifest_dir(browser: str, *, system: bool, platform: str | None = None) -> Path:
    platform = platform or platform_name()
    linux_user, linux_system, mac_user, mac_system, _ = _LOCATIONS[browser]
    home = Path.home()
    if platform == "linux":
        if system:
            return Path(linux_system)
        if browser == "firefox":
            return home / ".mozilla" / "native-messaging-hosts"
        config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
        return config / linux_user / "NativeMessagingHosts"
    if platform == "macos":
        if system:
            return Path(mac_system)
        return home / "Library" / "Application Support" / mac_user / "NativeMessagingHosts"
    raise ValueError("on Windows manifests are found through the registry")


def targets(
    browsers: Sequence[str],
    *,
    system: bool,
    user_data_dir: Path | None,
    tweetguard_home: Path,
    platform: str | None = None,
) -> list[Target]:
    platform = platform or platform_name()
    result = []
    for browser in browsers:
        name = f"{identity.HOST_NAME}.json"
        if user_data_dir is not None:
            # A Chromium profile started with --user-data-dir reads its own folder.
            result.append(Target(browser, user_data_dir / "NativeMessagingHosts" / name))
        elif platform == "windows":
            folder = tweetguard_home / "native-hosts" / browser
            key = _LOCATIONS[browser][4] + "\\" + identity.HOST_NAME
            result.append(Target(browser, folder / name, registry_key=key, system=system))
        else:
            result.append(
                Target(browser, manifest_dir(browser, system=system, platform=platform) / name)
            )
    return result


def detect_browsers() -> list[str]:
    """Browsers that look installed: an executable on PATH or a profile folder."""
    found = []
    for browser in BROWSERS:
        if any(shutil.which(exe) for exe in _EXECUTABLES[browser]):
            found.append(browser)
            continue
        if platform_name() != "windows":
            folder = manifest_dir(browser, system=False).parent
            if folder.exists():
                found.append(browser)
    return found


def manifest_json(browser: str, launcher: Path, allowed: Sequence[str]) -> dict[str, object]:
    manifest: dict[str, object] = {
        "name": identity.HOST_NAME,
        "description": identity.HOST_DESCRIPTION,
        "path": str(launcher),
        "type": "stdio",
    }
    if browser == "firefox":
        manifest["allowed_extensions"] = [
            a for a in allowed if not a.startswith("chrome-extension://")
        ]
    else:
        manifest["allowed_origins"] = [a for a in allowed if a.startswith("chrome-extension://")]
    return manifest


def launcher_path(home: Path, platform: str | None = None) -> Path:
    suffix = ".bat" if (platform or platform_name()) == "windows" else ""
    return home / "native-host" / f"tweetguard-host{suffix}"


def write_launcher(home: Path, allowed: Sequence[str], platform: str | None = None) -> Path:
    """A tiny script that runs this installation's Python with this data directory.

    Browsers start hosts with a bare environment, so nothing may depend on PATH,
    a virtualenv being active, or $TWEETGUARD_HOME.
    """
    platform = platform or platform_name()
    path = launcher_path(home, platform)
    path.parent.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    allow_args = [arg for origin in allowed for arg in ("--allow", origin)]
    if platform == "windows":
        args = " ".join(
            f'"{a}"' for a in ["-m", "tweetguard", "--home", str(home), "host", *allow_args]
        )
        path.write_text(f'@echo off\r\n"{python}" {args} %*\r\n', encoding="utf-8")
    else:
        command = shlex.join([python, "-m", "tweetguard", "--home", str(home), "host", *allow_args])
        path.write_text(f'#!/bin/sh\nexec {command} -- "$@"\n', encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def make_per_user_audit_dir(home: Path) -> Path | None:
    """For a school-wide install: `audit.d` in the data folder, writable by everyone
    and sticky like /tmp (1777), so a teacher who cannot write the shared audit
    writes `audit.d/<login>.sqlite3` there, where the console finds it, and no one
    can delete another's file. Not on Windows (its ACLs are set by IT)."""
    if platform_name() == "windows":
        return None
    folder = home / "audit.d"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o1777)
    return folder


def install(targets_: Sequence[Target], launcher: Path, allowed: Sequence[str]) -> list[Path]:
    written = []
    for target in targets_:
        target.manifest.parent.mkdir(parents=True, exist_ok=True)
        data = manifest_json(target.browser, launcher, allowed)
        tmp = target.manifest.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, target.manifest)
        if target.registry_key:
            _set_registry(target.registry_key, target.manifest, system=target.system)
        written.append(target.manifest)
    return written


def uninstall(targets_: Sequence[Target]) -> list[Path]:
    removed = []
    for target in targets_:
        if target.registry_key:
            _delete_registry(target.registry_key, system=target.system)
        try:
            target.manifest.unlink()
            removed.append(target.manifest)
        except FileNotFoundError:
            pass
    return removed


def _set_registry(key: str, manifest: Path, *, system: bool) -> None:  # pragma: no cover
    if sys.platform != "win32":
        raise OSError("the Windows registry exists only on Windows")
    import winreg

    root = winreg.HKEY_LOCAL_MACHINE if system else winreg.HKEY_CURRENT_USER
    with winreg.CreateKey(root, key) as handle:
        winreg.SetValueEx(handle, "", 0, winreg.REG_SZ, str(manifest))


def _delete_registry(key: str, *, system: bool) -> None:  # pragma: no cover
    if sys.platform != "win32":
        raise OSError("the Windows registry exists only on Windows")
    import winreg

    root = winreg.HKEY_LOCAL_MACHINE if system else winreg.HKEY_CURRENT_USER
    with contextlib.suppress(FileNotFoundError):
        winreg.DeleteKey(root, key)
