"""Builds tweetguard's .deb with dpkg-deb from the helper's wheel and its dependencies' wheels.

Why wheels and a virtualenv made by the postinst, not Debian's python3-* packages:
several dependencies (twitter-text-parser, better-profanity, pillow-heif, opencv's
headless build) are not in Debian, and the helper is tested against exact versions.
Why the virtualenv is built on the machine, not shipped built: a virtualenv names
its interpreter by absolute path and its scripts' #! lines too, so one built here
would only work where the paths match; `python3 -m venv` + `pip install --no-index`
from the shipped wheels is offline, exact, and takes the machine's own python3.
The wheels are for one Python minor version and one architecture, so the package
Depends on exactly that python3 and is built for that architecture.

Layout: /usr/lib/tweetguard/wheels/*.whl, /usr/bin/tweetguard (a wrapper naming
/var/lib/tweetguard), the Chromium family's policies as conffiles in their
policies/managed folders, every template under /usr/share/tweetguard/policies,
docs/doctor.md as /usr/share/doc/tweetguard/doctor.md (doctor names that path),
and maintainer scripts that build/remove /opt/tweetguard and the host manifests.

Policies that still name the placeholder update URL (a build without --update-url)
are not installed into /etc: every machine would force-install from a server that
does not exist, and as conffiles they would outlive the mistake. Such a package
ships them under /usr/share/tweetguard/policies only, and its Description says so.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEBIAN = HERE / "debian"
DOCTOR_DOC = HERE.parent / "docs" / "doctor.md"
SHARED_POLICIES = "/usr/share/tweetguard/policies"
# What packaging/policies.py's source names until a school gives its own update server.
PLACEHOLDER = b"REPLACE-WITH"

# Where each Chromium-family browser on Linux reads managed policy files; the
# Chrome template serves Chrome, Chromium and Brave (same policy names).
POLICY_FOLDERS = {
    "etc/opt/chrome/policies/managed": "chrome-linux-managed.json",
    "etc/chromium/policies/managed": "chrome-linux-managed.json",
    "etc/brave/policies/managed": "chrome-linux-managed.json",
    "etc/opt/edge/policies/managed": "edge-linux-managed.json",
}
POLICY_NAME = "tweetguard.json"
BROWSERS = ("chrome", "chromium", "edge", "brave", "vivaldi", "firefox")
ARCH_TO_PLATFORM = {"amd64": "x86_64", "arm64": "aarch64"}


class PackageError(Exception):
    """A one-line reason the package cannot be made, and what to do."""


def run(command: Sequence[str | Path], what: str) -> str:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise PackageError(f"{what} failed: {detail[-1] if detail else result.returncode}")
    return result.stdout


def pip_platforms(arch: str) -> list[str]:
    machine = ARCH_TO_PLATFORM.get(arch)
    if machine is None:
        raise PackageError(f"no wheels for architecture {arch}; build on amd64 or arm64")
    tags = ["manylinux2014", "manylinux_2_17", "manylinux_2_28", "linux"]
    return [arg for tag in tags for arg in ("--platform", f"{tag}_{machine}")]


def tested_versions(dest: Path) -> Path:
    """A pip constraints file pinning every package this interpreter has installed
    (the versions the tests ran with), so the .deb ships those, not newer ones."""
    frozen = run(
        [
            sys.executable,
            "-m",
            "pip",
            "freeze",
            "--exclude-editable",
            "--disable-pip-version-check",
        ],
        "pip freeze",
    )
    pins = [line for line in frozen.splitlines() if "==" in line and not line.startswith("#")]
    path = dest / "constraints.txt"
    path.write_text("\n".join(pins) + "\n", encoding="utf-8")
    return path


def resolve_wheels(
    wheel: Path, wheelhouse: Path, dest: Path, *, python: str, arch: str, offline: bool
) -> list[Path]:
    """Copies into `dest` the wheels `wheel` needs for that Python and architecture,
    at the versions installed here. Offline, they come from `wheelhouse` alone, so
    a missing one fails here, at build time, not in a school's postinst."""
    dest.mkdir(parents=True, exist_ok=True)
    source = ["--no-index", "--find-links", str(wheelhouse)] if offline else []
    with tempfile.TemporaryDirectory(prefix="tweetguard-pins-") as tmp:
        constraints = tested_versions(Path(tmp))
        _download(wheel, dest, source, constraints, python=python, arch=arch)
    return sorted(dest.glob("*.whl"))


def _download(
    wheel: Path,
    dest: Path,
    source: list[str],
    constraints: Path,
    *,
    python: str,
    arch: str,
) -> None:
    offline = bool(source)
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "--python-version",
            python,
            "--implementation",
            "cp",
            *pip_platforms(arch),
            *source,
            "--constraint",
            constraints,
            "--dest",
            dest,
            wheel,
        ],
        f"collecting the wheels tweetguard needs (Python {python}, {arch}"
        + (f", offline from {source[-1]})" if offline else ")"),
    )


def _fill(template: str, values: Mapping[str, str]) -> str:
    text = (DEBIAN / template).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    if re.search(r"@[A-Z_]+@", text):
        raise PackageError(f"packaging/debian/{template} has a placeholder left; fix deb.py")
    return text


