"""`tweetguard install-host` and `uninstall-host`: register the helper with browsers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tweetguard.cli.exits import EX_CANTCREAT, EX_USAGE, fail


def add(sub: Any) -> None:
    for name, helptext in (
        ("install-host", "register the helper with this machine's browsers"),
        ("uninstall-host", "remove the helper's registration from browsers"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument(
            "--browser",
            action="append",
            metavar="NAME",
            help="chrome, chromium, edge, brave, vivaldi or firefox "
            "(repeatable; default: those installed)",
        )
        p.add_argument(
            "--user-data-dir",
            metavar="DIR",
            help="a Chromium profile started with --user-data-dir DIR",
        )
        p.add_argument(
            "--system",
            action="store_true",
            help="for every user of this machine (needs root/admin)",
        )
        if name == "install-host":
            p.add_argument(
                "--extension-id",
                action="append",
                metavar="ID",
                help="Chromium extension id to allow (default: tweetguard's)",
            )
            p.add_argument(
                "--firefox-id",
                metavar="ID",
                help="Firefox add-on id to allow (default: tweetguard's)",
            )


def run(args: argparse.Namespace, home: Path) -> int:
    return cmd_install_host(args, home, install=args.command == "install-host")


def cmd_install_host(args: argparse.Namespace, home: Path, *, install: bool) -> int:
    from tweetguard import identity
    from tweetguard.install import hosts

    browsers = args.browser or []
    unknown = [b for b in browsers if b not in hosts.BROWSERS]
    if unknown:
        return fail(
            EX_USAGE,
            f"unknown browser(s) {', '.join(unknown)}; choose from {', '.join(hosts.BROWSERS)}",
        )
    user_data_dir = Path(args.user_data_dir).absolute() if args.user_data_dir else None
    if not browsers:
        browsers = ["chromium"] if user_data_dir else hosts.detect_browsers()
    if not browsers:
        print("No supported browser found; name one with --browser.", file=sys.stderr)
        return 0 if not install else EX_USAGE
    targets = hosts.targets(
        browsers, system=args.system, user_data_dir=user_data_dir, tweetguard_home=home
    )
    try:
        if not install:
            removed = hosts.uninstall(targets)
            for path in removed:
                print(f"removed {path}")
            if not removed:
                print("No tweetguard host manifest was installed there.")
            return 0
        allowed = [
            identity.chrome_origin(i) for i in (args.extension_id or [identity.CHROME_EXTENSION_ID])
        ]
        allowed.append(args.firefox_id or identity.FIREFOX_ADDON_ID)
        launcher = hosts.write_launcher(home, allowed)
        for path in hosts.install(targets, launcher, allowed):
            print(f"installed {path}")
        if args.system and (folder := hosts.make_per_user_audit_dir(home)) is not None:
            print(f"created {folder} (mode 1777): teachers who cannot write the shared audit")
            print("  write their own file there, which the console merges")
    except PermissionError as exc:
        return fail(EX_CANTCREAT, f"permission denied: {exc.filename} (use sudo for --system)")
    except OSError as exc:
        return fail(EX_CANTCREAT, str(exc))
    print(f"The browser will start {launcher} (data directory {home}).")
    return 0
