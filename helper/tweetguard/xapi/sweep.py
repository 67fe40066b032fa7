"""`sweep`: the school's recent posts as X has them, checked like any other post.

A post made from a phone, or on a computer without tweetguard, never passed the
checks; the sweep reads each approved account's recent posts through the API, runs
the same text checks on the ones tweetguard did not send, and appends one audit row
per post ("posted outside tweetguard"), so the safeguarding lead sees them with the
rest. Each post is read once: the newest id seen is remembered per account (a small
state file), the audit's own sweep rows are consulted, and sweeps of one data folder
take turns (a lock file), so a console button and a scheduled sweep at the same
moment do not both write a post.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
import time as clock
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from tweetguard.checks.links import post_fingerprint
from tweetguard.checks.reposts import Source
from tweetguard.stores.audit import audit_verdict
from tweetguard.stores.home import policy_path
from tweetguard.stores.lockfile import try_lock
from tweetguard.stores.policy import Policy, load_policy
from tweetguard.xapi.client import XClient

STATE_FILE = "x-sweep.json"
LOCK_FILE = "x-sweep.lock"
LOCK_WAIT = 10.0  # seconds a second sweep waits for the first before saying so
MAX_PAGES = 32  # X returns at most the 3,200 newest posts of a timeline: 32 pages of 100
_MEDIA_LINK = re.compile(r"^https?://(?:x|twitter)\.com/[^/]+/status/\d+/(?:photo|video)/\d+$")
_LEADING_MENTION = re.compile(r"@([A-Za-z0-9_]{1,15})\s+")
_RT_PREFIX = re.compile(r"^RT @([A-Za-z0-9_]{1,15}): ")


class SweepError(Exception):
    """The sweep cannot start (no register, a broken policy); one line with the fix."""


class SweepBusy(SweepError):
    """Another sweep of this data folder holds the lock; try again when it is done."""


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
    action: str = "post"  # "post" | "reply" | "repost" (text is then the reposted post's)

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "action": self.action,
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


@dataclass(frozen=True)
class Reading:
    """One timeline entry as tweetguard would have recorded it when it went out."""

    action: str  # "post" | "reply" | "repost"
    text: str  # what is checked: the teacher's own words, or the reposted post's
    media: bool
    # Any of these in a `posted` row (of reposts, for a repost) means tweetguard sent it.
    fingerprints: frozenset[str]
    source: Source | None = None  # a repost's original
    note: str = ""


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


def read_post(tweet: dict[str, Any], referenced: dict[str, dict[str, Any]]) -> Reading:
    """What the teacher posted, as tweetguard's `posted` row would have it.

    A reply's text from X starts with the @handles X put in front of it (whoever is
    replied to), which the teacher never typed in the composer; a repost's text is
    "RT @user: " and the start of the other post, while tweetguard recorded the
    reposted post's own text. Both are undone here, or every reply and repost sent
    through tweetguard would come back as "posted outside tweetguard".
    """
    kinds = {str(r.get("type")): str(r.get("id")) for r in tweet.get("referenced_tweets") or []}
    if "retweeted" in kinds:
        return _repost(tweet, referenced.get(kinds["retweeted"]))
    text, media = normalise(tweet)
    if "replied_to" not in kinds and not tweet.get("in_reply_to_user_id"):
        return Reading("post", text, media, frozenset({post_fingerprint(text)}))
    ends = _leading_mentions(text)
    # Which of the leading handles the teacher typed cannot be told from the API, so
    # tweetguard's record is looked for with each number of them removed...
    prints = frozenset(post_fingerprint(text[end:]) for end in [0, *(e for _, e in ends)])
    # ...while what is checked drops only the handles of people already in the
    # conversation (X's prefix); a handle typed to bring someone new in stays.
    talking = _conversation(tweet, referenced.get(kinds.get("replied_to", "")))
    ids = {str(m.get("username", "")).lower(): str(m.get("id", "")) for m in _mentions(tweet)}
    start = 0
    for name, end in ends:
        if name.lower() not in talking and ids.get(name.lower()) not in talking:
            break
        start = end
    return Reading("reply", text[start:], media, prints)


def _leading_mentions(text: str) -> list[tuple[str, int]]:
    """The @handles a text starts with, each with where the text after it begins."""
    found: list[tuple[str, int]] = []
    position = 0
    while match := _LEADING_MENTION.match(text, position):
        position = match.end()
        found.append((match.group(1), position))
    return found


def _mentions(tweet: dict[str, Any]) -> list[dict[str, Any]]:
    return list((tweet.get("entities") or {}).get("mentions") or [])


def _conversation(tweet: dict[str, Any], replied: dict[str, Any] | None) -> set[str]:
    """Ids and lower-cased handles X puts in a reply's prefix: the author replied to
    and the people their post mentioned (its own prefix included)."""
    talking = {str(tweet.get("in_reply_to_user_id") or "")}
    if replied is not None:
        talking.add(str(replied.get("author_id") or ""))
        for mention in _mentions(replied):
            talking.add(str(mention.get("id") or ""))
            talking.add(str(mention.get("username") or "").lower())
    talking.discard("")
    return talking


def _repost(tweet: dict[str, Any], original: dict[str, Any] | None) -> Reading:
    """A repost is checked and matched by the reposted post's whole text (the
    expansion brings it); X's own "RT @user: …" text is cut short."""
    raw = str(tweet.get("text") or "")
    prefix = _RT_PREFIX.match(raw)
    author = prefix.group(1) if prefix else None
    if original is not None:
        text, media = normalise(original)
        url = f"https://x.com/{author}/status/{original['id']}" if author else None
        return Reading(
            "repost", text, media, frozenset({post_fingerprint(text)}), Source(author, text, url)
        )
    # Not returned (protected, withheld, deleted since): only X's cut-down start is
    # there to check, and it cannot be tweetguard's record.
    text, media = normalise({**tweet, "text": raw[prefix.end() :] if prefix else raw})
    text = text.removesuffix("…").rstrip()
    note = "X returned only the start of the reposted post; the start was checked"
    return Reading("repost", text, media, frozenset(), Source(author, text, None), note)


