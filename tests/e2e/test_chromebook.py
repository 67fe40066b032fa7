"""A Chromebook, for real: Debian's Chromium with the built extension and NO native
host, its managed storage (serverUrl, enrolmentToken) set through Chromium's managed
policy file as the Google Admin console would push it, against the school's server
on loopback over HTTPS (`tweetguard server run`: gunicorn with the certificate files,
the device WebSocket in its own process beside it) and the local x.com.

A post naming a pupil of the school without consent is held with the server's
finding; a clean post goes; once the server is stopped, the next post is held with
one line naming the server. Root only: the policy folder is the machine's. The
policy file lives only inside the test and the folder is left exactly as it was.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.e2e import browser, crx, fixture_server
from tests.e2e.conftest import NO_KEYRING
from tweetguard import identity
from tweetguard.server import devices, policies, registers, tenancy
from tweetguard.server.db import open_database, tables, upgrade
from tweetguard.stores.consent import Pupil

pytestmark = pytest.mark.browser

POLICY_NAME = "tweetguard-chromebook-test.json"
PANEL = "[data-tweetguard-panel] section"
POST_BUTTON = '[data-testid="tweetButtonInline"]'
PUPIL = ("Cressida", "Vanstone-Hale")  # a pupil of the school, no consent


@dataclass
class SchoolServer:
    url: str
    token: str
    database_url: str
    process: subprocess.Popen[bytes]
    ws_port: int

    def stop(self) -> None:
        """Kills the server's process group (gunicorn, its workers, the WebSocket):
        every socket gone, as when the server goes down."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def school_server(tmp_path: Path) -> Iterator[SchoolServer]:
    """A school with a register and an approved account, a Chromebook enrolment
    token, and the server serving them over HTTPS in its own process."""
    database_url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    upgrade(database_url)
    db = open_database(database_url)
    try:
        trust = tenancy.create_trust(db, "Meadowcroft Schools Trust")
        school = tenancy.add_school(db, trust.id, "Oakfield Primary")
        policies.save_school_layer(
            db,
            school.id,
            '[school]\nname = "Oakfield Primary"\n\n'
            f'[[accounts]]\nhandle = "OakfieldPrimary"\nuser_id = "{fixture_server.USER_ID}"\n'
            'visibility = "public"\n\n[posting]\nlogout_after_post = false\n',
            by=None,
        )
        registers.apply_people(
            db,
            school.id,
            [
                registers.person_json(
                    Pupil(first_name=PUPIL[0], last_name=PUPIL[1], class_name="3H")
                ),
                registers.person_json(
                    Pupil(first_name="Barnaby", last_name="Oyelaran", class_name="3H")
                ),
            ],
        )
        token = devices.make_token(db, school.id, created_by="test")
    finally:
        db.dispose()
    tls = tmp_path / "server-tls"
    tls.mkdir()
    cert, key = fixture_server.make_certificate(tls)
    http_port, ws_port = free_port(), free_port()
    # `tweetguard server run`, as IT runs it: gunicorn with TLS from the certificate
    # files, and the device WebSocket in its own process on the next port given.
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tweetguard",
            "--home",
            str(tmp_path / "server-data"),
            "server",
            "run",
            "--database",
            database_url,
            "--bind",
            f"127.0.0.1:{http_port}",
            "--certfile",
            str(cert),
            "--keyfile",
            str(key),
            "--workers",
            "2",
            "--ws-port",
            str(ws_port),
        ],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "TWEETGUARD_HOME"},
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: gunicorn's workers, the WebSocket
    )
    server = SchoolServer(f"https://127.0.0.1:{http_port}", token, database_url, process, ws_port)
    try:
        browser.wait_until(lambda: answers(http_port) and answers(ws_port), "the server to listen")
        yield server
    finally:
        server.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def answers(port: int) -> bool:
    """Whether a TLS handshake on 127.0.0.1:port completes (the server is up)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=2) as raw,
            context.wrap_socket(raw),
        ):
            return True
    except OSError:
        return False


def connected_to(port: int) -> bool:
    """Whether some process holds an established TCP connection to 127.0.0.1:port
    (the kernel's own table: the browser's WebSocket, seen from outside)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state = fields[1], fields[3]
        if state == "01" and int(local.split(":")[1], 16) == port:
            return True
    return False


def rows(database_url: str) -> list[dict[str, Any]]:
    db = open_database(database_url)
    try:
        with db.read() as conn:
            found = conn.execute(tables.audit_rows.select().order_by(tables.audit_rows.c.seq)).all()
        return [dict(r._mapping) for r in found]
    finally:
        db.dispose()


