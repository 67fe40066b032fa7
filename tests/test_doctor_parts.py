"""doctor's parts that need no browser: the data folder as a teacher who cannot write
it sees it (the real CLI run as `nobody` when the test runs as root), a school-wide
folder's permissions, the register's age, package versions, launchers read back,
and one broken check never stopping the others."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import REGISTER_CSV, run_cli, write_policy
from tweetguard.doctor import FAIL, OK, WARN, Check, Context, Result, run
from tweetguard.doctor import data as data_checks
from tweetguard.doctor import register as register_checks
from tweetguard.doctor.browsers import read_launcher
from tweetguard.doctor.runtime import satisfies
from tweetguard.install.record import InstallRecord, write_records

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
SETPRIV = shutil.which("setpriv")
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
DOCTOR = ("doctor", "--json", "--browser", "chrome")


@pytest.mark.parametrize(
    ("version", "spec", "expected"),
    [
        ("3.1.2", ">=3.0,<4", True),
        ("4.0", ">=3.0,<4", False),
        ("2.9.9", ">=3.0,<4", False),
        ("1.26.4", ">=1.26", True),
        ("0.7.0", "<1,>=0.7", True),
        ("17.0", ">=13", True),
        ("3.1.0", "<4,>=3.0", True),
        ("2.0.36", ">=2.0,<3", True),
        ("1.2.3", "==1.2.*", True),
        ("1.3.0", "==1.2.*", False),
        ("1.4.2", "~=1.4", True),
        ("2.0", "~=1.4", False),
        ("4.9.0.80", ">=4.9", True),
        ("10.3.0", "!=10.3.0", False),
        ("11.0", "", True),
    ],
)
def test_versions_against_requirements(version: str, spec: str, expected: bool) -> None:
    assert satisfies(version, spec) is expected


def test_launchers_read_back() -> None:
    posix = (
        "#!/bin/sh\nexec /opt/tweetguard/venv/bin/python -m tweetguard --home "
        "'/srv/school data' host --allow chrome-extension://kcenecofiljhmpdkjpenlicjgmahkgic/ "
        '-- "$@"\n'
    )
    path = Path(tempfile.mkdtemp()) / "tweetguard-host"
    try:
        path.write_text(posix)
        got = read_launcher(path)
        assert got.python == "/opt/tweetguard/venv/bin/python"
        assert got.home == "/srv/school data"
        assert got.allowed == ["chrome-extension://kcenecofiljhmpdkjpenlicjgmahkgic/"]
        bat = path.with_name("tweetguard-host.bat")
        bat.write_text(
            '@echo off\r\n"C:\\Program Files\\tweetguard\\python.exe" "-m" "tweetguard" '
            '"--home" "C:\\ProgramData\\tweetguard" "host" "--allow" "tweetguard@tweetguard.org" '
            '"--" %*\r\n'
        )
        got = read_launcher(bat)
        assert got.python == "C:\\Program Files\\tweetguard\\python.exe"
        assert got.home == "C:\\ProgramData\\tweetguard"
        assert got.allowed == ["tweetguard@tweetguard.org"]
        # Not a script tweetguard wrote: nothing is guessed from it.
        path.write_bytes(b"\x7fELF\x02\x01\x01")
        assert read_launcher(path).python is None
    finally:
        shutil.rmtree(path.parent)


def test_one_broken_check_does_not_stop_the_others(home: Path) -> None:
    def broken(ctx: Context) -> list[Check]:
        raise RuntimeError("a family that cannot even list its checks")

    def fine(ctx: Context) -> list[Check]:
        def explode(ctx: Context) -> Result:
            raise KeyError("surprise")

        return [
            Check("demo.explodes", "Explodes", explode),
            Check("demo.fine", "Fine", lambda c: Result(OK, "all well")),
            Check("demo.not-applicable", "Skipped", lambda c: None),
        ]

    outcomes = list(run(Context(home=home), families=[broken, fine]))
    assert [(o.id, o.status) for o in outcomes] == [
        ("test_doctor_parts.checks", FAIL),
        ("demo.explodes", FAIL),
        ("demo.fine", OK),
    ]
    assert "RuntimeError" in outcomes[0].message and "cli.log" in outcomes[0].fix


def test_register_age(registered_home: Path) -> None:
    ctx = Context(home=registered_home)
    loaded = register_checks.loaded(ctx)
    assert loaded is not None and loaded.status == OK
    soon = datetime.now(UTC) + timedelta(days=10)
    result = register_checks.fresh(ctx, now=soon)
    assert result is not None and result.status == OK
    later = datetime.now(UTC) + timedelta(days=register_checks.FRESH_DAYS + 5)
    result = register_checks.fresh(ctx, now=later)
    assert result is not None and result.status == WARN
    assert "days ago" in result.message and "consent import" in result.fix


def _system_record(home: Path) -> None:
    write_records(
        home,
        [
            InstallRecord(
                browser="chromium",
                scope="system",
                manifest=Path("/etc/chromium/native-messaging-hosts/org.tweetguard.helper.json"),
                launcher=home / "native-host" / "chromium-system" / "tweetguard-host",
                allowed=["chrome-extension://kcenecofiljhmpdkjpenlicjgmahkgic/"],
            )
        ],
    )


def test_shared_folder_of_a_system_install(registered_home: Path) -> None:
    home = registered_home
    ctx = Context(home=home)
    # A folder of one user (no system install): not this check's business.
    assert data_checks.shared(ctx) is None
    _system_record(home)
    home.chmod(0o755)
    (home / "register.sqlite3").chmod(0o600)
    result = data_checks.shared(ctx)
    assert result is not None and result.status == FAIL
    assert "register.sqlite3 is mode 0600" in result.message and "chmod" in result.fix
    (home / "register.sqlite3").chmod(0o644)
    result = data_checks.shared(ctx)
    assert result is not None and result.status == WARN and "audit.d" in result.message
    (home / "audit.d").mkdir()
    (home / "audit.d").chmod(0o1777)
    result = data_checks.shared(ctx)
    assert result is not None and result.status == OK


# --- a teacher who cannot write the school's data folder ----------------------------


@pytest.fixture
def school_folder() -> Iterator[tuple[Path, Path]]:
    """A data folder only its owner writes, and the teacher's own home. Under /tmp
    with world-readable parents, so `nobody` can reach both."""
    if not hasattr(os, "geteuid"):
        pytest.skip("POSIX file modes only")
    if IS_ROOT and not SETPRIV:
        pytest.skip("as root, setpriv (util-linux) is needed to run as another user")
    top = Path(tempfile.mkdtemp(prefix="tg-doctor-"))
    top.chmod(0o755)
    home = top / "school"
    home.mkdir()
    write_policy(home, '[school]\nname = "Foxglove Row Infants"\n')
    assert run_cli(home, "consent", "import", str(REGISTER_CSV)).returncode == 0
    teacher = top / "teacher"
    teacher.mkdir()
    if IS_ROOT:
        subprocess.run(["chown", "nobody:nogroup", str(teacher)], check=True)
    try:
        yield home, teacher
    finally:
        home.chmod(0o755)
        shutil.rmtree(top, ignore_errors=True)


def doctor_as_teacher(home: Path, teacher: Path) -> dict[str, dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k != "TWEETGUARD_HOME"}
    env.update(NO_KEYRING, HOME=str(teacher), XDG_DATA_HOME=str(teacher / "data"))
    prefix = (
        [SETPRIV or "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        if IS_ROOT
        else []
    )
    if not IS_ROOT:
        home.chmod(0o555)
    result = subprocess.run(
        [*prefix, sys.executable, "-m", "tweetguard", "--home", str(home), *DOCTOR],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr.decode()
    return {c["id"]: c for c in json.loads(result.stdout)["checks"]}


def test_unwritable_data_folder_without_audit_d(school_folder: tuple[Path, Path]) -> None:
    home, teacher = school_folder
    checks = doctor_as_teacher(home, teacher)
    assert checks["data.folder"]["status"] == OK
    assert "read-only for this user" in checks["data.folder"]["message"]
    audit = checks["data.audit"]
    assert audit["status"] == WARN
    assert "stays on this machine" in audit["message"]
    assert f"{home / 'audit.d'} with mode 1777" in audit["fix"]
    # The school's files are still read: the register and policy checks pass.
    assert checks["register.loaded"]["status"] == OK
    assert checks["policy.valid"]["status"] == OK


def test_unwritable_data_folder_with_audit_d(school_folder: tuple[Path, Path]) -> None:
    home, teacher = school_folder
    (home / "audit.d").mkdir()
    (home / "audit.d").chmod(0o1777)
    checks = doctor_as_teacher(home, teacher)
    assert checks["data.audit"]["status"] == OK
    assert "audit.d" in checks["data.audit"]["message"]


def test_nowhere_to_write_the_audit(school_folder: tuple[Path, Path]) -> None:
    home, teacher = school_folder
    teacher.chmod(0o555)  # the teacher's own data folder cannot be made either
    checks = doctor_as_teacher(home, teacher)
    audit = checks["data.audit"]
    assert audit["status"] == FAIL and "cannot be recorded" in audit["message"]


def test_the_owner_writes_the_shared_audit(school_folder: tuple[Path, Path]) -> None:
    home, _ = school_folder
    result = run_cli(home, *DOCTOR, env=NO_KEYRING)
    checks = {c["id"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["data.audit"]["status"] == OK
    assert "shared audit" in checks["data.audit"]["message"]


# --- a system-wide manifest, as a teacher's browser meets it ------------------------


def test_system_launcher_other_users_cannot_reach(monkeypatch: pytest.MonkeyPatch) -> None:
    """A system manifest whose launcher sits in a folder only root may enter (a data
    folder under /root): root passes, every teacher's browser fails. Read from the
    modes, so the test holds as root too; the manifest's folder is the test's own,
    under /tmp with world-passable parents (pytest's own tmp folder is 0700)."""
    from tweetguard import identity
    from tweetguard.doctor import browsers as browser_checks
    from tweetguard.install import browsers as install_browsers
    from tweetguard.install.launcher import launcher_text

    top = Path(tempfile.mkdtemp(prefix="tg-doctor-system-"))
    top.chmod(0o755)
    etc = top / "etc" / "native-messaging-hosts"
    etc.mkdir(parents=True)
    private = top / "root-only"
    home = private / "tweetguard"
    launcher = home / "native-host" / "chrome-system" / "tweetguard-host"
    launcher.parent.mkdir(parents=True)
    launcher.write_text(launcher_text(sys.executable, home, [identity.CHROME_ORIGIN], "linux"))
    launcher.chmod(0o755)
    manifest = etc / f"{identity.HOST_NAME}.json"
    manifest.write_text(
        json.dumps(
            {
                "name": identity.HOST_NAME,
                "description": "test",
                "path": str(launcher),
                "type": "stdio",
                "allowed_origins": [identity.CHROME_ORIGIN],
            }
        )
    )
    monkeypatch.setattr(
        install_browsers,
        "manifest_locations",
        lambda browser, **kw: [("system", manifest)] if browser == "chrome" else [],
    )

    def outcomes() -> dict[str, tuple[str, str]]:
        ctx = Context(home=home, browsers=["chrome"])
        return {o.id: (o.status, o.message) for o in run(ctx, families=[browser_checks.checks])}

    try:
        assert outcomes()["launcher.chrome.system"][0] == OK  # the trap: passable by all
        private.chmod(0o700)
        got = outcomes()
        status, message = got["launcher.chrome.system"]
        assert status == FAIL and f"{private} is mode 0700" in message
        assert "hello.chrome.system" not in got
    finally:
        private.chmod(0o755)
        shutil.rmtree(top, ignore_errors=True)


def test_a_teacher_s_doctor_expects_the_ids_of_the_machine_s_system_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sudo tweetguard install-host --system --extension-id SCHOOL_ID` records in the
    machine's data folder; a teacher's bare `tweetguard doctor`, with a data folder
    of their own, reads that record for the ids to expect."""
    from tweetguard import identity
    from tweetguard.doctor import browsers as browser_checks
    from tweetguard.install import browsers as install_browsers
    from tweetguard.install import hosts

    school_id = "mmmmnnnnoooopppphhhhggggffffeeee"
    origin = f"chrome-extension://{school_id}/"
    system = tmp_path / "var-lib-tweetguard"
    manifest = tmp_path / "etc" / f"{identity.HOST_NAME}.json"
    manifest.parent.mkdir()
    body = {"name": identity.HOST_NAME, "path": "/x", "type": "stdio", "allowed_origins": [origin]}
    manifest.write_text(json.dumps(body))
    monkeypatch.setattr(
        install_browsers,
        "manifest_locations",
        lambda browser, **kw: [("system", manifest)] if browser == "chrome" else [],
    )
    monkeypatch.setattr(hosts, "system_home", lambda: system)

    def origin_check() -> tuple[str, str]:
        ctx = Context(home=tmp_path / "teacher", browsers=["chrome"])
        found = {o.id: o for o in run(ctx, families=[browser_checks.checks])}
        return found["origin.chrome.system"].status, found["origin.chrome.system"].message

    # The trap first: with nothing recorded, tweetguard's own id is expected.
    assert origin_check()[0] == FAIL
    record = InstallRecord("chrome", "system", manifest, Path("/x"), [origin], platform="linux")
    write_records(system, [record])
    status, message = origin_check()
    assert status == OK and school_id in message
    # A damaged record in the machine's folder adds nothing and breaks nothing.
    (system / "native-host" / "installed.json").write_text("{")
    assert origin_check()[0] == FAIL


def test_the_pointer_to_doctor_md(tmp_path: Path) -> None:
    from tweetguard.cli.doctor import doc_pointer

    packaged, source = tmp_path / "usr-share-doc" / "doctor.md", tmp_path / "src" / "doctor.md"
    assert doc_pointer((packaged, source)) == "docs/doctor.md in tweetguard's source"
    source.parent.mkdir()
    source.write_text("# doctor\n")
    assert doc_pointer((packaged, source)) == str(source)
    packaged.parent.mkdir()
    packaged.write_text("# doctor\n")
    assert doc_pointer((packaged, source)) == str(packaged)
