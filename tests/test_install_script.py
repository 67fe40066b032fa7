"""native-messaging/install-linux-system.sh still installs and uninstalls through
install-host: run as root with `python3` stubbed (no network: the stub's venv runs
this checkout's helper), for Chromium, leaving /etc/chromium exactly as found."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_install import hello_through
from tweetguard import identity

SCRIPT = ROOT / "native-messaging/install-linux-system.sh"
SYSTEM = Path("/etc/chromium/native-messaging-hosts")
MANIFEST = SYSTEM / f"{identity.HOST_NAME}.json"


def test_the_script_parses() -> None:
    subprocess.run(["sh", "-n", str(SCRIPT)], check=True)


def snapshot(folder: Path) -> dict[str, bytes | None]:
    if not folder.exists():
        return {}
    return {str(p): (None if p.is_dir() else p.read_bytes()) for p in [folder, *folder.rglob("*")]}


@pytest.fixture
def etc_chromium() -> Iterator[None]:
    """/etc/chromium put back as it was, whatever happens in the test."""
    etc = Path("/etc/chromium")
    existed = etc.exists()
    saved = Path(f"/tmp/tweetguard-etc-chromium-{os.getpid()}")
    if existed:
        shutil.copytree(etc, saved, symlinks=True)
    before = snapshot(etc)
    try:
        yield
    finally:
        if snapshot(etc) != before:
            shutil.rmtree(etc, ignore_errors=True)
            if existed:
                shutil.copytree(saved, etc, symlinks=True)
        shutil.rmtree(saved, ignore_errors=True)
        assert snapshot(etc) == before


def stub_python3(bin_dir: Path) -> None:
    """`python3 -c ...` answers the version check; `python3 -m venv DIR` makes a venv
    whose python, pip and tweetguard run this checkout's helper."""
    bin_dir.mkdir()
    stub = bin_dir / "python3"
    stub.write_text(
        f"""#!/bin/sh
if [ "$1" = -m ] && [ "$2" = venv ]; then
  mkdir -p "$3/bin"
  printf '#!/bin/sh\\nexec {sys.executable} "$@"\\n' > "$3/bin/python"
  printf '#!/bin/sh\\nexit 0\\n' > "$3/bin/pip"
  printf '#!/bin/sh\\nexec {sys.executable} -m tweetguard "$@"\\n' > "$3/bin/tweetguard"
  chmod 755 "$3/bin/python" "$3/bin/pip" "$3/bin/tweetguard"
  exit 0
fi
exec {sys.executable} "$@"
"""
    )
    stub.chmod(0o755)


@pytest.mark.skipif(os.geteuid() != 0 and not os.environ.get("CI"), reason="needs root")
def test_the_script_installs_and_uninstalls_system_wide(tmp_path: Path, etc_chromium: None) -> None:
    assert os.geteuid() == 0, "CI runs as root: this test must run there"
    stub_python3(tmp_path / "bin")
    prefix, data = tmp_path / "opt", tmp_path / "data"
    env = {
        **{k: v for k, v in os.environ.items() if k != "TWEETGUARD_HOME"},
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
        "TWEETGUARD_PREFIX": str(prefix),
        "TWEETGUARD_BROWSERS": "chromium",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    result = subprocess.run(
        ["sh", str(SCRIPT), str(data)], env=env, capture_output=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    manifest = json.loads(MANIFEST.read_text())
    launcher = Path(manifest["path"])
    assert launcher == data / "native-host/chromium-system/tweetguard-host"
    assert str(prefix / "bin/python") in launcher.read_text()
    assert hello_through(launcher, identity.CHROME_ORIGIN)["ok"] is True
    assert (data / "audit.d").stat().st_mode & 0o7777 == 0o1777

    result = subprocess.run(
        ["sh", str(SCRIPT), "--uninstall", str(data)],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert not MANIFEST.exists() and not launcher.exists()