def _write(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    path.chmod(mode)


def installs_policies(policies: Mapping[str, bytes]) -> bool:
    """False while a template the package would put in /etc names the placeholder URL."""
    return not any(PLACEHOLDER in policies[t] for t in set(POLICY_FOLDERS.values()))


def description(with_policies: bool) -> str:
    """The control file's long description (each line indented one space, as
    deb-control(5) wants), saying which policies the package installs and why not
    Firefox's."""
    paragraphs = [
        "tweetguard checks school posts for pupils' names, personal data and other risks "
        "before they reach X. This package installs its helper for every user: a virtualenv "
        "in /opt/tweetguard built at install time, offline, from the wheels shipped in "
        "/usr/lib/tweetguard/wheels, and the browsers' system-wide native messaging host "
        "manifests (tweetguard install-host --system). Data: /var/lib/tweetguard.",
        "The Chrome, Chromium, Brave and Edge policies that force-install the extension are "
        "conffiles in their policies/managed folders; every template is also in "
        f"{SHARED_POLICIES}."
        if with_policies
        else "No browser policies are installed: this build names a placeholder update URL "
        f"(built without --update-url), so the templates are only in {SHARED_POLICIES}; "
        "build again with --update-url to install them.",
        "Firefox's policies.json is not installed: Firefox reads a single policies.json for "
        "the whole machine, which holds the school's other Firefox policies too; merge "
        f"{SHARED_POLICIES}/firefox-policies.json into it.",
        "Check every link with: tweetguard doctor (/usr/share/doc/tweetguard/doctor.md).",
    ]
    wrapped = [
        textwrap.fill(
            p,
            width=74,
            initial_indent=" ",
            subsequent_indent=" ",
            break_on_hyphens=False,
            break_long_words=False,
        )
        for p in paragraphs
    ]
    return "\n .\n".join(wrapped)


def next_minor(python: str) -> str:
    major, minor = python.split(".")[:2]
    return f"{major}.{int(minor) + 1}"


def build_deb(
    *,
    version: str,
    wheels: Sequence[Path],
    policies: Mapping[str, bytes],
    extension_ids: Sequence[str],
    out_dir: Path,
    work: Path,
    python: str,
    arch: str,
) -> Path:
    """Stages the package tree in `work` and makes out_dir/tweetguard_VERSION_ARCH.deb."""
    if not any(w.name.startswith("tweetguard-") for w in wheels):
        raise PackageError("the helper's own wheel is not among the wheels; build it first")
    stage = work / "deb"
    if stage.exists():
        shutil.rmtree(stage)
    for wheel in wheels:
        _write(stage / "usr/lib/tweetguard/wheels" / wheel.name, wheel.read_bytes())
    _write(stage / "usr/bin/tweetguard", _fill("tweetguard.sh", {}), 0o755)
    _write(stage / "usr/share/doc/tweetguard/copyright", _fill("copyright", {}))
    _write(stage / "usr/share/doc/tweetguard/doctor.md", DOCTOR_DOC.read_bytes())
    with_policies = installs_policies(policies)
    conffiles = []
    for folder, template in POLICY_FOLDERS.items() if with_policies else ():
        _write(stage / folder / POLICY_NAME, policies[template])
        conffiles.append(f"/{folder}/{POLICY_NAME}")
    for name, data in sorted(policies.items()):
        _write(stage / "usr/share/tweetguard/policies" / name, data)

    ids = " ".join(f"--extension-id {i}" for i in extension_ids)
    browsers = " ".join(f"--browser {b}" for b in BROWSERS)
    values = {"VERSION": version, "EXTENSION_IDS": ids, "BROWSERS": browsers}
    control_dir = stage / "DEBIAN"
    for script in ("postinst", "prerm", "postrm"):
        _write(control_dir / script, _fill(script, values), 0o755)
    if conffiles:
        _write(control_dir / "conffiles", "\n".join(conffiles) + "\n")
    md5sums = []
    size = 0
    for path in sorted(p for p in stage.rglob("*") if p.is_file()):
        relative = path.relative_to(stage).as_posix()
        if relative.startswith("DEBIAN/"):
            continue
        data = path.read_bytes()
        size += len(data)
        md5sums.append(f"{hashlib.md5(data).hexdigest()}  {relative}")
    _write(control_dir / "md5sums", "\n".join(md5sums) + "\n")
    control = _fill(
        "control.in",
        {
            "VERSION": version,
            "ARCH": arch,
            "PYTHON": python,
            "PYTHON_NEXT": next_minor(python),
            "INSTALLED_SIZE": str(size // 1024 + 1),
            "DESCRIPTION": description(with_policies),
        },
    )
    _write(control_dir / "control", control)
    control_dir.chmod(0o755)
    out_dir.mkdir(parents=True, exist_ok=True)
    deb = out_dir / f"tweetguard_{version}_{arch}.deb"
    # gzip, not xz: the payload is wheels, already compressed; xz takes minutes
    # for a few per cent, and every dpkg reads gzip.
    run(
        ["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", stage, deb],
        "dpkg-deb --build",
    )
    return deb


def host_arch() -> str:
    if shutil.which("dpkg") is None:
        raise PackageError("dpkg not found; build the .deb on Debian or Ubuntu (apt install dpkg)")
    return run(["dpkg", "--print-architecture"], "dpkg --print-architecture").strip()
