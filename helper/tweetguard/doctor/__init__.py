"""`tweetguard doctor`: every link between the browser and the helper, checked.

Native messaging breaks in the field in ways nobody sees: a manifest in the wrong
folder, a launcher pointing at a Python that moved, an id that does not match, a
register that cannot be read. Each family module looks at one part and returns
its checks (an id, a title and a function answering ok, warn or fail with one line
and the fix); `run` runs them in order and never lets one broken check stop the
others. docs/doctor.md lists every id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from tweetguard.doctor import audit, browsers, data, keys, policy, register, runtime, server
from tweetguard.doctor.model import (
    FAIL,
    OK,
    WARN,
    Check,
    Context,
    Family,
    Outcome,
    Result,
    Status,
)

__all__ = [
    "FAIL",
    "FAMILIES",
    "OK",
    "WARN",
    "Check",
    "Context",
    "Outcome",
    "Result",
    "Status",
    "run",
]

log = logging.getLogger("tweetguard.doctor")

FAMILIES: Sequence[Family] = (
    runtime.checks,
    data.checks,
    policy.checks,
    register.checks,
    browsers.checks,
    keys.checks,
    audit.checks,
    server.checks,
)


def run(ctx: Context, families: Sequence[Family] = FAMILIES) -> Iterator[Outcome]:
    """Each check's outcome as soon as it is known (the hello of each browser takes
    a moment: the terminal shows the lines as they come)."""
    for family in families:
        try:
            found = family(ctx)
        except Exception as exc:
            name = getattr(family, "__module__", "doctor").rsplit(".", 1)[-1]
            log.exception("doctor family %s failed", name)
            yield _crashed(f"{name}.checks", name, exc)
            continue
        for check in found:
            try:
                result = check.run(ctx)
            except Exception as exc:
                log.exception("doctor check %s failed", check.id)
                yield _crashed(check.id, check.title, exc)
                continue
            if result is not None:
                yield Outcome(check.id, check.title, result.status, result.message, result.fix)


def _crashed(check_id: str, title: str, exc: Exception) -> Outcome:
    return Outcome(
        check_id,
        title,
        FAIL,
        f"the check itself failed ({type(exc).__name__}: {exc})",
        "report it with the data folder's logs/cli.log",
    )
