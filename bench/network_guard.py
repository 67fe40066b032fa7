"""The network guard's added delay on a post (target: under 10 ms median).

    .venv/bin/python bench/network_guard.py [--posts 40]

Drives Debian's Chromium with the real extension and helper against the local
x.com stand-in (tests/e2e) and posts clean texts from the inline composer, twice:
with the extension as built (the composer guard asks the service worker to open
the way, the static rules hold everything else), and with a copy whose network
guard is off (ruleset disabled, no approval asked). Prints, per run, the median
and p90 of Post clicked -> the server has the post, their difference, and the
time the service worker itself spent answering each approval (message in -> allow
rule added -> answer). Loaded unpacked, this is the session-rule path ("rules");
blocking mode needs the force-install of tests/e2e/test_forced_install.py.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e import browser, fixture_server  # noqa: E402

from stats import percentile  # noqa: E402

EMPTIED = "(document.querySelector('[data-testid=\"tweetTextarea_0\"]') || {}).textContent === ''"


def guard_off(extension: Path) -> Path:
    """The same build with the network guard off: no rules, no listeners, no approval asked."""
    manifest = json.loads((extension / "manifest.json").read_text())
    for resource in manifest["declarative_net_request"]["rule_resources"]:
        resource["enabled"] = False
    (extension / "manifest.json").write_text(json.dumps(manifest, indent=2))
    checker = extension / "src/content/checker.js"
    source = checker.read_text()
    assert "const APPROVE_VIA_WORKER = true;" in source
    checker.write_text(source.replace("APPROVE_VIA_WORKER = true", "APPROVE_VIA_WORKER = false"))
    guard = extension / "src/network-guard.js"
    source = guard.read_text()
    assert "  start() {\n" in source
    guard.write_text(source.replace("  start() {\n", "  start() {\n    return this;\n", 1))
    return extension


def run(tmp: Path, extension: Path, posts: int, label: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    home = tmp / f"home-{label}"
    profile = tmp / f"profile-{label}"
    cli = [sys.executable, "-m", "tweetguard", "--home", str(home)]
    for args in (
        ["consent", "import", str(ROOT / "tests/data/register.csv")],
        ["install-host", "--user-data-dir", str(profile)],
        ["accounts", "add", "OakfieldPrimary", "--user-id", fixture_server.USER_ID],
    ):
        subprocess.run([*cli, *args], check=True, capture_output=True)
    policy = home / "policy.toml"
    policy.write_text(policy.read_text() + "\n[posting]\nlogout_after_post = false\n")
    (tmp / label).mkdir()
    site = fixture_server.start(tmp / label)
    clicks: list[float] = []
    with sync_playwright() as playwright:
        context = browser.launch(playwright, profile, extension, site.port)
        page = context.pages[0] if context.pages else context.new_page()
        worker = context.service_workers[0] if context.service_workers else None
        worker = worker or context.wait_for_event("serviceworker")
        page.goto("https://x.com/home")
        box = page.locator('[data-testid="tweetTextarea_0"]')
        button = page.locator('[data-testid="tweetButtonInline"]')
        for i in range(posts + 1):
            box.focus()  # X's toast may lie over the box
            page.keyboard.type(f"Year 4 planted sunflowers today, row {i}")
            started = time.perf_counter()
            button.click()
            got = site.wait_for_posts(i + 1)
            elapsed = (time.perf_counter() - started) * 1000
            assert len(got) == i + 1, f"post {i} did not go out ({label})"
            if i:  # the first includes starting the helper
                clicks.append(elapsed)
            # X empties the composer once the post is sent.
            page.wait_for_function(EMPTIED)
        approvals = worker.evaluate(
            "globalThis.tweetguardNetworkGuard ? globalThis.tweetguardNetworkGuard.timings : []"
        )
        mode = worker.evaluate(
            "chrome.storage.session.get('networkGuard').then((s) => (s.networkGuard || {}).mode)"
        )
        context.close()
    site.close()
    return {"clicks": clicks, "approvals": approvals[1:], "mode": mode}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        on = browser.build_extension(tmp_path / "extension-on")
        off = guard_off(browser.build_extension(tmp_path / "extension-off"))
        results = {
            "guard on": run(tmp_path, on, args.posts, "on"),
            "guard off": run(tmp_path, off, args.posts, "off"),
        }
    for label, result in results.items():
        clicks = result["clicks"]
        print(
            f"{label:9} ({result['mode'] or 'no rules'}): Post clicked -> post at the server over "
            f"{len(clicks)} posts (ms): median {statistics.median(clicks):.1f}  "
            f"p90 {percentile(clicks, 90):.1f}"
        )
    added = statistics.median(results["guard on"]["clicks"]) - statistics.median(
        results["guard off"]["clicks"]
    )
    approvals = results["guard on"]["approvals"]
    print(f"added by the network guard (difference of medians): {added:.1f} ms  (target < 10)")
    if approvals:
        print(
            f"service worker answering an approval over {len(approvals)} posts (ms): "
            f"median {statistics.median(approvals):.2f}  p90 {percentile(approvals, 90):.2f}  "
            f"max {max(approvals):.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
