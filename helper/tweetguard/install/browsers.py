"""Where each browser reads native messaging host manifests, as data.

One table per platform says, for every browser and scope, the folder the browser
reads `org.tweetguard.helper.json` from (Linux, macOS) or the registry key whose
default value names the manifest (Windows). The installer writes from it,
`tweetguard doctor` checks from it, and native-messaging/README.md describes it,
so the three cannot disagree. Sources, checked for this table:

- Chrome/Chromium: developer.chrome.com "Native messaging" (host location); the
  user folder is `<user data dir>/NativeMessagingHosts` (Linux, macOS), the system
  folder is fixed per build (Google-branded builds: /etc/opt/chrome,
  /Library/Google/Chrome; other builds: /etc/chromium, /Library/Application
  Support/Chromium). On Windows Chromium reads HKCU then HKLM, each in the 32-bit
  then the 64-bit registry view, and ignores `--user-data-dir` for hosts.
- Edge: learn.microsoft.com "Native messaging" (Edge extensions).
- Firefox: MDN "Native manifests" and toolkit/components/extensions/
  NativeManifests.sys.mjs (user folder, then the system one; on Windows HKCU then
  HKLM in both views). Firefox never reads a Chromium-style user-data-dir.
- Brave: reads its own user folder; for system-wide hosts it reads Chrome's
  folders on Linux and macOS (reported by host vendors; Brave documents none).
- Vivaldi: its own user folder; system-wide, the Chromium folders its build
  inherits.
- Snap Chromium reads `~/snap/chromium/common/chromium/NativeMessagingHosts`; Snap
  Firefox (Ubuntu 22.04+) reaches hosts through the desktop's WebExtensions portal,
  which reads the ordinary ~/.mozilla and /usr/lib/mozilla folders. A Flatpak
  browser reads manifests inside its sandbox but cannot start a program outside
  it, so no install makes the helper work there.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

from tweetguard import identity

BROWSERS: tuple[str, ...] = ("chrome", "chromium", "edge", "brave", "vivaldi", "firefox")
PLATFORMS: tuple[str, ...] = ("linux", "macos", "windows")
HOST_FILE = f"{identity.HOST_NAME}.json"

# Scopes: "user" (this login), "system" (every login; root/administrator), "snap"
# (a Snap browser's own folder), "flatpak" (read by a Flatpak browser, but a host
# there cannot run: listed so doctor can say so, never installed).
SCOPES: tuple[str, ...] = ("user", "system", "snap", "flatpak")

NAMES = {
    "chrome": "Google Chrome",
    "chromium": "Chromium",
    "edge": "Microsoft Edge",
    "brave": "Brave",
    "vivaldi": "Vivaldi",
    "firefox": "Firefox",
}


@dataclass(frozen=True)
class Location:
    """One place a browser reads the manifest from."""

    browser: str
    platform: str
    scope: str
    folder: PurePath | None  # Linux/macOS: the folder read; None on Windows
    registry_key: str | None = None  # Windows: "HKCU\\Software\\...\\org.tweetguard.helper"
    registry_view: str | None = None  # Windows HKLM: "32" | "64"; None for HKCU
    installable: bool = True  # False: the browser reads it, but a host there cannot run
    note: str = ""  # one line for people, printed when this location is used

    @property
    def manifest(self) -> PurePath | None:
        return None if self.folder is None else self.folder / HOST_FILE


# Linux: (user folder under $XDG_CONFIG_HOME or ~, system folders in reading order)
_LINUX: dict[str, tuple[str, tuple[str, ...]]] = {
    "chrome": (
        "{config}/google-chrome/NativeMessagingHosts",
        ("/etc/opt/chrome/native-messaging-hosts",),
    ),
    "chromium": (
        "{config}/chromium/NativeMessagingHosts",
        ("/etc/chromium/native-messaging-hosts",),
    ),
    "edge": (
        "{config}/microsoft-edge/NativeMessagingHosts",
        ("/etc/opt/edge/native-messaging-hosts",),
    ),
    "brave": (
        "{config}/BraveSoftware/Brave-Browser/NativeMessagingHosts",
        ("/etc/opt/chrome/native-messaging-hosts",),
    ),
    "vivaldi": ("{config}/vivaldi/NativeMessagingHosts", ("/etc/chromium/native-messaging-hosts",)),
    "firefox": (
        "{home}/.mozilla/native-messaging-hosts",
        ("/usr/lib/mozilla/native-messaging-hosts", "/usr/lib64/mozilla/native-messaging-hosts"),
    ),
}

# Snap (Linux): the snap's name and the folder it reads, or None where the snap
# reaches hosts through the WebExtensions portal (which reads the ordinary folders).
_SNAP: dict[str, tuple[str, str | None, str]] = {
    "chromium": (
        "chromium",
        "{home}/snap/chromium/common/chromium/NativeMessagingHosts",
        "Chromium is a Snap: it reads this folder, but its sandbox may refuse to start "
        "the helper; if the popup says the helper cannot start, install Chromium or "
        "Chrome from a .deb",
    ),
    "firefox": (
        "firefox",
        None,
        "Firefox is a Snap: it starts hosts through the desktop's WebExtensions portal "
        "(Ubuntu 22.04+, xdg-desktop-portal); accept the prompt the first time, or run "
        f"'flatpak permission-set webextensions {identity.HOST_NAME} snap.firefox yes'",
    ),
}

SNAP_FIREFOX_NOTE = _SNAP["firefox"][2]

# Flatpak application ids and the folder inside the sandbox's home.
_FLATPAK: dict[str, tuple[str, str]] = {
    "chrome": (
        "com.google.Chrome",
        "{home}/.var/app/com.google.Chrome/config/google-chrome/NativeMessagingHosts",
    ),
    "chromium": (
        "org.chromium.Chromium",
        "{home}/.var/app/org.chromium.Chromium/config/chromium/NativeMessagingHosts",
    ),
    "edge": (
        "com.microsoft.Edge",
        "{home}/.var/app/com.microsoft.Edge/config/microsoft-edge/NativeMessagingHosts",
    ),
    "brave": (
        "com.brave.Browser",
        "{home}/.var/app/com.brave.Browser/config/BraveSoftware/Brave-Browser/NativeMessagingHosts",
    ),
    "vivaldi": (
        "com.vivaldi.Vivaldi",
        "{home}/.var/app/com.vivaldi.Vivaldi/config/vivaldi/NativeMessagingHosts",
    ),
    "firefox": (
        "org.mozilla.firefox",
        "{home}/.var/app/org.mozilla.firefox/.mozilla/native-messaging-hosts",
    ),
}
FLATPAK_NOTE = (
    "{name} is a Flatpak: a Flatpak browser cannot start programs outside its sandbox, "
    "so the helper cannot run for it; install {name} from the distribution's packages "
    "(or the vendor's .deb/.rpm), or use the school server for this machine"
)

# macOS: (user folder under ~/Library/Application Support, system folder)
_MACOS: dict[str, tuple[str, str]] = {
    "chrome": ("Google/Chrome/NativeMessagingHosts", "/Library/Google/Chrome/NativeMessagingHosts"),
    "chromium": (
        "Chromium/NativeMessagingHosts",
        "/Library/Application Support/Chromium/NativeMessagingHosts",
    ),
    "edge": ("Microsoft Edge/NativeMessagingHosts", "/Library/Microsoft/Edge/NativeMessagingHosts"),
    "brave": (
        "BraveSoftware/Brave-Browser/NativeMessagingHosts",
        "/Library/Google/Chrome/NativeMessagingHosts",
    ),
    "vivaldi": (
        "Vivaldi/NativeMessagingHosts",
        "/Library/Application Support/Chromium/NativeMessagingHosts",
    ),
    "firefox": (
        "Mozilla/NativeMessagingHosts",
        "/Library/Application Support/Mozilla/NativeMessagingHosts",
    ),
}

# Windows: the key under HKCU/HKLM (the value is the manifest's path).
REGISTRY_KEYS: dict[str, str] = {
    "chrome": r"Software\Google\Chrome\NativeMessagingHosts",
    "chromium": r"Software\Chromium\NativeMessagingHosts",
    "edge": r"Software\Microsoft\Edge\NativeMessagingHosts",
    "brave": r"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts",
    "vivaldi": r"Software\Vivaldi\NativeMessagingHosts",
    "firefox": r"Software\Mozilla\NativeMessagingHosts",
}

_EXECUTABLES = {
    "chrome": ("google-chrome", "google-chrome-stable"),
    "chromium": ("chromium", "chromium-browser"),
    "edge": ("microsoft-edge", "microsoft-edge-stable"),
    "brave": ("brave-browser", "brave"),
    "vivaldi": ("vivaldi", "vivaldi-stable"),
    "firefox": ("firefox", "firefox-esr"),
}
_MAC_APPS = {
    "chrome": "Google Chrome.app",
    "chromium": "Chromium.app",
    "edge": "Microsoft Edge.app",
    "brave": "Brave Browser.app",
    "vivaldi": "Vivaldi.app",
    "firefox": "Firefox.app",
}


def platform_name() -> str:
    if sys.platform.startswith("win"):
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    return "linux"


def check_browser(browser: str) -> str:
    if browser not in BROWSERS:
        raise ValueError(f"unknown browser {browser!r}; choose from {', '.join(BROWSERS)}")
    return browser


def user_home(platform: str) -> PurePath:
    """This login's home folder as the target platform writes it."""
    if platform == platform_name():
        return Path.home()
    login = _login()
    if platform == "windows":
        return PureWindowsPath("C:/Users") / login
    if platform == "macos":
        return PurePosixPath("/Users") / login
    return PurePosixPath("/home") / login


