"""The school's policy file: readable and valid, as the helper will read it.

A policy the helper cannot read holds every post (the hello and each check answer
policy_invalid), so a broken one is a failure; no policy at all is allowed (the
helper runs on its defaults) but means no approved accounts, so it is a warning.
"""

from __future__ import annotations

from tweetguard.doctor.model import Check, Context, Result, fail, ok, warn
from tweetguard.stores.home import policy_path
from tweetguard.stores.policy import PolicyError, load_policy


def checks(ctx: Context) -> list[Check]:
    return [Check("policy.valid", "Policy", valid)]


def valid(ctx: Context) -> Result | None:
    if not ctx.home.is_dir():
        return None  # data.folder said it
    path = policy_path(ctx.home)
    enrolled = (ctx.home / "server.toml").exists()
    if not path.exists():
        return warn(
            f"no policy file {path}: the helper runs on its defaults, with no approved accounts",
            "the school's server writes it at the next sync (`tweetguard sync --once`)"
            if enrolled
            else "write one (`tweetguard policy init`, then `tweetguard policy check`) or "
            "enrol with the school's server",
        )
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        return fail(
            str(exc),
            "correct the file (`tweetguard policy check` shows every problem) or restore the "
            "last good copy"
            if not enrolled
            else "run `tweetguard sync --once` to fetch the school's policy again",
        )
    accounts = len(policy.accounts)
    return ok(f"{path}: {policy.school}, {accounts} approved account{'s' * (accounts != 1)}")
