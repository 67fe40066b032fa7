"""`tweetguard doctor` on a real install: the real install-host into a data folder and
a user's home of the test's own, the real launchers started as the browser starts
them, and each link broken in turn, with the healthy neighbour beside it not flagged.
"""

from __future__ import annotations

import json
import shlex
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REGISTER_CSV, run_cli, write_policy
from tweetguard import identity
from tweetguard.stores.audit import AuditLog

POLICY = """\
[school]
name = "Pennywhistle Lane Primary"

[[accounts]]
handle = "PennywhistleLn"
"""
OTHER_ID = "pnmlkjihgfedcbapnmlkjihgfedcbapo"
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
BROWSERS = ("--browser", "chrome", "--browser", "firefox")
MANIFEST = f"{identity.HOST_NAME}.json"


@dataclass
class Install:
    home: Path  # the data folder
    user: Path  # the user's home, where per-user manifests go
    env: dict[str, str]

    def cli(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return run_cli(self.home, *args, env=self.env)

    def doctor(self, *args: str) -> tuple[int, dict[str, dict[str, str]]]:
        """The exit status and the checks by id, from `doctor --json`."""
        result = self.cli("doctor", "--json", *BROWSERS, *args)
        assert result.returncode in (0, 1), result.stderr.decode()
        report = json.loads(result.stdout)
        checks = {c["id"]: c for c in report["checks"]}
        assert len(checks) == len(report["checks"]), "check ids are unique"
        assert report["ok"] is (result.returncode == 0)
        return result.returncode, checks

    def manifest(self, browser: str) -> Path:
        folder = {
            "chrome": self.user / ".config/google-chrome/NativeMessagingHosts",
            "firefox": self.user / ".mozilla/native-messaging-hosts",
        }[browser]
        return folder / MANIFEST

    def launcher(self, browser: str) -> Path:
        return Path(json.loads(self.manifest(browser).read_text())["path"])


def make_install(tmp_path: Path, *install_args: str) -> Install:
    home = tmp_path / "data"
    home.mkdir()
    user = tmp_path / "user"
    user.mkdir()
    env = {**NO_KEYRING, "HOME": str(user), "XDG_CONFIG_HOME": "", "XDG_DATA_HOME": ""}
    made = Install(home, user, env)
    write_policy(home, POLICY)
    assert made.cli("consent", "import", str(REGISTER_CSV)).returncode == 0
    result = made.cli("install-host", *BROWSERS, *install_args)
    assert result.returncode == 0, result.stderr.decode()
    return made


@pytest.fixture
def installed(tmp_path: Path) -> Install:
    return make_install(tmp_path)


def statuses(checks: dict[str, dict[str, str]], prefix: str) -> dict[str, str]:
    return {k: v["status"] for k, v in checks.items() if k.startswith(prefix)}


CHAIN = ("manifest", "origin", "launcher", "python", "hello")


def assert_chain_ok(checks: dict[str, dict[str, str]], browser: str) -> None:
    for link in CHAIN:
        check = checks[f"{link}.{browser}.user"]
        assert check["status"] == "ok", check


def test_a_healthy_install_passes_every_link_and_exits_0(installed: Install) -> None:
    code, checks = installed.doctor()
    assert code == 0
    for browser in ("chrome", "firefox"):
        assert_chain_ok(checks, browser)
    assert "hello answered" in checks["hello.chrome.user"]["message"]
    for check_id in (
        "runtime.python",
        "runtime.packages",
        "data.folder",
        "data.audit",
        "policy.valid",
        "register.loaded",
        "register.fresh",
        "audit.chain",
        "server.reachable",
    ):
        assert checks[check_id]["status"] == "ok", checks[check_id]
    assert "14 pupils" in checks["register.loaded"]["message"]
    assert "Pennywhistle Lane Primary" in checks["policy.valid"]["message"]
    # No keyring in tests: secrets in 0600 files, said as a warning, which still exits 0.
    assert checks["keyring.backend"]["status"] == "warn"
    assert not [c for c in checks.values() if c["status"] == "fail"]
    for check in checks.values():
        assert set(check) == {"id", "title", "status", "message", "fix"}
        assert "\n" not in check["message"] and "\n" not in check["fix"]


def test_text_output_is_one_line_per_check_with_the_fix(installed: Install) -> None:
    installed.manifest("chrome").unlink()
    result = installed.cli("doctor", *BROWSERS)
    assert result.returncode == 1
    lines = result.stdout.decode().splitlines()
    failed = [line for line in lines if line.startswith("FAIL ")]
    assert len(failed) == 1, lines
    assert failed[0].startswith("FAIL Google Chrome (user) manifest: ")
    assert " — fix: run `tweetguard install-host --browser chrome`" in failed[0]
    assert any(line.startswith("ok   Firefox (user) host answers: ") for line in lines)
    assert lines[-1].startswith("1 failed, ")


def test_missing_manifest(installed: Install) -> None:
    installed.manifest("chrome").unlink()
    code, checks = installed.doctor()
    assert code == 1
    assert checks["manifest.chrome.user"]["status"] == "fail"
    assert "is gone" in checks["manifest.chrome.user"]["message"]
    # The rest of Chrome's chain is not tried: the break is reported once.
    assert "hello.chrome.user" not in checks
    assert_chain_ok(checks, "firefox")


def test_browser_never_installed_for(installed: Install) -> None:
    code, checks = installed.doctor("--browser", "edge")
    assert code == 1
    assert checks["manifest.edge"]["status"] == "fail"
    assert "--browser edge" in checks["manifest.edge"]["fix"]
    assert_chain_ok(checks, "chrome")


def test_a_profile_started_with_user_data_dir(installed: Install, tmp_path: Path) -> None:
    profile = tmp_path / "kiosk-profile"
    result = installed.cli("install-host", "--browser", "chromium", "--user-data-dir", str(profile))
    assert result.returncode == 0, result.stderr.decode()
    code, checks = installed.doctor("--browser", "chromium")
    assert code == 0, checks
    for link in CHAIN:
        assert checks[f"{link}.chromium.user-data-dir"]["status"] == "ok"
    assert str(profile) in checks["manifest.chromium.user-data-dir"]["message"]


def test_installed_for_another_login(installed: Install, tmp_path: Path) -> None:
    """install-host run with one HOME, the browser's user has another: the manifest
    exists, but not where this user's browser reads."""
    other = tmp_path / "another-login"
    other.mkdir()
    installed.env["HOME"] = str(other)
    code, checks = installed.doctor()
    assert code == 1
    check = checks["manifest.chrome.user"]
    assert check["status"] == "fail" and "does not look there" in check["message"]
    assert str(other / ".config/google-chrome/NativeMessagingHosts") in check["message"]
    assert "as the user whose browser it is" in check["fix"]


def test_wrong_extension_id(installed: Install) -> None:
    code, checks = installed.doctor("--extension-id", OTHER_ID)
    assert code == 1
    origin = checks["origin.chrome.user"]
    assert origin["status"] == "fail"
    assert f"chrome-extension://{OTHER_ID}/" in origin["message"]
    assert f"--extension-id {OTHER_ID}" in origin["fix"]
    # Firefox's id was not named, so its chain is still checked against its default.
    assert_chain_ok(checks, "firefox")


def test_installed_for_another_id_is_healthy_for_that_id(tmp_path: Path) -> None:
    made = make_install(tmp_path, "--extension-id", OTHER_ID)
    code, checks = made.doctor("--extension-id", OTHER_ID)
    assert code == 0, checks
    assert_chain_ok(checks, "chrome")


def test_manifest_allowing_an_id_its_launcher_refuses(installed: Install) -> None:
    """Today's shared-launcher bug, as a browser meets it: the manifest lets the
    extension start the host, and the host answers forbidden_origin."""
    path = installed.manifest("chrome")
    data = json.loads(path.read_text())
    data["allowed_origins"] = [f"chrome-extension://{OTHER_ID}/"]
    path.write_text(json.dumps(data))
    code, checks = installed.doctor("--extension-id", OTHER_ID)
    assert code == 1
    assert checks["origin.chrome.user"]["status"] == "ok"
    hello = checks["hello.chrome.user"]
    assert hello["status"] == "fail"
    assert "refused" in hello["message"] and OTHER_ID in hello["message"]
    assert f"--extension-id {OTHER_ID}" in hello["fix"]


def test_invalid_manifest(installed: Install) -> None:
    installed.manifest("firefox").write_text('{"name": "org.tweetguard.helper", ')
    code, checks = installed.doctor()
    assert code == 1
    assert checks["manifest.firefox.user"]["status"] == "fail"
    assert "not valid JSON" in checks["manifest.firefox.user"]["message"]
    assert_chain_ok(checks, "chrome")


def test_launcher_not_executable(installed: Install) -> None:
    launcher = installed.launcher("chrome")
    assert launcher != installed.launcher("firefox"), "one launcher per manifest"
    launcher.chmod(0o644)
    code, checks = installed.doctor()
    assert code == 1
    check = checks["launcher.chrome.user"]
    assert check["status"] == "fail" and "not executable" in check["message"]
    assert f"chmod a+rx {launcher}" in check["fix"]
    assert "hello.chrome.user" not in checks
    assert_chain_ok(checks, "firefox")


def test_python_moved(tmp_path: Path) -> None:
    """The launcher names an interpreter that is gone (a venv moved, Python upgraded)."""
    venv = tmp_path / "old-venv" / "bin"
    venv.mkdir(parents=True)
    python = venv / "python3"
    python.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    python.chmod(0o755)
    made = make_install(tmp_path, "--python", str(python))
    code, checks = made.doctor()
    assert code == 0, checks  # a healthy install through that interpreter first
    python.unlink()
    code, checks = made.doctor()
    assert code == 1
    for browser in ("chrome", "firefox"):
        check = checks[f"python.{browser}.user"]
        assert check["status"] == "fail"
        assert str(python) in check["message"] and "no longer exists" in check["message"]
        assert checks[f"launcher.{browser}.user"]["status"] == "ok"
        assert f"hello.{browser}.user" not in checks


@pytest.mark.parametrize(
    "text", ["[school\nname = 'broken'\n", "[posting]\nno_such_setting = true\n"]
)
def test_unreadable_policy(installed: Install, text: str) -> None:
    write_policy(installed.home, text)
    code, checks = installed.doctor()
    assert code == 1
    assert checks["policy.valid"]["status"] == "fail"
    assert "policy check" in checks["policy.valid"]["fix"]
    # The host itself holds every post then: its hello says so, pointing at the cause.
    assert checks["hello.chrome.user"]["status"] == "fail"
    assert "policy_invalid" in checks["hello.chrome.user"]["message"]
    assert checks["register.loaded"]["status"] == "ok"


def test_policy_in_another_encoding(installed: Install) -> None:
    (installed.home / "policy.toml").write_bytes(
        '[school]\nname = "Ysgol Bryn Ŵyn"\n'.encode("utf-16")
    )
    _, checks = installed.doctor()
    assert checks["policy.valid"]["status"] == "fail"
    assert "UTF-8" in checks["policy.valid"]["message"]


def test_corrupt_register(installed: Install) -> None:
    register = installed.home / "register.sqlite3"
    register.write_bytes(b"This is not the register any more. " * 200)
    code, checks = installed.doctor()
    assert code == 1
    check = checks["register.loaded"]
    assert check["status"] == "fail" and str(register) in check["message"]
    assert "consent import" in check["fix"]
    assert "register.fresh" not in checks
    assert checks["policy.valid"]["status"] == "ok"


def test_no_register(installed: Install) -> None:
    (installed.home / "register.sqlite3").unlink()
    _, checks = installed.doctor()
    assert checks["register.loaded"]["status"] == "fail"
    assert "no register" in checks["register.loaded"]["message"]


def test_corrupt_audit_chain(installed: Install) -> None:
    audit = installed.home / "audit.sqlite3"
    log = AuditLog(audit)
    for verdict in ("ok", "warn", "ok"):
        log.append("check", account="PennywhistleLn", verdict=verdict)
    log.close()
    code, checks = installed.doctor()
    assert code == 0 and checks["audit.chain"]["status"] == "ok"
    conn = sqlite3.connect(audit)
    seq = conn.execute("SELECT seq FROM rows WHERE verdict = 'warn'").fetchone()[0]
    conn.execute("UPDATE rows SET verdict = 'ok' WHERE seq = ?", (seq,))
    conn.commit()
    conn.close()
    code, checks = installed.doctor()
    assert code == 1
    check = checks["audit.chain"]
    assert check["status"] == "fail" and f"row {seq}" in check["message"]
    assert "audit verify" in check["fix"]
    assert checks["register.loaded"]["status"] == "ok"


def test_audit_that_cannot_be_written(installed: Install) -> None:
    """The helper answers, but cannot record: what the popup shows as a failing audit."""
    audit = installed.home / "audit.sqlite3"
    audit.unlink(missing_ok=True)
    audit.mkdir()
    code, checks = installed.doctor()
    assert code == 1
    assert checks["data.audit"]["status"] == "fail"
    assert "not a file" in checks["data.audit"]["message"]
    hello = checks["hello.chrome.user"]
    assert hello["status"] == "fail" and "cannot write the audit" in hello["message"]
    assert checks["register.loaded"]["status"] == "ok"


def test_missing_data_folder(tmp_path: Path) -> None:
    home = tmp_path / "never-made"
    result = run_cli(home, "doctor", "--json", "--browser", "chrome", env=NO_KEYRING)
    assert result.returncode == 1
    checks = {c["id"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["data.folder"]["status"] == "fail"
    assert "does not exist" in checks["data.folder"]["message"]
    # Said once, where it breaks: not again as a missing policy, register or audit.
    assert not {"policy.valid", "register.loaded", "keyring.backend", "audit.chain"} & set(checks)
    assert not home.exists(), "doctor only looks: it creates nothing"


def test_unknown_browser_and_bad_id_are_usage_errors(home: Path) -> None:
    result = run_cli(home, "doctor", "--browser", "mosaic")
    assert result.returncode == 64 and b"mosaic" in result.stderr
    result = run_cli(home, "doctor", "--extension-id", "NOTANID")
    assert result.returncode == 64
    assert b"neither a Chromium extension id" in result.stderr
    assert len(result.stderr.decode().strip().splitlines()) == 1


def test_firefox_id_is_taken_as_firefox_s(installed: Install) -> None:
    _, checks = installed.doctor("--extension-id", "pennywhistle@example.org")
    assert checks["origin.firefox.user"]["status"] == "fail"
    assert "pennywhistle@example.org" in checks["origin.firefox.user"]["message"]
    assert checks["origin.chrome.user"]["status"] == "ok"


def test_every_check_id_is_documented(installed: Install) -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "doctor.md").read_text()
    _, checks = installed.doctor("--browser", "edge")
    names = {"chrome", "chromium", "edge", "brave", "vivaldi", "firefox"}
    for check_id in checks:
        parts = check_id.split(".")
        if len(parts) > 1 and parts[1] in names:
            parts[1] = "<browser>"
            if parts[0] in CHAIN and len(parts) == 3:
                parts[2] = "<scope>"
        assert f"`{'.'.join(parts)}`" in doc, check_id


THIRD_ID = "ponmlkjihgfedcbaponmlkjihgfedcba"


def test_bare_doctor_expects_the_id_install_host_was_given(tmp_path: Path) -> None:
    """A school with its own CRX runs `install-host --extension-id ITS_ID`, then a
    bare `tweetguard doctor`: the recorded id is the one expected."""
    made = make_install(tmp_path, "--extension-id", OTHER_ID)
    code, checks = made.doctor()
    assert code == 0, checks
    assert_chain_ok(checks, "chrome")
    assert OTHER_ID in checks["origin.chrome.user"]["message"]
    assert_chain_ok(checks, "firefox")  # installed with tweetguard's own add-on id

    # The trap: a manifest edited to a third id still fails, naming the recorded one.
    path = made.manifest("chrome")
    data = json.loads(path.read_text())
    data["allowed_origins"] = [f"chrome-extension://{THIRD_ID}/"]
    path.write_text(json.dumps(data))
    code, checks = made.doctor()
    assert code == 1
    origin = checks["origin.chrome.user"]
    assert origin["status"] == "fail" and THIRD_ID in origin["message"]
    assert f"chrome-extension://{OTHER_ID}/" in origin["message"]
    assert f"--extension-id {OTHER_ID}" in origin["fix"]
    assert_chain_ok(checks, "firefox")


def test_a_hung_host_is_given_up_on_after_timeout(installed: Install) -> None:
    """A launcher that never answers (here a shell that waits before its exec, so a
    child of it holds the pipe too) costs --timeout seconds, not a minute."""
    launcher = installed.launcher("chrome")
    text = launcher.read_text()
    launcher.write_text(text.replace("\nexec ", "\nsleep 40\nexec ", 1))
    started = time.monotonic()
    code, checks = installed.doctor("--timeout", "1.5")
    took = time.monotonic() - started
    assert code == 1
    hello = checks["hello.chrome.user"]
    assert hello["status"] == "fail" and "no answer to hello within 1.5 s" in hello["message"]
    assert took < 30, f"doctor waited {took:.0f} s: the hung launcher's child was not ended"
    # The trap: the healthy neighbour answers well within the same short wait.
    assert checks["hello.firefox.user"]["status"] == "ok"
    assert checks["launcher.chrome.user"]["status"] == "ok"


@pytest.mark.parametrize("value", ["0", "-3", "nan", "soon"])
def test_a_timeout_that_is_not_a_positive_number_is_a_usage_error(home: Path, value: str) -> None:
    result = run_cli(home, "doctor", "--timeout", value, env=NO_KEYRING)
    assert result.returncode == 64, result.stdout.decode()
    assert "--timeout" in result.stderr.decode().strip().splitlines()[-1]


def test_the_summary_names_a_doctor_md_this_machine_has(installed: Install) -> None:
    from tweetguard.cli.doctor import DOC_PLACES

    result = installed.cli("doctor", *BROWSERS)
    assert result.returncode == 0, result.stdout.decode()
    last = result.stdout.decode().splitlines()[-1]
    first = next(p for p in DOC_PLACES if p.is_file())
    assert last.endswith(f"(details: {first})")
    assert Path(str(first)).read_text().startswith("#")
