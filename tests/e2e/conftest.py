"""The real thing, end to end: Debian's Chromium with the built extension, the
real helper installed as this profile's native messaging host, and a local
HTTPS stand-in for x.com.

Every test gets its own profile, data directory and server port.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.e2e import browser, fixture_server

CHROMIUM = browser.CHROMIUM
# The OS keyring stays out of the tests: face templates' key goes to the data
# folder's 0600 file, for the CLI and for the helper the browser starts alike.
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        # In CI the browser tests are the point: a missing browser is a failure.
        raise pytest.UsageError(
            f"{CHROMIUM} is missing; `./build.sh test` installs Debian's chromium"
        )
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed (run ./build.sh test as root)")
    for item in items:
        if "e2e" in item.nodeid:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def extension_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return browser.build_extension(tmp_path_factory.mktemp("ext") / "extension")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[fixture_server.FixtureSite]:
    server = fixture_server.start(tmp_path)
    yield server
    server.close()


@dataclass
class XBrowser:
    context: object
    page: object
    profile: Path
    home: Path
    site: fixture_server.FixtureSite


@pytest.fixture
def launch(
    tmp_path: Path,
    site: fixture_server.FixtureSite,
    extension_dir: Path,
    registered_home: Path,
) -> Iterator[Callable[..., XBrowser]]:
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    contexts = []

    def _launch(
        posting: str = "logout_after_post = false", before: Callable[[Path], None] | None = None
    ) -> XBrowser:
        """A browser on the fixture site. `posting` is the policy's [posting] table:
        most tests post more than once, so they keep the session after a post.
        `before(home)` sets the data folder up further (e.g. face matching) before
        the browser starts."""
        profile = tmp_path / "profile"
        profile.mkdir()
        result = run_cli(registered_home, "install-host", "--user-data-dir", str(profile))
        assert result.returncode == 0, result.stderr.decode()
        user_id = fixture_server.USER_ID
        result = run_cli(
            registered_home, "accounts", "add", "OakfieldPrimary", "--user-id", user_id
        )
        assert result.returncode == 0, result.stderr.decode()
        policy = registered_home / "policy.toml"
        policy.write_text(policy.read_text() + f"\n[posting]\n{posting}\n")
        assert (profile / "NativeMessagingHosts" / "org.tweetguard.helper.json").exists()
        if before is not None:
            before(registered_home)
        env = {**os.environ, **NO_KEYRING}
        env.pop("TWEETGUARD_HOME", None)  # the launcher names the data folder
        context = browser.launch(playwright, profile, extension_dir, site.port, env=env)
        contexts.append(context)
        page = context.pages[0] if context.pages else context.new_page()
        return XBrowser(context, page, profile, registered_home, site)

    yield _launch
    for context in contexts:
        context.close()  # type: ignore[attr-defined]
    playwright.stop()
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)
