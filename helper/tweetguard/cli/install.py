"""`tweetguard install-host` and `uninstall-host`: register the helper with browsers.

Everything an install writes is listed in `<data dir>/native-host/installed.json`;
`uninstall-host` removes exactly that. `--root`, `--python` and `--platform` let a
package build or a test stage any OS's layout into a folder (DESTDIR semantics:
the files go under the root, their content names the final paths).
"""

from __future__ import annotations

import argparse
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tweetguard.install.hosts import Options, Target

from tweetguard.cli.exits import EX_CANTCREAT, EX_USAGE, fail

PLATFORMS = ("linux", "macos", "windows")


def add(sub: Any) -> None:
    for name, helptext in (
        ("install-host", "register the helper with this machine's browsers"),
        ("uninstall-host", "remove exactly what install-host wrote"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument(
            "--browser",
            action="append",
            metavar="NAME",
            help="chrome, chromium, edge, brave, vivaldi or firefox "
            "(repeatable; default: install for those found here, uninstall all)",
        )
        p.add_argument(
            "--user-data-dir",
            metavar="DIR",
            help="a Chromium profile started with --user-data-dir DIR (Linux, macOS)",
        )
        p.add_argument(
            "--system",
            action="store_true",
            help="for every user of this machine (needs root/administrator); the data "
            "folder is the machine's (/var/lib/tweetguard on Linux) unless --home names one",
        )
        p.add_argument(
            "--root",
            metavar="DIR",
            help="write everything under DIR, naming the final paths inside (packaging, tests)",
        )
        p.add_argument(
            "--platform",
            choices=PLATFORMS,
            help="lay out for this OS (default: this machine's); another OS needs --root",
        )
        p.add_argument(
            "--target-home",
            metavar="PATH",
            help="with --platform of another OS: the data folder on those machines",
        )
        p.add_argument(
            "--python",
            metavar="PATH",
            help="the interpreter the launcher runs (default: this one)",
        )
        p.add_argument(
            "--snap",
            action="store_true",
            help="write the Snap browser's own folder even where no Snap is found",
        )
        if name == "install-host":
            p.add_argument(
                "--extension-id",
                action="append",
                metavar="ID",
                help="Chromium extension id to allow (repeatable; default: tweetguard's)",
            )
            p.add_argument(
                "--firefox-id",
                metavar="ID",
                help="Firefox add-on id to allow (default: tweetguard's)",
            )
            p.add_argument(
                "--export-reg",
                metavar="FILE",
                help="also write the Windows registry keys as a .reg file (regedit format)",
            )


def run(args: argparse.Namespace, home: Path) -> int:
    from tweetguard.install import browsers, hosts, windows
    from tweetguard.install.record import RecordError

    install = args.command == "install-host"
    unknown = [b for b in args.browser or [] if b not in browsers.BROWSERS]
    if unknown:
        return fail(
            EX_USAGE,
            f"unknown browser(s) {', '.join(unknown)}; choose from {', '.join(browsers.BROWSERS)}",
        )
    try:
        opts = _options(args, home, install=install)
        if not install:
            scopes = ("system",) if args.system else hosts.USER_SCOPES
            outcome = hosts.uninstall(opts, browsers_=args.browser or [], scopes=scopes)
            _print(outcome.written, outcome.notes)
            if not outcome.written:
                print("Nothing to remove: no registration made with this data folder matches.")
            return 0
        targets, notes = hosts.plan(opts)
        if not targets:
            return fail(EX_USAGE, "no supported browser found here; name one with --browser")
        closed = _unreachable(opts, targets)
        if closed and not _explicit_home(args):
            return fail(EX_CANTCREAT, closed[0])
        notes += closed  # a data folder named on purpose: installed, and said
        outcome = hosts.install(opts, targets)
        if args.export_reg:
            entries = [
                (t.registry_key, t.registry_view, str(t.manifest))
                for t in targets
                if t.registry_key is not None
            ]
            reg = Path(args.export_reg)
            reg.write_bytes(windows.export_reg(entries))
            outcome.written.append(f"wrote {reg} (on each machine: regedit /s {reg.name})")
    except RecordError as exc:
        return fail(EX_CANTCREAT, str(exc))
    except ValueError as exc:  # a refused combination, a bad id: hosts.Refused, ids.py
        return fail(EX_USAGE, str(exc))
    except PermissionError as exc:
        hint = "use sudo for --system" if args.system else "check who owns that folder"
        return fail(EX_CANTCREAT, f"permission denied: {exc.filename} ({hint})")
    except OSError as exc:
        return fail(EX_CANTCREAT, f"cannot write {exc.filename}: {exc.strerror or exc}")
    _print(outcome.written, notes + outcome.notes)
    for started in outcome.launchers:
        print(f"The browser starts {started} (data directory {opts.home}).")
    return 0


def _explicit_home(args: argparse.Namespace) -> bool:
    """Whether --home or $TWEETGUARD_HOME named the data folder (tests, packages and
    recipes name theirs; a bare `sudo tweetguard install-host --system` does not)."""
    import os

    from tweetguard.stores.home import ENV_VAR

    return bool(getattr(args, "home", None) or os.environ.get(ENV_VAR))


def _unreachable(opts: Options, targets: list[Target]) -> list[str]:
    """Why other users' browsers could not start this system install, in lines; []
    when they can, or when it is staged under a root or for another OS."""
    from tweetguard.install import access, browsers

    if not opts.system or opts.root is not None or opts.platform != browsers.platform_name():
        return []
    if opts.platform == "windows":
        return []  # ACLs, not modes: IT's business
    return access.unreachable(opts.python, [Path(str(t.launcher)) for t in targets])


def _print(lines: list[str], notes: list[str]) -> None:
    for line in lines:
        print(line)
    for note in notes:
        print(f"note: {note}")


def _options(args: argparse.Namespace, home: Path, *, install: bool) -> Options:
    """Options from the command line; raises ValueError with a one-line message."""
    import sys

    from tweetguard import identity
    from tweetguard.install import browsers, hosts, ids

    here = browsers.platform_name()
    platform = args.platform or ("windows" if getattr(args, "export_reg", None) else here)
    if getattr(args, "export_reg", None) and platform != "windows":
        raise ValueError(
            "--export-reg writes Windows registry keys: use it with --platform windows"
        )
    foreign = platform != here
    root = Path(args.root).absolute() if args.root else None
    if foreign and root is None:
        raise ValueError(
            f"--platform {platform} lays out another OS's files: add --root DIR to stage them there"
        )
    if foreign and install and not args.python:
        example = (
            r"C:\Program Files\tweetguard\python.exe"
            if platform == "windows"
            else "/opt/tweetguard/bin/python"
        )
        raise ValueError(
            f"--platform {platform} needs --python: the interpreter's path on those machines "
            f"(e.g. {example})"
        )
    if args.target_home and not foreign:
        raise ValueError("--target-home is for another OS's layout; on this OS use --home")
    target_home: PurePath
    if foreign:
        flavour = PureWindowsPath if platform == "windows" else PurePosixPath
        target_home = (
            flavour(args.target_home)
            if args.target_home
            else hosts.default_target_home(platform, args.system)
        )
    elif args.system and not _explicit_home(args):
        # A login's own data folder (under sudo, /root's) is one other users' browsers
        # cannot enter: every user's install uses the machine's.
        target_home = hosts.system_home()
    else:
        target_home = home
    python = args.python or sys.executable
    if args.python and not foreign and root is None:
        candidate = Path(args.python)
        if not candidate.is_absolute() or not candidate.is_file():
            raise ValueError(f"--python {args.python}: no such interpreter; give its absolute path")
    udd: PurePath | None = None
    if args.user_data_dir:
        udd = (
            Path(args.user_data_dir).absolute()
            if not foreign
            else PurePosixPath(args.user_data_dir)
        )
    chrome_ids = [identity.CHROME_EXTENSION_ID]
    firefox_id = identity.FIREFOX_ADDON_ID
    if install:
        if args.extension_id:
            chrome_ids = [ids.check_chrome_id(i) for i in args.extension_id]
        if args.firefox_id:
            firefox_id = ids.check_firefox_id(args.firefox_id)
    return hosts.Options(
        browsers=list(args.browser or []),
        home=target_home,
        system=args.system,
        user_data_dir=udd,
        root=root,
        platform=platform,
        python=python,
        chrome_ids=chrome_ids,
        firefox_id=firefox_id,
        snap=True if args.snap else None,
    )
