"""The console in Debian's Chromium against the real `tweetguard dashboard`
process (its own data folder, free ports): first run, sign-in and lockout, a
forged form from another loopback origin, policy edits (and a refused one),
a register import preview, audit filter and export, and the live feed showing a
check made through the real native host within a second."""

from __future__ import annotations

import http.server
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli, write_policy
from tests.e2e.browser import CHROMIUM
from tests.e2e.conftest import NO_KEYRING
from tests.hostproc import HostProcess
from tests.registers import canonical, csv_text
from tweetguard.stores.audit import AuditLog, open_audit

pytestmark = pytest.mark.browser

PASSWORD = "Kestrel-Marmalade-Lantern-19"
ACCOUNT = {"handle": "ElmfieldPri", "user_id": "6620417"}
POLICY = """\
# Elmfield Primary: IT keeps this file (Mr Adebayo-Lund).
[school]
name = "Elmfield Primary School"

[[accounts]]
handle = "ElmfieldPri"
user_id = "6620417"
visibility = "public"
"""
PUPILS = [
    ("Seraphina", "Holloway-Quint", "no"),
    ("Bartholomew", "Achebe-Rourke", "yes"),
    ("Ottilie", "Marchetti", "yes"),
]


@dataclass
class Dashboard:
    url: str
    feed: str
    home: Path
    process: subprocess.Popen[bytes]
    lines: list[str]

    def stop(self) -> int:
        """Ctrl-C, as a person at the terminal would."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return -9


def start_dashboard(home: Path) -> Dashboard:
    env = {k: v for k, v in os.environ.items() if k != "TWEETGUARD_HOME"}
    env.update(NO_KEYRING)
    process = subprocess.Popen(
        [sys.executable, "-m", "tweetguard", "--home", str(home), "dashboard", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None
    lines = []
    while len(lines) < 8:
        line = process.stdout.readline().decode()
        if not line:
            raise AssertionError("dashboard ended: " + process.stderr.read().decode())
        lines.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl-C"):
            break
    first = re.fullmatch(r"tweetguard console: (http://127\.0\.0\.1:\d+/)", lines[0])
    assert first, lines
    feed = re.search(r"(ws://127\.0\.0\.1:\d+/)", lines[1])
    assert feed, lines
    return Dashboard(first.group(1), feed.group(1), home, process, lines)


def setup_link(dashboard: Dashboard) -> str:
    """The first-run link the dashboard printed (with its one-time token)."""
    for line in dashboard.lines:
        found = re.fullmatch(r"first run: open (http://127\.0\.0\.1:\d+/setup\?token=\S+) .*", line)
        if found:
            return found.group(1)
    raise AssertionError(f"no first-run line in {dashboard.lines}")


@pytest.fixture
def dashboard_home(home: Path) -> Path:
    (home / "pupils.csv").write_bytes(canonical(PUPILS))
    result = run_cli(home, "consent", "import", str(home / "pupils.csv"))
    assert result.returncode == 0, result.stderr.decode()
    write_policy(home, POLICY)
    return home


@pytest.fixture
def dashboard(dashboard_home: Path) -> Iterator[Dashboard]:
    running = start_dashboard(dashboard_home)
    yield running
    assert running.stop() == 0


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox", "--disable-gpu"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True)
    yield context.new_page()
    context.close()


class OtherOrigin:
    """A page on another loopback origin (same host, other port), as a site the
    admin has open in another tab could be."""

    def __init__(self, html: str) -> None:
        body = html.encode("utf-8")

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def first_run(page: Any, dashboard: Dashboard) -> None:
    page.goto(setup_link(dashboard))
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Type it again").fill(PASSWORD)
    page.get_by_role("button", name="Set password").click()
    page.get_by_role("heading", name="Today").wait_for()


def test_first_run_sign_in_lockout_and_secure_cookie(page: Any, dashboard: Dashboard) -> None:
    from playwright.sync_api import expect

    assert "a file readable only by this user" in dashboard.lines[2]
    assert dashboard.lines[3].startswith("audit: writing the shared audit")
    # Without the printed link, another local user cannot set the password first.
    page.goto(dashboard.url)
    expect(page).to_have_url(re.compile(r"/setup$"))
    expect(page.get_by_role("alert")).to_contain_text("one-time setup link")
    expect(page.get_by_label("New password")).to_have_count(0)
    page.goto(setup_link(dashboard))
    page.get_by_label("New password").fill("short one")
    page.get_by_label("Type it again").fill("short one")
    page.locator("form.narrow input[name=password]").evaluate("e => e.removeAttribute('minlength')")
    page.locator("form.narrow input[name=confirm]").evaluate("e => e.removeAttribute('minlength')")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("alert")).to_contain_text("use at least 12")
    first_run(page, dashboard)
    expect(page.locator("#secret-store")).to_contain_text("no OS keyring is available")
    # Chromium keeps the Secure cookie set over http://127.0.0.1 and sends it back.
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "tweetguard_console"]
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.get_by_role("link", name="Policy").click()
    expect(page.get_by_role("heading", name="Policy", exact=True)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("Signed out.")
    page.goto(dashboard.url + "audit/")
    expect(page).to_have_url(re.compile(r"/login\?next=/audit/"))
    for left in (4, 3, 2, 1):
        page.get_by_label("Admin password").fill("Kestrel-Marmalade-Lantern-91")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text(f"{left} more wrong")
    page.get_by_label("Admin password").fill("kestrel-marmalade-lantern-19")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("locked until")
    # Locked: even the right password is refused, and a restart does not unlock it.
    dashboard.stop()
    restarted = start_dashboard(dashboard.home)
    try:
        # The password is set: no first-run link is printed any more.
        assert not any(line.startswith("first run") for line in restarted.lines)
        page.goto(restarted.url + "login")
        expect(page.get_by_role("alert")).to_contain_text("locked until")
        page.get_by_label("Admin password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("Wait, then try again")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    finally:
        assert restarted.stop() == 0


def test_a_forged_form_from_another_origin_is_refused(page: Any, dashboard: Dashboard) -> None:
    from playwright.sync_api import expect

    first_run(page, dashboard)
    before = (dashboard.home / "policy.toml").read_bytes()
    other = OtherOrigin(
        f"""<!doctype html><title>Free clip art</title>
        <form method="post" action="{dashboard.url}policy/accounts">
          <input name="handle" value="ElmfieldPri_"><input name="visibility" value="public">
          <button type="submit">Download</button>
        </form>"""
    )
    try:
        page.goto(other.url)
        page.get_by_role("button", name="Download").click()
        expect(page.get_by_role("heading", name="Form refused")).to_be_visible()
        expect(page.get_by_role("alert")).to_contain_text("did not come from a console page")
    finally:
        other.close()
    assert (dashboard.home / "policy.toml").read_bytes() == before
    # False-alarm trap: the console's own form adds the same account.
    page.goto(dashboard.url + "policy/")
    page.locator("#add-account input[name=handle]").fill("ElmfieldPri_")
    page.locator("#add-account").get_by_role("button", name="Approve account").click()
    expect(page.get_by_role("status")).to_contain_text("approved the account @ElmfieldPri_")


def test_policy_edit_round_trip_and_an_invalid_edit_refused(
    page: Any, dashboard: Dashboard
) -> None:
    from playwright.sync_api import expect

    path = dashboard.home / "policy.toml"
    first_run(page, dashboard)
    page.get_by_role("link", name="Policy").click()
    add = page.locator("#add-account")
    add.locator("input[name=handle]").fill("ElmfieldPTA")
    add.locator("select[name=visibility]").select_option("protected")
    add.get_by_role("button", name="Approve account").click()
    expect(page.get_by_role("status")).to_contain_text("@ElmfieldPTA (protected)")
    expect(page.locator('#accounts tr[data-handle="ElmfieldPTA"]')).to_contain_text("not resolved")
    page.locator('select[name="enabled:language.profanity"]').select_option("off")
    page.locator('select[name="severity:links.external"]').select_option("block")
    page.get_by_role("button", name="Save rule settings").click()
    expect(page.get_by_role("status")).to_contain_text("language.profanity off/default")
    expect(page.locator('tr[data-rule="links.external"] td').last).to_have_text("block")
    places = page.locator("#allow-places textarea")
    places.fill("Elmfield Rec\nThe Old Forge Hall")
    page.locator("#allow-places").get_by_role("button").click()
    expect(page.locator("#allow-places textarea")).to_have_value("Elmfield Rec\nThe Old Forge Hall")
    text = path.read_text(encoding="utf-8")
    assert "# Elmfield Primary: IT keeps this file" in text
    assert 'handle = "ElmfieldPTA"' in text and 'visibility = "protected"' in text
    assert '[rules."language.profanity"]' in text and "The Old Forge Hall" in text
    # An edit the helper would refuse: the loader's message, the file byte for byte.
    before = path.read_bytes()
    page.get_by_role("link", name="Edit the file as text").click()
    editor = page.get_by_label("policy.toml")
    editor.fill(editor.input_value() + '\n[rules."names.nickname-guess"]\nenabled = true\n')
    page.get_by_role("button", name="Check and save").click()
    expect(page.get_by_role("alert")).to_contain_text("policy.toml is unchanged")
    expect(page.get_by_role("alert")).to_contain_text(
        "unknown rule(s) in [rules]: names.nickname-guess"
    )
    assert path.read_bytes() == before
    rows = [
        r for r in _audit(dashboard.home) if r.kind == "policy" and r.detail.get("by") == "console"
    ]
    assert len(rows) == 3


def test_register_import_preview_shows_a_bad_row(
    page: Any, dashboard: Dashboard, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    export = tmp_path / "arbor-export.csv"
    export.write_text(
        csv_text(
            ["Legal Forename", "Legal Surname", "Social Media Consent"],
            [
                ["Seraphina", "Holloway-Quint", "no"],
                ["Bartholomew", "Achebe-Rourke", "no"],  # withdrawn
                ["Ottilie", "Marchetti", "yes"],
                ["Percival", "Dunmore-Agbaje", "ask office"],  # line 5: unreadable consent
            ],
        ),
        encoding="utf-8",
    )
    first_run(page, dashboard)
    page.get_by_role("link", name="Consent register").click()
    expect(page.locator("#register-summary")).to_contain_text("3 pupil(s)")
    page.locator("input[name=file]").set_input_files(str(export))
    page.get_by_role("button", name="Preview the import").click()
    expect(
        page.get_by_role("heading", name="What importing arbor-export.csv would change")
    ).to_be_visible()
    bad = page.locator("#problems tbody tr").filter(has_text="ask office")
    expect(bad.locator("td").first).to_have_text("5")
    expect(bad).to_contain_text("not yes or no")
    expect(page.locator("#withdrawn")).to_contain_text("Bartholomew Achebe-Rourke")
    expect(page.locator("#added")).to_contain_text("Percival Dunmore-Agbaje")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#register-summary")).to_contain_text("3 pupil(s)")
    assert not any((dashboard.home / "console" / "uploads").iterdir())


def test_audit_filter_and_export(page: Any, dashboard: Dashboard) -> None:
    from playwright.sync_api import expect

    log = open_audit(dashboard.home)
    log.append("check", account="ElmfieldPri", verdict="block", rules=["names.full-name"])
    log.append("check", account="ElmfieldPri", verdict="ok")
    log.append(
        "override",
        account="ElmfieldPri",
        rules=["language.profanity"],
        detail={"reason": "title of the school play"},
    )
    log.close()
    first_run(page, dashboard)
    page.get_by_role("link", name="Audit").click()
    mine = page.locator("#audit-rows tbody tr").filter(has_text="@elmfieldpri")
    expect(mine).to_have_count(3)
    page.get_by_label("Verdict").select_option("block")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#audit-rows tbody tr")).to_have_count(1)
    expect(page.locator("#audit-rows tbody tr")).to_contain_text("names.full-name")
    expect(page.locator("#sources")).to_contain_text("verified")
    with page.expect_download() as download:
        page.locator("#export-csv").click()
    saved = Path(download.value.path())
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("source,seq,at,kind")
    assert len(lines) == 2 and ",block," in lines[1] and "names.full-name" in lines[1]
    assert download.value.suggested_filename.startswith("tweetguard-audit-")


def _audit(home: Path) -> list[Any]:
    log = AuditLog(home / "audit.sqlite3")
    try:
        return log.rows()
    finally:
        log.close()


ARRIVALS = """() => {
  window.arrivals = [];
  const body = document.querySelector('#latest tbody');
  new MutationObserver(records => {
    const now = Date.now();
    for (const r of records) for (const n of r.addedNodes)
      if (n.dataset)
        window.arrivals.push({source: n.dataset.source, seq: Number(n.dataset.seq), at: now});
  }).observe(body, {childList: true});
}"""


def open_live_overview(page: Any, dashboard: Dashboard) -> None:
    from playwright.sync_api import expect

    first_run(page, dashboard)
    expect(page.locator("#feed-state")).to_contain_text("Live")
    page.evaluate(ARRIVALS)


def arrival(page: Any, seq: int) -> float:
    """When (ms since the epoch) the page showed the shared audit's row `seq`."""
    page.wait_for_function(
        "seq => window.arrivals.some(a => a.source === 'shared' && a.seq === seq)", arg=seq
    )
    found: float = page.evaluate(
        "seq => window.arrivals.find(a => a.source === 'shared' && a.seq === seq).at", seq
    )
    return found


