"""`tweetguard enrol`, `tweetguard sync`, `tweetguard unenrol`: this machine and its
school's server (docs/server.md, "Devices").

`enrol https://SERVER --code CODE` spends a one-time code from the server's
dashboard, keeps the device credential in the OS keyring and runs the first sync;
`sync --once` runs one round and prints one line per step (exit 0 all done, 1 a
step could not be applied here, 69 the server cannot be reached, 77 the server
refused this machine); `sync` without --once keeps syncing every poll interval
(for a service where no browser starts the helper); `unenrol` forgets the
credential and the server and keeps the last policy and register.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from tweetguard.cli.exits import EX_CANTCREAT, EX_NOPERM, EX_UNAVAILABLE, EX_USAGE, fail


def add(sub: Any, parser_class: type) -> None:
    enrol = sub.add_parser("enrol", help="enrol this machine with the school's tweetguard server")
    enrol.add_argument("url", metavar="https://SERVER", help="the school's (or trust's) server")
    enrol.add_argument(
        "--code", required=True, help="the one-time code from the server's Devices page"
    )
    enrol.add_argument(
        "--ca-file",
        type=Path,
        metavar="FILE",
        help="PEM file of the CA that issued the server's certificate (default: the system's)",
    )
    enrol.add_argument("--name", help="this machine's name on the server (default: its hostname)")
    sync = sub.add_parser("sync", help="get the school's policy and register, send the audit")
    sync.add_argument("--once", action="store_true", help="one round, one line per step, then exit")
    sub.add_parser("unenrol", help="forget the school's server (the last policy and register stay)")


def run(args: argparse.Namespace, home: Path) -> int:
    if args.command == "enrol":
        return cmd_enrol(args, home)
    if args.command == "sync":
        return cmd_sync(home) if args.once else cmd_sync_forever(home)
    return cmd_unenrol(home)


def cmd_enrol(args: argparse.Namespace, home: Path) -> int:
    from tweetguard.sync.client import Refused, SyncError
    from tweetguard.sync.enrolment import AlreadyEnrolled, enrol
    from tweetguard.sync.state import EnrolmentError

    try:
        done = enrol(home, args.url, args.code, ca_file=args.ca_file, name=args.name)
    except ValueError as exc:
        return fail(EX_USAGE, str(exc))
    except AlreadyEnrolled as exc:
        return fail(EX_USAGE, str(exc))
    except Refused as exc:
        return fail(EX_NOPERM, f"enrolment refused by {args.url}: {exc}")
    except SyncError as exc:
        return fail(EX_UNAVAILABLE, f"not enrolled: {exc}")
    except EnrolmentError as exc:
        return fail(EX_CANTCREAT, f"not enrolled: {exc}")
    e = done.enrolment
    school = e.school + (f", {e.trust}" if e.trust else "")
    print(f"Enrolled this machine as {e.device_id} with {school} at {e.url}.")
    print(f"The device credential is kept in {done.kept_in.describe()}.")
    code = cmd_sync(home)
    summary = _holding(home)
    if code in (0, 1):
        print(f"School: {e.school}; {summary}.")
    else:
        minutes = max(1, round(e.poll_seconds / 60))
        print(
            f"Enrolled, but the first sync did not finish; the helper tries again every "
            f"{minutes} min (or run `tweetguard sync --once`). {summary}."
        )
    return code


def cmd_sync(home: Path) -> int:
    from tweetguard.sync.rounds import Busy, NotEnrolled, run_round
    from tweetguard.sync.state import EnrolmentError

    try:
        result = run_round(home)
    except (NotEnrolled, EnrolmentError) as exc:
        return fail(EX_USAGE, str(exc))
    except Busy as exc:
        return fail(EX_UNAVAILABLE, str(exc))
    for step in result.steps:
        print(step)
    if result.connection.state == "offline":
        return EX_UNAVAILABLE
    if result.connection.state == "refused":
        return EX_NOPERM
    return 0 if result.ok else 1


def cmd_sync_forever(home: Path) -> int:
    """Rounds every poll interval until interrupted: for a machine where no browser
    starts the helper (a kiosk, a shared folder kept by an IT service)."""
    from tweetguard.sync.loop import SyncLoop
    from tweetguard.sync.rounds import NotEnrolled, RoundResult, run_round
    from tweetguard.sync.state import load_enrolment

    if load_enrolment(home) is None:
        return fail(EX_USAGE, str(NotEnrolled(f"not enrolled ({home})")))

    def printed(home: Path) -> RoundResult:
        result = run_round(home)
        stamp = time.strftime("%H:%M:%S")
        for step in result.steps:
            print(f"{stamp} {step}", flush=True)
        return result

    loop = SyncLoop(home, rounds=printed).start()
    while loop.thread.is_alive():
        loop.thread.join(1.0)
    return fail(EX_USAGE, "this machine is no longer enrolled; the sync ended")


def cmd_unenrol(home: Path) -> int:
    from tweetguard.sync.enrolment import unenrol
    from tweetguard.sync.state import EnrolmentError, server_file

    if not server_file(home).exists():
        print("This machine is not enrolled with a school's server; nothing to forget.")
        return 0
    holding = _holding(home)
    try:
        was = unenrol(home)
    except (EnrolmentError, OSError) as exc:
        return fail(EX_CANTCREAT, f"not unenrolled: {exc}")
    where = f"{was.url} ({was.school})" if was else "the school's server"
    print(f"Forgot the device credential and {where}.")
    print(
        f"Kept: {holding}; they stay in use and can be edited on this machine again. "
        "Ask IT to remove this device on the server."
    )
    return 0


def _holding(home: Path) -> str:
    """The policy and register this machine holds, in a few words."""
    from tweetguard.stores.consent import ConsentRegister
    from tweetguard.stores.home import register_path
    from tweetguard.sync.state import load_state

    state = load_state(home)
    register = ConsentRegister(register_path(home))
    try:
        summary = register.summary()
        pupils = f"{summary.pupils} pupils"
    except Exception:  # a damaged register is said by the checks; here a count is missing
        pupils = "pupils unknown (the register cannot be read)"
    finally:
        register.close()
    version = state.policy_version or "not from the server"
    revision = state.register_revision or "not from the server"
    return f"policy version {version}; register revision {revision}, {pupils}"
