"""Installing and removing the helper's host registration: planning what to write,
writing it, recording it, and removing exactly what was recorded.

The pieces each have their own module: where browsers read manifests
(install/browsers.py), the launcher (install/launcher.py), the record of what was
written (install/record.py), the Windows registry (install/windows.py) and id
checks (install/ids.py). This module decides, from the command's options, which
files and keys one install means, refuses combinations that would write something
no browser reads, and keeps the record in step with the disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

from tweetguard import identity
from tweetguard.install import browsers, launcher, windows
from tweetguard.install.browsers import BROWSERS, platform_name, rooted
from tweetguard.install.record import InstallRecord, read_records, record_path, write_records

# What `uninstall-host` without --system removes: this login's registrations.
USER_SCOPES = ("user", "snap", "user-data-dir")

__all__ = [
    "BROWSERS",
    "Options",
    "Refused",
    "Target",
    "default_target_home",
    "install",
    "make_per_user_audit_dir",
    "plan",
    "platform_name",
    "uninstall",
]


class Refused(ValueError):
    """An install that would write what no browser reads; the message says why and
    what to do instead, in one line."""


@dataclass(frozen=True)
class Options:
    browsers: list[str]  # [] means: the browsers installed here
    home: PurePath  # the data folder as the target machine names it
    system: bool = False
    user_data_dir: PurePath | None = None
    root: Path | None = None  # DESTDIR: write under it, name final paths in content
    platform: str = field(default_factory=platform_name)
    python: str = sys.executable
    chrome_ids: list[str] = field(default_factory=lambda: [identity.CHROME_EXTENSION_ID])
    firefox_id: str = identity.FIREFOX_ADDON_ID
    snap: bool | None = None  # None: write the Snap folder when a Snap browser is found


@dataclass(frozen=True)
class Target:
    browser: str
    scope: str
    manifest: PurePath  # final path
    launcher: PurePath  # final path
    allowed: list[str]
    registry_key: str | None = None
    registry_view: str | None = None


@dataclass
class Outcome:
    written: list[str] = field(default_factory=list)  # lines for people
    notes: list[str] = field(default_factory=list)
    launchers: list[PurePath] = field(default_factory=list)  # what the browsers start


def default_target_home(platform: str, system: bool) -> PurePath:
    """The data folder on a machine of another OS (a Windows or macOS layout staged
    from here), where `--home` would name a path of this machine."""
    home = browsers.user_home(platform)
    if platform == "windows":
        if system:
            return PureWindowsPath(r"C:\ProgramData\tweetguard")
        return home / "AppData" / "Local" / "tweetguard"
    if platform == "macos":
        if system:
            return PurePosixPath("/Library/Application Support/tweetguard")
        return home / "Library" / "Application Support" / "tweetguard"
    return PurePosixPath("/var/lib/tweetguard") if system else home / ".local/share/tweetguard"


def system_home() -> Path:
    """This machine's data folder for every user: where `install-host --system` puts
    the data and launchers unless --home or $TWEETGUARD_HOME says otherwise (a
    login's own folder, under sudo /root's, is one other users cannot enter)."""
    platform = platform_name()
    if platform == "windows":
        return Path(os.environ.get("PROGRAMDATA") or r"C:\ProgramData") / "tweetguard"
    return Path(str(default_target_home(platform, True)))


def _allowed(browser: str, opts: Options) -> list[str]:
    if browser == "firefox":
        return [opts.firefox_id]
    return [identity.chrome_origin(i) for i in opts.chrome_ids]


def plan(opts: Options) -> tuple[list[Target], list[str]]:
    """The manifests (and keys) this install means, and the lines to tell people.

    Raises Refused for a combination that writes a file no browser reads."""
    notes: list[str] = []
    if opts.user_data_dir is not None:
        if opts.system:
            raise Refused(
                "--user-data-dir is one profile of one login, --system is every login: use one"
            )
        if opts.platform == "windows":
            raise Refused(
                "on Windows Chromium ignores --user-data-dir for native hosts and reads only "
                "the registry: drop --user-data-dir (the HKCU key covers every profile)"
            )
        if "firefox" in opts.browsers:
            raise Refused(
                "Firefox never reads a Chromium --user-data-dir folder; install for Firefox "
                "without --user-data-dir (it reads ~/.mozilla/native-messaging-hosts for "
                "every profile)"
            )
    chosen = list(opts.browsers)
    detect = opts.root is None and opts.platform == platform_name()
    if not chosen and opts.user_data_dir:
        chosen = ["chromium"]
    elif not chosen:
        # A root (a package's staging folder) or another OS's layout is for other
        # machines: what this one has installed says nothing about them.
        chosen = browsers.installed_browsers() if detect else list(BROWSERS)
    targets: list[Target] = []
    for browser in chosen:
        browsers.check_browser(browser)
        kinds = browsers.packagings(browser) if detect else []
        try:
            locations = _locations_for(browser, opts, kinds, notes)
        except Refused as exc:
            if opts.browsers:
                raise  # named on the command line: say why it cannot be done
            notes.append(str(exc))  # found here: install for the others, say why not this
            continue
        for loc_scope, manifest, key, view in locations:
            targets.append(
                Target(
                    browser=browser,
                    scope=loc_scope,
                    manifest=manifest,
                    launcher=launcher.launcher_path(
                        opts.home, launcher.slot(browser, loc_scope, manifest), opts.platform
                    ),
                    allowed=_allowed(browser, opts),
                    registry_key=key,
                    registry_view=view,
                )
            )
    return targets, notes


def _locations_for(
    browser: str, opts: Options, kinds: list[str], notes: list[str]
) -> list[tuple[str, PurePath, str | None, str | None]]:
    name = browsers.NAMES[browser]
    scope = "system" if opts.system else "user"
    if opts.user_data_dir is not None:
        folder = opts.user_data_dir / "NativeMessagingHosts"
        return [("user-data-dir", folder / browsers.HOST_FILE, None, None)]
    all_locs = browsers.locations(browser, platform=opts.platform)
    if opts.platform == "windows":
        folder = opts.home / "native-host" / launcher.slot(browser, scope)
        manifest = folder / browsers.HOST_FILE
        return [
            (loc.scope, manifest, loc.registry_key, loc.registry_view)
            for loc in all_locs
            if loc.scope == scope
        ]
    if kinds == ["flatpak"]:
        raise Refused(browsers.FLATPAK_NOTE.format(name=name))
    if "flatpak" in kinds:
        notes.append(
            f"{name} is also installed as a Flatpak, which cannot start the helper: "
            f"use the {name} installed from packages"
        )
    chosen = [loc for loc in all_locs if loc.scope == scope]
    if opts.platform == "linux" and scope == "system" and len(chosen) > 1:
        # Firefox reads /usr/lib64/mozilla only when built for it (Fedora, openSUSE).
        lib64 = Path("/usr/lib64")
        use64 = opts.root is None and lib64.is_dir() and not lib64.is_symlink()
        chosen = [c for c in chosen if ("lib64" in str(c.folder)) == use64] or chosen[:1]
    snap = [loc for loc in all_locs if loc.scope == "snap"]
    is_snap = opts.snap if opts.snap is not None else "snap" in kinds
    if opts.snap and not snap and browser != "firefox":
        notes.append(
            f"{name} has no Snap with a folder of its own: --snap changes nothing for it, "
            "its ordinary folder is written"
        )
    result: list[tuple[str, PurePath, str | None, str | None]] = []
    if is_snap and browser == "firefox":
        notes.append(browsers.SNAP_FIREFOX_NOTE)
    if is_snap and snap:
        if opts.system and opts.snap:
            raise Refused(
                f"the {name} Snap reads no system-wide folder: drop --system and run "
                "install-host --snap as each user"
            )
        if opts.system:
            notes.append(
                f"the {name} Snap reads no system-wide folder: run install-host as each "
                f"user, or install {name} from a .deb"
            )
        else:
            notes.append(snap[0].note)
            assert snap[0].manifest is not None
            result.append(("snap", snap[0].manifest, None, None))
            if "native" not in kinds:
                return result
    for loc in chosen:
        assert loc.manifest is not None
        result.append((loc.scope, loc.manifest, None, None))
    return result


def manifest_json(
    browser: str, launcher_final: PurePath, allowed: Sequence[str]
) -> dict[str, object]:
    manifest: dict[str, object] = {
        "name": identity.HOST_NAME,
        "description": identity.HOST_DESCRIPTION,
        "path": str(launcher_final),
        "type": "stdio",
    }
    manifest["allowed_extensions" if browser == "firefox" else "allowed_origins"] = list(allowed)
    return manifest


def _missing_dirs(folder: Path, root: Path | None, final: PurePath) -> list[PurePath]:
    """Final paths of the folders mkdir will create for `folder` (outermost first)."""
    missing: list[PurePath] = []
    here, there = folder, final
    while not here.exists() and here != here.parent:
        missing.append(there)
        here, there = here.parent, there.parent
        if root is not None and here == root:
            break
    return list(reversed(missing))


# Folders every system has: made in an empty `--root` (or a fresh test home), they are
# never the install's to remove again.
_BASE_FOLDERS = {
    "/etc",
    "/etc/opt",
    "/opt",
    "/usr",
    "/usr/lib",
    "/usr/lib64",
    "/usr/local",
    "/var",
    "/var/lib",
    "/tmp",
    "/home",
    "/Users",
    "/Library",
    "/Library/Application Support",
    "C:\\ProgramData",
    "C:\\Program Files",
    "C:\\Users",
}


def _is_base(folder: PurePath, opts: Options) -> bool:
    """A system folder, or the login's home or a folder above it."""
    home = browsers.user_home(opts.platform)
    return str(folder) in _BASE_FOLDERS or folder == home or folder in home.parents