def written(home: Path, seq: int) -> float:
    from datetime import datetime

    (row,) = [r for r in _audit(home) if r.seq == seq]
    return datetime.fromisoformat(row.at.replace("Z", "+00:00")).timestamp() * 1000


def test_the_live_feed_shows_a_check_from_the_native_host_within_a_second(
    page: Any, dashboard: Dashboard
) -> None:
    from playwright.sync_api import expect

    open_live_overview(page, dashboard)
    checks_before = int(page.locator('[data-count="check"]').inner_text())
    holds_before = int(page.locator('[data-count="hold"]').inner_text())
    host = HostProcess(dashboard.home)
    delays = []
    try:
        assert host.ask({"id": 1, "type": "hello"})["ok"]
        texts = [
            "Seraphina Holloway-Quint read her poem to the whole school today.",
            "Our Year 5 gardeners planted forty tulip bulbs by the library.",  # trap: clean
        ]
        for number, text in enumerate(texts, start=2):
            reply = host.ask(
                {
                    "id": number,
                    "type": "check",
                    "text": text,
                    "account": ACCOUNT,
                    "stage": "posting",
                }
            )
            assert reply["ok"], reply
            row = [r for r in _audit(dashboard.home) if r.kind == "check"][-1]
            delays.append(arrival(page, row.seq) - written(dashboard.home, row.seq))
    finally:
        host.kill()
    latest = page.locator("#latest tbody tr")
    expect(latest.first).to_contain_text("check")
    expect(page.locator('[data-count="check"]')).to_have_text(str(checks_before + 2))
    expect(page.locator('[data-count="hold"]')).to_have_text(str(holds_before + 1))
    held = latest.filter(has_text="names.full-name")
    expect(held).to_have_count(1)
    expect(held.locator(".verdict-block")).to_have_text("block")
    expect(page.locator("#devices")).to_contain_text("(check)")
    print(
        f"live feed delay (audit row written -> shown in the page): {[round(d) for d in delays]} ms"
    )
    assert all(0 <= d < 1000 for d in delays), delays


