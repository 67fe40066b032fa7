"""./build.sh package: every package IT deploys, into dist/packages/.

Usage: python packaging/package.py [--crx-key FILE | --no-crx] [--update-url URL]
                                   [--xpi-url URL] [--out DIR] [--offline]

Makes:
  tweetguard-VERSION-chrome-web-store.zip  for the Chrome Web Store / Edge Add-ons
                                           (no manifest `key`: the stores refuse one)
  tweetguard-VERSION.crx + updates.xml     CRX3 and its update manifest, for a
                                           self-hosted force-install (ExtensionSettings)
  tweetguard-VERSION-firefox.xpi           Firefox, linted with web-ext (offline)
  tweetguard-VERSION-py3-none-any.whl      the helper
  tweetguard_VERSION_ARCH.deb              Linux fleets (see packaging/deb.py)
  policies/                                the templates for this build's id and URLs

The CRX signing key is the school's: --crx-key FILE or $TWEETGUARD_CRX_KEY (a path),
never a file inside this repository (it would end up in a commit). The extension id
the key gives is the one the .deb's policies and host manifests name.

--offline takes the .deb's dependency wheels from build/wheelhouse only (what a
previous online run, or ./build.sh test, put there).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# packaging/'s scripts import each other as siblings: run as a script, this folder is
# sys.path[0]; imported by the tests, they put it there first.
import deb
import policies

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WHEELHOUSE = ROOT / "build" / "wheelhouse"
DEFAULT_OUT = ROOT / "dist" / "packages"
KEY_ENV = "TWEETGUARD_CRX_KEY"
URL_ENV = "TWEETGUARD_UPDATE_URL"
CHROMIUM_ENV = "TWEETGUARD_CHROMIUM"

extension_build = policies.extension_build()
PackageError = deb.PackageError


def version() -> str:
    text = (ROOT / "helper" / "tweetguard" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'__version__ = "([^"]+)"', text)
    assert found
    return found[1]


def crx_key(given: str | None, environ: dict[str, str] | os._Environ[str]) -> Path:
    """The school's signing key, checked before anything is built."""
    value = given or environ.get(KEY_ENV)
    if not value:
        raise PackageError(
            f"no CRX signing key: pass --crx-key FILE or set {KEY_ENV}=FILE (a PKCS#8 RSA key "
            "kept outside this repository), or --no-crx to skip the CRX"
        )
    key = Path(value).expanduser().absolute()
    if key.resolve().is_relative_to(ROOT.resolve()):
        raise PackageError(
            f"{key} is inside the repository; keep the signing key outside it "
            "(a key in the tree ends up in a commit or a package)"
        )
    if not key.is_file():
        raise PackageError(f"CRX signing key {key} not found; check {KEY_ENV} or --crx-key")
    return key


def chromium(environ: dict[str, str] | os._Environ[str]) -> str:
    """The Chromium that packs the CRX (--pack-extension), checked before anything is built."""
    given = environ.get(CHROMIUM_ENV, "/usr/bin/chromium")
    if shutil.which(given) is None:
        raise PackageError(
            f"chromium is missing ({given}); the CRX is packed by chromium --pack-extension: "
            f"apt install chromium (or set {CHROMIUM_ENV}, or pass --no-crx)"
        )
    return given


def update_manifest(extension_id: str, version: str, codebase: str) -> str:
    """The gupdate XML Chromium fetches from ExtensionSettings' update_url."""
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        "<gupdate xmlns='http://www.google.com/update2/response' protocol='2.0'>\n"
        f"  <app appid='{extension_id}'>\n"
        f"    <updatecheck codebase='{codebase}' version='{version}' />\n"
        "  </app>\n"
        "</gupdate>\n"
    )


