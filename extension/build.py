"""Builds the unpacked extension and its zip from this folder, for Chromium or Firefox.

Usage: python extension/build.py OUT_DIR [--zip ZIPFILE] [--target chromium|firefox]

Only manifest.json, managed_schema.json and src/ ship; tests, package.json and
this script stay behind. Both targets come from the same source: Firefox gets a
background script instead of a service worker, its add-on id, and no Chrome-only
keys (see docs/firefox.md).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHIPPED = ("manifest.json", "managed_schema.json", "src")
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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--zip", type=Path)
    parser.add_argument("--target", choices=TARGETS, default="chromium")
    args = parser.parse_args(argv)
    unpacked = build(args.out, args.target)
    print(f"built {unpacked} ({args.target})")
    if args.zip:
        print(f"zipped {make_zip(unpacked, args.zip)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
