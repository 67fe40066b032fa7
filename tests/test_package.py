"""./build.sh package, for real: every package built once for this module (packaging/
package.py with a throwaway signing key outside the repo, offline from build/wheelhouse),
then each taken apart the way a store, a browser or dpkg would.

The .deb is installed into a temporary root by dpkg itself (--root with chrootless
maintainer scripts, which honour $DPKG_ROOT): its postinst builds the helper's virtualenv
offline and writes the host manifests there, and a purge must leave nothing behind.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.conftest import ROOT
from tests.e2e.crx import make_key
from tweetguard import __version__, identity

# Built once for the module (a minute or two on a busy machine), then dpkg installs it twice:
# far more than the default 120 s.
pytestmark = [pytest.mark.package, pytest.mark.timeout(600)]

UPDATE_URL = "https://updates.oakfield.example/tg/updates.xml"
XPI_URL = "https://updates.oakfield.example/tg/tweetguard.xpi"
CHROMIUM = os.environ.get("TWEETGUARD_CHROMIUM", "/usr/bin/chromium")
WEB_EXT = ROOT / "extension" / "node_modules" / ".bin" / "web-ext"
SCRIPT = ROOT / "packaging" / "package.py"
# Every browser's system folder on Linux the postinst's install-host writes.
SYSTEM_MANIFESTS = (
    "etc/opt/chrome/native-messaging-hosts",
    "etc/chromium/native-messaging-hosts",
    "etc/opt/edge/native-messaging-hosts",
    "usr/lib/mozilla/native-messaging-hosts",
)


# Folders every Debian system has (base-files), made in the temporary root first so
# that what dpkg and the scripts leave behind stands out.
BASE_FOLDERS = ("etc", "opt", "usr/bin", "usr/lib", "usr/share/doc", "var/lib")


# packaging/'s scripts import each other as siblings, so the folder goes on the path.
if str(SCRIPT.parent) not in sys.path:
    sys.path.insert(0, str(SCRIPT.parent))
package = importlib.import_module("package")
policies = package.policies


def cannot(reason: str) -> None:
    """Skip where this machine cannot build packages, but never in CI."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the packaging tests; ./build.sh test sets it up)")
    pytest.skip(reason)


@dataclass
class Built:
    out: Path
    key: Path
    extension_id: str
    output: str
    notes: str = ""


