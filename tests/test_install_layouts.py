"""Every browser x OS x scope layout, written into a temporary root the way a package
build stages it (`--root`, `--python`, `--platform`), checked against the folders and
registry keys each browser documents, then uninstalled with nothing left behind."""

from __future__ import annotations

import getpass
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

import pytest

from tweetguard import identity
from tweetguard.cli import main
from tweetguard.install import browsers, hosts, windows
from tweetguard.install.browsers import rooted
from tweetguard.install.record import read_records

MANIFEST = f"{identity.HOST_NAME}.json"
BROWSERS = ("chrome", "chromium", "edge", "brave", "vivaldi", "firefox")
PYTHON = {"linux": "/opt/tweetguard/bin/python", "macos": "/opt/tweetguard/bin/python3"}
WIN_PYTHON = r"C:\Program Files\tweetguard\python.exe"
FIREFOX = ("--browser", "firefox")

# Written out here from the browsers' documentation, not imported from the code under
# test, so a wrong row in install/browsers.py fails.
LINUX_USER = {
    "chrome": ".config/google-chrome/NativeMessagingHosts",
    "chromium": ".config/chromium/NativeMessagingHosts",
    "edge": ".config/microsoft-edge/NativeMessagingHosts",
    "brave": ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts",
    "vivaldi": ".config/vivaldi/NativeMessagingHosts",
    "firefox": ".mozilla/native-messaging-hosts",
}
LINUX_SYSTEM = {
    "chrome": "/etc/opt/chrome/native-messaging-hosts",
    "chromium": "/etc/chromium/native-messaging-hosts",
    "edge": "/etc/opt/edge/native-messaging-hosts",
    "brave": "/etc/opt/chrome/native-messaging-hosts",
    "vivaldi": "/etc/chromium/native-messaging-hosts",
    "firefox": "/usr/lib/mozilla/native-messaging-hosts",
}
MAC_USER = {
    "chrome": "Google/Chrome/NativeMessagingHosts",
    "chromium": "Chromium/NativeMessagingHosts",
    "edge": "Microsoft Edge/NativeMessagingHosts",
    "brave": "BraveSoftware/Brave-Browser/NativeMessagingHosts",
    "vivaldi": "Vivaldi/NativeMessagingHosts",
    "firefox": "Mozilla/NativeMessagingHosts",
}
MAC_SYSTEM = {
    "chrome": "/Library/Google/Chrome/NativeMessagingHosts",
    "chromium": "/Library/Application Support/Chromium/NativeMessagingHosts",
    "edge": "/Library/Microsoft/Edge/NativeMessagingHosts",
    "brave": "/Library/Google/Chrome/NativeMessagingHosts",
    "vivaldi": "/Library/Application Support/Chromium/NativeMessagingHosts",
    "firefox": "/Library/Application Support/Mozilla/NativeMessagingHosts",
}
WIN_KEYS = {
    "chrome": r"Software\Google\Chrome\NativeMessagingHosts",
    "chromium": r"Software\Chromium\NativeMessagingHosts",
    "edge": r"Software\Microsoft\Edge\NativeMessagingHosts",
    "brave": r"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts",
    "vivaldi": r"Software\Vivaldi\NativeMessagingHosts",
    "firefox": r"Software\Mozilla\NativeMessagingHosts",
}


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "login"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("TWEETGUARD_HOME", raising=False)
    yield home


def cli(*args: str) -> int:
    return main(list(args))


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if not p.is_dir()) if folder.exists() else []


def expected_folder(platform: str, scope: str, browser: str, login_home: Path) -> str:
    if platform == "linux":
        return str(login_home / LINUX_USER[browser]) if scope == "user" else LINUX_SYSTEM[browser]
    mac_home = f"/Users/{getpass.getuser()}"
    if scope == "user":
        return f"{mac_home}/Library/Application Support/{MAC_USER[browser]}"
    return MAC_SYSTEM[browser]