def _login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "user"


def _config_home(platform: str, home: PurePath) -> PurePath:
    if platform == platform_name() and (xdg := os.environ.get("XDG_CONFIG_HOME")):
        return Path(xdg)
    return home / ".config"


def locations(
    browser: str, *, platform: str | None = None, home: PurePath | None = None
) -> list[Location]:
    """Every place `browser` reads the manifest on `platform`, in the browser's order."""
    check_browser(browser)
    platform = platform or platform_name()
    home = home or user_home(platform)
    if platform == "linux":
        return _linux(browser, home)
    if platform == "macos":
        user, system = _MACOS[browser]
        base = home / "Library" / "Application Support"
        return [
            Location(browser, platform, "user", base / user),
            Location(browser, platform, "system", PurePosixPath(system)),
        ]
    if platform == "windows":
        key = REGISTRY_KEYS[browser] + "\\" + identity.HOST_NAME
        return [
            Location(browser, platform, "user", None, "HKCU\\" + key, None),
            Location(browser, platform, "system", None, "HKLM\\" + key, "32"),
            Location(browser, platform, "system", None, "HKLM\\" + key, "64"),
        ]
    raise ValueError(f"unknown platform {platform!r}; choose from {', '.join(PLATFORMS)}")


def _linux(browser: str, home: PurePath) -> list[Location]:
    user, systems = _LINUX[browser]
    config = _config_home("linux", home)
    folder = PurePosixPath(user.format(config=config, home=home))
    result = [Location(browser, "linux", "user", folder)]
    result += [Location(browser, "linux", "system", PurePosixPath(s)) for s in systems]
    if browser in _SNAP:
        _, snap_folder, note = _SNAP[browser]
        if snap_folder is not None:
            result.append(
                Location(
                    browser,
                    "linux",
                    "snap",
                    PurePosixPath(snap_folder.format(home=home)),
                    note=note,
                )
            )
    _app_id, flatpak_folder = _FLATPAK[browser]
    result.append(
        Location(
            browser,
            "linux",
            "flatpak",
            PurePosixPath(flatpak_folder.format(home=home)),
            installable=False,
            note=FLATPAK_NOTE.format(name=NAMES[browser]),
        )
    )
    return result


