"""A stand-in for X's API v2 on loopback, for tweepy to talk to through TWEETGUARD_X_API_URL.

It speaks the JSON shapes of the three endpoints tweetguard uses, as X documents
them: GET /2/users/by, GET /2/users/:id and GET /2/users/:id/tweets (`data`,
`errors` for users it cannot return, `meta` with result_count, newest_id,
oldest_id and next_token). It does to a post's text what X does (links shortened
to t.co with their expanded_url in entities.urls, &, < and > escaped, a photo link
appended), so the sweep's undoing of it is tested. A reply's text starts with the
@handles of the conversation, as X puts them there (with in_reply_to_user_id,
referenced_tweets replied_to and entities.mentions); a repost's text is "RT @user: "
and the original cut to 140 characters, with referenced_tweets retweeted, and the
original whole in includes.tweets when expansions=referenced_tweets.id is asked
for. It wants an Authorization
header (a bearer token, or an OAuth 1.0a signature), can answer 429 with X's
x-rate-limit-* headers for the next N requests, and records every request.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    import pytest

    from tweetguard.xapi.client import XClient

PROBLEMS = "https://api.twitter.com/2/problems/"
_URL = re.compile(r"https?://[^\s]+")
_FIRST_ID = 1_861_000_000_000_000_000


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    auth: str  # "bearer", "oauth1" or "" (none)
    token: str  # the bearer token sent (tests choose throwaway ones)
    status: int = 0


@dataclass
class FakeUser:
    id: str
    username: str
    name: str = ""
    protected: bool = False
    location: str = ""
    url: str = ""
    description: str = ""

    def to_json(self, fields: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name, "username": self.username}
        if "protected" in fields:
            out["protected"] = self.protected
        if "location" in fields and self.location:
            out["location"] = self.location
        if "description" in fields:
            out["description"] = self.description
        if self.url:
            short = "https://t.co/" + _short_code(self.url)
            if "url" in fields:
                out["url"] = short
            if "entities" in fields:
                display = re.sub(r"^https?://(www\.)?", "", self.url)
                out["entities"] = {
                    "url": {
                        "urls": [
                            {
                                "start": 0,
                                "end": len(short),
                                "url": short,
                                "expanded_url": self.url,
                                "display_url": display,
                            }
                        ]
                    }
                }
        elif "url" in fields:
            out["url"] = ""
        return out


@dataclass
class FakeTweet:
    id: str
    author_id: str
    text: str  # as X returns it: t.co links, HTML entities
    created_at: str
    urls: list[dict[str, Any]] = field(default_factory=list)
    media_keys: list[str] = field(default_factory=list)
    mentions: list[dict[str, Any]] = field(default_factory=list)
    referenced: list[dict[str, str]] = field(default_factory=list)  # [{"type", "id"}]
    in_reply_to_user_id: str | None = None

    def to_json(self, fields: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "edit_history_tweet_ids": [self.id],
        }
        if "created_at" in fields:
            out["created_at"] = self.created_at
        if "author_id" in fields:
            out["author_id"] = self.author_id
        entities: dict[str, Any] = {}
        if self.urls:
            entities["urls"] = self.urls
        if self.mentions:
            entities["mentions"] = self.mentions
        if "entities" in fields and entities:
            out["entities"] = entities
        if "attachments" in fields and self.media_keys:
            out["attachments"] = {"media_keys": list(self.media_keys)}
        if "referenced_tweets" in fields and self.referenced:
            out["referenced_tweets"] = [dict(r) for r in self.referenced]
        if "in_reply_to_user_id" in fields and self.in_reply_to_user_id:
            out["in_reply_to_user_id"] = self.in_reply_to_user_id
        return out


def _short_code(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:10]


def _as_stored(text: str, tweet_id: str) -> tuple[str, list[dict[str, Any]]]:
    """The text as X keeps it: each link a t.co link (entities.urls has the real
    one), &, < and > escaped."""
    urls: list[dict[str, Any]] = []
    out = ""
    last = 0
    for match in _URL.finditer(text):
        out += html.escape(text[last : match.start()], quote=False)
        short = "https://t.co/" + _short_code(match.group() + tweet_id)
        urls.append(
            {
                "start": len(out),
                "end": len(out) + len(short),
                "url": short,
                "expanded_url": match.group(),
                "display_url": re.sub(r"^https?://(www\.)?", "", match.group())[:26],
            }
        )
        out += short
        last = match.end()
    out += html.escape(text[last:], quote=False)
    return out, urls


def _stamp(at: datetime | None) -> str:
    return (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class FakeXApi:
    """Start with `with FakeXApi() as api:`; `api.url` goes in TWEETGUARD_X_API_URL."""

    def __init__(self, *, tokens: set[str] | None = None) -> None:
        self.tokens = tokens  # accepted bearer tokens; None accepts any
        self.users: dict[str, FakeUser] = {}
        self.tweets: dict[str, list[FakeTweet]] = {}  # by author, newest first
        self.requests: list[Recorded] = []
        self._limited = 0
        self._limit_reset = 0
        self._next_id = _FIRST_ID
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- the test's side ---
    def add_user(self, user_id: str, username: str, **profile: Any) -> FakeUser:
        user = FakeUser(user_id, username, **profile)
        with self._lock:
            self.users[user_id] = user
            self.tweets.setdefault(user_id, [])
        return user

    def rename(self, user_id: str, username: str) -> None:
        with self._lock:
            self.users[user_id].username = username

    def add_tweet(
        self,
        user_id: str,
        text: str,
        *,
        photo: bool = False,
        at: datetime | None = None,
        reply_to: str | None = None,
    ) -> str:
        """Posts `text` as X would store it; returns the new post's id. With
        `reply_to` (a post's id) it is a reply, its text led by the conversation's
        @handles as X adds them."""
        with self._lock:
            tweet_id = self._new_id()
            author = self.users[user_id]
            out, urls = _as_stored(text, tweet_id)
            media: list[str] = []
            if photo:
                short = "https://t.co/" + _short_code("photo" + tweet_id)
                out += " " + short
                media = [f"3_{tweet_id}"]
                urls.append(
                    {
                        "start": len(out) - len(short),
                        "end": len(out),
                        "url": short,
                        "expanded_url": f"https://x.com/{author.username}/status/{tweet_id}/photo/1",
                        "display_url": "pic.x.com/" + _short_code(tweet_id),
                        "media_key": media[0],
                    }
                )
            tweet = FakeTweet(tweet_id, user_id, out, _stamp(at), urls, media)
            if reply_to is not None:
                replied = self._by_id(reply_to)
                # X leads a reply with the replied-to author and whoever that post
                # mentioned (never the replier), the teacher's words after them.
                handles = [self.users[replied.author_id].username]
                handles += [m["username"] for m in replied.mentions]
                prefix = ""
                for handle in dict.fromkeys(handles):
                    if handle.lower() != author.username.lower():
                        prefix += f"@{handle} "
                tweet.text = prefix + tweet.text
                for link in tweet.urls:
                    link["start"] += len(prefix)
                    link["end"] += len(prefix)
                tweet.referenced = [{"type": "replied_to", "id": replied.id}]
                tweet.in_reply_to_user_id = replied.author_id
            tweet.mentions = self._mentions_in(tweet.text)
            self.tweets[user_id].insert(0, tweet)
        return tweet_id

    def add_repost(self, user_id: str, original_id: str, *, at: datetime | None = None) -> str:
        """Reposts a post as X stores a repost: "RT @author: " and the original's
        text cut to 140 characters (with "…"); the whole is in includes.tweets."""
        with self._lock:
            original = self._by_id(original_id)
            tweet_id = self._new_id()
            text = f"RT @{self.users[original.author_id].username}: {original.text}"
            if len(text) > 140:
                text = text[:139] + "…"
            tweet = FakeTweet(tweet_id, user_id, text, _stamp(at))
            tweet.referenced = [{"type": "retweeted", "id": original.id}]
            tweet.urls = [u for u in original.urls if u["url"] in text]
            tweet.mentions = self._mentions_in(text)
            self.tweets[user_id].insert(0, tweet)
        return tweet_id

    def _new_id(self) -> str:
        self._next_id += 1_000_003
        return str(self._next_id)

    def _by_id(self, tweet_id: str) -> FakeTweet:
        for tweets in self.tweets.values():
            for tweet in tweets:
                if tweet.id == tweet_id:
                    return tweet
        raise KeyError(tweet_id)

    def _mentions_in(self, text: str) -> list[dict[str, Any]]:
        """entities.mentions: X lists the @handles of accounts that exist."""
        by_name = {u.username.lower(): u for u in self.users.values()}
        found = []
        for match in re.finditer(r"@([A-Za-z0-9_]{1,15})", text):
            user = by_name.get(match.group(1).lower())
            if user is not None:
                found.append(
                    {
                        "start": match.start(),
                        "end": match.end(),
                        "username": user.username,
                        "id": user.id,
                    }
                )
        return found

    def rate_limit(
        self, requests: int, reset_in: float = 0.0, *, reset_at: int | None = None
    ) -> None:
        """The next `requests` requests get 429, with a reset `reset_in` seconds away
        (or at the Unix time `reset_at`, for a test that gives the client its clock)."""
        with self._lock:
            self._limited = requests
            self._limit_reset = reset_at if reset_at is not None else int(time.time() + reset_in)

    def calls(self, path_prefix: str = "") -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeXApi:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- the API's side ---
    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        header = request.headers.get("Authorization", "")
        auth = "bearer" if header.startswith("Bearer ") else ""
        if header.startswith("OAuth ") and "oauth_signature=" in header:
            auth = "oauth1"
        token = header[7:] if auth == "bearer" else ""
        record = Recorded("GET", parts.path, query, auth, token)
        with self._lock:
            self.requests.append(record)
            if self._limited > 0:
                self._limited -= 1
                status, body, extra = self._too_many()
            elif not auth or (auth == "bearer" and self.tokens and token not in self.tokens):
                status, body, extra = _unauthorized()
            else:
                status, body = self._route(parts.path, query)
                extra = {"x-rate-limit-limit": "900", "x-rate-limit-remaining": "899"}
                extra["x-rate-limit-reset"] = str(int(time.time()) + 900)
            record.status = status
        payload = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(payload)))
        for name, value in extra.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(payload)

    def _too_many(self) -> tuple[int, dict[str, Any], dict[str, str]]:
        body: dict[str, Any] = {
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        }
        headers = {
            "x-rate-limit-limit": "900",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(self._limit_reset),
        }
        return 429, body, headers

    def _route(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        user_fields = set(query.get("user.fields", "").split(","))
        if path == "/2/users/by":
            return 200, self._users_by(query.get("usernames", ""), user_fields)
        match = re.fullmatch(r"/2/users/(\d+)", path)
        if match:
            user = self.users.get(match.group(1))
            if user is None:
                return 200, {"errors": [_not_found("id", match.group(1))]}
            return 200, {"data": user.to_json(user_fields)}
        match = re.fullmatch(r"/2/users/(\d+)/tweets", path)
        if match:
            return self._timeline(match.group(1), query)
        return 404, {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}

    def _users_by(self, usernames: str, fields: set[str]) -> dict[str, Any]:
        by_name = {u.username.lower(): u for u in self.users.values()}
        data, errors = [], []
        for name in [n for n in usernames.split(",") if n]:
            user = by_name.get(name.lower())
            if user is None:
                errors.append(_not_found("usernames", name))
            else:
                data.append(user.to_json(fields))
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        return body

    def _timeline(self, user_id: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if user_id not in self.users:
            return 200, {"errors": [_not_found("id", user_id)]}
        size = int(query.get("max_results", "10"))
        if not 5 <= size <= 100:
            return 400, {
                "errors": [
                    {
                        "parameters": {"max_results": [str(size)]},
                        "message": "The `max_results` query parameter value is not between 5 "
                        "and 100",
                    }
                ],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": PROBLEMS + "invalid-request",
            }
        tweets = list(self.tweets[user_id])
        if "since_id" in query:
            tweets = [t for t in tweets if int(t.id) > int(query["since_id"])]
        if "start_time" in query:
            start = datetime.strptime(query["start_time"], "%Y-%m-%dT%H:%M:%SZ")
            start = start.replace(tzinfo=UTC)
            tweets = [t for t in tweets if _parse(t.created_at) >= start]
        offset = 0
        if "pagination_token" in query:
            offset = int(bytes.fromhex(query["pagination_token"]).decode()[2:])
        page = tweets[offset : offset + size]
        fields = set(query.get("tweet.fields", "").split(","))
        if not page:
            return 200, {"meta": {"result_count": 0}}
        meta: dict[str, Any] = {
            "result_count": len(page),
            "newest_id": page[0].id,
            "oldest_id": page[-1].id,
        }
        if offset + size < len(tweets):
            meta["next_token"] = f"pg{offset + size:06d}".encode().hex()
        body: dict[str, Any] = {"data": [t.to_json(fields) for t in page], "meta": meta}
        if "referenced_tweets.id" in query.get("expansions", "").split(","):
            wanted = dict.fromkeys(r["id"] for t in page for r in t.referenced)
            included = []
            for tweet_id in wanted:
                try:
                    included.append(self._by_id(tweet_id).to_json(fields))
                except KeyError:
                    continue  # deleted: X leaves it out (and says so in errors)
            if included:
                body["includes"] = {"tweets": included}
        return 200, body


def _not_found(parameter: str, value: str) -> dict[str, Any]:
    what = "usernames" if parameter == "usernames" else "id"
    return {
        "value": value,
        "detail": f"Could not find user with {what}: [{value}].",
        "title": "Not Found Error",
        "resource_type": "user",
        "parameter": parameter,
        "resource_id": value,
        "type": PROBLEMS + "resource-not-found",
    }


def _unauthorized() -> tuple[int, dict[str, Any], dict[str, str]]:
    body: dict[str, Any] = {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }
    return 401, body, {}


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@contextmanager
def serving(token: str, user_id: str, handle: str, **profile: Any) -> Iterator[FakeXApi]:
    """A fake X API on loopback that takes one bearer token and knows one school's
    account (each test file brings its own invented school)."""
    with FakeXApi(tokens={token}) as fake:
        fake.add_user(user_id, handle, **profile)
        yield fake


def bearer_client(
    api: FakeXApi, token: str, monkeypatch: pytest.MonkeyPatch, **kwargs: Any
) -> XClient:
    """tweetguard's real client, pointed at `api` through TWEETGUARD_X_API_URL."""
    from tweetguard.xapi.client import ENV_URL, XClient
    from tweetguard.xapi.credentials import make

    monkeypatch.setenv(ENV_URL, api.url)
    return XClient(make("bearer", {"bearer_token": token}), **kwargs)


class FakeTime:
    """A clock and a sleep for XClient: sleeping moves the clock and is recorded,
    so a test sees exactly how long the client chose to wait, in no time at all."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