@pytest.mark.parametrize("scope", ["user", "system"])
@pytest.mark.parametrize("platform", ["linux", "macos"])
@pytest.mark.parametrize("browser", BROWSERS)
def test_posix_layouts_into_a_root(
    tmp_path: Path, user_home: Path, browser: str, platform: str, scope: str
) -> None:
    root = tmp_path / "root"
    final_home = f"/nonexistent-{uuid.uuid4().hex}/tweetguard"
    args = ["--browser", browser, "--root", str(root), "--python", PYTHON[platform]]
    args += ["--platform", platform] + (["--system"] if scope == "system" else [])
    if platform == "linux":
        args = ["--home", final_home, "install-host", *args]
    else:
        args = ["install-host", *args]
    assert cli(*args) == 0

    folder = expected_folder(platform, scope, browser, user_home)
    manifest_path = rooted(PurePosixPath(folder) / MANIFEST, root)
    manifest = json.loads(manifest_path.read_text())
    key = "allowed_extensions" if browser == "firefox" else "allowed_origins"
    assert manifest[key] == (
        [identity.FIREFOX_ADDON_ID] if browser == "firefox" else [identity.CHROME_ORIGIN]
    )
    # The content names final paths; the files sit under the root.
    launcher = PurePosixPath(manifest["path"])
    assert not str(launcher).startswith(str(root))
    assert launcher.name == "tweetguard-host" and launcher.parent.name == f"{browser}-{scope}"
    text = rooted(launcher, root).read_text()
    assert text.startswith("#!/bin/sh\nexec " + PYTHON[platform])
    assert os.access(rooted(launcher, root), os.X_OK)
    # What doctor reads: the record, and the browser's locations.
    (record,) = read_records(rooted(launcher.parent.parent.parent, root))
    assert (record.browser, record.scope, str(record.manifest)) == (
        browser,
        scope,
        f"{folder}/{MANIFEST}",
    )
    if platform == "linux":
        assert (scope, manifest_path) in browsers.manifest_locations(
            browser, platform=platform, root=root
        )

    uninstall = [a for a in args if a not in ("--python", PYTHON[platform])]
    uninstall[uninstall.index("install-host")] = "uninstall-host"
    assert cli(*uninstall) == 0
    assert files_under(root) == []
    # Folders left: only those every system has, the login's home, and the data
    # folder with audit.d (data, never the installer's to remove).
    data = launcher.parent.parent.parent
    keep = {"/etc", "/etc/opt", "/usr", "/usr/lib", "/Library", "/Library/Application Support"}
    if scope == "system":
        keep |= {str(p) for p in [data / "audit.d", *(data / "audit.d").parents]}
    for home in (user_home, PurePosixPath(f"/Users/{getpass.getuser()}")):
        keep |= {str(p) for p in [home, *home.parents]}
    left = {"/" + str(p.relative_to(root)) for p in root.rglob("*")}
    assert left <= keep, sorted(left - keep)


@pytest.mark.parametrize("scope", ["user", "system"])
@pytest.mark.parametrize("browser", BROWSERS)
def test_windows_layouts_into_a_root(
    tmp_path: Path, user_home: Path, browser: str, scope: str
) -> None:
    root = tmp_path / "root"
    args = ["--browser", browser, "--root", str(root), "--platform", "windows"]
    args += ["--system"] if scope == "system" else []
    reg = tmp_path / "hosts.reg"
    assert cli("install-host", *args, "--python", WIN_PYTHON, "--export-reg", str(reg)) == 0

    if scope == "system":
        home = PureWindowsPath(r"C:\ProgramData\tweetguard")
        keys = [
            (f"HKEY_LOCAL_MACHINE\\{WIN_KEYS[browser]}\\{identity.HOST_NAME}"),
            (
                "HKEY_LOCAL_MACHINE\\Software\\WOW6432Node\\"
                + WIN_KEYS[browser].split("\\", 1)[1]
                + f"\\{identity.HOST_NAME}"
            ),
        ]
    else:
        home = PureWindowsPath(f"C:/Users/{getpass.getuser()}/AppData/Local/tweetguard")
        keys = [f"HKEY_CURRENT_USER\\{WIN_KEYS[browser]}\\{identity.HOST_NAME}"]
    manifest_final = home / "native-host" / f"{browser}-{scope}" / MANIFEST
    stand_in = json.loads((root / "windows-registry.json").read_text())
    assert stand_in == {k: str(manifest_final) for k in keys}
    # The .reg file says the same, in regedit's own format.
    data = reg.read_bytes()
    assert data.startswith(b"\xff\xfe") and b"\r\x00\n\x00" in data
    assert windows.parse_reg(data) == {k: {"@": str(manifest_final)} for k in keys}

    manifest = json.loads(rooted(manifest_final, root).read_text())
    launcher = PureWindowsPath(manifest["path"])
    assert launcher == manifest_final.parent / "tweetguard-host.bat"
    bat = rooted(launcher, root).read_bytes().decode()
    assert bat.startswith("@echo off\r\n") and bat.endswith(' "--" %*\r\n')
    assert f'"{WIN_PYTHON}"' in bat and f'"{home}"' in bat
    # Doctor finds the manifest through the (stand-in) registry.
    found = browsers.manifest_locations(browser, platform="windows", root=root)
    assert {p for _, p in found} == {rooted(manifest_final, root)}

    assert cli("uninstall-host", *args) == 0
    assert files_under(root) == []
    # Only the folders every Windows has, and the login's home, are left.
    left = {str(p.relative_to(root)) for p in root.rglob("*")}
    assert left <= {"C", "C/ProgramData", "C/Users", f"C/Users/{getpass.getuser()}"}, left