def run_package(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in (package.KEY_ENV, package.URL_ENV)}
    return subprocess.run(
        [sys.executable, SCRIPT, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    for tool in ("dpkg-deb", "dpkg"):
        if shutil.which(tool) is None:
            cannot(f"{tool} not found: the .deb is built with Debian's tools")
    if not Path(CHROMIUM).exists():
        cannot(f"{CHROMIUM} not found: the CRX is packed by Chromium")
    if not WEB_EXT.exists():
        cannot("web-ext not installed: run (cd extension && npm ci)")
    if not any(package.WHEELHOUSE.glob("numpy-*.whl")):
        cannot(f"{package.WHEELHOUSE} is empty: run python packaging/package.py --wheelhouse-only")
    work = tmp_path_factory.mktemp("package")
    key, extension_id = make_key(work)
    out = work / "packages"
    result = run_package(
        "--crx-key", key, "--update-url", UPDATE_URL, "--xpi-url", XPI_URL, "--out", out,
        "--offline",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return Built(out, key, extension_id, result.stdout, result.stderr)


def test_every_package_is_made(built: Built) -> None:
    v = __version__
    names = sorted(p.name for p in built.out.iterdir())
    assert names == sorted(
        [
            f"tweetguard-{v}-chrome-web-store.zip",
            f"tweetguard-{v}.crx",
            "updates.xml",
            f"tweetguard-{v}-firefox.xpi",
            f"tweetguard-{v}-py3-none-any.whl",
            f"tweetguard_{v}_{package.deb.host_arch()}.deb",
            "policies",
        ]
    )
    assert (
        f"crx        {built.out / f'tweetguard-{v}.crx'} (extension id {built.extension_id})"
        in (built.output)
    )


def test_store_zip_is_the_extension_without_its_key(built: Built) -> None:
    """The same files as the CRX's payload (one build, so no race with edits to the
    tree), with the same manifest: no `key`, which the Chrome Web Store refuses."""
    archive = zipfile.ZipFile(built.out / f"tweetguard-{__version__}-chrome-web-store.zip")
    crx = (built.out / f"tweetguard-{__version__}.crx").read_bytes()
    header_size = int.from_bytes(crx[8:12], "little")
    packed = zipfile.ZipFile(io.BytesIO(crx[12 + header_size :]))
    assert sorted(archive.namelist()) == sorted(n for n in packed.namelist() if not n.endswith("/"))
    for name in archive.namelist():
        if name != "manifest.json":
            assert archive.read(name) == packed.read(name), name
    manifest = json.loads(archive.read("manifest.json"))
    assert "key" not in manifest
    assert manifest == json.loads(packed.read("manifest.json"))
    assert manifest["version"] == __version__
    assert {"manifest.json", "managed_schema.json", "src/background.js"} <= set(archive.namelist())


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return value, at
        shift += 7


def protobuf_fields(data: bytes) -> dict[int, list[bytes]]:
    """The length-delimited fields of a protobuf message (all a CRX3 header has)."""
    fields: dict[int, list[bytes]] = {}
    at = 0
    while at < len(data):
        tag, at = _varint(data, at)
        assert tag & 7 == 2, f"field {tag >> 3} is not length-delimited"
        length, at = _varint(data, at)
        fields.setdefault(tag >> 3, []).append(data[at : at + length])
        at += length
    return fields


def test_crx_is_crx3_signed_with_the_schools_key(built: Built) -> None:
    crx = (built.out / f"tweetguard-{__version__}.crx").read_bytes()
    assert crx[:4] == b"Cr24"
    assert int.from_bytes(crx[4:8], "little") == 3
    header_size = int.from_bytes(crx[8:12], "little")
    header = protobuf_fields(crx[12 : 12 + header_size])
    # CrxFileHeader: 2 = sha256_with_rsa proofs, 10000 = signed_header_data.
    (signed,) = header[10000]
    (crx_id,) = protobuf_fields(signed)[1]
    from_header = "".join(chr(ord("a") + int(c, 16)) for c in crx_id.hex())
    keys = [protobuf_fields(proof)[1][0] for proof in header[2]]
    from_keys = {package.extension_build.extension_id(k) for k in keys}
    assert from_header == built.extension_id
    assert built.extension_id in from_keys
    assert built.extension_id != identity.CHROME_EXTENSION_ID  # not the repo's own key
    payload = zipfile.ZipFile(io.BytesIO(crx[12 + header_size :]))
    assert "key" not in json.loads(payload.read("manifest.json"))


def test_update_manifest_points_at_the_crx(built: Built) -> None:
    tree = ElementTree.parse(built.out / "updates.xml")
    ns = {"g": "http://www.google.com/update2/response"}
    app = tree.getroot().find("g:app", ns)
    assert app is not None and app.get("appid") == built.extension_id
    check = app.find("g:updatecheck", ns)
    assert check is not None
    assert (
        check.get("codebase") == f"https://updates.oakfield.example/tg/tweetguard-{__version__}.crx"
    )
    assert check.get("version") == __version__


def test_policies_name_the_crx_id_and_the_update_url(built: Built) -> None:
    expected = policies.generate(
        policies.read_source(),
        extension_id=built.extension_id,
        update_url=UPDATE_URL,
        xpi_url=XPI_URL,
    )
    assert policies.differences(expected, built.out / "policies") == []
    chrome = json.loads((built.out / "policies" / policies.CHROME_LINUX).read_text())
    assert list(chrome["ExtensionSettings"]) == [built.extension_id]
    assert chrome["ExtensionSettings"][built.extension_id]["update_url"] == UPDATE_URL


def test_missing_key_is_refused_in_one_line(tmp_path: Path) -> None:
    result = run_package("--out", tmp_path / "out")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "package: no CRX signing key: pass --crx-key FILE or set TWEETGUARD_CRX_KEY=FILE (a "
        "PKCS#8 RSA key kept outside this repository), or --no-crx to skip the CRX"
    ]
    assert not (tmp_path / "out").exists()  # refused before anything was built


def test_key_inside_the_repo_is_refused(tmp_path: Path) -> None:
    inside = ROOT / "build" / "never-a-real-key.pem"
    result = run_package("--crx-key", inside, "--out", tmp_path / "out")
    assert result.returncode == 1
    assert result.stderr.startswith(f"package: {inside} is inside the repository; keep")
    assert not inside.exists() and not (tmp_path / "out").exists()
    # The trap: the same file name outside the repo is only "not found", not "inside".
    outside = tmp_path / "never-a-real-key.pem"
    result = run_package("--crx-key", outside, "--out", tmp_path / "out")
    assert "inside the repository" not in result.stderr
    assert f"CRX signing key {outside} not found" in result.stderr


def test_plain_http_update_url_refused_before_anything_is_built(tmp_path: Path) -> None:
    result = run_package("--no-crx", "--update-url", "http://deploy.example/u.xml", "--out",
                         tmp_path / "out")  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("package: http://deploy.example/u.xml must be https://")
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_key_from_the_environment(tmp_path: Path) -> None:
    key, _ = make_key(tmp_path)
    assert package.crx_key(None, {package.KEY_ENV: str(key)}) == key
    assert package.crx_key(str(key), {package.KEY_ENV: "/elsewhere.pem"}) == key


def test_xpi_passes_web_ext_lint(built: Built) -> None:
    xpi = built.out / f"tweetguard-{__version__}-firefox.xpi"
    assert package.lint_xpi(xpi).startswith("0 errors")
    manifest = json.loads(zipfile.ZipFile(xpi).read("manifest.json"))
    assert manifest["browser_specific_settings"]["gecko"]["id"] == identity.FIREFOX_ADDON_ID


def test_lint_catches_a_broken_xpi(built: Built, tmp_path: Path) -> None:
    """The trap's other side: the lint really fails a bad add-on."""
    broken = tmp_path / "broken.xpi"
    good_xpi = built.out / f"tweetguard-{__version__}-firefox.xpi"
    with zipfile.ZipFile(good_xpi) as good, zipfile.ZipFile(broken, "w") as bad:
        for item in good.infolist():
            data = good.read(item)
            if item.filename == "manifest.json":
                manifest = json.loads(data)
                del manifest["name"]
                data = json.dumps(manifest).encode()
            bad.writestr(item, data)
    with pytest.raises(package.PackageError, match=r"web-ext lint: \d+ error\(s\) in broken.xpi"):
        package.lint_xpi(broken)


def test_wheel_holds_the_helper_and_its_data(built: Built) -> None:
    wheel = zipfile.ZipFile(built.out / f"tweetguard-{__version__}-py3-none-any.whl")
    names = set(wheel.namelist())
    for needed in (
        "tweetguard/__init__.py",
        "tweetguard/identity.py",
        "tweetguard/py.typed",
        "tweetguard/stores/policy.example.toml",
        "tweetguard/console/templates/base.html",
    ):
        assert needed in names, needed
    assert any(n.startswith("tweetguard/checks/photos/models/") for n in names)
    assert not any(n.startswith("tests/") for n in names)
    entry = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "tweetguard = tweetguard.cli:main" in wheel.read(entry).decode()


def deb_path(built: Built) -> Path:
    return built.out / f"tweetguard_{__version__}_{package.deb.host_arch()}.deb"


def test_deb_control(built: Built) -> None:
    info = subprocess.run(
        ["dpkg-deb", "-f", deb_path(built)], capture_output=True, text=True, check=True
    ).stdout
    fields = dict(line.split(": ", 1) for line in info.splitlines() if ": " in line)
    python = package.target_python()
    assert fields["Package"] == "tweetguard"
    assert fields["Version"] == __version__
    assert fields["Architecture"] == package.deb.host_arch()
    assert fields["Depends"] == (
        f"python3 (>= {python}), python3 (<< {package.deb.next_minor(python)}), python3-venv"
    )
    listing = subprocess.run(
        ["dpkg-deb", "-c", deb_path(built)], capture_output=True, text=True, check=True
    ).stdout
    assert "./usr/bin/tweetguard" in listing
    assert " ./opt/" not in listing  # the virtualenv is the postinst's, built on the machine


def test_deb_unpacked(built: Built, tmp_path: Path) -> None:
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", deb_path(built), root], check=True)
    control = tmp_path / "control"
    subprocess.run(["dpkg-deb", "-e", deb_path(built), control], check=True)
    conffiles = (control / "conffiles").read_text().split()
    # Built with the school's --update-url: the policies are installed, no note about it.
    assert "installs none" not in built.notes
    assert sorted(conffiles) == sorted(
        f"/{folder}/tweetguard.json" for folder in package.deb.POLICY_FOLDERS
    )
    chrome_policy = policies.generate(
        policies.read_source(), extension_id=built.extension_id, update_url=UPDATE_URL,
        xpi_url=XPI_URL,
    )  # fmt: skip
    for path in conffiles:
        template = package.deb.POLICY_FOLDERS[str(Path(path).parent).lstrip("/")]
        assert (root / path.lstrip("/")).read_bytes() == chrome_policy[template], path
    assert sorted(p.name for p in (root / "usr/share/tweetguard/policies").iterdir()) == sorted(
        policies.FILES
    )
    wheels = sorted(p.name for p in (root / "usr/lib/tweetguard/wheels").iterdir())
    assert f"tweetguard-{__version__}-py3-none-any.whl" in wheels
    assert any(w.startswith("numpy-") for w in wheels) and any(
        w.startswith("flask-") for w in wheels
    )
    # Exactly the versions installed here, which the tests ran with.
    for name in wheels:
        dist, version = name.split("-")[:2]
        if dist != "tweetguard":
            assert importlib.metadata.version(dist) == version, name
    for script in ("postinst", "prerm", "postrm"):
        text = (control / script).read_text()
        assert subprocess.run(["sh", "-n", control / script], check=False).returncode == 0
        assert "@" not in text.replace('"$@"', ""), f"{script} has a placeholder left"
    postinst = (control / "postinst").read_text()
    # The school's id (the CRX key's) and the repo's own (an unpacked copy) are allowed.
    assert f"--extension-id {built.extension_id}" in postinst
    assert f"--extension-id {identity.CHROME_EXTENSION_ID}" in postinst
    # md5sums lists every payload file with its real digest.
    sums = dict(
        reversed(line.split("  ", 1)) for line in (control / "md5sums").read_text().splitlines()
    )
    assert (root / "usr/share/doc/tweetguard/doctor.md").is_file()
    payload = [p for p in root.rglob("*") if p.is_file()]
    assert sorted(sums) == sorted(p.relative_to(root).as_posix() for p in payload)
    for p in payload[:5]:
        assert sums[p.relative_to(root).as_posix()] == hashlib.md5(p.read_bytes()).hexdigest()


def dpkg(root: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "dpkg",
            f"--root={root}",
            f"--log={root / 'dpkg.log'}",
            "--force-script-chrootless",
            "--force-not-root",
            "--force-depends",  # python3 and python3-venv are the real machine's
            *map(str, args),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def outside_state() -> dict[str, bool]:
    """What the install must never touch on the real machine."""
    paths = ("/opt/tweetguard", "/var/lib/tweetguard", *(f"/{m}" for m in SYSTEM_MANIFESTS))
    return {p: Path(p).exists() for p in paths}


def test_deb_installs_and_purges_exactly(built: Built, tmp_path: Path) -> None:
    root = tmp_path / "root"
    admin = root / "var/lib/dpkg"
    for folder in ("info", "updates", "triggers"):
        (admin / folder).mkdir(parents=True)
    for folder in BASE_FOLDERS:
        (root / folder).mkdir(parents=True, exist_ok=True)
    (admin / "status").touch()
    (admin / "available").touch()
    before = tree(root)
    machine = outside_state()

    installed = dpkg(root, "-i", deb_path(built))
    assert installed.returncode == 0, installed.stderr + installed.stdout
    assert outside_state() == machine
    # The postinst's virtualenv works: the helper checks a post offline.
    helper = root / "opt/tweetguard/bin/tweetguard"
    checked = subprocess.run(
        [helper, "--home", tmp_path / "data", "check", "--text", "Lovely sports day, Year 3!"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    # Every system manifest names the final launcher, allowing both ids.
    for folder in SYSTEM_MANIFESTS:
        manifest = json.loads((root / folder / "org.tweetguard.helper.json").read_text())
        assert manifest["name"] == identity.HOST_NAME
        launcher = Path(manifest["path"])
        assert launcher.is_relative_to("/var/lib/tweetguard/native-host"), launcher
        script = (root / launcher.relative_to("/")).read_text()
        assert "/opt/tweetguard/bin/python3" in script and "/var/lib/tweetguard" in script
        assert str(root) not in script  # final paths, not the staging root
        if "mozilla" in folder:
            assert manifest["allowed_extensions"] == [identity.FIREFOX_ADDON_ID]
        else:
            assert sorted(manifest["allowed_origins"]) == sorted(
                identity.chrome_origin(i)
                for i in (built.extension_id, identity.CHROME_EXTENSION_ID)
            )
    wrapper = (root / "usr/bin/tweetguard").read_text()
    assert "/opt/tweetguard/bin/tweetguard" in wrapper and "/var/lib/tweetguard" in wrapper

    # An upgrade (here: the same version again) runs the old prerm, then the new
    # postinst: the manifests come back, one install record per browser.
    again = dpkg(root, "-i", deb_path(built))
    assert again.returncode == 0, again.stderr + again.stdout
    for folder in SYSTEM_MANIFESTS:
        assert (root / folder / "org.tweetguard.helper.json").is_file(), folder
    record = json.loads((root / "var/lib/tweetguard/native-host/installed.json").read_text())
    browsers = sorted(r["browser"] for r in record["records"])
    assert browsers == sorted(package.deb.BROWSERS), browsers

    purged = dpkg(root, "--purge", "tweetguard")
    assert purged.returncode == 0, purged.stderr + purged.stdout
    assert outside_state() == machine
    left = set(tree(root)) - set(before) - {"dpkg.log"}
    left = {p for p in left if not p.startswith("var/lib/dpkg/")}
    assert left == set(), sorted(left)
