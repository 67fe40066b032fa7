"""Builds the unpacked extension and its zip from this folder.

Usage: python extension/build.py OUT_DIR [--zip ZIPFILE]

Only manifest.json and src/ ship; tests, package.json and this script stay behind.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHIPPED = ("manifest.json", "managed_schema.json", "src")


def build(out: Path) -> Path:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in SHIPPED:
        source = HERE / name
        if source.is_dir():
            shutil.copytree(source, out / name)
        else:
            shutil.copy2(source, out / name)
    json.loads(
        (out / "manifest.json").read_text(encoding="utf-8")
    )  # fail early on a broken manifest
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
    args = parser.parse_args(argv)
    unpacked = build(args.out)
    print(f"built {unpacked}")
    if args.zip:
        print(f"zipped {make_zip(unpacked, args.zip)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
