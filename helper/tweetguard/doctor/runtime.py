"""The Python the helper runs on and the packages it needs.

Read from the installed package's own metadata (what pip or the .deb installed),
never imported: importing OpenCV to learn its version would cost a second, and a
missing or too-old package is what breaks a helper after an upgrade of the OS.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata

from tweetguard.doctor.model import Check, Context, Result, fail, ok

PACKAGE = "tweetguard"
MINIMUM_PYTHON = (3, 11)

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*)(;.*)?$")
_CLAUSE = re.compile(r"^\s*(===|==|!=|<=|>=|~=|<|>)\s*([^\s,]+)\s*$")


def checks(ctx: Context) -> list[Check]:
    return [
        Check("runtime.python", "Python", python),
        Check("runtime.packages", "Packages", packages),
    ]


def python(ctx: Context) -> Result:
    version = ".".join(str(n) for n in sys.version_info[:3])
    if sys.version_info[:2] < MINIMUM_PYTHON:
        need = ".".join(str(n) for n in MINIMUM_PYTHON)
        return fail(
            f"Python {version} at {sys.executable} is older than the {need} tweetguard needs",
            f"install Python {need} or newer and reinstall tweetguard with it, then run "
            "`tweetguard install-host` again",
        )
    return ok(f"Python {version} at {sys.executable}")


def packages(ctx: Context) -> Result:
    try:
        own = metadata.version(PACKAGE)
        requirements = metadata.requires(PACKAGE) or []
    except metadata.PackageNotFoundError:
        from tweetguard import __version__

        return ok(
            f"tweetguard {__version__} runs from source (no installed metadata to compare "
            "its packages with)"
        )
    problems = []
    for line in requirements:
        parsed = _parse(line)
        if parsed is None:
            continue
        name, spec = parsed
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name} is missing")
            continue
        if not satisfies(have, spec):
            problems.append(f"{name} {have} is not {spec}")
    if problems:
        return fail(
            f"tweetguard {own}: {'; '.join(problems)}",
            f"reinstall tweetguard into {sys.prefix} (`{sys.executable} -m pip install "
            "--force-reinstall tweetguard`, or reinstall the .deb)",
        )
    return ok(f"tweetguard {own} with the {len(_base(requirements))} packages it needs")


def _base(requirements: list[str]) -> list[str]:
    return [r for r in requirements if _parse(r) is not None]


def _parse(line: str) -> tuple[str, str] | None:
    """(name, specifier) of a requirement every install needs; None for an extra's."""
    match = _REQUIREMENT.match(line)
    if match is None or (match.group(4) and "extra" in match.group(4)):
        return None
    return match.group(1), match.group(3).strip()


def satisfies(version: str, spec: str) -> bool:
    """Whether `version` meets a specifier like ">=3.0,<4": release numbers only,
    which is all tweetguard's own requirements use (no packaging dependency)."""
    have = _release(version)
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        match = _CLAUSE.match(clause)
        if match is None:
            continue  # a form we do not read is not held against the install
        op, wanted = match.group(1), match.group(2)
        if wanted.endswith(".*"):
            prefix = _release(wanted[:-2])
            same = have[: len(prefix)] == prefix
            if (op == "==" and not same) or (op == "!=" and same):
                return False
            continue
        want = _release(wanted)
        width = max(len(have), len(want))
        a, b = _pad(have, width), _pad(want, width)
        if op == "~=":
            if a < b or _pad(have, len(want) - 1)[: len(want) - 1] != want[:-1]:
                return False
            continue
        if not {
            "==": a == b,
            "===": version == wanted,
            "!=": a != b,
            "<=": a <= b,
            ">=": a >= b,
            "<": a < b,
            ">": a > b,
        }[op]:
            return False
    return True


def _release(version: str) -> tuple[int, ...]:
    numbers = []
    for part in version.split("+")[0].split("."):
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        numbers.append(int(digits.group()))
        if digits.group() != part:
            break  # 1.2rc1: the release is 1.2
    return tuple(numbers)


def _pad(release: tuple[int, ...], width: int) -> tuple[int, ...]:
    return release + (0,) * (width - len(release))