def sweep(
    home: Path,
    client: XClient,
    *,
    since: date | None = None,
    progress: Callable[[str], None] | None = None,
    wait: float = LOCK_WAIT,
) -> SweepResult:
    """Reads, checks and records every approved account's posts not seen before.
    `since` reads from that day instead of from the last sweep. Another sweep of the
    same data folder is waited for up to `wait` seconds, then SweepBusy says so."""
    policy = load_policy(policy_path(home))
    result = SweepResult([])
    if not policy.accounts:
        result.notes.append(
            "no account is approved in the policy; add one with `tweetguard accounts add HANDLE`"
        )
        return result
    with sweep_lock(home, wait=wait, progress=progress) as note:
        if note:
            result.notes.append(note)
        # Everything that says what was recorded is read inside the lock: the other
        # sweep's rows are written by now.
        _sweep_accounts(home, client, policy, since, progress, result)
    return result


def _sweep_accounts(
    home: Path,
    client: XClient,
    policy: Policy,
    since: date | None,
    progress: Callable[[str], None] | None,
    result: SweepResult,
) -> None:
    from tweetguard.checks.engine import Checker
    from tweetguard.stores.consent import RegisterMissing
    from tweetguard.stores.policy import PolicyError

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
            tweets, referenced = _read_all(client, account.user_id, since_id, since)
            swept.read = len(tweets)
            for tweet in sorted(tweets, key=lambda t: int(t["id"])):
                tweet_id = str(tweet["id"])
                if tweet_id in seen:
                    swept.already_seen += 1
                    continue
                reading = read_post(tweet, referenced)
                known = posted.reposts if reading.action == "repost" else posted.own
                if reading.fingerprints & known:
                    swept.through_tweetguard += 1
                    continue
                try:
                    report = checker.check(
                        "" if reading.action == "repost" else reading.text,
                        account=(account.handle, account.user_id),
                        has_media=reading.media,
                        source=reading.source,
                        action=reading.action,
                    )
                except (PolicyError, RegisterMissing) as exc:
                    raise SweepError(_check_problem(exc)) from None
                messages = [str(f["message"]) for f in report.findings_json()]
                post = SweptPost(
                    account=account.handle.lower(),
                    account_id=account.user_id,
                    tweet_id=tweet_id,
                    created_at=str(tweet.get("created_at") or ""),
                    url=f"https://x.com/{account.handle}/status/{tweet_id}",
                    verdict=audit_verdict(report.verdict) or report.verdict,
                    rules=[f.rule.id for f in report.findings],
                    messages=messages + ([reading.note] if reading.note else []),
                    text=reading.text,
                    action=reading.action,
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


@contextmanager
def sweep_lock(
    home: Path, *, wait: float = LOCK_WAIT, progress: Callable[[str], None] | None = None
) -> Iterator[str]:
    """Holds the data folder's sweep lock (an OS lock on x-sweep.lock, let go by the
    OS if the sweep dies) for as long as the sweep runs. Yields a note when the lock
    file cannot be opened at all (a data folder this user may not write): the sweep
    goes on unlocked rather than not at all."""
    path = home / LOCK_FILE
    try:
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held across the yield
    except OSError as exc:
        yield (
            f"note: could not lock {path} ({exc.strerror}); a sweep started at the same "
            "moment elsewhere may record a post twice"
        )
        return
    try:
        deadline = clock.monotonic() + wait
        said = False
        while not try_lock(handle.fileno()):
            if clock.monotonic() >= deadline:
                raise SweepBusy(_busy_message(path))
            if progress and not said:
                progress(f"waiting up to {wait:g} s for another sweep to finish")
                said = True
            clock.sleep(0.05)
        _say_holder(handle)
        yield ""
    finally:
        handle.close()  # closing lets go of the lock


def _say_holder(handle: Any) -> None:
    """Who holds the lock, for the message the next sweep gives."""
    if sys.platform == "win32":
        return  # the locked byte cannot be rewritten while others read it
    started = datetime.now(UTC).strftime("%H:%M")
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} {started}\n")
        handle.flush()
    except OSError:
        pass


