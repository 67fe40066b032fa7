"""The enterprise policy templates IT copies (native-messaging/policies/) parse, name
the extension the build makes and the helper's host, and lock the browser down
enough that tweetguard cannot be stepped around: no incognito/private or guest
windows, no extra profiles, no developer tools on the extension."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tweetguard import identity

POLICIES = ROOT / "native-messaging" / "policies"
UPDATE_URL = "https://REPLACE-WITH-YOUR-UPDATE-SERVER/tweetguard/updates.xml"


@pytest.fixture(scope="module")
def built_id(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The id of the extension extension/build.py makes (from its manifest key)."""
    sys.path.insert(0, str(ROOT / "extension"))
    try:
        import build as extension_build  # extension/build.py
    finally:
        sys.path.pop(0)
    out = extension_build.build(tmp_path_factory.mktemp("policy-ext") / "extension")
    built = extension_build.manifest_extension_id(out)
    assert built == identity.CHROME_EXTENSION_ID
    return str(built)


def read_reg(path: Path) -> dict[str, dict[str, str | int]]:
    """A .reg file as {key: {value name: str or dword}}; anything else fails."""
    lines = path.read_text(encoding="ascii").splitlines()
    assert lines[0] == "Windows Registry Editor Version 5.00"
    keys: dict[str, dict[str, str | int]] = {}
    current: dict[str, str | int] | None = None
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip() or line.startswith(";"):
            continue
        if section := re.fullmatch(r"\[(HKEY_LOCAL_MACHINE\\[^\]]+)\]", line):
            assert section[1] not in keys, f"line {number}: {section[1]} twice"
            current = keys[section[1]] = {}
            continue
        value = re.fullmatch(r'"([^"]+)"=(?:"([^"\\]*)"|dword:([0-9a-f]{8}))', line)
        assert value and current is not None, f"line {number} is not a value: {line!r}"
        assert value[1] not in current, f"line {number}: {value[1]} twice"
        current[value[1]] = value[2] if value[2] is not None else int(value[3], 16)
    return keys


def test_every_template_is_checked_here() -> None:
    assert sorted(p.name for p in POLICIES.iterdir()) == [
        "chrome-linux-managed.json",
        "firefox-policies.json",
        "windows-chrome-edge.reg",
    ]


def test_chrome_linux_template(built_id: str) -> None:
    policy: dict[str, Any] = json.loads((POLICIES / "chrome-linux-managed.json").read_text())
    assert policy["ExtensionSettings"] == {
        built_id: {
            "installation_mode": "force_installed",
            "update_url": UPDATE_URL,
            "toolbar_pin": "force_pinned",
        }
    }
    assert policy["NativeMessagingAllowlist"] == [identity.HOST_NAME]
    assert policy["NativeMessagingUserLevelHosts"] is False
    assert policy["IncognitoModeAvailability"] == 1  # incognito windows off
    assert policy["BrowserGuestModeEnabled"] is False
    assert policy["BrowserAddPersonEnabled"] is False
    # 1: developer tools stay, but never on force-installed extensions (README says why).
    assert policy["DeveloperToolsAvailability"] == 1


@pytest.mark.parametrize(
    ("vendor", "private_mode", "add_profile"),
    [
        ("Google\\Chrome", "IncognitoModeAvailability", "BrowserAddPersonEnabled"),
        # Edge names two of them its own way.
        ("Microsoft\\Edge", "InPrivateModeAvailability", "BrowserAddProfileEnabled"),
    ],
)
def test_windows_template(built_id: str, vendor: str, private_mode: str, add_profile: str) -> None:
    keys = read_reg(POLICIES / "windows-chrome-edge.reg")
    root = f"HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\{vendor}"
    assert keys[f"{root}\\ExtensionInstallForcelist"] == {"1": f"{built_id};{UPDATE_URL}"}
    assert keys[f"{root}\\NativeMessagingAllowlist"] == {"1": identity.HOST_NAME}
    assert keys[root] == {
        "NativeMessagingUserLevelHosts": 0,
        private_mode: 1,
        "BrowserGuestModeEnabled": 0,
        add_profile: 0,
        "DeveloperToolsAvailability": 1,
    }


def test_windows_template_sets_nothing_else() -> None:
    keys = read_reg(POLICIES / "windows-chrome-edge.reg")
    assert all(re.match(r"HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\", k) for k in keys)
    assert len(keys) == 6


def test_firefox_template() -> None:
    policies: dict[str, Any] = json.loads((POLICIES / "firefox-policies.json").read_text())[
        "policies"
    ]
    assert policies["ExtensionSettings"] == {
        identity.FIREFOX_ADDON_ID: {
            "installation_mode": "force_installed",
            "install_url": "https://REPLACE-WITH-YOUR-UPDATE-SERVER/tweetguard/tweetguard.xpi",
            # Should private windows ever be allowed, tweetguard runs there too.
            "private_browsing": True,
        }
    }
    # PrivateBrowsingModeAvailability is Firefox 130+/ESR 128.3+; older ones read the other.
    assert policies["PrivateBrowsingModeAvailability"] == 1
    assert policies["DisablePrivateBrowsing"] is True
    assert policies["BlockAboutProfiles"] is True  # no extra profiles
    # Firefox has no "not on force-installed add-ons" level: tools go altogether.
    assert policies["DisableDeveloperTools"] is True


def test_firefox_addon_id_matches_the_firefox_build(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "extension"))
    try:
        import build as extension_build  # extension/build.py
    finally:
        sys.path.pop(0)
    out = extension_build.build(tmp_path / "firefox", "firefox")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["browser_specific_settings"]["gecko"]["id"] == identity.FIREFOX_ADDON_ID
