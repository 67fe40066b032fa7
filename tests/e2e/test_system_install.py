"""The helper installed system-wide in the layout the .deb uses, for real: what the
package's postinst runs (`tweetguard --home DATA install-host --system`, here with
the data folder in a temp folder and this checkout's Python), the package's
Chromium policy (native-messaging/policies/chrome-linux-managed.json, which the
.deb installs as /etc/chromium/policies/managed/tweetguard.json) naming a CRX of
the test's own, and a profile with no host manifest of its own. Chromium, with
user-level hosts turned off by that policy, must find the helper in
/etc/chromium/native-messaging-hosts: a pupil's name is held, a clean post goes.
Then what the package's prerm runs (`uninstall-host --system`) must leave /etc as
it was.

Root only (the folders are the machine's). Whatever happens, /etc/chromium is
left exactly as it was found: the files this test (or install-host) wrote there,
and the folders made for them, are removed before it returns, also on failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import ROOT, run_cli
from tests.e2e import browser, crx, fixture_server

pytestmark = pytest.mark.browser

ETC = Path("/etc/chromium")
SYSTEM_HOSTS = ETC / "native-messaging-hosts"
SYSTEM_MANIFEST = SYSTEM_HOSTS / "org.tweetguard.helper.json"
POLICY_NAME = "tweetguard.json"  # the .deb's conffile name
TEMPLATE = ROOT / "native-messaging" / "policies" / "chrome-linux-managed.json"
PANEL = "[data-tweetguard-panel] section"
POST_BUTTON = '[data-testid="tweetButtonInline"]'


def type_post(page: Any, text: str) -> None:
    page.locator('[data-testid="tweetTextarea_0"]').first.click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(text)


def school_policy(extension_id: str, update_url: str) -> dict[str, Any]:
    """The .deb's Chromium policy as a school with its own signing key and update
    server makes it: the template with the id and update URL put in."""
    text = TEMPLATE.read_text(encoding="utf-8")
    template = json.loads(text)
    (built_id,) = template["ExtensionSettings"]
    policy: dict[str, Any] = json.loads(text.replace(built_id, extension_id))
    policy["ExtensionSettings"][extension_id]["update_url"] = update_url
    return policy


@contextlib.contextmanager
def etc_left_as_found(paths: list[Path]) -> Iterator[None]:
    """On the way out, removes any of `paths` (files the install may write) that
    were not there before, and any folder above them that was made meanwhile and is
    empty again: a failure half-way leaves /etc as it was too."""
    existed = {p for p in paths if p.exists()}
    folders = {parent for p in paths for parent in p.parents if parent.is_relative_to(ETC)}
    missing_folders = sorted((f for f in folders if not f.exists()), key=lambda f: -len(f.parts))
    try:
        yield
    finally:
        for path in paths:
            if path not in existed and (path.is_file() or path.is_symlink()):
                path.unlink()
        for folder in missing_folders:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: never someone else's file


@pytest.mark.skipif(
    os.geteuid() != 0,
    reason="a system-wide install needs root: it writes /etc/chromium "
    "(run the suite as root, as ./build.sh test in CI does)",
)
def test_system_wide_helper_found_by_chromium(
    tmp_path: Path, site: fixture_server.FixtureSite, registered_home: Path
) -> None:
    from playwright.sync_api import sync_playwright

    if SYSTEM_MANIFEST.exists() or (crx.MANAGED / POLICY_NAME).exists():
        message = (
            f"tweetguard is installed system-wide on this machine ({SYSTEM_MANIFEST} or "
            f"{crx.MANAGED / POLICY_NAME}); this test will not touch it"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    before = crx.snapshot(ETC)

    signed = crx.signed_build(tmp_path)
    extension_id = signed.extension_id
    home = registered_home  # the .deb's /var/lib/tweetguard, here a temp folder
    crx.school_home(home)

    updates = crx.serve(extension_id, signed.version, signed.crx)
    env = crx.browser_env()
    profile = tmp_path / "profile"
    profile.mkdir()
    playwright = sync_playwright().start()
    try:
        with etc_left_as_found([SYSTEM_MANIFEST, crx.MANAGED / POLICY_NAME]):
            # What the .deb's postinst runs (browsers and ids as the package names them).
            result = run_cli(
                home,
                "install-host",
                "--system",
                "--browser",
                "chromium",
                "--extension-id",
                extension_id,
            )
            assert result.returncode == 0, result.stderr.decode()
            host = json.loads(SYSTEM_MANIFEST.read_text())
            assert host["allowed_origins"] == [f"chrome-extension://{extension_id}/"]
            assert Path(host["path"]).is_relative_to(home), host["path"]
            assert not (profile / "NativeMessagingHosts").exists()

            policy = school_policy(extension_id, updates.update_url)
            assert policy["NativeMessagingUserLevelHosts"] is False
            with crx.managed_policy(POLICY_NAME, policy):
                context = crx.launch_forced(playwright, profile, site.port, env=env)
                try:
                    check_system_helper(context, extension_id, site, home)
                finally:
                    context.close()

            # What the .deb's prerm runs: exactly what the install wrote goes.
            result = run_cli(home, "uninstall-host", "--system", "--browser", "chromium")
            assert result.returncode == 0, result.stderr.decode()
            assert not SYSTEM_MANIFEST.exists()
            assert crx.snapshot(ETC) == before, "uninstall-host --system left /etc/chromium changed"
    finally:
        playwright.stop()
        updates.close()
        shutil.rmtree(profile, ignore_errors=True)
    assert crx.snapshot(ETC) == before


def check_system_helper(
    context: Any, extension_id: str, site: fixture_server.FixtureSite, home: Path
) -> None:
    internals = context.new_page()

    def ours() -> dict[str, Any] | None:
        found = [e for e in crx.installed_extensions(internals) if e["id"] == extension_id]
        return found[0] if found else None

    extension = browser.wait_until(ours, f"Chromium to install {extension_id} by policy")
    assert extension["location"] == "EXTERNAL_POLICY_DOWNLOAD"
    internals.close()

    page = context.pages[0] if context.pages else context.new_page()
    page.goto("https://x.com/home")
    type_post(page, "Lovely reading from Amelia Thornbury in assembly")
    page.locator(POST_BUTTON).click()
    # Only the helper knows the register: this finding is the system-wide helper's.
    expect(page.locator(PANEL)).to_contain_text("“Amelia Thornbury” is a pupil's full name")
    assert site.posts == []
    type_post(page, "Year 6 visited the planetarium today")
    expect(page.locator(PANEL)).to_have_count(0)
    page.locator(POST_BUTTON).click()
    assert [p["text"] for p in site.wait_for_posts(1)] == ["Year 6 visited the planetarium today"]
    # The helper the browser started is the one the system manifest names.
    log = (home / "logs" / "host.log").read_text()
    assert f"chrome-extension://{extension_id}/" in log


def test_this_is_the_layout_the_deb_uses() -> None:
    """The test above stands for the .deb: if the package's scripts or policy paths
    change, this says the e2e no longer tries what the package does."""
    debian = ROOT / "packaging" / "debian"
    postinst = (debian / "postinst").read_text(encoding="utf-8")
    prerm = (debian / "prerm").read_text(encoding="utf-8")
    deb = (ROOT / "packaging" / "deb.py").read_text(encoding="utf-8")
    assert '--home "$DATA" install-host --system' in postinst
    assert '--home "$DATA" uninstall-host --system' in prerm
    assert f'POLICY_NAME = "{POLICY_NAME}"' in deb
    assert f'"etc/chromium/policies/managed": "{TEMPLATE.name}"' in deb