def store_zip(unpacked: Path, out: Path) -> Path:
    """The store upload: the Chrome Web Store refuses a manifest with `key` (the
    store's own key fixes the id), so the copy zipped has none."""
    import json

    with tempfile.TemporaryDirectory(prefix="tweetguard-store-") as tmp:
        copy = Path(tmp) / "extension"
        shutil.copytree(unpacked, copy)
        manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
        manifest.pop("key", None)
        (copy / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
        result: Path = extension_build.make_zip(copy, out)
    return result


def lint_xpi(xpi: Path) -> str:
    """web-ext lint on exactly what is in the .xpi (unzipped), offline. Returns its summary."""
    web_ext = ROOT / "extension" / "node_modules" / ".bin" / "web-ext"
    if not web_ext.exists():
        raise PackageError(
            "web-ext not installed; run: (cd extension && npm ci) (it is a devDependency)"
        )
    with tempfile.TemporaryDirectory(prefix="tweetguard-xpi-") as tmp:
        with zipfile.ZipFile(xpi) as archive:
            archive.extractall(tmp)
        env = {**os.environ, "WEB_EXT_NO_UPDATE_NOTIFIER": "1", "NO_UPDATE_NOTIFIER": "1"}
        result = subprocess.run(
            [
                str(web_ext),
                "lint",
                "--no-config-discovery",
                "--source-dir",
                tmp,
                "--output",
                "json",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    import json

    try:
        report = json.loads(result.stdout)
    except ValueError as error:
        raise PackageError(
            f"web-ext lint gave no report: {result.stderr.strip()[-300:]}"
        ) from error
    if report["summary"]["errors"]:
        first = report["errors"][0]
        raise PackageError(
            f"web-ext lint: {report['summary']['errors']} error(s) in {xpi.name}, first: "
            f"{first['code']} {first.get('file') or ''}: {first['message']}"
        )
    summary = report["summary"]
    return (
        f"{summary['errors']} errors, {summary['warnings']} warnings, {summary['notices']} notices"
    )


def helper_wheel(out: Path) -> Path:
    """The helper's wheel, built from this tree with the venv's own setuptools (no
    download, so it works offline)."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("tweetguard-*.whl"):
        old.unlink()
    deb.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            out,
            ROOT,
        ],
        "building the helper's wheel",
    )
    (wheel,) = out.glob("tweetguard-*.whl")
    return wheel


def target_python() -> str:
    """The Python minor version of the machines' /usr/bin/python3 (what the postinst
    runs), when this is such a machine; else this interpreter's."""
    system = Path("/usr/bin/python3")
    if system.exists():
        found = deb.run(
            [system, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], "python3"
        )
        return str(found.strip())
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def fill_wheelhouse(wheel: Path, wheelhouse: Path, *, python: str, arch: str) -> None:
    """Downloads the wheels the helper needs into `wheelhouse` (network), keeping them
    there so later builds and the tests can make the .deb offline."""
    deb.resolve_wheels(wheel, wheelhouse, wheelhouse, python=python, arch=arch, offline=False)
    # The helper's own wheel is taken fresh from each build, never from here.
    for own in wheelhouse.glob("tweetguard-*.whl"):
        own.unlink()


def make_deb(
    wheel: Path,
    out: Path,
    templates: dict[str, bytes],
    extension_ids: list[str],
    *,
    offline: bool,
    wheelhouse: Path = WHEELHOUSE,
) -> Path:
    arch = deb.host_arch()
    python = target_python()
    with tempfile.TemporaryDirectory(prefix="tweetguard-deb-") as tmp:
        work = Path(tmp)
        if not offline:
            # Keep what was fetched, so later runs (and the tests) need no network.
            fill_wheelhouse(wheel, wheelhouse, python=python, arch=arch)
        wheels = deb.resolve_wheels(
            wheel, wheelhouse, work / "wheels", python=python, arch=arch, offline=True
        )
        result: Path = deb.build_deb(
            version=version(),
            wheels=wheels,
            policies=templates,
            extension_ids=extension_ids,
            out_dir=out,
            work=work,
            python=python,
            arch=arch,
        )
    return result


def policies_note(templates: dict[str, bytes]) -> str | None:
    """The build's one line when the .deb leaves the policies out (placeholder URL)."""
    if deb.installs_policies(templates):
        return None
    return (
        f"note: no --update-url, so the policies name a placeholder and the .deb installs "
        f"none (only {deb.SHARED_POLICIES}); pass --update-url "
        f"https://YOUR-SERVER/tweetguard/updates.xml (or set {URL_ENV}) to install them"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--crx-key", metavar="FILE", help=f"default: ${KEY_ENV}")
    keys.add_argument("--no-crx", action="store_true", help="skip the CRX and updates.xml")
    parser.add_argument("--update-url", help=f"where updates.xml will be served (or ${URL_ENV})")
    parser.add_argument("--xpi-url", help="where the .xpi will be served")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--offline", action="store_true", help="wheels from build/wheelhouse only")
    parser.add_argument(
        "--wheelhouse-only",
        action="store_true",
        help="only fetch the .deb's dependency wheels into build/wheelhouse (for offline tests)",
    )
    args = parser.parse_args(argv)
    if args.wheelhouse_only:
        try:
            with tempfile.TemporaryDirectory(prefix="tweetguard-wheel-") as tmp:
                wheel = helper_wheel(Path(tmp))
                fill_wheelhouse(wheel, WHEELHOUSE, python=target_python(), arch=deb.host_arch())
        except (PackageError, OSError) as error:
            print(f"package: {error}", file=sys.stderr)
            return 1
        print(f"wheelhouse {WHEELHOUSE}")
        return 0
    v = version()
    out: Path = args.out.absolute()
    update_url = args.update_url or os.environ.get(URL_ENV)
    base = (update_url or policies.read_source()["extension"]["update_url"]).rsplit("/", 1)[0]
    # Firefox installs from a URL in its policy: a stable name beside updates.xml.
    xpi_url = args.xpi_url or (f"{base}/tweetguard.xpi" if update_url else None)
    try:
        key = None if args.no_crx else crx_key(args.crx_key, os.environ)
        packer = None if key is None else chromium(os.environ)
        built_id = str(extension_build.manifest_extension_id(ROOT / "extension"))
        extension_id = built_id if key is None else str(extension_build.crx_key_id(key))
        # Made (and their URLs checked) before anything is built.
        templates = policies.generate(
            policies.read_source(),
            extension_id=extension_id,
            update_url=update_url,
            xpi_url=xpi_url,
        )
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        with tempfile.TemporaryDirectory(prefix="tweetguard-pkg-") as tmp:
            unpacked = extension_build.build(Path(tmp) / "extension")
            print(f"store zip  {store_zip(unpacked, out / f'tweetguard-{v}-chrome-web-store.zip')}")
            if key is not None:
                crx = extension_build.pack_crx(
                    unpacked, key, out / f"tweetguard-{v}.crx", chromium=packer
                )
                crx.chmod(0o644)  # Chromium's packer writes 0600; it is served to everyone
                (out / "updates.xml").write_text(
                    update_manifest(extension_id, v, f"{base}/{crx.name}"), encoding="utf-8"
                )
                print(f"crx        {crx} (extension id {extension_id})")
                print(f"           {out / 'updates.xml'}: serve both at {base}/")
            firefox = extension_build.build(Path(tmp) / "extension-firefox", "firefox")
            xpi = extension_build.make_zip(firefox, out / f"tweetguard-{v}-firefox.xpi")
            print(f"xpi        {xpi} (web-ext lint: {lint_xpi(xpi)})")
            if xpi_url:
                print(f"           sign it on addons.mozilla.org, then serve it as {xpi_url}")
        wheel = helper_wheel(out)
        print(f"wheel      {wheel}")
        for name, data in templates.items():
            (out / "policies").mkdir(exist_ok=True)
            (out / "policies" / name).write_bytes(data)
        print(f"policies   {out / 'policies'} (extension id {extension_id})")
        ids = sorted({extension_id, built_id})
        package = make_deb(wheel, out, templates, ids, offline=args.offline)
        print(f"deb        {package}")
        note = policies_note(templates)
        if note:
            print(note, file=sys.stderr)
    except (PackageError, RuntimeError, ValueError) as error:
        print(f"package: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        # A tool that will not start, a folder that cannot be written: one line, no traceback.
        print(f"package: {error}; check the path and its permissions", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
