"""Starting Debian's Chromium with the built extension against the local x.com.

Shared by the e2e fixtures and bench/typed_to_shown.py, so both drive the
browser exactly the same way.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.conftest import ROOT

CHROMIUM = os.environ.get("TWEETGUARD_CHROMIUM", "/usr/bin/chromium")
T = TypeVar("T")


def wait_until(check: Callable[[], T | None], what: str, timeout: float = 30) -> T:
    """Polls `check` until it gives something truthy (a condition, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def build_extension(out: Path) -> Path:
    sys.path.insert(0, str(ROOT / "extension"))
    try:
        import build as extension_build  # extension/build.py
    finally:
        sys.path.pop(0)
    result: Path = extension_build.build(out)
    return result


def launch(
    playwright: Any, profile: Path, extension: Path, port: int, env: dict[str, str] | None = None
) -> Any:
    """A persistent context (extensions need one) that reaches x.com at the fixture port.

    `env` is the browser's environment, which it passes on to the helper it starts
    (the launcher script keeps it): None is this process's own.
    """
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=False,
        args=[
            "--headless=new",
            f"--disable-extensions-except={extension}",
            f"--load-extension={extension}",
            f"--host-resolver-rules=MAP x.com 127.0.0.1:{port},"
            f"MAP twitter.com 127.0.0.1:{port},MAP *.x.com 127.0.0.1:{port}",
            "--ignore-certificate-errors",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
        viewport={"width": 1000, "height": 700},
        env=env,
    )
