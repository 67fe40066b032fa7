"""The consent register: present, readable, and recent enough to trust.

A register that cannot be read holds every post (register_unavailable); one that
is months old misses the pupils who joined since, whose names then pass unflagged,
so age is a warning with the way to refresh it. An enrolled machine's register
comes from the school's server, so there "fresh" means the last sync that reached
the server, not the last import.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from tweetguard.doctor.model import Check, Context, Result, fail, ok, warn
from tweetguard.stores.consent import ConsentRegister, RegisterSummary
from tweetguard.stores.home import register_path

# A register imported longer ago than this misses new pupils (schools export from
# their MIS at least each half term); an enrolled machine should reach its server daily.
FRESH_DAYS = 42
SYNC_FRESH_DAYS = 2
_SUMMARY = "register.summary"


def checks(ctx: Context) -> list[Check]:
    return [
        Check("register.loaded", "Register", loaded),
        Check("register.fresh", "Register age", fresh),
    ]


def loaded(ctx: Context) -> Result | None:
    if not ctx.home.is_dir():
        return None  # data.folder said it
    path = register_path(ctx.home)
    refresh = _refresh_fix(ctx)
    if not path.exists():
        return fail(
            f"no register at {path}: names cannot be checked against the school's pupils",
            refresh,
        )
    store = ConsentRegister(path)
    try:
        store.check()
        if not store.exists():
            return fail(f"{path} has no pupils table (an import never finished)", refresh)
        summary = store.summary()
    except sqlite3.DatabaseError as exc:
        return fail(
            f"{path} cannot be read ({exc}): every post is held",
            f"{refresh} (the damaged file is set aside, not overwritten)",
        )
    finally:
        store.close()
    ctx.cache[_SUMMARY] = summary
    when = f", imported {summary.imported_at}" if summary.imported_at else ""
    return ok(f"{summary.pupils} pupils{when}")


def fresh(ctx: Context, now: datetime | None = None) -> Result | None:
    summary = ctx.cache.get(_SUMMARY)
    if not isinstance(summary, RegisterSummary):
        return None  # register.loaded said why
    now = now or datetime.now(UTC)
    if (ctx.home / "server.toml").exists():
        from tweetguard.sync.state import load_state

        last = load_state(ctx.home).connection.last_ok
        age = _days(last, now)
        if age is None:
            return warn(
                "enrolled, but no sync with the school's server has finished yet",
                "run `tweetguard sync --once` and read what it says",
            )
        if age > SYNC_FRESH_DAYS:
            return warn(
                f"the last sync that reached the school's server was {age} days ago "
                f"({last}): the register may miss changes made since",
                "run `tweetguard sync --once`; see server.reachable for why it fails",
            )
        return ok(f"synced with the school's server {_ago(age)} ({last})")
    age = _days(summary.imported_at, now)
    if age is None:
        return warn("the register does not say when it was imported", _refresh_fix(ctx))
    if age > FRESH_DAYS:
        return warn(
            f"imported {age} days ago ({summary.imported_at}): pupils who joined since "
            "are not checked",
            _refresh_fix(ctx),
        )
    return ok(f"imported {_ago(age)}")


def _refresh_fix(ctx: Context) -> str:
    if (ctx.home / "server.toml").exists():
        return "run `tweetguard sync --once` to fetch the school's register again"
    return "import the current register from the MIS: `tweetguard consent import FILE`"


def _days(stamp: str | None, now: datetime) -> int | None:
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, (now - moment).days)


def _ago(days: int) -> str:
    return "today" if days == 0 else f"{days} day{'s' * (days != 1)} ago"
