"""The server's overview in Debian's Chromium against a real `tweetguard server run`
(gunicorn and the pages' live feed, its own SQLite file and free ports): a
safeguarding lead sees an audit row a device of their school pushes appear without
reloading the page; the safeguarding lead of another school, signed in at the same
moment, never sees it (and does see their own school's row, so the trap is not a
dead feed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import CHROMIUM
from tests.server.running import server_run
from tests.server.test_fanout import Server, chained_row
from tweetguard.server import devices, tenancy
from tweetguard.server.db import open_database, upgrade

pytestmark = pytest.mark.browser

PASSWORD = "Wicket-Saffron-Tideway-63"
WEIR = "dsl@weirside.example"
THORN = "dsl@thornbury.example"


@dataclass
class Running:
    server: Server
    credentials: dict[str, str]  # school name -> a device credential of that school

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def push(self, school: str, words: str) -> dict[str, Any]:
        row = chained_row(1, "", words)
        status, _, body = self.server.request(
            "POST",
            "/api/v1/audit",
            json.dumps({"source": "shared", "rows": [row]}).encode(),
            {
                "Authorization": f"Bearer {self.credentials[school]}",
                "X-Tweetguard-Helper": "e2e",
                "Content-Type": "application/json",
            },
        )
        assert status == 200, body
        return row


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    upgrade(url)
    db = open_database(url)
    try:
        trust = tenancy.create_trust(db, "Millrace Schools Trust")
        credentials = {}
        for name, lead, device in (
            ("Weirside Primary", WEIR, "weirside-library-pc"),
            ("Thornbury Infants", THORN, "thornbury-office-pc"),
        ):
            school = tenancy.add_school(db, trust.id, name)
            tenancy.add_user(db, trust.id, lead, PASSWORD, "safeguarding_lead", [school.id])
            code = devices.make_code(db, school.id, created_by="e2e")
            credentials[name] = devices.enrol(db, code, name=device, kind="helper")[1]
    finally:
        db.dispose()
    with server_run(tmp_path / "data", url, tmp_path / "server.log") as server:
        yield Running(server, credentials)


def sign_in(browser: Any, base: str, email: str) -> Any:
    """A page of its own browser context (its own cookies), signed in on the overview
    with the live feed open."""
    from playwright.sync_api import expect

    page = browser.new_context().new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    expect(page.locator("#signed-in-as")).to_contain_text(email)
    page.wait_for_function("document.getElementById('live').dataset.live === 'yes'")
    return page


def test_a_lead_sees_their_schools_row_arrive_and_another_schools_lead_does_not(
    running: Running,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox", "--disable-gpu"]
        )
        try:
            weir = sign_in(browser, running.url, WEIR)
            thorn = sign_in(browser, running.url, THORN)
            expect(weir.locator("#feed-state")).to_contain_text("Live")
            # A reload would start a new document without this mark.
            weir.evaluate("window.__noReload = 1")

            pushed = running.push("Weirside Primary", "Weirside's choir sang at the harvest fair")
            arrived = weir.locator("#latest tbody tr")
            expect(arrived).to_have_count(1, timeout=5000)
            expect(arrived.first).to_contain_text("Weirside Primary")
            # The device as the audit page names it: the registered name first.
            expect(arrived.first).to_contain_text(
                "weirside-library-pc (row says staffroom-pc) / teacher"
            )
            expect(arrived.first).to_contain_text("@fernhillprimary")
            expect(weir.locator(f"#school-{_school_id(weir)} .last-seen")).to_contain_text(
                str(pushed["at"])[:10]
            )
            expect(weir.locator("#no-rows")).to_have_count(0)
            # Without reload: the document marked before the push is still the one shown.
            assert weir.evaluate("window.__noReload") == 1

            # The trap: Thornbury's lead hears their own school's row, and only that.
            running.push("Thornbury Infants", "Thornbury's reception class planted bulbs")
            theirs = thorn.locator("#latest tbody tr")
            expect(theirs).to_have_count(1, timeout=5000)
            expect(theirs.first).to_contain_text("Thornbury Infants")
            assert "Weirside" not in thorn.locator("#latest").inner_text()
            assert "Weirside" not in thorn.content()
            # And Weirside's page never takes Thornbury's row.
            expect(arrived).to_have_count(1)
            assert "Thornbury" not in weir.locator("#latest").inner_text()
        finally:
            browser.close()


def _school_id(page: Any) -> str:
    row_id: str = page.locator("#schools tbody tr").first.get_attribute("id")
    return row_id.removeprefix("school-")
