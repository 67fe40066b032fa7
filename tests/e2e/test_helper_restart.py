"""The helper dies mid-session: posts are held until it is back, then go out."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal

from playwright.sync_api import expect

from tests.e2e.test_compose import PANEL, type_post


def host_pids(home) -> list[int]:
    log = (home / "logs" / "host.log").read_text()
    return [int(pid) for pid in re.findall(r"host started \(pid (\d+)", log)]


def test_helper_killed_mid_session(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/home")
    type_post(x.page, "First post of the day")
    x.page.locator('[data-testid="tweetButtonInline"]').click()
    x.site.wait_for_posts(1)

    # The helper dies, and cannot be started again (as if uninstalled mid-session).
    manifest = x.profile / "NativeMessagingHosts" / "org.tweetguard.helper.json"
    saved = manifest.with_suffix(".saved")
    shutil.move(manifest, saved)
    for pid in host_pids(x.home):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    type_post(x.page, "Second post")
    x.page.locator('[data-testid="tweetButtonInline"]').click()
    expect(x.page.locator(PANEL)).to_contain_text("safety helper is not running")
    assert len(x.site.posts) == 1

    # IT puts it back: the next press starts a fresh helper and the post goes out.
    shutil.move(saved, manifest)
    x.page.locator('[data-testid="tweetButtonInline"]').click()
    assert [p["text"] for p in x.site.wait_for_posts(2)] == ["First post of the day", "Second post"]
