"""The `tweetguard` command: a thin face over the same services the browser uses.

Each command lives in its own module with an `add` (its arguments) and a `run`.
Whatever goes wrong, a command ends with one clear line on stderr and a
documented exit code (cli/exits.py), never a traceback: the details go to the
log in the data folder.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from tweetguard.cli import (
    accounts,
    audit,
    check,
    consent,
    dashboard,
    doctor,
    enrol,
    install,
    photo,
    policy,
    server,
)
from tweetguard.cli.exits import EX_IOERR, EX_SOFTWARE, EX_USAGE, fail

# The conventional status of a program whose reader went away (`| head`).
EXIT_PIPE_CLOSED = 141

log = logging.getLogger("tweetguard.cli")


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EX_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> Parser:
    parser = Parser(prog="tweetguard", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--home",
        metavar="DIR",
        help="data directory (default: $TWEETGUARD_HOME, else the platform's user data dir)",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    sub.add_parser("version", help="print the helper and protocol versions")
    host = sub.add_parser("host", help="run as the browser's native messaging host")
    host.add_argument(
        "--allow", action="append", metavar="ORIGIN", help="extension origin or add-on id to accept"
    )
    host.add_argument("origin", nargs="*", help="what the browser passes: the caller's origin")
    check.add(sub)
    consent.add(sub, Parser)
    accounts.add(sub, Parser)
    policy.add(sub, Parser)
    photo.add(sub, Parser)
    audit.add(sub, Parser)
    dashboard.add(sub, Parser)
    enrol.add(sub, Parser)
    server.add(sub, Parser)
    install.add(sub)
    doctor.add(sub, Parser)
    return parser


Command = Callable[[argparse.Namespace, Path], int]
COMMANDS: dict[str, Command] = {
    "version": lambda args, home: cmd_version(),
    "check": check.run,
    "consent": consent.run,
    "photo": photo.run,
    "accounts": accounts.run,
    "audit": audit.run,
    "dashboard": dashboard.run,
    "enrol": enrol.run,
    "sync": enrol.run,
    "unenrol": enrol.run,
    "server": server.run,
    "rules": policy.run,
    "policy": policy.run,
    "install-host": install.run,
    "uninstall-host": install.run,
    "doctor": doctor.run,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from tweetguard.stores.home import resolve_home

    home = resolve_home(args.home)
    if args.command == "host":
        from tweetguard.transport.native import run_host

        return run_host(home, args.origin, args.allow)
    _log_to_data_folder(home)
    try:
        return COMMANDS[args.command](args, home)
    except BrokenPipeError:
        return _pipe_closed()
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # a file or folder that cannot be read or written
        log.exception("tweetguard %s failed", args.command)
        where = f" ({exc.filename})" if exc.filename else ""
        return fail(EX_IOERR, f"{exc.strerror or exc}{where}")
    except Exception as exc:  # the last resort: one line, the traceback in the log
        log.exception("tweetguard %s failed", args.command)
        return fail(
            EX_SOFTWARE,
            f"unexpected error in '{args.command}' ({type(exc).__name__}: {exc}); "
            f"please report it with {home / 'logs' / 'cli.log'}",
        )


def cmd_version() -> int:
    from tweetguard import __version__
    from tweetguard.protocol.messages import PROTOCOL_VERSION

    print(f"tweetguard {__version__} (protocol {PROTOCOL_VERSION})")
    return 0


def _pipe_closed() -> int:
    """The reader of our output went away (`consent list | head`): end quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the final flush must not fail again
    except (OSError, ValueError):
        pass
    return EXIT_PIPE_CLOSED


class _QuietFileHandler(logging.FileHandler):
    """A log file that may turn out not to be writable (a shared, read-only data
    folder): the record is dropped rather than the command failing."""

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(OSError):
            super().emit(record)


def _log_to_data_folder(home: Path) -> None:
    """Warnings go to logs/cli.log when the data folder exists and can be written;
    the terminal only ever gets the one-line messages."""
    root = logging.getLogger("tweetguard")
    root.propagate = False
    root.setLevel(logging.INFO)
    handler: logging.Handler = logging.NullHandler()
    if home.is_dir():
        try:
            (home / "logs").mkdir(exist_ok=True)
            handler = _QuietFileHandler(home / "logs" / "cli.log", encoding="utf-8", delay=True)
            handler.setFormatter(
                logging.Formatter("%(asctime)s %(process)d %(levelname)s %(message)s")
            )
        except OSError:
            pass
    root.handlers[:] = [handler]
