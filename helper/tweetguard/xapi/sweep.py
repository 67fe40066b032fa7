"""`sweep`: the school's recent posts as X has them, checked like any other post.

A post made from a phone, or on a computer without tweetguard, never passed the
checks; the sweep reads each approved account's recent posts through the API, runs
the same text checks on the ones tweetguard did not send, and appends one audit row
per post ("posted outside tweetguard"), so the safeguarding lead sees them with the
rest. Each post is read once: the newest id seen is remembered per account (a small
state file, and the audit's own sweep rows, which also keep two people sweeping at
once from writing a post twice).
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from tweetguard.checks.links import post_fingerprint
from tweetguard.stores.home import policy_path
from tweetguard.stores.policy import Policy, load_policy
from tweetguard.xapi.client import XClient

STATE_FILE = "x-sweep.json"
MAX_PAGES = 32  # X returns at most the 3,200 newest posts of a timeline: 32 pages of 100
AUDIT_VERDICT = {"allow": "ok", "warn": "warn", "block": "block"}
_MEDIA_LINK = re.compile(r"^https?://(?:x|twitter)\.com/[^/]+/status/\d+/(?:photo|video)/\d+$")


class SweepError(Exception):
    """The sweep cannot start (no register, a broken policy); one line with the fix."""


@dataclass
class SweptPost:
    account: str
    account_id: str
    tweet_id: str
    created_at: str
    url: str
    verdict: str  # "ok" | "warn" | "block"
    rules: list[str]
    messages: list[str]  # the findings, as the teacher would have read them
    text: str  # for the page that asked; the audit keeps it only as policy allows

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "account_id": self.account_id,
            "tweet_id": self.tweet_id,
            "created_at": self.created_at,
            "url": self.url,
            "verdict": self.verdict,
            "rules": list(self.rules),
            "messages": list(self.messages),
            "text": self.text,
        }


@dataclass
class AccountSweep:
    handle: str
    user_id: str | None
    read: int = 0  # posts X returned
    through_tweetguard: int = 0  # skipped: tweetguard checked and sent them
    already_seen: int = 0  # skipped: an earlier sweep has their row
    posts: list[SweptPost] = field(default_factory=list)  # new outside posts, oldest first
    problem: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "handle": self.handle,
            "user_id": self.user_id,
            "read": self.read,
            "through_tweetguard": self.through_tweetguard,
            "already_seen": self.already_seen,
            "posts": [p.to_json() for p in self.posts],
            "problem": self.problem,
        }


@dataclass
class SweepResult:
    accounts: list[AccountSweep]
    notes: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> list[SweptPost]:
        return [p for a in self.accounts for p in a.posts if p.verdict != "ok"]

    def to_json(self) -> dict[str, Any]:
        return {
            "accounts": [a.to_json() for a in self.accounts],
            "flagged": len(self.flagged),
            "notes": list(self.notes),
        }


def normalise(tweet: dict[str, Any]) -> tuple[str, bool]:
    """The post's text as the teacher typed it, and whether it had photos or video.

    X shortens every link to t.co and escapes &, < and >; a long post's full text is
    in note_tweet. The links to the post's own photos are X's, not the teacher's.
    """
    text = str(tweet.get("text") or "")
    entities = tweet.get("entities") or {}
    note = tweet.get("note_tweet") or {}
    if note.get("text"):
        text = str(note["text"])
        entities = note.get("entities") or entities
    media = bool((tweet.get("attachments") or {}).get("media_keys"))
    removed = False
    for link in entities.get("urls") or []:
        short = str(link.get("url") or "")
        if not short:
            continue
        expanded = str(link.get("expanded_url") or link.get("display_url") or short)
        if link.get("media_key") or _MEDIA_LINK.match(expanded):
            text = text.replace(short, "")
            removed = media = True
        else:
            text = text.replace(short, expanded)
    text = html.unescape(text)
    return (text.rstrip() if removed else text), media


def sweep(
    home: Path,
    client: XClient,
    *,
    since: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> SweepResult:
    """Reads, checks and records every approved account's posts not seen before.
    `since` reads from that day instead of from the last sweep."""
    from tweetguard.checks.engine import Checker
    from tweetguard.stores.consent import RegisterMissing
    from tweetguard.stores.policy import PolicyError

    policy = load_policy(policy_path(home))
    result = SweepResult([])
    if not policy.accounts:
        result.notes.append(
            "no account is approved in the policy; add one with `tweetguard accounts add HANDLE`"
        )
        return result
    state = _read_state(home)
    posted = _posted_hashes(home)
    checker = Checker(home)
    try:
        for account in policy.accounts:
            swept = AccountSweep(account.handle, account.user_id)
            result.accounts.append(swept)
            if not account.user_id:
                swept.problem = (
                    f"@{account.handle} has no user id in the policy yet; run "
                    "`tweetguard accounts verify` to resolve it, then sweep again"
                )
                continue
            if progress:
                progress(f"reading @{account.handle}")
            seen = _swept_ids(home, account.user_id)
            since_id = None if since else _newest(state.get(account.user_id), *seen)
            tweets = _read_all(client, account.user_id, since_id, since)
            swept.read = len(tweets)
            for tweet in sorted(tweets, key=lambda t: int(t["id"])):
                tweet_id = str(tweet["id"])
                if tweet_id in seen:
                    swept.already_seen += 1
                    continue
                text, media = normalise(tweet)
                if post_fingerprint(text) in posted:
                    swept.through_tweetguard += 1
                    continue
                try:
                    report = checker.check(
                        text, account=(account.handle, account.user_id), has_media=media
                    )
                except (PolicyError, RegisterMissing) as exc:
                    raise SweepError(_check_problem(exc)) from None
                post = SweptPost(
                    account=account.handle.lower(),
                    account_id=account.user_id,
                    tweet_id=tweet_id,
                    created_at=str(tweet.get("created_at") or ""),
                    url=f"https://x.com/{account.handle}/status/{tweet_id}",
                    verdict=AUDIT_VERDICT[report.verdict],
                    rules=[f.rule.id for f in report.findings],
                    messages=[str(f["message"]) for f in report.findings_json()],
                    text=text,
                )
                _record(home, policy, post)
                seen.add(tweet_id)
                swept.posts.append(post)
            newest = _newest(state.get(account.user_id), *(str(t["id"]) for t in tweets))
            if newest:
                state[account.user_id] = newest
    finally:
        checker.close()
        # Also after a rate limit part way: the accounts done so far are not read again.
        problem = _write_state(home, state)
    if problem:
        result.notes.append(problem)
    return result


def _read_all(
    client: XClient, user_id: str, since_id: str | None, since: date | None
) -> list[dict[str, Any]]:
    start = datetime.combine(since, time.min, tzinfo=UTC) if since else None
    tweets: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        page = client.tweets(user_id, since_id=since_id, start_time=start, pagination_token=token)
        tweets += page.tweets
        token = page.next_token
        if not token:
            break
    return tweets


def _record(home: Path, policy: Policy, post: SweptPost) -> None:
    from tweetguard.stores.audit import open_audit

    log = open_audit(home)
    try:
        log.append(
            "sweep",
            account=post.account,
            account_id=post.account_id,
            verdict=post.verdict,
            rules=post.rules,
            text=post.text,
            keep_text=policy.audit.keeps("sweep"),
            detail={
                "tweet_id": post.tweet_id,
                "created_at": post.created_at,
                "url": post.url,
                "account": post.account,
            },
            outside=True,
        )
    finally:
        log.close()


def _posted_hashes(home: Path) -> set[str]:
    """SHA-256 of every post tweetguard sent (each thread post on its own)."""
    from tweetguard.stores.audit import AuditQuery, merged_rows

    hashes: set[str] = set()
    for row in merged_rows(home, AuditQuery(kind="post")):
        hashes.update(str(h) for h in row.detail.get("posts_sha256") or [])
        if row.text_sha256:
            hashes.add(row.text_sha256)
    return hashes


def _swept_ids(home: Path, user_id: str) -> set[str]:
    from tweetguard.stores.audit import AuditQuery, merged_rows

    return {
        str(row.detail.get("tweet_id"))
        for row in merged_rows(home, AuditQuery(kind="sweep"))
        if row.account_id == user_id and row.detail.get("tweet_id")
    }


def _newest(*ids: str | None) -> str | None:
    numbers = [int(i) for i in ids if i and str(i).isdigit()]
    return str(max(numbers)) if numbers else None


def _read_state(home: Path) -> dict[str, str]:
    try:
        data = json.loads((home / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    since = data.get("since_id") if isinstance(data, dict) else None
    if not isinstance(since, dict):
        return {}
    return {str(k): str(v) for k, v in since.items() if str(v).isdigit()}


def _write_state(home: Path, state: dict[str, str]) -> str:
    """Remembers the newest post per account; a data folder that cannot be written
    only costs re-reading (the audit's rows still stop duplicates), so it is a note."""
    path = home / STATE_FILE
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"since_id": state}, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        return (
            f"note: could not remember where this sweep ended ({path}: {exc.strerror}); the "
            "next sweep reads these posts again but adds no rows twice"
        )
    return ""


def _check_problem(exc: Exception) -> str:
    from tweetguard.stores.consent import RegisterMissing

    if isinstance(exc, RegisterMissing):
        return (
            f"{exc}; import the consent register with `tweetguard consent import FILE` "
            "before sweeping, so names can be checked"
        )
    return f"{exc}; fix the policy (`tweetguard policy check`) and sweep again"
