"""install-host writes what browsers read, a launcher per manifest that really starts
the helper, refuses what no browser would read, and uninstall-host removes exactly
what it wrote."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tweetguard import identity
from tweetguard.install import ids
from tweetguard.install.record import read_records

MANIFEST = f"{identity.HOST_NAME}.json"
OTHER_ID = "abcdefghijklmnopabcdefghijklmnop"
OTHER_ORIGIN = f"chrome-extension://{OTHER_ID}/"


def hello_through(launcher: Path, *argv: str, cwd: Path | None = None) -> dict[str, Any]:
    """Start a launcher as a browser does (bare environment, its folder as working
    folder, the browser's arguments) and ask hello."""
    request = json.dumps({"id": 1, "type": "hello"}).encode()
    proc = subprocess.run(
        [str(launcher), *argv],
        input=struct.pack("<I", len(request)) + request,
        capture_output=True,
        env={},
        cwd=cwd or launcher.parent,
        timeout=60,
        check=False,
    )
    # The reply is what the browser sees; how the host exits after stdin closes is
    # the host's own tests' business (tests/test_host.py).
    assert len(proc.stdout) >= 4, f"no reply (exit {proc.returncode}): {proc.stderr.decode()}"
    (size,) = struct.unpack("<I", proc.stdout[:4])
    reply: dict[str, Any] = json.loads(proc.stdout[4 : 4 + size])
    return reply


def user_env(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path / "user"), "XDG_CONFIG_HOME": ""}


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if not p.is_dir()) if folder.exists() else []


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

    # A bare environment, and a TWEETGUARD_HOME pointing elsewhere, change nothing:
    # the launcher pins the data folder in force at install time.
    request = json.dumps({"id": 1, "type": "hello"}).encode()
    proc = subprocess.run(
        [str(launcher), identity.CHROME_ORIGIN],
        input=struct.pack("<I", len(request)) + request,
        capture_output=True,
        env={"TWEETGUARD_HOME": str(tmp_path / "elsewhere")},
        cwd=launcher.parent,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (size,) = struct.unpack("<I", proc.stdout[:4])
    reply = json.loads(proc.stdout[4 : 4 + size])
    assert reply["ok"] is True and reply["policy"]["register"]["pupils"] == 14

    result = run_cli(registered_home, "uninstall-host", "--user-data-dir", str(profile))
    assert result.returncode == 0, result.stderr
    assert not (profile / "NativeMessagingHosts").exists()  # the install made that folder
    assert not launcher.exists() and not launcher.parent.exists()
    assert not (registered_home / "native-host").exists()


def test_a_launcher_per_manifest_one_install_never_changes_another(
    registered_home: Path, tmp_path: Path
) -> None:
    """The bug of issue 12: installing chromium for another id changed the launcher
    chrome's manifest pointed at, and chrome's hello answered forbidden_origin."""
    env = user_env(tmp_path)
    assert run_cli(registered_home, "install-host", "--browser", "chrome", env=env).returncode == 0
    result = run_cli(
        registered_home,
        "install-host",
        "--browser",
        "chromium",
        "--extension-id",
        OTHER_ID,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    config = tmp_path / "user/.config"
    chrome = json.loads((config / "google-chrome/NativeMessagingHosts" / MANIFEST).read_text())
    chromium = json.loads((config / "chromium/NativeMessagingHosts" / MANIFEST).read_text())
    assert chrome["allowed_origins"] == [identity.CHROME_ORIGIN]
    assert chromium["allowed_origins"] == [OTHER_ORIGIN]
    assert chrome["path"] != chromium["path"]

    # Launched exactly as each browser launches it.
    assert hello_through(Path(chrome["path"]), identity.CHROME_ORIGIN)["ok"] is True
    assert hello_through(Path(chromium["path"]), OTHER_ORIGIN)["ok"] is True
    # Each launcher accepts only its own manifest's ids.
    refused = hello_through(Path(chromium["path"]), identity.CHROME_ORIGIN)
    assert refused["ok"] is False and "forbidden_origin" in json.dumps(refused)


def test_user_install_per_browser_under_home_and_nothing_left(home: Path, tmp_path: Path) -> None:
    env = user_env(tmp_path)
    browsers = ["--browser", "chrome", "--browser", "firefox", "--browser", "brave"]
    result = run_cli(home, "install-host", *browsers, env=env)
    assert result.returncode == 0, result.stderr
    user = tmp_path / "user"
    chrome = json.loads(
        (user / ".config/google-chrome/NativeMessagingHosts" / MANIFEST).read_text()
    )
    firefox = json.loads((user / ".mozilla/native-messaging-hosts" / MANIFEST).read_text())
    assert (user / ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts" / MANIFEST).exists()
    assert chrome["allowed_origins"] == [identity.CHROME_ORIGIN]
    assert firefox["allowed_extensions"] == [identity.FIREFOX_ADDON_ID]
    assert "allowed_origins" not in firefox
    # Firefox's launcher allows only the add-on; Chrome's only the extension.
    firefox_launcher = Path(firefox["path"]).read_text()
    assert identity.FIREFOX_ADDON_ID in firefox_launcher
    assert "chrome-extension://" not in firefox_launcher

    records = read_records(home)
    assert sorted(r.browser for r in records) == ["brave", "chrome", "firefox"]
    assert all(str(r.launcher).startswith(str(home / "native-host")) for r in records)

    result = run_cli(home, "uninstall-host", *browsers, env=env)
    assert result.returncode == 0, result.stderr
    assert files_under(user) == []
    assert not (user / ".config/google-chrome").exists()
    assert not (home / "native-host").exists()


def test_firefox_launcher_answers_as_firefox_starts_it(
    registered_home: Path, tmp_path: Path
) -> None:
    env = user_env(tmp_path)
    result = run_cli(registered_home, "install-host", "--browser", "firefox", env=env)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "user/.mozilla/native-messaging-hosts" / MANIFEST
    launcher = Path(json.loads(path.read_text())["path"])
    # Firefox: [launcher, manifest path, add-on id].
    assert hello_through(launcher, str(path), identity.FIREFOX_ADDON_ID)["ok"] is True
    wrong = hello_through(launcher, str(path), "someone@else.example")
    assert wrong["ok"] is False


def test_uninstall_removes_exactly_what_install_wrote(home: Path, tmp_path: Path) -> None:
    env = user_env(tmp_path)
    user = tmp_path / "user"
    folder = user / ".config/chromium/NativeMessagingHosts"
    folder.mkdir(parents=True)  # a folder that was there before: it stays
    neighbour = folder / "org.example.other.json"
    neighbour.write_text('{"name": "org.example.other"}')
    both = ["--browser", "chromium", "--browser", "chrome"]
    assert run_cli(home, "install-host", *both, env=env).returncode == 0

    result = run_cli(home, "uninstall-host", "--browser", "chromium", env=env)
    assert result.returncode == 0, result.stderr
    assert not (folder / MANIFEST).exists()
    assert neighbour.exists() and folder.is_dir()  # someone else's manifest stays
    chrome = user / ".config/google-chrome/NativeMessagingHosts" / MANIFEST
    assert chrome.exists()  # another browser's registration stays
    assert Path(json.loads(chrome.read_text())["path"]).exists()  # and its launcher
    assert [r.browser for r in read_records(home)] == ["chrome"]

    # A manifest someone replaced since is not ours any more: it stays, with a note.
    chrome.write_text(json.dumps({"name": identity.HOST_NAME, "path": "/usr/bin/true"}))
    result = run_cli(home, "uninstall-host", env=env)
    assert result.returncode == 0, result.stderr
    assert chrome.exists()
    assert b"no longer points at this install's launcher" in result.stdout
    assert read_records(home) == []


def test_installing_twice_keeps_one_record_and_uninstall_still_cleans(
    home: Path, tmp_path: Path
) -> None:
    env = user_env(tmp_path)
    for extension in (identity.CHROME_EXTENSION_ID, OTHER_ID):
        result = run_cli(
            home, "install-host", "--browser", "edge", "--extension-id", extension, env=env
        )
        assert result.returncode == 0, result.stderr
    (record,) = read_records(home)
    assert record.allowed == [OTHER_ORIGIN]  # the second install replaced the first
    assert run_cli(home, "uninstall-host", env=env).returncode == 0
    assert files_under(tmp_path / "user") == []
    assert not (tmp_path / "user/.config/microsoft-edge").exists()


@pytest.mark.parametrize(
    "bad",
    ["NOTANID", "kcenecofiljhmpdkjpenlicjgmahkgi", "kcenecofiljhmpdkjpenlicjgmahkgiq", "K" * 32],
)
def test_a_bad_chromium_id_is_refused(home: Path, tmp_path: Path, bad: str) -> None:
    result = run_cli(
        home, "install-host", "--browser", "chrome", "--extension-id", bad, env=user_env(tmp_path)
    )
    assert result.returncode == 64
    assert result.stderr.decode().count("\n") == 1 and "32 letters a-p" in result.stderr.decode()
    assert files_under(tmp_path / "user") == [] and read_records(home) == []


@pytest.mark.parametrize("bad", ["tweetguard", "{1234-not-a-guid}", "a b@c.d"])
def test_a_bad_firefox_id_is_refused(home: Path, tmp_path: Path, bad: str) -> None:
    result = run_cli(
        home, "install-host", "--browser", "firefox", "--firefox-id", bad, env=user_env(tmp_path)
    )
    assert result.returncode == 64
    assert "name@domain or a {GUID}" in result.stderr.decode()


def test_good_ids_pass_the_checks() -> None:
    """The trap beside the refusals: real ids of each form are accepted."""
    assert ids.check_chrome_id(identity.CHROME_EXTENSION_ID) == identity.CHROME_EXTENSION_ID
    assert ids.check_chrome_id(identity.CHROME_ORIGIN) == identity.CHROME_EXTENSION_ID
    assert ids.check_firefox_id(identity.FIREFOX_ADDON_ID) == identity.FIREFOX_ADDON_ID
    guid = "{3f2a9c1e-5b7d-4e80-9a61-0c2b4d6e8f10}"
    assert ids.check_firefox_id(guid) == guid


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--browser", "firefox", "--user-data-dir", "PROFILE"], "Firefox never reads"),
        (["--system", "--user-data-dir", "PROFILE"], "use one"),
        (
            [
                "--platform",
                "windows",
                "--root",
                "ROOT",
                "--python",
                "C:/py/python.exe",
                "--user-data-dir",
                "PROFILE",
            ],
            "ignores --user-data-dir",
        ),
        (["--platform", "windows", "--python", "C:/py/python.exe"], "add --root DIR"),
        (["--browser", "chromium", "--snap", "--system"], "reads no system-wide folder"),
        (["--platform", "macos", "--root", "ROOT"], "needs --python"),
    ],
)
def test_combinations_no_browser_reads_are_refused(
    home: Path, tmp_path: Path, args: list[str], reason: str
) -> None:
    args = [
        a.replace("PROFILE", str(tmp_path / "p")).replace("ROOT", str(tmp_path / "r")) for a in args
    ]
    result = run_cli(home, "install-host", *args, env=user_env(tmp_path))
    assert result.returncode == 64, result.stdout
    assert reason in result.stderr.decode()
    assert result.stderr.decode().count("\n") == 1
    assert files_under(tmp_path) == []


def test_unknown_browser_is_a_usage_error(home: Path) -> None:
    result = run_cli(home, "install-host", "--browser", "netscape")
    assert result.returncode == 64
    assert b"netscape" in result.stderr


def test_a_flatpak_only_browser_is_refused_with_what_to_do(home: Path, tmp_path: Path) -> None:
    env = user_env(tmp_path)
    (tmp_path / "user/.local/share/flatpak/app/org.mozilla.firefox").mkdir(parents=True)
    env["PATH"] = str(tmp_path / "empty-bin")  # no firefox program: only the Flatpak
    result = run_cli(home, "install-host", "--browser", "firefox", env=env)
    assert result.returncode == 64
    message = result.stderr.decode()
    assert "Flatpak" in message and "cannot start programs outside its sandbox" in message
    assert not (tmp_path / "user/.mozilla").exists()


def test_a_native_browser_beside_its_flatpak_is_installed_with_a_note(
    home: Path, tmp_path: Path
) -> None:
    """The trap: a Flatpak copy does not stop the install for the packaged browser."""
    env = user_env(tmp_path)
    (tmp_path / "user/.local/share/flatpak/app/org.mozilla.firefox").mkdir(parents=True)
    (tmp_path / "user/.mozilla").mkdir()  # Firefox's own profile folder: a native Firefox
    env["PATH"] = str(tmp_path / "empty-bin")
    result = run_cli(home, "install-host", "--browser", "firefox", env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "user/.mozilla/native-messaging-hosts" / MANIFEST).exists()
    assert b"Flatpak" in result.stdout


def test_the_shared_launcher_of_earlier_versions_goes_once_nothing_names_it(
    home: Path, tmp_path: Path
) -> None:
    env = user_env(tmp_path)
    old = home / "native-host/tweetguard-host"
    old.parent.mkdir(parents=True)
    old.write_text("#!/bin/sh\nexec true\n")
    chromium = tmp_path / "user/.config/chromium/NativeMessagingHosts"
    chromium.mkdir(parents=True)
    (chromium / MANIFEST).write_text(json.dumps({"name": identity.HOST_NAME, "path": str(old)}))

    # Chrome's install leaves it: Chromium's old manifest still starts it.
    result = run_cli(home, "install-host", "--browser", "chrome", env=env)
    assert result.returncode == 0, result.stderr
    assert old.exists() and b"earlier version" in result.stdout
    # Once Chromium has its own launcher too, nothing names the old one.
    result = run_cli(home, "install-host", "--browser", "chromium", env=env)
    assert result.returncode == 0, result.stderr
    assert not old.exists()
    assert json.loads((chromium / MANIFEST).read_text())["path"] != str(old)


def test_a_found_flatpak_browser_does_not_stop_the_others(home: Path, tmp_path: Path) -> None:
    """Without --browser, the browsers found here are installed; a Flatpak-only one is
    named in a note, not a reason to install nothing."""
    env = user_env(tmp_path)
    (tmp_path / "user/.local/share/flatpak/app/org.mozilla.firefox").mkdir(parents=True)
    (tmp_path / "user/.config/vivaldi").mkdir(parents=True)  # a packaged Vivaldi's profile
    env["PATH"] = str(tmp_path / "empty-bin")
    result = run_cli(home, "install-host", env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "user/.config/vivaldi/NativeMessagingHosts" / MANIFEST).exists()
    assert b"Firefox is a Flatpak" in result.stdout
    assert not (tmp_path / "user/.mozilla").exists()


def test_system_install_refused_when_other_users_cannot_run_its_python(tmp_path: Path) -> None:
    """`sudo tweetguard install-host --system` from a Python only root may reach (a
    venv under /root; here pytest's 0700 temp folder): refused in one line, before
    anything is written, instead of an install that works for root alone."""
    python = tmp_path / "private-venv" / "bin" / "python3"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "TWEETGUARD_HOME"}
    env["HOME"] = str(tmp_path / "user")
    argv = [sys.executable, "-m", "tweetguard", "install-host", "--system"]
    argv += ["--browser", "chrome", "--python", str(python)]
    system_manifest = Path("/etc/opt/chrome/native-messaging-hosts") / MANIFEST
    had = system_manifest.exists(), Path("/var/lib/tweetguard").exists()
    proc = subprocess.run(argv, capture_output=True, env=env, timeout=60, check=False)
    try:
        assert proc.returncode == 73, proc.stdout.decode() + proc.stderr.decode()
        message = proc.stderr.decode().strip()
        assert len(message.splitlines()) == 1
        assert f"other users could not run {python}" in message
        assert "/opt/tweetguard" in message and "--python" in message
        assert (system_manifest.exists(), Path("/var/lib/tweetguard").exists()) == had
    finally:
        if proc.returncode == 0:  # the refusal failed: take back what it wrote
            undo = [sys.executable, "-m", "tweetguard", "uninstall-host", "--system"]
            subprocess.run([*undo, "--browser", "chrome"], env=env, timeout=60, check=False)


