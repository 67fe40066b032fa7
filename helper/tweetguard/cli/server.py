"""`tweetguard server`: set up and run the school or trust server (docs/server.md).

`init` migrates the database and makes the trust and its first admin; `run` serves
it under gunicorn (TLS from certificate files, or loopback behind a reverse proxy);
`school`, `user`, `code` and `token` do from a terminal what the server's pages do;
`migrate` brings the schema up to date after an upgrade. The database is
--database URL, else $TWEETGUARD_DATABASE, else a SQLite file in the data folder.
Passwords are read from the terminal, or from stdin when it is not one.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from tweetguard.cli.exits import EX_CONFIG, EX_DATAERR, EX_UNAVAILABLE, EX_USAGE, fail


def add(sub: Any, parser_class: type) -> None:
    server = sub.add_parser("server", help="the school or trust server (docs/server.md)")
    actions = server.add_subparsers(dest="server_command", required=True, parser_class=parser_class)

    def with_db(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument(
            "--database",
            metavar="URL",
            help="sqlite:///PATH or postgresql://USER@HOST/DB "
            "(default: $TWEETGUARD_DATABASE, else server.sqlite3 in the data folder)",
        )
        return parser

    init = with_db(actions.add_parser("init", help="make the database, the trust and its admin"))
    init.add_argument(
        "--trust", required=True, metavar="NAME", help="the trust's (or school's) name"
    )
    init.add_argument("--admin", required=True, metavar="EMAIL", help="the first trust admin")

    run = with_db(actions.add_parser("run", help="serve the device API and the pages (gunicorn)"))
    run.add_argument(
        "--bind", metavar="HOST:PORT", help="default 0.0.0.0:8443 with TLS, else 127.0.0.1:8780"
    )
    run.add_argument("--certfile", metavar="FILE", help="the TLS certificate chain (PEM)")
    run.add_argument("--keyfile", metavar="FILE", help="its private key (PEM)")
    run.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes (default 1 on SQLite, whose live feed hears only its own "
        "process; 2 on PostgreSQL)",
    )
    run.add_argument(
        "--feed-port",
        type=int,
        default=None,
        metavar="N",
        help="the pages' live feed port (default: the HTTP port + 2; 0: no live feed)",
    )
    run.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use for the pages, e.g. https://tweetguard.school.example:8443 "
        "(default: from --bind); the live feed accepts pages of this origin only",
    )
    run.add_argument(
        "--ws-port",
        type=int,
        default=None,
        metavar="N",
        help="the WebSocket's port (default: the HTTP port + 1; 0: none, a proxy routes it)",
    )

    with_db(actions.add_parser("migrate", help="bring the database schema up to date"))

    school = actions.add_parser("school", help="add or list schools")
    school_actions = school.add_subparsers(
        dest="school_command", required=True, parser_class=parser_class
    )
    school_add = with_db(school_actions.add_parser("add", help="add a school to the trust"))
    school_add.add_argument("name")
    school_add.add_argument("--trust", metavar="NAME", help="which trust, when there are several")
    school_list = with_db(school_actions.add_parser("list", help="list the trust's schools"))
    school_list.add_argument("--trust", metavar="NAME")

    user = actions.add_parser("user", help="add users")
    user_actions = user.add_subparsers(
        dest="user_command", required=True, parser_class=parser_class
    )
    user_add = with_db(user_actions.add_parser("add", help="add a user who signs in to the pages"))
    user_add.add_argument("email")
    user_add.add_argument(
        "--role", required=True, choices=("trust_admin", "it_lead", "safeguarding_lead")
    )
    user_add.add_argument(
        "--school", action="append", default=[], metavar="NAME", help="a school of theirs (repeat)"
    )
    user_add.add_argument("--name", default="", help="their name as the pages show it")
    user_add.add_argument("--trust", metavar="NAME")

    code = with_db(actions.add_parser("code", help="print a one-time enrolment code for a machine"))
    code.add_argument("--school", required=True, metavar="NAME")
    code.add_argument("--hours", type=float, default=24, help="how long it is valid (default 24)")
    code.add_argument("--trust", metavar="NAME")

    token = with_db(
        actions.add_parser("token", help="print a school enrolment token for Chromebooks")
    )
    token.add_argument("--school", required=True, metavar="NAME")
    token.add_argument("--trust", metavar="NAME")


def database_url(args: argparse.Namespace, home: Path) -> str:
    given = getattr(args, "database", None) or os.environ.get("TWEETGUARD_DATABASE")
    return given or f"sqlite:///{home / 'server.sqlite3'}"


def read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            raise ValueError("the two passwords differ; run the command again")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def run(args: argparse.Namespace, home: Path) -> int:
    from sqlalchemy.exc import OperationalError

    from tweetguard.server import tenancy
    from tweetguard.server.db import DatabaseError

    try:
        return _run(args, home)
    except (DatabaseError, tenancy.TenancyError, ValueError) as exc:
        return fail(EX_DATAERR if isinstance(exc, tenancy.TenancyError) else EX_USAGE, str(exc))
    except OperationalError as exc:
        first = str(exc.orig or exc).strip().splitlines()[0]
        return fail(
            EX_UNAVAILABLE,
            f"cannot reach the database ({first}); check --database and that it is running",
        )


def _run(args: argparse.Namespace, home: Path) -> int:
    from tweetguard.server import devices, tenancy
    from tweetguard.server.db import current_revision, open_database, upgrade

    url = database_url(args, home)
    command = args.server_command
    if command == "run":
        from tweetguard.server.serve import ServeError
        from tweetguard.server.serve import run as serve

        upgrade(url)
        try:
            return serve(
                url,
                home,
                bind=args.bind,
                certfile=args.certfile,
                keyfile=args.keyfile,
                workers=args.workers,
                ws_port=args.ws_port,
                feed_port=args.feed_port,
                public_url=args.public_url,
            )
        except ServeError as exc:
            return fail(EX_CONFIG, str(exc))
    upgrade(url)
    if command == "migrate":
        db = open_database(url)
        print(f"database schema at {current_revision(db)}")
        db.dispose()
        return 0
    db = open_database(url)
    try:
        if command == "init":
            if tenancy.all_trusts(db) and any(
                t.name == args.trust.strip() for t in tenancy.all_trusts(db)
            ):
                raise tenancy.TenancyError(
                    f"the trust {args.trust!r} already exists; add schools with `server school add`"
                )
            password = read_password(f"Password for {args.admin}: ")
            trust = tenancy.create_trust(db, args.trust)
            try:
                tenancy.add_user(db, trust.id, args.admin, password, tenancy.TRUST_ADMIN)
            except tenancy.TenancyError:
                _drop_trust(db, trust.id)
                raise
            print(f"trust {trust.name} ({trust.id}) made; {args.admin} is its admin")
            print("next: `tweetguard server school add NAME`, then `tweetguard server run`")
            return 0
        trust = tenancy.find_trust(db, getattr(args, "trust", None))
        if command == "school":
            if args.school_command == "add":
                made = tenancy.add_school(db, trust.id, args.name)
                print(f"school {made.name} ({made.id}) added to {trust.name}")
            else:
                for found in tenancy.schools_of(db, trust.id):
                    print(f"{found.id}\t{found.name}")
            return 0
        if command == "user":
            school_ids = [tenancy.find_school(db, trust.id, s).id for s in args.school]
            password = read_password(f"Password for {args.email}: ")
            made_user = tenancy.add_user(
                db, trust.id, args.email, password, args.role, school_ids, name=args.name
            )
            print(f"{made_user.email} added as {tenancy.ROLE_NAMES[made_user.role]}")
            return 0
        school = tenancy.find_school(db, trust.id, args.school)
        if command == "code":
            print(devices.make_code(db, school.id, created_by="cli", hours=args.hours))
            print(
                f"valid {args.hours:g} hours, once, for one machine of {school.name}",
                file=sys.stderr,
            )
            return 0
        print(devices.make_token(db, school.id, created_by="cli"))
        print(
            f"{school.name}'s enrolment token for Chromebooks; shown once, valid until revoked",
            file=sys.stderr,
        )
        return 0
    finally:
        db.dispose()


def _drop_trust(db: Any, trust_id: str) -> None:
    """An init whose admin was refused leaves no trust behind, so it can be run again."""
    from tweetguard.server.db.tables import trusts

    with db.write() as conn:
        conn.execute(trusts.delete().where(trusts.c.id == trust_id))