def extension_devices(database_url: str) -> list[Any]:
    db = open_database(database_url)
    try:
        with db.read() as conn:
            return list(
                conn.execute(
                    tables.devices.select().where(tables.devices.c.kind == "extension")
                ).all()
            )
    finally:
        db.dispose()


def type_post(page: Any, text: str) -> None:
    page.locator('[data-testid="tweetTextarea_0"]').first.click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(text)


NOT_ROOT = (
    "managed storage comes from /etc/chromium/policies/managed, which needs root "
    "(run the suite as root, as ./build.sh test in CI does)"
)


@pytest.fixture
def as_root() -> None:
    """Skips when not root, but fails under CI (which must run this test): named
    first among the test's fixtures, so nothing else is set up before it."""
    if os.geteuid() == 0:
        return
    if os.environ.get("CI"):
        pytest.fail(f"the Chromebook test cannot run under CI: {NOT_ROOT}")
    pytest.skip(NOT_ROOT)


def test_chromebook_checked_by_the_school_server(
    as_root: None,
    tmp_path: Path,
    site: fixture_server.FixtureSite,
    extension_dir: Path,
    school_server: SchoolServer,
) -> None:
    from playwright.sync_api import sync_playwright

    before = crx.snapshot()
    assert not (crx.MANAGED / POLICY_NAME).exists(), (
        f"{crx.MANAGED / POLICY_NAME} is there already (another run?); not touching it"
    )
    profile = tmp_path / "profile"
    profile.mkdir()
    policy = {
        "3rdparty": {
            "extensions": {
                identity.CHROME_EXTENSION_ID: {
                    "serverUrl": school_server.url,
                    "enrolmentToken": school_server.token,
                }
            }
        }
    }
    env = {**os.environ, **NO_KEYRING}
    playwright = sync_playwright().start()
    try:
        with crx.managed_policy(POLICY_NAME, policy):
            context = browser.launch(playwright, profile, extension_dir, site.port, env=env)
            try:
                check_chromebook(context, site, school_server, profile)
            finally:
                context.close()
    finally:
        playwright.stop()
    assert not (crx.MANAGED / POLICY_NAME).exists()
    assert crx.snapshot() == before


def check_chromebook(
    context: Any, site: fixture_server.FixtureSite, server: SchoolServer, profile: Path
) -> None:
    # No native host anywhere for this profile: only the server can answer.
    assert not list(profile.glob("NativeMessagingHosts/*.json"))
    page = context.pages[0] if context.pages else context.new_page()
    page.goto("https://x.com/home")
    # The worker read the managed storage and enrolled with the token.
    enrolled = browser.wait_until(lambda: extension_devices(server.database_url), "the enrolment")
    assert len(enrolled) == 1

    name = " ".join(PUPIL)
    type_post(page, f"Brilliant reading from {name} in assembly today")
    page.locator(POST_BUTTON).click()
    panel = page.locator(PANEL)
    expect(panel).to_contain_text("tweetguard held this post", timeout=15_000)
    expect(panel).to_contain_text(f"“{name}” is a pupil's full name")
    assert site.posts == []
    # The checks as the teacher typed went over the WebSocket the hello named.
    device_id = enrolled[0].id
    browser.wait_until(lambda: connected_to(server.ws_port), "the extension's WebSocket")

    clean = "Class 3H planted daffodil bulbs by the school gate"
    type_post(page, clean)
    expect(panel).to_have_count(0, timeout=15_000)  # the live check, by the server
    page.locator(POST_BUTTON).click()
    assert [p["text"] for p in site.wait_for_posts(1)] == [clean]

    # The server recorded both checks and the post in this device's chain.
    def kinds_once_posted() -> list[str] | None:
        found = [x["kind"] for x in rows(server.database_url) if x["device_id"] == device_id]
        return found if "post" in found else None

    kinds = browser.wait_until(kinds_once_posted, "the post row on the server")
    assert kinds.count("check") >= 2
    verdicts = {x["verdict"] for x in rows(server.database_url) if x["kind"] == "check"}
    assert {"block", "ok"} <= verdicts

    # The popup says who checks the posts.
    popup = context.new_page()
    popup.goto(f"chrome-extension://{identity.CHROME_EXTENSION_ID}/src/popup/popup.html")
    host = server.url.removeprefix("https://")
    expect(popup.locator("#helper")).to_have_text(f"Checked by the school's server {host}")
    popup.close()

    # The server goes down: the next post is held, saying which server.
    server.stop()
    type_post(page, "Class 3H will sing at the harvest festival on Friday")
    page.locator(POST_BUTTON).click()
    expect(panel).to_contain_text(
        f"The school's tweetguard server {host} cannot be reached, so this post is held",
        timeout=20_000,
    )
    assert len(site.posts) == 1