def _write_file(path: Path, text: str, mode: int, newline: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline=newline) as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def install(opts: Options, targets: Sequence[Target]) -> Outcome:
    """Write every target's launcher, manifest and key, and record them.

    Two browsers that read the same folder (Brave reads Chrome's system folder) share
    one manifest; it then allows every id either install asked for."""
    outcome = Outcome()
    home_here = rooted(opts.home, opts.root)
    records = [r for r in read_records(home_here) if r.platform == opts.platform]
    others = [r for r in read_records(home_here) if r.platform != opts.platform]
    registry = windows.open_registry(opts.root) if opts.platform == "windows" else None
    if opts.platform == "windows" and opts.root is None and sys.platform != "win32":
        raise Refused(
            "a Windows layout from another OS has no registry to write: add --root DIR "
            "(and --export-reg FILE for the keys)"
        )
    for target in targets:

        def same(r: InstallRecord, target: Target = target) -> bool:
            return (
                r.browser == target.browser
                and str(r.manifest) == str(target.manifest)
                and r.registry_key == target.registry_key
                and r.registry_view == target.registry_view
            )

        # Installing again replaces the earlier record (its ids), keeping the folders
        # it created so that uninstalling still removes them.
        earlier_dirs = [d for r in records if same(r) for d in r.created_dirs]
        records = [r for r in records if not same(r)]
        sharing = [r for r in records if str(r.manifest) == str(target.manifest)]
        launcher_final = _pure(str(sharing[0].launcher)) if sharing else target.launcher
        allowed = list(target.allowed)
        for r in sharing:
            allowed += [a for a in r.allowed if a not in allowed]
        if other := sorted(
            {browsers.NAMES[r.browser] for r in sharing} - {browsers.NAMES[target.browser]}
        ):
            outcome.notes.append(
                f"{browsers.NAMES[target.browser]} reads the same manifest as "
                f"{', '.join(other)} ({target.manifest}): it allows {', '.join(allowed)}"
            )
        manifest_here = rooted(target.manifest, opts.root)
        launcher_here = rooted(launcher_final, opts.root)
        created: list[PurePath] = [_pure(str(d)) for d in earlier_dirs]
        fresh: list[Path] = []
        for here, final in (
            (launcher_here.parent, launcher_final.parent),
            (manifest_here.parent, target.manifest.parent),
        ):
            missing = _missing_dirs(here, opts.root, final)
            created += [d for d in missing if d not in created and not _is_base(d, opts)]
            fresh += [rooted(d, opts.root) for d in missing]
        windows_style = opts.platform == "windows"
        _write_file(
            launcher_here,
            launcher.launcher_text(opts.python, opts.home, allowed, opts.platform),
            0o755,
            newline="" if windows_style else None,
        )
        body = json.dumps(manifest_json(target.browser, launcher_final, allowed), indent=2)
        _write_file(manifest_here, body + "\n", 0o644)
        if opts.system and not windows_style:
            for folder in fresh:  # every user's browser passes through them, whatever the umask
                folder.chmod(0o755)
        if target.registry_key and registry is not None:
            registry.set(target.registry_key, target.registry_view, str(target.manifest))
        records.append(
            InstallRecord(
                browser=target.browser,
                scope=target.scope,
                manifest=Path(str(target.manifest)),
                launcher=Path(str(launcher_final)),
                allowed=list(target.allowed),
                registry_key=target.registry_key,
                registry_view=target.registry_view,
                platform=opts.platform,
                created_dirs=[Path(str(d)) for d in created],
            )
        )
        where = target.manifest
        if target.registry_key:
            view = f" ({target.registry_view}-bit view)" if target.registry_view else ""
            where = PurePath(f"{target.registry_key}{view} -> {target.manifest}")
        outcome.written.append(f"installed {target.browser} ({target.scope}): {where}")
        if launcher_final not in outcome.launchers:
            outcome.launchers.append(launcher_final)
    if opts.system and opts.platform != "windows" and platform_name() != "windows":
        _per_user_audit_dir(opts, records, outcome)
    write_records(home_here, others + records)
    _retire_shared_launcher(opts, outcome)
    return outcome


