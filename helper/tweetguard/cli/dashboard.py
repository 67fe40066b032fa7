"""`tweetguard dashboard`: the school's console in the browser, on this machine only.

Serves console/ with waitress on 127.0.0.1 and the live feed
(transport/websocket.py) on the port after it. The first line printed is the
console's address, exactly `tweetguard console: http://127.0.0.1:PORT/`, which
scripts and tests read; then where secrets and the audit are kept, said plainly;
and, until an admin password is set, the first-run link with its one-time token
(`first run: open http://127.0.0.1:PORT/setup?token=...`), as Jupyter does: the
token exists only in this process and on this terminal, so another local user
who finds the port first cannot choose the password.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from tweetguard.cli.exits import EX_CANTCREAT, EX_UNAVAILABLE, EX_USAGE, fail

DEFAULT_PORT = 8740
LOCAL = "127.0.0.1"


def add(sub: Any, parser_class: type) -> None:
    dashboard = sub.add_parser(
        "dashboard", help="serve the school's console on this machine (127.0.0.1)"
    )
    dashboard.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"the console's port (default {DEFAULT_PORT}; 0 = any free port)",
    )
    dashboard.add_argument(
        "--feed-port",
        type=int,
        default=None,
        metavar="N",
        help="the live feed's port (default: the console's port + 1; 0 = any free port)",
    )
    dashboard.add_argument(
        "--open", action="store_true", help="open the console in the default browser"
    )


def run(args: argparse.Namespace, home: Path) -> int:
    from waitress.server import create_server  # type: ignore[import-untyped]

    from tweetguard.console import create_app, setup_url
    from tweetguard.console.admin import has_password
    from tweetguard.console.security import COOKIE_NAME, feed_authorizer
    from tweetguard.stores.audit import audit_location
    from tweetguard.stores.secrets import SecretsError, secret_store
    from tweetguard.transport.websocket import LiveFeed

    for name, value in (("--port", args.port), ("--feed-port", args.feed_port)):
        if value is not None and not 0 <= value <= 65535:
            return fail(EX_USAGE, f"{name} {value} is not a port; use 1-65535, or 0 for any")
    try:
        home.mkdir(parents=True, exist_ok=True)
        app = create_app(home)
    except SecretsError as exc:
        return fail(EX_UNAVAILABLE, f"the console cannot read its session key: {exc}")
    except OSError as exc:
        return fail(EX_CANTCREAT, f"cannot use the data folder {home}: {exc.strerror or exc}")
    try:
        server = create_server(app, host=LOCAL, port=args.port, threads=8, ident="tweetguard")
    except OSError as exc:
        return fail(
            EX_UNAVAILABLE,
            f"cannot listen on {LOCAL}:{args.port} ({exc.strerror or exc}); "
            "choose another port with --port N (0 = any free port)",
        )
    port = int(server.effective_port)
    feed_port = args.feed_port if args.feed_port is not None else (port + 1 if args.port else 0)
    origin = f"http://{LOCAL}:{port}"
    feed = LiveFeed(
        home,
        origin=origin,
        cookie_name=COOKIE_NAME,
        authorize=feed_authorizer(app),
        port=feed_port,
    )
    try:
        feed.start()
    except OSError as exc:
        server.close()
        return fail(
            EX_UNAVAILABLE,
            f"cannot listen on {LOCAL}:{feed_port} for the live feed ({exc.strerror or exc}); "
            "choose another port with --feed-port N (0 = any free port)",
        )
    app.config["TWEETGUARD_FEED_URL"] = f"ws://{LOCAL}:{feed.port}"
    url = f"{origin}/"
    location = audit_location(home)
    print(f"tweetguard console: {url}", flush=True)
    print(f"live feed: ws://{LOCAL}:{feed.port}/ (for the console's own pages only)")
    try:
        print(f"secrets: kept in {secret_store(home).describe()}")
    except SecretsError as exc:
        print(f"secrets: unavailable ({exc})")
    if location.shared:
        print(f"audit: {location.why}")
    else:
        print(f"audit: NOT the shared audit: {location.why}")
    opened = url
    try:
        first_run = not has_password(home)
    except SecretsError:
        first_run = False  # said above; the page says it again
    if first_run:
        opened = setup_url(app, url)
        print(
            f"first run: open {opened} to set the admin password (the link works until it is set)"
        )
    print("Press Ctrl-C to stop.", flush=True)
    if args.open:
        import webbrowser

        webbrowser.open(opened)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
        feed.stop()
    print("tweetguard console stopped.", file=sys.stderr)
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends the console as Ctrl-C does: sockets closed, feed stopped."""
    raise KeyboardInterrupt
