"""`tweetguard server`: set up and run the school or trust server (docs/server.md).

`init` migrates the database and makes the trust and its first admin; `run` serves
it under gunicorn (TLS from certificate files, or loopback behind a reverse proxy);
`school`, `user`, `code` and `token` do from a terminal what the server's pages do;
`trust` shows or renames the trust; `user reset-password` is how IT gets a locked
out or forgetful user (or the last trust admin) back in; `migrate` brings the
schema up to date after an upgrade. The database is --database URL, else
$TWEETGUARD_DATABASE, else a SQLite file in the data folder.
Passwords are read from the terminal, or from stdin when it is not one, never
from the command line (where `ps` and shell history would keep them).
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

    trust = actions.add_parser("trust", help="show or rename the trust")
    trust_actions = trust.add_subparsers(
        dest="trust_command", required=True, parser_class=parser_class
    )
    trust_show = with_db(trust_actions.add_parser("show", help="the trust, its schools and users"))
    trust_show.add_argument("--trust", metavar="NAME", help="which trust, when there are several")
    trust_rename = with_db(trust_actions.add_parser("rename", help="give the trust a new name"))
    trust_rename.add_argument("name", metavar="NEW_NAME")
    trust_rename.add_argument("--trust", metavar="NAME", help="its current name, when several")

    user = actions.add_parser("user", help="add users, reset a password")
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
    reset = with_db(
        user_actions.add_parser(
            "reset-password",
            help="set a user's new password (read from the terminal or stdin, never argv); "
            "signs them out everywhere and lifts a sign-in lockout",
        )
    )
    reset.add_argument("email")
    reset.add_argument("--trust", metavar="NAME", help="refuse unless the user is of this trust")

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
        if command == "user" and args.user_command == "reset-password":
            return _reset_password(db, args)
        trust = tenancy.find_trust(db, getattr(args, "trust", None))
        if command == "trust":
            return _trust(db, trust, args)
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


def _reset_password(db: Any, args: argparse.Namespace) -> int:
    """A new password for one user: their other sessions end (the cookie's epoch
    moves) and a lockout from wrong guesses is lifted, so they can sign in at once."""
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from tweetguard.server import tenancy
    from tweetguard.server.console import lockout
    from tweetguard.server.db.tables import users

    email = args.email.strip().lower()
    with db.read() as conn:
        row = conn.execute(
            select(users.c.id, users.c.trust_id, users.c.disabled).where(users.c.email == email)
        ).first()
    if row is None:
        raise tenancy.TenancyError(
            f"no user {email}; check the address, or add them with `tweetguard server user add`"
        )
    if args.trust is not None and tenancy.find_trust(db, args.trust).id != row.trust_id:
        raise tenancy.TenancyError(f"{email} is not a user of the trust {args.trust!r}")
    if row.disabled:
        raise tenancy.TenancyError(
            f"{email}'s account is disabled, so a new password would not let them in; "
            "nothing was changed"
        )
    password = read_password(f"New password for {email}: ")
    if len(password) < tenancy.MIN_PASSWORD:
        raise tenancy.TenancyError(
            f"the password is too short; use at least {tenancy.MIN_PASSWORD} characters"
        )
    with db.write() as conn:
        conn.execute(
            users.update()
            .where(users.c.id == row.id)
            .values(password_hash=generate_password_hash(password, method="scrypt"))
        )
    tenancy.end_sessions(db, row.id)
    lockout.succeeded(db, email)
    print(f"{email}'s password is changed; they are signed out everywhere and can sign in now")
    return 0


def _trust(db: Any, trust: Any, args: argparse.Namespace) -> int:
    """`trust show` and `trust rename`: the name people see on every page and that
    an enrolling machine is told it joined."""
    from sqlalchemy import func, select

    from tweetguard.server import tenancy
    from tweetguard.server.db.tables import devices, schools, trusts, users

    if args.trust_command == "rename":
        name = args.name.strip()
        if not name:
            raise tenancy.TenancyError("the new name is empty; give the trust's name in quotes")
        taken = [t for t in tenancy.all_trusts(db) if t.name == name and t.id != trust.id]
        if taken:
            raise tenancy.TenancyError(
                f"another trust is already called {name!r}; choose a name of its own"
            )
        with db.write() as conn:
            conn.execute(trusts.update().where(trusts.c.id == trust.id).values(name=name))
        print(f"trust {trust.id} renamed from {trust.name!r} to {name!r}")
        return 0
    with db.read() as conn:
        school_rows = conn.execute(
            select(schools.c.id, schools.c.name)
            .where(schools.c.trust_id == trust.id)
            .order_by(schools.c.name)
        ).all()
        roles = dict(
            conn.execute(
                select(users.c.role, func.count())
                .where(users.c.trust_id == trust.id, users.c.disabled.is_(False))
                .group_by(users.c.role)
            ).all()
        )
        machines = dict(
            conn.execute(
                select(devices.c.school_id, func.count())
                .where(devices.c.revoked.is_(False))
                .join(schools, schools.c.id == devices.c.school_id)
                .where(schools.c.trust_id == trust.id)
                .group_by(devices.c.school_id)
            ).all()
        )
    print(f"trust\t{trust.name}\t{trust.id}")
    for role in tenancy.ROLES:
        print(f"users\t{tenancy.ROLE_NAMES[role]}\t{roles.get(role, 0)}")
    for school_id, school_name in school_rows:
        print(f"school\t{school_name}\t{school_id}\t{machines.get(school_id, 0)} devices")
    return 0


def _drop_trust(db: Any, trust_id: str) -> None:
    """An init whose admin was refused leaves no trust behind, so it can be run again."""
    from tweetguard.server.db.tables import trusts

    with db.write() as conn:
        conn.execute(trusts.delete().where(trusts.c.id == trust_id))