def _per_user_audit_dir(opts: Options, records: list[InstallRecord], outcome: Outcome) -> None:
    """A system install's audit.d, recorded by the system installs only when an
    install made it, so uninstalling leaves a root as it found it; one that existed
    before is data, never the installer's (and a full one is never removed)."""
    final = Path(str(opts.home / "audit.d"))
    made = not rooted(opts.home / "audit.d", opts.root).exists()
    make_per_user_audit_dir(rooted(opts.home, opts.root))
    if made:
        outcome.written.append(
            f"created {final} (mode 1777): teachers who cannot write the shared audit "
            "write their own file there, which the console merges"
        )
    if made or any(final in r.created_dirs for r in records):
        for r in records:
            if r.scope == "system" and final not in r.created_dirs:
                r.created_dirs.append(final)


def _retire_shared_launcher(opts: Options, outcome: Outcome) -> None:
    """Versions before the install record shared one launcher,
    `<data dir>/native-host/tweetguard-host`, between every manifest (so one install
    could change what another browser allowed). Once no manifest in any folder a
    browser reads still names it, it goes."""
    if opts.root is not None or opts.platform != platform_name():
        return
    old = Path(str(opts.home)) / "native-host" / launcher.WINDOWS_NAME
    if opts.platform != "windows":
        old = old.with_name(launcher.POSIX_NAME)
    if not old.is_file():
        return
    for browser in BROWSERS:
        for _scope, manifest in browsers.manifest_locations(browser, platform=opts.platform):
            try:
                named = json.loads(manifest.read_text(encoding="utf-8")).get("path")
            except (OSError, ValueError, AttributeError):
                continue
            if named == str(old):
                outcome.notes.append(
                    f"{manifest} still names the launcher of an earlier version, {old}: "
                    f"run install-host --browser {browser} to give it its own"
                )
                return
    old.unlink()
    outcome.written.append(f"removed {old}, the shared launcher of an earlier version")