def test_reg_files_parse_back_and_refuse_what_is_not_one() -> None:
    entries = [(r"HKCU\Software\Vivaldi\NativeMessagingHosts\x", None, r"C:\A \"q\"\b.json")]
    parsed = windows.parse_reg(windows.export_reg(entries))
    assert parsed == {
        r"HKEY_CURRENT_USER\Software\Vivaldi\NativeMessagingHosts\x": {"@": r"C:\A \"q\"\b.json"}
    }
    regedit4 = b'REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\Software\\X]\r\n@="C:\\\\y.json"\r\n'
    assert windows.parse_reg(regedit4) == {r"HKEY_CURRENT_USER\Software\X": {"@": r"C:\y.json"}}
    with pytest.raises(ValueError, match="regedit header"):
        windows.parse_reg(b"[HKEY_CURRENT_USER\\Software\\X]\r\n")


def test_brave_and_chrome_share_chromes_system_folder(tmp_path: Path, user_home: Path) -> None:
    root = tmp_path / "root"
    home = f"/nonexistent-{uuid.uuid4().hex}/tg"
    base = ["--home", home]
    stage = ["--system", "--root", str(root), "--python", PYTHON["linux"]]
    other = "abcdefghijklmnopabcdefghijklmnop"
    assert cli(*base, "install-host", "--browser", "chrome", *stage) == 0
    assert cli(*base, "install-host", "--browser", "brave", "--extension-id", other, *stage) == 0
    path = root / "etc/opt/chrome/native-messaging-hosts" / MANIFEST
    both = [identity.CHROME_ORIGIN, f"chrome-extension://{other}/"]
    assert sorted(json.loads(path.read_text())["allowed_origins"]) == sorted(both)

    # Brave leaves; Chrome's registration is as Chrome's install made it.
    assert cli(*base, "uninstall-host", "--system", "--browser", "brave", "--root", str(root)) == 0
    manifest = json.loads(path.read_text())
    assert manifest["allowed_origins"] == [identity.CHROME_ORIGIN]
    assert (
        f"chrome-extension://{other}/"
        not in rooted(PurePosixPath(manifest["path"]), root).read_text()
    )
    assert cli(*base, "uninstall-host", "--system", "--root", str(root)) == 0
    assert files_under(root) == []


def test_a_staged_system_install_names_final_paths(tmp_path: Path, user_home: Path) -> None:
    """What a .deb build stages: the manifests in /etc, the launchers and the record in
    the data folder, all naming the installed system's paths."""
    root = tmp_path / "root"
    home = f"/nonexistent-{uuid.uuid4().hex}/var/lib/tweetguard"
    args = ["--home", home, "install-host", "--system", "--root", str(root)]
    args += ["--python", PYTHON["linux"], "--browser", "chromium", "--browser", "firefox"]
    assert cli(*args) == 0
    record_file = rooted(PurePosixPath(home) / "native-host/installed.json", root)
    text = record_file.read_text()
    assert str(root) not in text and home in text
    audit = rooted(PurePosixPath(home) / "audit.d", root)
    assert audit.is_dir() and (audit.stat().st_mode & 0o7777) == 0o1777
    chromium = root / "etc/chromium/native-messaging-hosts" / MANIFEST
    assert (
        json.loads(chromium.read_text())["path"]
        == f"{home}/native-host/chromium-system/tweetguard-host"
    )
    # The root's own skeleton (/etc, /usr/lib) is not the install's to remove on a machine.
    records = read_records(rooted(PurePosixPath(home), root))
    assert all("/etc" not in [str(d) for d in r.created_dirs] for r in records)
    assert all(PurePosixPath(home) / "audit.d" in r.created_dirs for r in records)
    # Uninstalling one browser keeps audit.d for the other's system install.
    assert cli("--home", home, "uninstall-host", "--system", "--root", str(root), *FIREFOX) == 0
    assert audit.is_dir()
    assert cli("--home", home, "uninstall-host", "--system", "--root", str(root)) == 0
    assert files_under(root) == []
    # The install made audit.d and nobody wrote in it: the root is left as it was found.
    assert not audit.exists()
    assert not rooted(PurePosixPath(home), root).exists()


