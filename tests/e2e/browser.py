"""Starting Debian's Chromium with the built extension against the local x.com.

Shared by the e2e fixtures and bench/typed_to_shown.py, so both drive the
browser exactly the same way.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

CHROMIUM = os.environ.get("TWEETGUARD_CHROMIUM", "/usr/bin/chromium")


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
