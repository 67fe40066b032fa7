"""The device-sync tests' setting: a trust and school of their own on the real
server (create_server_app over the test's database, served on loopback by
werkzeug in a thread, stoppable and startable again on the same port), a data
folder for the machine, and the `tweetguard` CLI run as the machine's user.

The served app is the server's own; a thin WSGI wrapper only writes down each
request's method, path and status (the tests read it to see a 304 or count the
audit pushes), never changes one.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.conftest import run_cli
from tweetguard.server import devices, policies, registers, tenancy
from tweetguard.server.app import create_server_app
from tweetguard.server.db import Database
from tweetguard.stores.consent import Pupil

NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}

SCHOOL_LAYER = """\
[school]
name = "Larkspur Lane Primary"

[[accounts]]
handle = "LarkspurLanePS"
"""

PUPILS = [
    Pupil("Marigold", "Featherstone", class_name="4W", social_media=True, website=True),
    Pupil("Tobiah", "Okonkwo-Reyes", class_name="4W", social_media=True),
    Pupil("Saffi", "Pendlebury", class_name="2K", social_media=False),
    Pupil("Bartholomew", "Quince", class_name="6H", social_media=True, press=True),
]
STAFF = [Pupil("Imelda", "Strawbridge", class_name=None, social_media=True)]

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


@dataclass
class Seen:
    """What the server was asked, in order: (method, path with query, status)."""

    requests: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self, method: str, prefix: str) -> list[tuple[str, int]]:
        with self.lock:
            return [(p, s) for m, p, s in self.requests if m == method and p.startswith(prefix)]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()


class Served:
    """The real server app on 127.0.0.1, stopped and started again on its port."""

    def __init__(self, app: Any) -> None:
        self.seen = Seen()
        self.app = self._watched(app)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def _watched(self, app: Any) -> Callable[[Environ, StartResponse], Iterable[bytes]]:
        seen = self.seen

        def wsgi(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
            def start(status: str, headers: Any, exc_info: Any = None) -> Any:
                query = environ.get("QUERY_STRING")
                path = environ["PATH_INFO"] + (f"?{query}" if query else "")
                with seen.lock:
                    seen.requests.append((environ["REQUEST_METHOD"], path, int(status[:3])))
                return start_response(status, headers, exc_info)

            result: Iterable[bytes] = app(environ, start)
            return result

        return wsgi

    def start(self) -> None:
        self._server = make_server(
            "127.0.0.1", self.port, self.app, threaded=True, request_handler=_Quiet
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None


class _Quiet(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass  # the requests are in Served.seen; the test's output stays the test's


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class School:
    db: Database
    trust: tenancy.Trust
    school: tenancy.School
    served: Served

    def code(self) -> str:
        return devices.make_code(self.db, self.school.id, created_by="device-sync-test")

    def set_policy(self, text: str) -> None:
        policies.save_school_layer(self.db, self.school.id, text, by=None)

    def set_people(self, pupils: list[Pupil], staff: list[Pupil] | None = None) -> int:
        revision = registers.apply_people(
            self.db, self.school.id, [registers.person_json(p) for p in pupils]
        )
        if staff is not None:
            revision = registers.apply_people(
                self.db,
                self.school.id,
                [registers.person_json(p, "staff") for p in staff],
                role="staff",
            )
        return revision


def make_school(db: Database, data_dir: Path, database_url: str) -> School:
    trust = tenancy.create_trust(db, "Moorland Valley Schools Trust")
    school = tenancy.add_school(db, trust.id, "Larkspur Lane Primary")
    # A second school of the same trust: its register must never reach the device.
    other = tenancy.add_school(db, trust.id, "Heathermere Academy")
    registers.apply_people(
        db, other.id, [registers.person_json(Pupil("Ottoline", "Gravesend", social_media=False))]
    )
    app = create_server_app(database_url, data_dir=data_dir, testing=True, database=db)
    served = Served(app)
    made = School(db, trust, school, served)
    made.set_policy(SCHOOL_LAYER)
    made.set_people(PUPILS, STAFF)
    served.start()
    return made


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return run_cli(home, *args, env=NO_KEYRING)


def out(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stdout.decode() + result.stderr.decode()


TODAY = date(2026, 11, 30)
