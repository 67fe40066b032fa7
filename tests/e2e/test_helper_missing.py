"""Each broken link between the extension and the helper, in real Chromium: the
popup and the held post's panel say which link it is (not installed, refused this
extension, crashed) and "run tweetguard doctor", and nothing goes out.

Each case breaks the profile's own host manifest (the one install-host wrote for
this test's --user-data-dir), so the machine's folders are never touched; a
system-wide manifest would be found instead of a missing one, so the cases refuse
to run beside one (tests/e2e/test_system_install.py removes its own before it
returns).
"""

from __future__ import annotations

import json
import shlex
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_compose import PANEL, type_post

SYSTEM_MANIFEST = Path("/etc/chromium/native-messaging-hosts/org.tweetguard.helper.json")
SYSTEM_POLICY = Path("/etc/chromium/policies/managed/tweetguard.json")  # the .deb's
ANOTHER_ID = "abcdefghijklmnopabcdefghijklmnop"  # a valid Chromium id that is not ours
POPUP_HELPER = "#helper"


def manifest_of(x: Any) -> Path:
    return Path(x.profile) / "NativeMessagingHosts" / "org.tweetguard.helper.json"


def executable(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def rewrite(manifest: Path, **changes: Any) -> None:
    data = json.loads(manifest.read_text())
    data.update(changes)
    manifest.write_text(json.dumps(data, indent=2) + "\n")


def no_manifest(x: Any, tmp: Path) -> None:
    manifest_of(x).unlink()


def manifest_for_another_id(x: Any, tmp: Path) -> None:
    # What a second install for another extension used to leave behind (issue 12).
    rewrite(manifest_of(x), allowed_origins=[f"chrome-extension://{ANOTHER_ID}/"])


def launcher_that_exits(x: Any, tmp: Path) -> None:
    launcher = executable(tmp / "exits-at-once", "#!/bin/sh\necho 'broken install' >&2\nexit 3\n")
    rewrite(manifest_of(x), path=str(launcher))


def launcher_not_executable(x: Any, tmp: Path) -> None:
    launcher = tmp / "not-executable"
    launcher.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    launcher.chmod(0o644)
    rewrite(manifest_of(x), path=str(launcher))


def launcher_that_never_answers(x: Any, tmp: Path) -> None:
    # Reads what the browser sends and never replies (a hung helper). Not `exec`:
    # the shell keeps the pipe to Chromium open (closing it reads as an exit).
    launcher = executable(tmp / "never-answers", "#!/bin/sh\ncat >/dev/null\n")
    rewrite(manifest_of(x), path=str(launcher))


def helper_allows_another_id(x: Any, tmp: Path) -> None:
    # The manifest lets Chromium start the helper, but the launcher tells the
    # helper to accept another extension: its own forbidden_origin answer.
    command = [sys.executable, "-m", "tweetguard", "--home", str(x.home), "host"]
    command += ["--allow", f"chrome-extension://{ANOTHER_ID}/"]
    launcher = executable(
        tmp / "allows-another", f'#!/bin/sh\nexec {shlex.join(command)} -- "$@"\n'
    )
    rewrite(manifest_of(x), path=str(launcher))


# (break it, the popup's line, the panel's words)
CASES: dict[str, tuple[Callable[[Any, Path], None], str, str]] = {
    "not-installed": (
        no_manifest,
        "Not installed for this browser, so posts are held. Ask IT: run tweetguard doctor",
        "It is not installed for this browser: ask your school's IT lead to run tweetguard doctor.",
    ),
    "refused": (
        manifest_for_another_id,
        "Installed for another extension, so it refused this one and posts are held. "
        "Ask IT: run tweetguard doctor",
        "The tweetguard safety helper refused this browser extension, so this post is held.",
    ),
    "crashed": (
        launcher_that_exits,
        "Stopped before it answered (crashed or could not start), so posts are held. "
        "Ask IT: run tweetguard doctor",
        "(it crashed or could not start), so this post is held.",
    ),
    "cannot-start": (
        launcher_not_executable,
        "Stopped before it answered (crashed or could not start), so posts are held. "
        "Ask IT: run tweetguard doctor",
        "(it crashed or could not start), so this post is held.",
    ),
    "no-answer": (
        launcher_that_never_answers,
        "Not answering, so posts are held. Try again; if it keeps happening: "
        "Ask IT: run tweetguard doctor",
        "The tweetguard safety helper did not answer, so this post is held.",
    ),
    "helper-refused": (
        helper_allows_another_id,
        "Installed for another extension, so it refused this one and posts are held. "
        "Ask IT: run tweetguard doctor",
        # The helper's own words (protocol/errors.py's forbidden_origin).
        "This browser extension is not the one the safety helper was installed for.",
    ),
}


@pytest.fixture(autouse=True)
def _no_system_install() -> None:
    # Either would change what Chromium finds: the system manifest is found when the
    # profile's is missing, and the .deb's policy turns the profile's off.
    for path in (SYSTEM_MANIFEST, SYSTEM_POLICY):
        if path.exists():
            pytest.fail(
                f"{path} exists (a system-wide install on this machine, or "
                "test_system_install.py running now): the profile's own manifest cannot "
                "be tried; remove it or run the suite one at a time"
            )


def open_popup(x: Any) -> Any:
    from tweetguard import identity

    popup = x.context.new_page()
    popup.goto(f"chrome-extension://{identity.CHROME_EXTENSION_ID}/src/popup/popup.html")
    return popup


@pytest.mark.parametrize("case", list(CASES))
def test_broken_link_is_named_and_the_post_held(launch, tmp_path: Path, case: str) -> None:
    breaks, popup_line, panel_words = CASES[case]
    # A helper that never answers is given up on after the extension's 5 s.
    wait = {"timeout": 15_000} if case == "no-answer" else {}
    x = launch()
    breaks(x, tmp_path)

    x.page.goto("https://x.com/home")
    type_post(x.page, "Our choir sang at the town hall this evening")
    x.page.locator('[data-testid="tweetButtonInline"]').click()
    expect(x.page.locator(PANEL)).to_contain_text(panel_words, **wait)
    if case != "helper-refused":  # the helper's own answer is shown in its own words
        expect(x.page.locator(PANEL)).to_contain_text("tweetguard doctor")
    assert x.site.posts == []

    popup = open_popup(x)
    expect(popup.locator(POPUP_HELPER)).to_have_text(popup_line, **wait)
    expect(popup.locator(POPUP_HELPER)).to_have_class("bad")
    popup.close()

    # Pressing Post again still holds it: fail closed, every time.
    x.page.locator('[data-testid="tweetButtonInline"]').click()
    expect(x.page.locator(PANEL)).to_contain_text(panel_words, **wait)
    assert x.site.posts == []


def test_trap_a_healthy_helper_is_running_and_the_post_goes_out(launch) -> None:
    """The same profile untouched: the popup says running, nothing is held."""
    x = launch()
    popup = open_popup(x)
    expect(popup.locator(POPUP_HELPER)).to_contain_text("Running (version ")
    expect(popup.locator(POPUP_HELPER)).to_have_class("good")
    popup.close()
    x.page.goto("https://x.com/home")
    type_post(x.page, "Our choir sang at the town hall this evening")
    x.page.locator('[data-testid="tweetButtonInline"]').click()
    assert [p["text"] for p in x.site.wait_for_posts(1)] == [
        "Our choir sang at the town hall this evening"
    ]
