"""The Accounts page in Debian's Chromium against the real `tweetguard dashboard`
process, with TWEETGUARD_X_API_URL pointing it at the fake X API on loopback:
credentials stored through the form (never shown back), the account verified, and
a sweep that finds a post naming a pupil flagged as posted outside tweetguard."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import write_policy
from tests.e2e.browser import CHROMIUM
from tests.e2e.conftest import NO_KEYRING
from tests.fake_x_api import FakeXApi, serving
from tests.registers import canonical

pytestmark = pytest.mark.browser

TOKEN = "AAAAtest-bearer-Meadowsweet-6021"
SCHOOL_ID = "8841207"
PASSWORD = "Larch-Pebble-Compass-77"
POLICY = """\
[school]
name = "Holloway Brook Primary School"

[[accounts]]
handle = "HollowayBrook"
visibility = "public"
"""


@pytest.fixture
def api() -> Iterator[FakeXApi]:
    with serving(
        TOKEN,
        SCHOOL_ID,
        "HollowayBrook",
        name="Holloway Brook Primary",
        location="Holloway Brook, Somerset",
        url="https://hollowaybrook.sch.uk",
        description="News from Holloway Brook Primary School",
    ) as fake:
        yield fake


@pytest.fixture
def dashboard(home: Path, api: FakeXApi) -> Iterator[str]:
    """The real console process; yields the first-run link it prints (with its
    one-time token), or its URL when it prints none."""
    from tests.conftest import run_cli

    (home / "pupils.csv").write_bytes(
        canonical([("Perpetua", "Okonjo-Lindgren", "no"), ("Barnaby", "Quist", "yes")])
    )
    assert run_cli(home, "consent", "import", str(home / "pupils.csv")).returncode == 0
    write_policy(home, POLICY)
    env = {k: v for k, v in os.environ.items() if k != "TWEETGUARD_HOME"}
    env.update(NO_KEYRING)
    env["TWEETGUARD_X_API_URL"] = api.url
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tweetguard",
            "--home",
            str(home),
            "dashboard",
            "--port",
            "0",
            "--feed-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().decode().strip()
        assert first.startswith("tweetguard console: http://127.0.0.1:"), first + (
            process.stderr.read().decode() if process.poll() is not None else ""
        )
        opened = first.removeprefix("tweetguard console: ")
        for raw in iter(process.stdout.readline, b""):
            line = raw.decode().strip()
            if line.startswith("first run: open "):
                opened = line.removeprefix("first run: open ").split()[0]
            if line.startswith("Press Ctrl-C"):
                break
        yield opened
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def page() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless=new", "--no-sandbox", "--disable-gpu"],
        )
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_store_credentials_verify_and_sweep_finds_a_pupils_name(
    dashboard: str, api: FakeXApi, page, home: Path
):
    from playwright.sync_api import expect

    page.goto(dashboard)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Type it again").fill(PASSWORD)
    page.get_by_role("button", name="Set password").click()
    page.get_by_role("link", name="Accounts").click()

    expect(page.locator("#no-credentials")).to_contain_text("No X API credentials are stored")
    form = page.locator("#credentials-bearer")
    form.get_by_label("Bearer token").fill(TOKEN)
    form.get_by_role("button", name="Store").click()
    expect(page.locator(".flash")).to_contain_text("Stored an app-only bearer token")
    expect(page.locator("#credentials-stored")).to_contain_text("an app-only bearer token")
    assert TOKEN not in page.content()  # write-only

    page.get_by_role("button", name="Verify accounts").click()
    row = page.locator('#approved-accounts tr[data-handle="HollowayBrook"]')
    expect(row).to_contain_text(SCHOOL_ID)
    expect(row).to_contain_text("All as the guidance asks.")
    assert f'user_id = "{SCHOOL_ID}"' in (home / "policy.toml").read_text()

    named = api.add_tweet(SCHOOL_ID, "Perpetua Okonjo-Lindgren read her poem at assembly today")
    clean = api.add_tweet(SCHOOL_ID, "Barnaby and his class planted bulbs by the gate")
    page.get_by_role("button", name="Sweep now").click()
    flagged = page.locator(f'#sweep-posts tr[data-tweet="{named}"]')
    expect(flagged).to_contain_text("block")
    expect(flagged).to_contain_text("names.no-consent")
    expect(page.locator(f'#sweep-posts tr[data-tweet="{clean}"]')).to_contain_text("ok")
    outside = page.locator(f'#outside-posts tr[data-tweet="{named}"]')
    expect(outside).to_contain_text("names.full-name")
    expect(outside.get_by_role("link")).to_have_attribute(
        "href", f"https://x.com/HollowayBrook/status/{named}"
    )
    assert [c.auth for c in api.calls()] == ["bearer"] * len(api.calls())