def test_an_audit_d_with_teachers_files_or_made_before_is_never_removed(
    tmp_path: Path, user_home: Path
) -> None:
    root = tmp_path / "root"
    home = f"/nonexistent-{uuid.uuid4().hex}/var/lib/tweetguard"
    audit = rooted(PurePosixPath(home) / "audit.d", root)
    args = ["--home", home, "install-host", "--system", "--root", str(root), *FIREFOX]
    assert cli(*args, "--python", PYTHON["linux"]) == 0
    (audit / "ms.hale.sqlite3").write_bytes(b"a teacher's own audit rows")
    assert cli("--home", home, "uninstall-host", "--system", "--root", str(root)) == 0
    assert (audit / "ms.hale.sqlite3").read_bytes() == b"a teacher's own audit rows"

    # The trap's twin: an audit.d that was there before the install is not recorded.
    (audit / "ms.hale.sqlite3").unlink()
    assert cli(*args, "--python", PYTHON["linux"]) == 0
    records = read_records(rooted(PurePosixPath(home), root))
    assert all(PurePosixPath(home) / "audit.d" not in r.created_dirs for r in records)
    assert cli("--home", home, "uninstall-host", "--system", "--root", str(root)) == 0
    assert audit.is_dir()


def test_snap_chromium_folder_and_snap_firefox_portal(
    tmp_path: Path, user_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "root"
    stage = ["--root", str(root), "--python", PYTHON["linux"], "--snap"]
    assert (
        cli("--home", str(tmp_path / "data"), "install-host", "--browser", "chromium", *stage) == 0
    )
    snap = rooted(
        PurePosixPath(user_home) / "snap/chromium/common/chromium/NativeMessagingHosts", root
    )
    assert (snap / MANIFEST).exists()
    assert not rooted(PurePosixPath(user_home) / ".config/chromium", root).exists()
    assert "Chromium is a Snap" in capsys.readouterr().out

    assert (
        cli("--home", str(tmp_path / "data"), "install-host", "--browser", "firefox", *stage) == 0
    )
    firefox = rooted(PurePosixPath(user_home) / ".mozilla/native-messaging-hosts", root)
    assert (firefox / MANIFEST).exists()  # the portal reads the ordinary folder
    assert "WebExtensions portal" in capsys.readouterr().out
    assert cli("--home", str(tmp_path / "data"), "uninstall-host", "--root", str(root)) == 0
    assert files_under(root) == []


def test_every_location_is_listed_for_doctor() -> None:
    """Flatpak folders are listed (a Flatpak browser reads them) but marked as places
    no host can run from; every other location is one install writes."""
    for browser in BROWSERS:
        linux = browsers.locations(browser, platform="linux")
        flatpak = [loc for loc in linux if loc.scope == "flatpak"]
        assert len(flatpak) == 1 and not flatpak[0].installable and "Flatpak" in flatpak[0].note
        assert all(loc.installable for loc in linux if loc.scope != "flatpak")
        win = browsers.locations(browser, platform="windows")
        assert [
            (loc.registry_key.split("\\")[0], loc.registry_view) for loc in win if loc.registry_key
        ] == [
            ("HKCU", None),
            ("HKLM", "32"),
            ("HKLM", "64"),
        ]


@pytest.mark.parametrize(
    ("platform", "python", "home"),
    [
        ("linux", "/opt/tweet guard/bin/python3", PurePosixPath("/srv/school data/tg")),
        ("macos", "/usr/local/bin/python3", PurePosixPath("/Library/Application Support/tg")),
        ("windows", r"C:\Program Files\tweetguard\python.exe", PureWindowsPath(r"C:\Data\tg")),
    ],
)
def test_a_launcher_reads_back_for_doctor(platform: str, python: str, home: PurePath) -> None:
    """Doctor reads the interpreter and the ids back out of a launcher."""
    from tweetguard.install import launcher

    allowed = [identity.CHROME_ORIGIN, "chrome-extension://abcdefghijklmnopabcdefghijklmnop/"]
    text = launcher.launcher_text(python, home, allowed, platform)
    assert launcher.parse_allowed(text) == allowed
    assert launcher.python_of(text) == python


def test_system_install_without_a_home_uses_the_machine_s_data_folder(
    tmp_path: Path, user_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sudo tweetguard install-host --system` named no data folder: the launchers go
    to /var/lib/tweetguard, not into root's own home, where no teacher may enter."""
    root = tmp_path / "root"
    stage = ["--system", "--root", str(root), "--python", PYTHON["linux"], "--browser", "chrome"]
    assert cli("install-host", *stage) == 0
    assert "data directory /var/lib/tweetguard" in capsys.readouterr().out
    manifest = json.loads((root / "etc/opt/chrome/native-messaging-hosts" / MANIFEST).read_text())
    assert manifest["path"] == "/var/lib/tweetguard/native-host/chrome-system/tweetguard-host"
    text = (root / "var/lib/tweetguard/native-host/chrome-system/tweetguard-host").read_text()
    assert "--home /var/lib/tweetguard " in text
    assert not (user_home / ".local").exists()
    assert cli("uninstall-host", *stage[:-4], "--browser", "chrome") == 0
    assert files_under(root) == []

    # The trap: a data folder named on purpose ($TWEETGUARD_HOME, or --home) is kept.
    chosen = f"/nonexistent-{uuid.uuid4().hex}/tweetguard"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TWEETGUARD_HOME", chosen)
        assert cli("install-host", *stage) == 0
        manifest_file = root / "etc/opt/chrome/native-messaging-hosts" / MANIFEST
        assert json.loads(manifest_file.read_text())["path"].startswith(chosen + "/")
        assert cli("uninstall-host", *stage[:-4]) == 0
    assert files_under(root) == []


@pytest.mark.parametrize("platform", ["macos", "windows"])
def test_another_os_s_layout_without_browser_is_every_browser(
    tmp_path: Path, user_home: Path, platform: str
) -> None:
    """What this Linux machine has installed says nothing about the Macs and PCs a
    staged layout is for: every browser is written."""
    root = tmp_path / "root"
    python = WIN_PYTHON if platform == "windows" else PYTHON["macos"]
    stage = ["--root", str(root), "--platform", platform, "--python", python, "--system"]
    assert cli("install-host", *stage) == 0
    records = read_records(rooted(hosts.default_target_home(platform, True), root))
    assert {r.browser for r in records} == set(BROWSERS)
    assert cli("uninstall-host", *stage) == 0
    assert files_under(root) == []


def test_a_linux_root_without_browser_is_every_browser(tmp_path: Path, user_home: Path) -> None:
    root = tmp_path / "root"
    home = f"/nonexistent-{uuid.uuid4().hex}/tweetguard"
    stage = ["--root", str(root), "--python", PYTHON["linux"], "--system"]
    assert cli("--home", home, "install-host", *stage) == 0
    records = read_records(rooted(PurePosixPath(home), root))
    assert {r.browser for r in records} == set(BROWSERS)


def test_snap_for_a_browser_without_one_says_so(
    tmp_path: Path, user_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "root"
    stage = ["--root", str(root), "--python", PYTHON["linux"], "--snap"]
    home = str(tmp_path / "data")
    assert cli("--home", home, "install-host", "--browser", "edge", *stage) == 0
    out = capsys.readouterr().out
    assert "note: Microsoft Edge has no Snap" in out
    assert (rooted(PurePosixPath(user_home) / LINUX_USER["edge"], root) / MANIFEST).exists()
    # The trap: Chromium has a Snap, and gets its folder without that note.
    assert cli("--home", home, "install-host", "--browser", "chromium", *stage) == 0
    out = capsys.readouterr().out
    assert "Chromium is a Snap" in out and "has no Snap" not in out


def test_a_folder_is_handed_to_the_install_inside_it_not_to_a_namesake(tmp_path: Path) -> None:
    """`/x/tg` is not a folder above `/x/tg-other/...`: the folder still holding a
    file goes to the record of the install whose file it holds."""
    from tweetguard.install.hosts import _remove_dirs
    from tweetguard.install.record import InstallRecord

    def record(manifest: Path, created: list[Path]) -> InstallRecord:
        return InstallRecord(
            "chrome", "user", manifest, manifest.parent / "launcher", [], created_dirs=created
        )

    shared = tmp_path / "tg"
    namesake = record(tmp_path / "tg-other" / MANIFEST, [])
    inside = record(shared / "kept" / MANIFEST, [])
    inside.manifest.parent.mkdir(parents=True)
    inside.manifest.write_text("{}")
    going = record(shared / MANIFEST, [shared])
    _remove_dirs([going], [namesake, inside], None)
    assert shared.is_dir()
    assert shared not in namesake.created_dirs
    assert inside.created_dirs == [shared]
