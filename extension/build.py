"""Builds the unpacked extension and its zip from this folder, for Chromium or Firefox.

Usage: python extension/build.py OUT_DIR [--zip ZIPFILE] [--target chromium|firefox]
                                        [--crx CRXFILE --crx-key KEY.pem]

Only manifest.json, managed_schema.json and src/ ship; tests, package.json and
this script stay behind. Both targets come from the same source: Firefox gets a
background script instead of a service worker, its add-on id, and no Chrome-only
keys (see docs/firefox.md).

--crx packs a CRX3 for a self-hosted force-install (ExtensionInstallForcelist) with
Chromium's own packer (`chromium --pack-extension`, works headless). The repo holds
only the public key, so a school signs with its own private key: the packed copy
then leaves out the manifest's `key`, and its extension id comes from that private
key (printed; pass it to `tweetguard install-host --extension-id` and the policy).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHIPPED = ("manifest.json", "managed_schema.json", "src", "rules")
TARGETS = ("chromium", "firefox")
# Must match tweetguard.identity.FIREFOX_ADDON_ID (tests/test_identity.py checks).
FIREFOX_ADDON_ID = "tweetguard@tweetguard.org"
FIREFOX_MIN_VERSION = "128.0"


def firefox_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    result = {
        k: v for k, v in manifest.items() if k not in ("key", "minimum_chrome_version", "storage")
    }
    worker = manifest["background"]["service_worker"]
    result["background"] = {"scripts": [worker], "type": "module"}
    result["browser_specific_settings"] = {
        "gecko": {"id": FIREFOX_ADDON_ID, "strict_min_version": FIREFOX_MIN_VERSION}
    }
    return result


def build(out: Path, target: str = "chromium") -> Path:
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in SHIPPED:
        source = HERE / name
        if source.is_dir():
            shutil.copytree(source, out / name)
        else:
            shutil.copy2(source, out / name)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    if target == "firefox":
        manifest = firefox_manifest(manifest)
        (out / "managed_schema.json").unlink()
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return out


def make_zip(unpacked: Path, zip_path: Path) -> Path:
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(unpacked.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(unpacked).as_posix())
    return zip_path


def extension_id(public_key_der: bytes) -> str:
    """Chromium's id for a public key (DER SubjectPublicKeyInfo): the first 32 hex
    digits of its SHA-256, with 0-f written as a-p."""
    digest = hashlib.sha256(public_key_der).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def manifest_extension_id(unpacked: Path) -> str | None:
    """The id fixed by the manifest's `key`, or None without one."""
    manifest = json.loads((unpacked / "manifest.json").read_text(encoding="utf-8"))
    return extension_id(base64.b64decode(manifest["key"])) if "key" in manifest else None


def pack_crx(unpacked: Path, key_pem: Path, crx: Path, chromium: str | None = None) -> Path:
    """Packs `unpacked` as a CRX3 signed with `key_pem` (PKCS#8 RSA) into `crx`.

    A manifest `key` for a different key would make Chromium refuse the package,
    so the copy that is packed has none. Uses Chromium's --pack-extension with a
    throwaway profile, so it works while other Chromium windows are open.
    """
    chromium = chromium or os.environ.get("TWEETGUARD_CHROMIUM", "/usr/bin/chromium")
    with tempfile.TemporaryDirectory(prefix="tweetguard-crx-") as tmp:
        work = Path(tmp) / "extension"
        shutil.copytree(unpacked, work)
        manifest_path = work / "manifest.json"
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest.pop("key", None)
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        result = subprocess.run(
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--no-first-run",
                f"--user-data-dir={Path(tmp) / 'profile'}",
                f"--pack-extension={work}",
                f"--pack-extension-key={key_pem.resolve()}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        packed = Path(tmp) / "extension.crx"
        if not packed.is_file():
            raise RuntimeError(
                f"{chromium} --pack-extension made no CRX (exit {result.returncode}): "
                f"{result.stderr.strip()[-500:]}"
            )
        crx.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(packed, crx)
    return crx


def crx_key_id(key_pem: Path) -> str:
    """The extension id a CRX signed with `key_pem` gets (needs `cryptography`)."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(key_pem.read_bytes(), password=None)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return extension_id(der)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--zip", type=Path)
    parser.add_argument("--target", choices=TARGETS, default="chromium")
    parser.add_argument("--crx", type=Path, help="also pack a CRX3 (Chromium target)")
    parser.add_argument("--crx-key", type=Path, help="PKCS#8 PEM private key for --crx")
    args = parser.parse_args(argv)
    if bool(args.crx) != bool(args.crx_key) or (args.crx and args.target != "chromium"):
        parser.error("--crx needs --crx-key and the chromium target")
    unpacked = build(args.out, args.target)
    print(f"built {unpacked} ({args.target})")
    if args.zip:
        print(f"zipped {make_zip(unpacked, args.zip)}")
    if args.crx:
        pack_crx(unpacked, args.crx_key, args.crx)
        print(f"packed {args.crx} (extension id {crx_key_id(args.crx_key)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
