"""The .deb's layout decisions, quickly: packaging/deb.py's build_deb run for real with
dpkg-deb on a stand-in wheel (the full build with real wheels is tests/test_package.py),
and ./build.sh package / packaging/package.py refusing what cannot work in one line.

- Policies naming the placeholder update URL (a build without --update-url) never
  reach /etc as conffiles: only /usr/share/tweetguard/policies, and the package's
  Description and the build's note say so. With a real URL they are conffiles.
- docs/doctor.md ships as /usr/share/doc/tweetguard/doctor.md (doctor names it), and
  the Description says why Firefox's policies.json is not installed.
- No chromium to pack the CRX: build.sh dies in one line before minutes of
  installing, and package.py says so in one line, without a traceback.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.crx import make_key
from tweetguard import identity

PACKAGING = ROOT / "packaging"
if str(PACKAGING) not in sys.path:
    sys.path.insert(0, str(PACKAGING))
package = importlib.import_module("package")
deb = package.deb
policies = package.policies

SCHOOL_URL = "https://deploy.larkspur-academy.example/tg/updates.xml"
MISSING_CHROMIUM = (
    "chromium is missing (/nonexistent); the CRX is packed by chromium --pack-extension: "
    "apt install chromium (or set TWEETGUARD_CHROMIUM, or pass --no-crx)"
)


def build(tmp_path: Path, update_url: str | None) -> tuple[Path, dict[str, bytes]]:
    if shutil.which("dpkg-deb") is None:
        if os.environ.get("CI"):
            pytest.fail("dpkg-deb not found (CI must run the packaging tests)")
        pytest.skip("dpkg-deb not found: the .deb is built with Debian's tools")
    templates = policies.generate(
        policies.read_source(), extension_id=identity.CHROME_EXTENSION_ID, update_url=update_url
    )
    wheel = tmp_path / "tweetguard-0.0.1-py3-none-any.whl"
    wheel.write_bytes(b"a stand-in wheel: the layout is what is tested here")
    made = deb.build_deb(
        version="0.0.1",
        wheels=[wheel],
        policies=templates,
        extension_ids=[identity.CHROME_EXTENSION_ID],
        out_dir=tmp_path / "out",
        work=tmp_path / "work",
        python="3.11",
        arch="amd64",
    )
    return made, templates


def contents(made: Path) -> set[str]:
    listing = subprocess.run(["dpkg-deb", "-c", made], capture_output=True, text=True, check=True)
    return {line.split()[-1].lstrip(".") for line in listing.stdout.splitlines()}


def control_members(made: Path, tmp_path: Path) -> set[str]:
    control = tmp_path / "control"
    subprocess.run(["dpkg-deb", "-e", made, control], check=True)
    return {p.name for p in control.iterdir()}


def field(made: Path, name: str) -> str:
    found = subprocess.run(["dpkg-deb", "-f", made, name], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    return " ".join(line.strip() for line in found.stdout.splitlines())


def test_placeholder_policies_stay_out_of_etc(tmp_path: Path) -> None:
    made, templates = build(tmp_path, None)
    assert b"REPLACE-WITH-YOUR-UPDATE-SERVER" in templates[policies.CHROME_LINUX]
    files = contents(made)
    assert not any(f.startswith("/etc/") for f in files), sorted(files)
    assert "conffiles" not in control_members(made, tmp_path)
    for name in policies.FILES:
        assert f"/usr/share/tweetguard/policies/{name}" in files, name
    about = field(made, "Description")
    assert "No browser policies are installed" in about
    assert "build again with --update-url" in about
    assert package.policies_note(templates) == (
        "note: no --update-url, so the policies name a placeholder and the .deb installs none "
        "(only /usr/share/tweetguard/policies); pass --update-url "
        "https://YOUR-SERVER/tweetguard/updates.xml (or set TWEETGUARD_UPDATE_URL) to install "
        "them"
    )


def test_trap_a_schools_update_url_installs_the_policies_as_conffiles(tmp_path: Path) -> None:
    made, templates = build(tmp_path, SCHOOL_URL)
    files = contents(made)
    expected = {f"/{folder}/tweetguard.json" for folder in deb.POLICY_FOLDERS}
    assert expected <= files
    control = tmp_path / "control"
    assert "conffiles" in control_members(made, tmp_path)
    assert set((control / "conffiles").read_text().split()) == expected
    about = field(made, "Description")
    assert "conffiles in their policies/managed folders" in about
    assert "No browser policies" not in about
    assert package.policies_note(templates) is None


def test_deb_ships_doctor_doc_and_says_why_not_firefox(tmp_path: Path) -> None:
    made, _ = build(tmp_path, SCHOOL_URL)
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", made, root], check=True)
    shipped = root / "usr/share/doc/tweetguard/doctor.md"
    assert shipped.read_bytes() == (ROOT / "docs" / "doctor.md").read_bytes()
    about = field(made, "Description")
    assert "Firefox's policies.json is not installed: Firefox reads a single policies.json" in (
        about
    )
    assert "/usr/share/doc/tweetguard/doctor.md" in about
    # deb-control(5): every continuation line starts with a space, "." marks a blank line.
    raw = subprocess.run(["dpkg-deb", "-I", made, "control"], capture_output=True, text=True)
    lines = raw.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Description:"))
    tail = lines[start + 1 :]
    assert tail and all(line.startswith(" ") for line in tail), tail
    assert all(len(line) <= 80 for line in tail)


def test_postinst_and_prerm_name_the_data_folder() -> None:
    """install-host --system without --home picks the platform's folder by itself; the
    package still says which, so its launchers and record never depend on that default."""
    for script in ("postinst", "prerm"):
        text = (PACKAGING / "debian" / script).read_text()
        assert "DATA=/var/lib/tweetguard" in text
        assert 'tweetguard" --home "$DATA"' in text, script


def run_build_sh(tmp_path: Path, chromium: str, *args: str | Path) -> str:
    """build.sh package's stderr; PYTHON names no interpreter, so past the chromium
    check build.sh stops at its next step (making the venv) instead of installing."""
    result = subprocess.run(
        [ROOT / "build.sh", "package", *map(str, args)],
        capture_output=True,
        text=True,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "TWEETGUARD_CHROMIUM": chromium,
            "PYTHON": "/nonexistent-python-for-this-test",
        },
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    return result.stderr


def test_build_sh_without_chromium_dies_in_one_line(tmp_path: Path) -> None:
    key, _ = make_key(tmp_path)
    said = run_build_sh(tmp_path, "/nonexistent", "--crx-key", key)
    assert said.splitlines() == [f"build.sh: {MISSING_CHROMIUM}"]


def test_trap_build_sh_goes_on_with_a_chromium_there(tmp_path: Path) -> None:
    key, _ = make_key(tmp_path)
    said = run_build_sh(tmp_path, sys.executable, "--crx-key", key)  # any program that runs
    assert "chromium" not in said
    assert "/nonexistent-python-for-this-test not found" in said


def test_trap_build_sh_needs_no_chromium_without_a_crx(tmp_path: Path) -> None:
    said = run_build_sh(tmp_path, "/nonexistent", "--no-crx")
    assert "chromium" not in said
    assert "/nonexistent-python-for-this-test not found" in said


def run_package(tmp_path: Path, env: dict[str, str], *args: str | Path) -> str:
    result = subprocess.run(
        [sys.executable, PACKAGING / "package.py", *map(str, args)],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("TWEETGUARD_")} | env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    return result.stderr.strip()


def test_package_without_chromium_says_so_before_building(tmp_path: Path) -> None:
    key, _ = make_key(tmp_path)
    out = tmp_path / "out"
    said = run_package(
        tmp_path, {"TWEETGUARD_CHROMIUM": "/nonexistent"}, "--crx-key", key, "--out", out
    )
    assert said == f"package: {MISSING_CHROMIUM}"
    assert not out.exists()


def test_package_turns_an_os_error_into_one_line(tmp_path: Path) -> None:
    """The catch-all for what fails on the way (a folder that cannot be made, a tool
    that will not start): here --out under a plain file."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    said = run_package(tmp_path, {}, "--no-crx", "--out", blocker / "packages")
    assert said.startswith("package: [Errno 20] Not a directory:"), said
    assert said.endswith("; check the path and its permissions")
