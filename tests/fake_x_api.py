"""A stand-in for X's API v2 on loopback, for tweepy to talk to through TWEETGUARD_X_API_URL.

It speaks the JSON shapes of the three endpoints tweetguard uses, as X documents
them: GET /2/users/by, GET /2/users/:id and GET /2/users/:id/tweets (`data`,
`errors` for users it cannot return, `meta` with result_count, newest_id,
oldest_id and next_token). It does to a post's text what X does (links shortened
to t.co with their expanded_url in entities.urls, &, < and > escaped, a photo link
appended), so the sweep's undoing of it is tested. It wants an Authorization
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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

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

    def to_json(self, fields: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "edit_history_tweet_ids": [self.id],
        }
        if "created_at" in fields:
            out["created_at"] = self.created_at
        if "entities" in fields and self.urls:
            out["entities"] = {"urls": self.urls}
        if "attachments" in fields and self.media_keys:
            out["attachments"] = {"media_keys": list(self.media_keys)}
        return out


def _short_code(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:10]


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
        self, user_id: str, text: str, *, photo: bool = False, at: datetime | None = None
    ) -> str:
        """Posts `text` as X would store it; returns the new post's id."""
        with self._lock:
            self._next_id += 1_000_003
            tweet_id = str(self._next_id)
            author = self.users[user_id]
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
            moment = at or datetime.now(UTC)
            created = moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            self.tweets[user_id].insert(0, FakeTweet(tweet_id, user_id, out, created, urls, media))
        return tweet_id

    def rate_limit(self, requests: int, reset_in: float) -> None:
        """The next `requests` requests get 429, with a reset `reset_in` seconds away."""
        with self._lock:
            self._limited = requests
            self._limit_reset = int(time.time() + reset_in)

    def calls(self, path_prefix: str = "") -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

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
        return 200, {"data": [t.to_json(fields) for t in page], "meta": meta}


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
