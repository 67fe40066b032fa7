"""Whether other users' browsers can reach a launcher and the Python it runs.

A system-wide manifest is read by every teacher's browser, and each of them starts
the launcher as that teacher: a launcher (or its interpreter) behind a folder only
root may enter, such as /root or pytest's 0700 temp folder, works for root and for
nobody else. install-host refuses to write such an install; doctor reports one it
finds. Both read the same modes, through this one function.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable
from pathlib import Path


def closed_to_others(path: Path) -> str | None:
    """The first folder above `path` other users cannot pass through (no o+x), in
    one line; None when every one lets them through. Modes, not os.access: root
    passes everywhere, and the browser runs as a teacher. Folders that do not exist
    yet are skipped (install-host makes its own 0755)."""
    for folder in reversed(path.parents):
        try:
            mode = folder.stat().st_mode
        except OSError:
            continue
        if not mode & stat.S_IXOTH:
            return f"{folder} is mode {stat.S_IMODE(mode):04o}"
    return None


def unreachable(python: str, launchers: Iterable[Path]) -> list[str]:
    """One line per launcher or interpreter another user could not start, each with
    what to do; [] when all of them can be reached."""
    problems: list[str] = []
    for launcher in dict.fromkeys(launchers):
        if (closed := closed_to_others(launcher)) is not None:
            problems.append(
                f"other users' browsers could not reach {launcher}: {closed}; give a data "
                "folder every user can enter (`--home /var/lib/tweetguard`)"
            )
    interpreter = Path(python)
    closed = closed_to_others(interpreter)
    if closed is None and interpreter.exists():
        closed = closed_to_others(interpreter.resolve())  # a venv's python -> /root/...
    if closed is not None:
        problems.append(
            f"other users could not run {python}, the launchers' Python: {closed}; install "
            "tweetguard where every user can run it (a venv in /opt/tweetguard) and pass "
            "--python"
        )
    return problems
