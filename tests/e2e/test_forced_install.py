"""tweetguard force-installed by school policy, for real: the built extension is
packed as a CRX3, served with its update manifest on loopback and named in a
managed policy file in /etc/chromium/policies/managed, the way IT deploys it.

Only a policy install gets blocking webRequest, so this is where the network
guard's "blocking" mode is tried. Root only (the policy folder is the machine's).
The policy file lives only inside the test: it is removed, with any folder made for
it, before the test returns, so no other test (or browser) ever sees it. Browsers
the other tests start would not take the extension anyway: Playwright starts them
with --disable-extensions and --disable-background-networking.

The CRX is signed with a key made here (the repo holds only the public key), so its
id is not tweetguard's usual one: the helper is registered for that id.

Chromium does not let DevTools (so Playwright) attach to a policy-installed
extension, even with DeveloperToolsAvailability 0, so the test reads the extension
from outside: chrome://extensions-internals for how it was installed, the helper's
the audit for what the network guard recorded, and the fixture site for what went out.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.audit_events import events as audit_events
from tests.conftest import ROOT, run_cli
from tests.e2e import browser, crx, fixture_server

pytestmark = pytest.mark.browser

POLICY_NAME = "tweetguard-test.json"
TEMPLATE = "chrome-linux-managed.json"
PANEL = "[data-tweetguard-panel] section"
UNKNOWN_POLICY = "TweetguardNoSuchPolicy"
# chrome://policy's text, shadow roots included, as "a | b | c" (its rows are custom
# elements, so neither inner_text nor a selector reaches them).
POLICY_PAGE_TEXT = """() => {
  const out = [];
  const walk = (node) => {
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) {
      if (child.nodeType === 3) {
        if (child.textContent.trim()) out.push(child.textContent.trim());
      } else walk(child);
    }
  };
  walk(document.body);
  return out.join(' | ');
}"""
NETWORK_GUARD = ROOT / "extension" / "src" / "network-guard.js"

# The page's own script calling X's API directly, as a script or another extension could.
DIRECT_CALL = """async (text) => {
  const ct0 = (document.cookie.split('; ').find((c) => c.startsWith('ct0=')) || '').slice(4);
  try {
    const response = await fetch('/i/api/graphql/Zq1x-8/CreateTweet', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': ct0 },
      body: JSON.stringify({ variables: { tweet_text: text }, queryId: 'Zq1x-8' }),
    });
    return 'passed ' + response.status;
  } catch (error) {
    return 'blocked';
  }
}"""


def incidents(home: Path) -> list[dict[str, Any]]:
    return audit_events(home, "incident")


def type_post(page: Any, text: str) -> None:
    page.locator('[data-testid="tweetTextarea_0"]').first.click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(text)


@pytest.mark.skipif(
    os.geteuid() != 0,
    reason="force-installing needs root: it writes /etc/chromium/policies/managed "
    "(run the suite as root, as ./build.sh test in CI does)",
)
def test_force_installed_by_policy(
    tmp_path: Path, site: fixture_server.FixtureSite, registered_home: Path
) -> None:
    from playwright.sync_api import sync_playwright

    before = crx.snapshot()
    assert not (crx.MANAGED / POLICY_NAME).exists(), (
        f"{crx.MANAGED / POLICY_NAME} is there already (another run?); not touching it"
    )
    signed = crx.signed_build(tmp_path)
    extension_id = signed.extension_id
    assert signed.crx.read_bytes()[:4] == b"Cr24"
    assert extension_id != crx._extension_build().manifest_extension_id(signed.unpacked)

    # The helper, for this profile and this id (as IT would with --extension-id).
    home, profile = registered_home, tmp_path / "profile"
    profile.mkdir()
    result = run_cli(
        home, "install-host", "--extension-id", extension_id, "--user-data-dir", str(profile)
    )
    assert result.returncode == 0, result.stderr.decode()
    host = json.loads((profile / "NativeMessagingHosts" / "org.tweetguard.helper.json").read_text())
    assert host["allowed_origins"] == [f"chrome-extension://{extension_id}/"]
    crx.school_home(home)

    updates = crx.serve(extension_id, signed.version, signed.crx)
    env = crx.browser_env()
    playwright = sync_playwright().start()
    try:
        # The whole template IT copies (generated from source.toml), for this CRX's id,
        # fetched from the loopback update server: force-install and pin, only our
        # native host (allowlist + blocklist "*"), the managed settings, and the ways
        # around the guard closed. The browser is asked for an incognito window: with
        # the template applied it must open an ordinary one, where the guard runs.
        policy = template_for(extension_id, updates.update_url)
        # The one setting relaxed here: the template turns user-level hosts off, and
        # this test registers the helper for its own profile (user level). The
        # system-wide host the template expects is tests/e2e/test_system_install.py's.
        assert policy["NativeMessagingUserLevelHosts"] is False
        policy["NativeMessagingUserLevelHosts"] = True
        # The trap: a policy Chromium does not know must not be read as accepted.
        policy[UNKNOWN_POLICY] = True
        with crx.managed_policy(POLICY_NAME, policy):
            context = crx.launch_forced(
                playwright, profile, site.port, env=env, extra_args=("--incognito",)
            )
            try:
                check_forced_browser(context, extension_id, updates, site, home)
                check_policies_accepted(context, extension_id, policy)
            finally:
                context.close()
    finally:
        playwright.stop()
        updates.close()
    # The machine's policy folder is exactly as it was.
    assert not (crx.MANAGED / POLICY_NAME).exists()
    assert crx.snapshot() == before


def _policies_generator() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "tweetguard_policies_e2e", ROOT / "packaging" / "policies.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def template_for(extension_id: str, update_url: str) -> dict[str, Any]:
    """native-messaging/policies' Chrome template as packaging/policies.py makes it for
    this id (a school's own CRX key), its update URL the test's loopback server."""
    policies = _policies_generator()
    generated = policies.generate(
        policies.read_source(),
        extension_id=extension_id,
        update_url="https://updates.invalid/tweetguard/updates.xml",
    )
    policy: dict[str, Any] = json.loads(generated[TEMPLATE])
    policy["ExtensionSettings"][extension_id]["update_url"] = update_url  # plain http, loopback
    committed = json.loads((ROOT / "native-messaging" / "policies" / TEMPLATE).read_text())
    assert set(policy) == set(committed)  # the same template, but for the id and the URL
    return policy


def check_policies_accepted(context: Any, extension_id: str, policy: dict[str, Any]) -> None:
    """chrome://policy: Chromium knows every policy of the template and finds each
    value valid, and the extension's managed settings passed its managed_schema.json
    (Chromium drops a managed setting that does not fit the schema)."""
    page = context.new_page()
    page.goto("chrome://policy")
    # A just-installed extension's managed settings appear on the next policy load.
    managed = policy["3rdparty"]["extensions"][extension_id]
    reloaded = [0.0]

    def rows() -> str | None:
        text: str = page.evaluate(POLICY_PAGE_TEXT)
        section = text.split(f"| {extension_id} |", 1)
        if len(section) == 2 and re.search(r"\| supportContact \| [^|]+ \| Platform", section[1]):
            return text
        if time.monotonic() - reloaded[0] > 1:  # ask again, at most once a second
            page.get_by_role("button", name="Reload policies").click()
            reloaded[0] = time.monotonic()
        return None

    text = browser.wait_until(rows, "chrome://policy to show the extension's managed settings")
    chrome_part, extension_part = text.split(f"| {extension_id} |", 1)
    unknown = re.search(rf"\| {UNKNOWN_POLICY} \| .*? \| Mandatory \| (\w+) \|", chrome_part)
    assert unknown and unknown[1] != "OK", unknown
    for name in [*(p for p in policy if p not in ("3rdparty", UNKNOWN_POLICY)), *managed]:
        part = extension_part if name in managed else chrome_part
        row = re.search(
            rf"\| {name} \| (?:[^|]* \| )?Platform \| Machine \| Mandatory \| (\w+) \|", part
        )
        assert row, f"chrome://policy does not list {name}"
        assert row[1] == "OK", f"chrome://policy: {name} is {row[1]}"
    page.close()


def check_forced_browser(
    context: Any,
    extension_id: str,
    updates: crx.UpdateServer,
    site: fixture_server.FixtureSite,
    home: Path,
) -> None:
    page = context.pages[0] if context.pages else context.new_page()
    internals = context.new_page()

    def ours() -> dict[str, Any] | None:
        found = [e for e in crx.installed_extensions(internals) if e["id"] == extension_id]
        return found[0] if found else None

    extension = browser.wait_until(
        ours, f"Chromium to install {extension_id} from {updates.update_url}"
    )
    assert {"/update.xml", "/tweetguard.crx"} <= set(updates.served)
    # EXTERNAL_POLICY_DOWNLOAD is what chrome.management reports as installType "admin".
    assert extension["location"] == "EXTERNAL_POLICY_DOWNLOAD"
    assert extension["disable_reasons"] == []
    # Nothing else runs (but Chromium's own, e.g. the PDF viewer): no unpacked copy.
    others = [e for e in crx.installed_extensions(internals) if e["location"] != "COMPONENT"]
    assert [e["id"] for e in others] == [extension_id]
    internals.close()

    # The composer guard, with the helper the policy-installed extension started.
    page.goto("https://x.com/home")
    type_post(page, "Well done Amelia Thornbury for a brilliant assembly!")
    page.locator('[data-testid="tweetButtonInline"]').click()
    expect(page.locator(PANEL)).to_contain_text("“Amelia Thornbury” is a pupil's full name")
    assert site.posts == []
    type_post(page, "Year 4 planted sunflowers in the school garden today")
    expect(page.locator(PANEL)).to_have_count(0)
    page.locator('[data-testid="tweetButtonInline"]').click()
    assert [p["text"] for p in site.wait_for_posts(1)] == [
        "Year 4 planted sunflowers in the school garden today"
    ]

    if not NETWORK_GUARD.exists():
        pytest.skip(
            "the force-installed extension works; the network guard (blocking mode, a "
            "direct CreateTweet cancelled) is not checked: extension/src/network-guard.js "
            "has not landed"
        )
    api = extension["permissions"]["active"]["api"]
    assert "webRequestBlocking" in api, f"blocking webRequest not granted: {api}"
    # The page's own script posting straight to X's API is cancelled at the network.
    assert page.evaluate(DIRECT_CALL, "Amelia Thornbury 07700 900123") == "blocked"
    assert len(site.posts) == 1
    recorded = browser.wait_until(
        lambda: [i for i in incidents(home) if i.get("what") == "network-unchecked"],
        "the network guard to record the direct CreateTweet with the helper",
    )
    # The guard says which mode held it: "blocking" is only possible when force-installed.
    assert "(blocking mode)" in recorded[0]["detail"], recorded[0]
    assert recorded[0]["url"].endswith("/CreateTweet")


def test_popup_says_an_unpacked_extension_is_not_protected_by_policy(launch) -> None:
    """Loaded unpacked (installType "development"), the popup tells IT what to do."""
    x = launch()
    from tweetguard import identity

    popup = x.context.new_page()
    popup.goto(f"chrome-extension://{identity.CHROME_EXTENSION_ID}/src/popup/popup.html")
    expect(popup.locator("#policy")).to_have_text(
        "This computer is not protected by school policy: IT can force-install "
        "tweetguard (see “How IT deploys it” in the tweetguard README)"
    )
    expect(popup.locator("#policy")).to_have_class("bad")
    if NETWORK_GUARD.exists():
        expect(popup.locator("#guard")).to_have_text("On: stops posts that were not checked")
    else:
        expect(popup.locator("#guard")).to_be_hidden()


def test_policy_file_goes_with_every_folder_made_for_it_even_on_failure(tmp_path: Path) -> None:
    folder = tmp_path / "etc" / "chromium" / "policies" / "managed"
    (tmp_path / "etc").mkdir()
    with pytest.raises(RuntimeError), crx.managed_policy("t.json", {"A": 1}, folder) as path:
        assert json.loads(path.read_text()) == {"A": 1}
        raise RuntimeError("setup failed")
    assert [p.name for p in tmp_path.rglob("*")] == ["etc"]
    # Someone else's file of that name is neither overwritten nor removed.
    folder.mkdir(parents=True)
    (folder / "t.json").write_text("theirs")
    with pytest.raises(FileExistsError), crx.managed_policy("t.json", {"A": 1}, folder):
        pass
    assert (folder / "t.json").read_text() == "theirs"
