"""The data folder: there, readable, and where this user's audit rows go.

A school-wide install keeps one data folder that teachers can read but not write;
that is normal, and the audit then goes to `audit.d/<login>.sqlite3` (a 1777
folder IT creates) where the console merges it. What is not fine is a folder that
is missing or unreadable, or an audit that ends up on this machine only, where
the school's console never sees it: those are what these checks report.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tweetguard.doctor.model import Check, Context, Result, fail, ok, warn
from tweetguard.stores.home import policy_path, register_path

PER_USER_DIR = "audit.d"


def checks(ctx: Context) -> list[Check]:
    found = [
        Check("data.folder", "Data folder", folder),
        Check("data.audit", "Audit location", audit),
    ]
    if os.name == "posix":
        found.append(Check("data.shared", "Shared data folder", shared))
    return found


def folder(ctx: Context) -> Result:
    home = ctx.home
    if not home.exists():
        return fail(
            f"{home} does not exist",
            "import the register there (`tweetguard consent import FILE`), or give the "
            "school's data folder with --home or $TWEETGUARD_HOME",
        )
    if not home.is_dir():
        return fail(f"{home} is not a folder", "move it aside and give a folder with --home")
    if not os.access(home, os.R_OK | os.X_OK):
        return fail(
            f"{home} cannot be read by this user",
            f"ask IT to let everyone read it (`chmod a+rx {home}`)",
        )
    if os.access(home, os.W_OK):
        return ok(f"{home} (readable and writable by this user)")
    return ok(f"{home} (read-only for this user, as in a school-wide install)")


def audit(ctx: Context) -> Result | None:
    if not ctx.home.is_dir():
        return None  # data.folder said it
    from tweetguard.stores.audit import audit_location

    location = audit_location(ctx.home)
    if location.path.exists() and not location.path.is_file():
        return fail(
            f"the audit {location.path} is not a file: checks at posting cannot be recorded",
            f"move {location.path} aside; the helper creates a new audit at its next start",
        )
    if location.shared or location.path.parent == ctx.home / PER_USER_DIR:
        return ok(location.why)
    if not _can_create(location.path):
        return fail(
            f"{location.why}, but that cannot be written either: checks at posting cannot "
            "be recorded",
            f"ask IT to create {ctx.home / PER_USER_DIR} with mode 1777 "
            "(`tweetguard install-host --system` does)",
        )
    return warn(
        f"{location.why.split(';')[0]}: this user's audit stays on this machine, where the "
        "school's console does not see it",
        f"ask IT to create {ctx.home / PER_USER_DIR} with mode 1777 "
        "(`tweetguard install-host --system` does)",
    )


def shared(ctx: Context) -> Result | None:
    """For the data folder of a school-wide install (`install-host --system`): what
    every teacher's helper needs to read is readable by others, and audit.d is there
    for them. A folder of one user is checked by the checks above alone."""
    home = ctx.home
    if not _system_install(home):
        return None
    try:
        st = home.stat()
    except OSError:
        return None
    problems = []
    if st.st_mode & 0o005 != 0o005:
        problems.append(f"{home} is mode {stat.S_IMODE(st.st_mode):04o} (needs a+rx)")
    for path in (policy_path(home), register_path(home)):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o004 == 0:
            problems.append(f"{path.name} is mode {mode:04o} (needs a+r)")
    if problems:
        return fail(
            f"teachers' helpers cannot read the school's data: {'; '.join(problems)}",
            f"as root: chmod a+rx {home} and chmod a+r the files named",
        )
    per_user = home / PER_USER_DIR
    try:
        mode = stat.S_IMODE(per_user.stat().st_mode)
    except FileNotFoundError:
        return warn(
            f"{per_user} does not exist: teachers who cannot write the shared audit record "
            "on their own machine only",
            f"as root: mkdir -m 1777 {per_user} (or run `tweetguard install-host --system`)",
        )
    if mode != 0o1777:
        return warn(
            f"{per_user} is mode {mode:04o}, not 1777: teachers may not be able to add "
            "their audit there",
            f"as root: chmod 1777 {per_user}",
        )
    return ok(f"{home} is readable by everyone, with {per_user} (1777) for their audits")


def _system_install(home: Path) -> bool:
    from tweetguard.install.record import read_records

    try:
        return any(r.scope == "system" for r in read_records(home))
    except (OSError, ValueError):
        return False


def _can_create(path: Path) -> bool:
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    if probe == path:
        return os.access(path, os.W_OK)
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)