def test_reach_is_read_from_every_folder_s_mode() -> None:
    """The refusal's trap: a launcher and a Python in folders everyone may pass
    through are fine; one 0700 folder above either is named."""
    from tweetguard.install.access import unreachable

    top = Path(tempfile.mkdtemp(prefix="tg-install-reach-"))
    try:
        top.chmod(0o755)
        python = top / "opt" / "bin" / "python3"
        python.parent.mkdir(parents=True)
        python.write_text("#!/bin/sh\n")
        launcher = top / "data" / "native-host" / "chrome-system" / "tweetguard-host"
        launcher.parent.mkdir(parents=True)
        assert unreachable(str(python), [launcher]) == []
        (top / "data").chmod(0o700)
        (problem,) = unreachable(str(python), [launcher])
        assert f"{top / 'data'} is mode 0700" in problem and str(launcher) in problem
        (top / "data").chmod(0o755)
        (top / "opt").chmod(0o711)  # passable, not listable: still fine
        assert unreachable(str(python), [launcher]) == []
        # A venv's python is a link: where it leads counts too.
        private = top / "root-only"
        private.mkdir(mode=0o700)
        (private / "python3.11").write_text("")
        python.unlink()
        python.symlink_to(private / "python3.11")
        (problem,) = unreachable(str(python), [launcher])
        assert f"{private} is mode 0700" in problem
    finally:
        (top / "data").chmod(0o755)
        shutil.rmtree(top, ignore_errors=True)