def uninstall(
    opts: Options, *, browsers_: Sequence[str] = (), scopes: Collection[str] | None = None
) -> Outcome:
    """Remove what the records of this data folder name (narrowed to `browsers_` and
    `scopes`), then the folders those installs created once they are empty."""
    outcome = Outcome()
    home_here = rooted(opts.home, opts.root)
    records = read_records(home_here)
    registry = windows.open_registry(opts.root) if opts.platform == "windows" else None

    def chosen(r: InstallRecord) -> bool:
        if r.platform != opts.platform:
            return False
        if browsers_ and r.browser not in browsers_:
            return False
        if opts.user_data_dir is not None:
            return str(r.manifest.parent.parent) == str(opts.user_data_dir)
        return scopes is None or r.scope in scopes

    going = [r for r in records if chosen(r)]
    staying = [r for r in records if not chosen(r)]
    for r in going:
        if r.registry_key and registry is not None:
            current = registry.get(r.registry_key, r.registry_view)
            if current is not None and current == str(r.manifest):
                registry.delete(r.registry_key, r.registry_view)
                outcome.written.append(
                    f"removed key {windows.view_path(r.registry_key, r.registry_view)}"
                )
            elif current is not None:
                outcome.notes.append(
                    f"left {r.registry_key}: it names {current}, not this install's manifest"
                )
        still = [s for s in staying if str(s.manifest) == str(r.manifest)]
        if still and not r.registry_key:
            _rewrite_shared(opts, still)
            outcome.written.append(
                f"removed {r.browser} ({r.scope}) from {r.manifest}, which "
                f"{', '.join(sorted({browsers.NAMES[s.browser] for s in still}))} still reads"
            )
            continue
        if still:
            continue  # the other registry view's key still names this manifest
        _remove_manifest(r, opts.root, outcome, [s for s in staying if s.registry_key])
        if not [s for s in staying if str(s.launcher) == str(r.launcher)]:
            with contextlib.suppress(FileNotFoundError):
                rooted(_pure(str(r.launcher)), opts.root).unlink()
    if not staying:
        write_records(home_here, [])  # the record file goes first: its folder may be ours
    _remove_dirs(going, staying, opts.root)
    if staying:
        write_records(home_here, staying)  # with any folders handed on to them
    else:
        _remove_native_host_folder(home_here)
    return outcome


