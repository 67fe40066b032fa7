"""`tweetguard photo clean|blur`: the panel's remedies, for staff and IT at the command line."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tweetguard.cli.exits import EX_CANTCREAT, EX_DATAERR, EX_NOINPUT, EX_USAGE, fail

COMMANDS = ("clean", "blur")


def add(sub: Any, parser_class: type) -> None:
    photo = sub.add_parser("photo", help="make a clean or blurred copy of a photo")
    photo_sub = photo.add_subparsers(dest="photo_command", required=True, parser_class=parser_class)
    clean = photo_sub.add_parser(
        "clean", help="copy a photo without GPS, camera serials, names or any other hidden detail"
    )
    clean.add_argument("file", metavar="FILE")
    clean.add_argument(
        "-o", "--output", metavar="OUT", required=True, help="where to write the copy"
    )
    blur = photo_sub.add_parser(
        "blur", help="copy a photo with faces blurred (and no hidden details)"
    )
    blur.add_argument("file", metavar="FILE")
    blur.add_argument(
        "-o", "--output", metavar="OUT", required=True, help="where to write the copy"
    )
    blur.add_argument(
        "--faces",
        metavar="N,N",
        default="all",
        help="which faces, numbered from 1 as `check --photo` lists them (default: all)",
    )


def run(args: argparse.Namespace, home: Path) -> int:
    from tweetguard.checks.photos.blur import blurred_copy
    from tweetguard.checks.photos.clean import clean_copy
    from tweetguard.checks.photos.decode import Unreadable
    from tweetguard.checks.photos.report import analyse

    source, output = Path(args.file), Path(args.output)
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        return fail(EX_NOINPUT, f"no such file: {source}")
    except OSError as exc:
        return fail(EX_NOINPUT, f"cannot read {source}: {exc.strerror}")
    if output.exists() and output.resolve() == source.resolve():
        return fail(EX_USAGE, "write the copy to a new file, not over the original")
    try:
        if args.photo_command == "clean":
            made = clean_copy(data)
            done = "without hidden details"
        else:
            boxes = analyse(data, name=source.name).boxes
            chosen = _chosen(args.faces, len(boxes))
            if chosen is None:
                return fail(EX_USAGE, f"--faces must be 'all' or numbers from 1 to {len(boxes)}")
            made = blurred_copy(data, [boxes[i] for i in chosen])
            done = f"with {len(chosen)} of {len(boxes)} face(s) blurred and no hidden details"
    except Unreadable as exc:
        return fail(EX_DATAERR, f"{source}: not a photo tweetguard can read ({exc})")
    if output.suffix.lower() not in _SUFFIXES.get(made.mime, ()):
        print(f"tweetguard: note: the copy is {made.mime}; consider naming it *{made.suffix}")
    try:
        output.write_bytes(made.data)
    except OSError as exc:
        return fail(EX_CANTCREAT, f"cannot write {output}: {exc.strerror}")
    print(f"Wrote {output} ({len(made.data):,} bytes), {done}.")
    return 0


_SUFFIXES = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/webp": (".webp",),
}


def _chosen(spec: str, count: int) -> list[int] | None:
    if spec.strip().lower() == "all":
        return list(range(count))
    try:
        numbers = [int(part) for part in spec.split(",") if part.strip()]
    except ValueError:
        return None
    if not numbers or any(not 1 <= n <= count for n in numbers):
        return None
    return sorted({n - 1 for n in numbers})