def rooted(path: PurePath, root: Path | None) -> Path:
    """Where a final path is written under a `--root` (DESTDIR: C:\\x -> ROOT/C/x)."""
    if root is None:
        return Path(path)
    parts = list(path.parts)
    if isinstance(path, PureWindowsPath):
        drive = path.drive.rstrip(":\\/") or "C"
        return root.joinpath(drive, *parts[1:])
    return root.joinpath(*parts[1:]) if path.is_absolute() else root / path


def manifest_locations(
    browser: str, *, platform: str | None = None, root: Path | None = None
) -> list[tuple[str, Path]]:
    """[(scope, manifest path)]: every place `browser` reads org.tweetguard.helper.json.

    Paths are as this process sees them (under `root` when given). On Windows the
    browser finds the manifest through a registry key; there the paths are the ones
    the keys currently name (HKCU, then HKLM in both views; read with winreg on
    Windows, or from the stand-in registry file a `--root` install writes).
    """
    platform = platform or platform_name()
    if platform == "windows":
        from tweetguard.install import windows

        registry = windows.open_registry(root)
        found = []
        for loc in locations(browser, platform="windows"):
            assert loc.registry_key is not None
            value = registry.get(loc.registry_key, loc.registry_view)
            if value:
                found.append(
                    (loc.scope, rooted(PureWindowsPath(value), root) if root else Path(value))
                )
        return found
    return [
        (loc.scope, rooted(loc.manifest, root))
        for loc in locations(browser, platform=platform)
        if loc.manifest is not None
    ]


def installed_browsers() -> list[str]:
    """Browsers that look installed here: a program on PATH, an app bundle, a Snap or
    a Flatpak, or the browser's own profile folder."""
    found = []
    for browser in BROWSERS:
        if packagings(browser):
            found.append(browser)
    return found


def packagings(browser: str) -> list[str]:
    """How `browser` is installed here: any of "native", "snap", "flatpak" ([] if not)."""
    platform = platform_name()
    kinds: list[str] = []
    programs = [shutil.which(exe) for exe in _EXECUTABLES[browser]]
    # /snap/bin/chromium is the Snap, not a native browser.
    if any(p and not p.startswith("/snap/") for p in programs):
        kinds.append("native")
    if platform == "macos":
        apps = [Path("/Applications"), Path.home() / "Applications"]
        if any((a / _MAC_APPS[browser]).exists() for a in apps) and "native" not in kinds:
            kinds.append("native")
    if platform == "windows":
        from tweetguard.install import windows

        if windows.browser_installed(browser) and "native" not in kinds:
            kinds.append("native")
    if platform == "linux":
        if browser in _SNAP and Path("/snap", _SNAP[browser][0]).exists():
            kinds.append("snap")
        app_id = _FLATPAK[browser][0]
        flatpak_roots = [Path("/var/lib/flatpak/app"), Path.home() / ".local/share/flatpak/app"]
        if any((r / app_id).exists() for r in flatpak_roots):
            kinds.append("flatpak")
        # A profile folder in the ordinary place was made by a packaged browser (Snap
        # and Flatpak keep theirs under ~/snap and ~/.var/app).
        user = locations(browser, platform="linux")[0].folder
        if "native" not in kinds and user is not None and Path(user).parent.is_dir():
            kinds.insert(0, "native")
    return kinds
