"""install-host writes what browsers read, and the launcher really starts the helper."""

from __future__ import annotations

import json
import os
import struct
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tweetguard import identity
from tweetguard.install import hosts

MANIFEST = f"{identity.HOST_NAME}.json"


def test_user_data_dir_install_and_a_working_launcher(
    registered_home: Path, tmp_path: Path
) -> None:
    profile = tmp_path / "profile"
    result = run_cli(registered_home, "install-host", "--user-data-dir", str(profile))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((profile / "NativeMessagingHosts" / MANIFEST).read_text())
    assert manifest["name"] == identity.HOST_NAME
    assert manifest["type"] == "stdio"
    assert manifest["allowed_origins"] == [identity.CHROME_ORIGIN]
    launcher = Path(manifest["path"])
    assert launcher.is_absolute() and os.access(launcher, os.X_OK)

    # Browsers start hosts with a bare environment; the launcher needs nothing from it,
    # and it pins the data directory in force at install time.
    request = json.dumps({"id": 1, "type": "hello"}).encode()
    proc = subprocess.run(
        [str(launcher), identity.CHROME_ORIGIN],
        input=struct.pack("<I", len(request)) + request,
        capture_output=True,
        env={"TWEETGUARD_HOME": str(tmp_path / "elsewhere")},
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (size,) = struct.unpack("<I", proc.stdout[:4])
    reply = json.loads(proc.stdout[4 : 4 + size])
    assert reply["ok"] is True and reply["policy"]["register"]["pupils"] == 14

    assert (
        run_cli(registered_home, "uninstall-host", "--user-data-dir", str(profile)).returncode == 0
    )
    assert not (profile / "NativeMessagingHosts" / MANIFEST).exists()


BROWSERS = ["--browser", "chrome", "--browser", "firefox", "--browser", "brave"]


def test_user_install_per_browser_under_home(home: Path, tmp_path: Path) -> None:
    fake_home = tmp_path / "user"
    env = {"HOME": str(fake_home), "XDG_CONFIG_HOME": ""}
    result = run_cli(home, "install-host", *BROWSERS, env=env)
    assert result.returncode == 0, result.stderr
    chrome = json.loads(
        (fake_home / ".config/google-chrome/NativeMessagingHosts" / MANIFEST).read_text()
    )
    firefox = json.loads((fake_home / ".mozilla/native-messaging-hosts" / MANIFEST).read_text())
    assert (
        fake_home / ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts" / MANIFEST
    ).exists()
    assert chrome["allowed_origins"] == [identity.CHROME_ORIGIN]
    assert firefox["allowed_extensions"] == [identity.FIREFOX_ADDON_ID]
    assert "allowed_origins" not in firefox
    result = run_cli(home, "uninstall-host", *BROWSERS, env=env)
    assert result.returncode == 0
    assert not list(fake_home.rglob(MANIFEST))


def test_custom_extension_id_reaches_manifest_and_launcher(home: Path, tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    other = "abcdefghijklmnopabcdefghijklmnop"
    result = run_cli(home, "install-host", "--user-data-dir", str(profile), "--extension-id", other)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((profile / "NativeMessagingHosts" / MANIFEST).read_text())
    assert manifest["allowed_origins"] == [f"chrome-extension://{other}/"]
    assert f"chrome-extension://{other}/" in Path(manifest["path"]).read_text()


def test_unknown_browser_is_a_usage_error(home: Path) -> None:
    result = run_cli(home, "install-host", "--browser", "netscape")
    assert result.returncode == 64
    assert b"netscape" in result.stderr


@pytest.mark.parametrize(
    ("platform", "system", "browser", "expected"),
    [
        ("linux", True, "chrome", "/etc/opt/chrome/native-messaging-hosts"),
        ("linux", True, "chromium", "/etc/chromium/native-messaging-hosts"),
        ("linux", True, "edge", "/etc/opt/edge/native-messaging-hosts"),
        ("linux", True, "firefox", "/usr/lib/mozilla/native-messaging-hosts"),
        ("macos", True, "chrome", "/Library/Google/Chrome/NativeMessagingHosts"),
        ("macos", True, "firefox", "/Library/Application Support/Mozilla/NativeMessagingHosts"),
        (
            "macos",
            False,
            "edge",
            "~/Library/Application Support/Microsoft Edge/NativeMessagingHosts",
        ),
        ("macos", False, "vivaldi", "~/Library/Application Support/Vivaldi/NativeMessagingHosts"),
    ],
)
def test_manifest_locations(platform: str, system: bool, browser: str, expected: str) -> None:
    got = hosts.manifest_dir(browser, system=system, platform=platform)
    assert got == Path(expected).expanduser()


def test_windows_uses_registry_keys(tmp_path: Path) -> None:
    (target,) = hosts.targets(
        ["edge"], system=True, user_data_dir=None, tweetguard_home=tmp_path, platform="windows"
    )
    assert (
        target.registry_key
        == r"Software\Microsoft\Edge\NativeMessagingHosts" + "\\" + identity.HOST_NAME
    )
    assert target.system is True
    assert target.manifest.parent == tmp_path / "native-hosts" / "edge"


def test_windows_launcher_is_a_batch_file(tmp_path: Path) -> None:
    launcher = hosts.write_launcher(tmp_path, [identity.CHROME_ORIGIN], platform="windows")
    text = launcher.read_text()
    assert launcher.name == "tweetguard-host.bat"
    assert text.startswith("@echo off") and "%*" in text and str(tmp_path) in text