def _busy_message(path: Path) -> str:
    try:
        pid, started = path.read_text(encoding="utf-8").split()[:2]
        who = f" (process {pid}, started {started} UTC)"
    except (OSError, ValueError):
        who = ""
    return (
        f"a sweep of this data folder is already running{who}; try again when it has "
        "finished (its posts are not swept twice)"
    )


def _read_all(
    client: XClient, user_id: str, since_id: str | None, since: date | None
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    start = datetime.combine(since, time.min, tzinfo=UTC) if since else None
    tweets: list[dict[str, Any]] = []
    referenced: dict[str, dict[str, Any]] = {}
    token: str | None = None
    for _ in range(MAX_PAGES):
        page = client.tweets(user_id, since_id=since_id, start_time=start, pagination_token=token)
        tweets += page.tweets
        referenced.update(page.referenced)
        token = page.next_token
        if not token:
            break
    return tweets, referenced


def _record(home: Path, policy: Policy, post: SweptPost) -> None:
    """Not record_change: a sweep row is a checked post (verdict, rules, the text's
    hash, outside), not a change made by someone; and unlike a change, a post that
    cannot be recorded stops the sweep (AuditError), so it is read again next time."""
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
                "action": post.action,
            },
            outside=True,
        )
    finally:
        log.close()


@dataclass(frozen=True)
class Posted:
    own: set[str]  # fingerprints of posts and replies tweetguard sent
    reposts: set[str]  # fingerprints of the posts it reposted


def _posted_hashes(home: Path) -> Posted:
    """Fingerprints of every post tweetguard sent (each thread post on its own). A
    repost's row holds the reposted post's text, so it is kept apart: the same words
    posted as the school's own are another post."""
    from tweetguard.stores.audit import AuditQuery, merged_rows

    posted = Posted(set(), set())
    for row in merged_rows(home, AuditQuery(kind="post")):
        bucket = posted.reposts if row.detail.get("action") == "repost" else posted.own
        bucket.update(str(h) for h in row.detail.get("posts_sha256") or [])
        if row.text_sha256:
            bucket.add(row.text_sha256)
    return posted


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