def test_the_live_feed_refuses_another_origin(page: Any, dashboard: Dashboard) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    first_run(page, dashboard)
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "tweetguard_console"]
    other = OtherOrigin(
        f"""<!doctype html><title>waiting</title><script>
        const s = new WebSocket({dashboard.feed!r});
        s.onopen = () => {{ document.title = 'opened'; }};
        s.onclose = e => {{
          if (document.title !== 'opened') document.title = 'refused ' + e.code;
        }};
        </script>"""
    )
    try:
        page.goto(other.url)
        page.wait_for_function(
            "document.title.startsWith('refused') || document.title === 'opened'"
        )
        assert page.title() == "refused 1006"
    finally:
        other.close()
    # The browser hides why; the handshake says it: 403, even with the admin's cookie.
    with pytest.raises(InvalidStatus) as refused:
        connect(
            dashboard.feed,
            origin=other.url.rstrip("/"),
            additional_headers={"Cookie": f"tweetguard_console={cookie['value']}"},
            open_timeout=5,
        ).close()
    assert refused.value.response.status_code == 403
    # False-alarm trap: the console's own page with that cookie is let in.
    with connect(
        dashboard.feed,
        origin=dashboard.url.rstrip("/"),
        additional_headers={"Cookie": f"tweetguard_console={cookie['value']}"},
        open_timeout=5,
    ):
        pass