def _remove_manifest(
    r: InstallRecord, root: Path | None, outcome: Outcome, keyed: list[InstallRecord]
) -> None:
    if r.registry_key and any(str(k.manifest) == str(r.manifest) for k in keyed):
        return  # the other view's key still names this file
    path = rooted(_pure(str(r.manifest)), root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        data = {}
    if isinstance(data, dict) and data.get("path") == str(r.launcher):
        path.unlink()
        outcome.written.append(f"removed {r.browser} ({r.scope}): {r.manifest}")
    else:
        outcome.notes.append(
            f"left {r.manifest}: it no longer points at this install's launcher "
            "(someone replaced it); remove it by hand if it is not wanted"
        )


def _rewrite_shared(opts: Options, still: list[InstallRecord]) -> None:
    """A manifest two browsers share loses one of them: it keeps the others' ids."""
    allowed: list[str] = []
    for s in still:
        allowed += [a for a in s.allowed if a not in allowed]
    first = still[0]
    launcher_here = rooted(_pure(str(first.launcher)), opts.root)
    try:  # the interpreter the install chose, not the one uninstalling
        python = launcher.python_of(launcher_here.read_text(encoding="utf-8")) or opts.python
    except OSError:
        python = opts.python
    _write_file(
        launcher_here,
        launcher.launcher_text(python, opts.home, allowed, first.platform),
        0o755,
        newline="" if first.platform == "windows" else None,
    )
    body = json.dumps(manifest_json(first.browser, _pure(str(first.launcher)), allowed), indent=2)
    _write_file(rooted(_pure(str(first.manifest)), opts.root), body + "\n", 0o644)


def _remove_dirs(
    going: list[InstallRecord], staying: list[InstallRecord], root: Path | None
) -> None:
    """Created folders, deepest first, while empty; a folder still holding another
    install's file is handed to that install's record, to be removed with it."""
    dirs = sorted(
        {str(d) for r in going for d in r.created_dirs},
        key=lambda d: d.count("/") + d.count("\\"),
        reverse=True,
    )
    kept = {str(d) for s in staying for d in s.created_dirs}
    for d in dirs:
        if d in kept:
            continue  # another install that made it too still uses it (audit.d)
        here = rooted(_pure(d), root)
        try:
            here.rmdir()  # only ever empty: an audit.d holding teachers' files stays
        except FileNotFoundError:
            continue
        except OSError:
            folder = _pure(d)
            heir = next(
                (
                    s
                    for s in staying
                    if _pure(str(s.manifest)).is_relative_to(folder)
                    or _pure(str(s.launcher)).is_relative_to(folder)
                ),
                staying[0] if staying else None,
            )
            if heir is not None and Path(d) not in heir.created_dirs:
                heir.created_dirs.append(Path(d))


def _pure(text: str) -> PurePath:
    if len(text) > 2 and text[1] == ":":
        return PureWindowsPath(text)
    return PurePosixPath(text)


def _remove_native_host_folder(home_here: Path) -> None:
    folder = record_path(home_here).parent
    with contextlib.suppress(OSError):
        folder.rmdir()


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
