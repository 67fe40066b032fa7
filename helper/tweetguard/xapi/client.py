"""One way to talk to X's API v2: a tweepy Client with timeouts, rate limits honoured
and every failure turned into one line that says what to fix.

`TWEETGUARD_X_API_URL` (tests and diagnostics only) sends every request meant for
https://api.twitter.com or https://api.x.com to another base URL, e.g. a fake X API
on loopback: tweepy builds, signs and parses exactly as it would for X; only the
connection goes elsewhere.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from tweetguard.xapi.credentials import Credentials

if TYPE_CHECKING:
    import requests

ENV_URL = "TWEETGUARD_X_API_URL"
X_HOSTS = ("https://api.twitter.com", "https://api.x.com")
DEFAULT_MAX_WAIT = 60.0  # seconds: a rate limit resetting sooner is waited out
TIMEOUT = 20.0  # seconds per request; tweepy itself sets none
USER_FIELDS = ("protected", "name", "username", "location", "url", "description", "entities")
# referenced_tweets, in_reply_to_user_id and entities.mentions tell a reply's prefix and
# a repost from the teacher's own words; the expansion brings the reposted (or replied
# to) post itself, whose text is whole where a repost's own is cut to "RT @user: …".
TWEET_FIELDS = (
    "created_at",
    "entities",
    "attachments",
    "note_tweet",
    "referenced_tweets",
    "in_reply_to_user_id",
    "author_id",
)
TWEET_EXPANSIONS = ("referenced_tweets.id",)
RESET_MARGIN = 0.5  # seconds added to a wait: X's reset is whole seconds
_RETRIES = 3


class XApiError(Exception):
    """Anything that stops an X API call; str() is one line that says what to fix."""


class RateLimited(XApiError):
    def __init__(self, message: str, reset: int | None) -> None:
        super().__init__(message)
        self.reset = reset


@dataclass(frozen=True)
class User:
    id: str
    username: str
    name: str = ""
    protected: bool = False
    location: str = ""
    url: str = ""  # the website as the profile shows it (expanded from t.co)
    description: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        url = str(data.get("url") or "")
        # The profile's website comes back as a t.co link; entities.url has the real one.
        for item in data.get("entities", {}).get("url", {}).get("urls", []) or []:
            if item.get("url") == url and item.get("expanded_url"):
                url = str(item["expanded_url"])
        return cls(
            id=str(data["id"]),
            username=str(data["username"]),
            name=str(data.get("name") or ""),
            protected=bool(data.get("protected", False)),
            location=str(data.get("location") or ""),
            url=url,
            description=str(data.get("description") or ""),
        )


@dataclass(frozen=True)
class Lookup:
    """Users found by handle (lower-cased), and why the others were not."""

    found: dict[str, User] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    tweets: list[dict[str, Any]]
    referenced: dict[str, dict[str, Any]]  # includes.tweets by id: reposted, replied to
    next_token: str | None


def target_base() -> str | None:
    """The loopback base from TWEETGUARD_X_API_URL, or None for X itself. Only this
    machine is accepted: the credentials go with every request."""
    from urllib.parse import urlsplit

    value = os.environ.get(ENV_URL, "").strip().rstrip("/")
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or parts.hostname not in (
        "127.0.0.1",
        "localhost",
        "::1",
    ):
        raise XApiError(
            f"{ENV_URL} is {value!r}, but it may only name this machine "
            f"(http://127.0.0.1:PORT, for tests); unset it to use X's API"
        )
    return value


class XClient:
    def __init__(
        self,
        credentials: Credentials,
        *,
        max_wait: float = DEFAULT_MAX_WAIT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        import logging

        import tweepy  # type: ignore[import-untyped]

        # tweepy and oauthlib log each request's headers at DEBUG: never the tokens.
        for name in ("tweepy", "requests_oauthlib", "oauthlib"):
            logging.getLogger(name).setLevel(logging.INFO)
        self.credentials = credentials
        self.max_wait = max_wait
        self._sleep = sleep
        self._clock = clock
        self._user_auth = credentials.user_context
        if credentials.user_context:
            values = credentials.values
            self._client = tweepy.Client(
                consumer_key=values["consumer_key"],
                consumer_secret=values["consumer_secret"],
                access_token=values["access_token"],
                access_token_secret=values["access_token_secret"],
                return_type=dict,
                wait_on_rate_limit=False,
            )
        else:
            self._client = tweepy.Client(
                bearer_token=credentials.bearer(), return_type=dict, wait_on_rate_limit=False
            )
        self.base = target_base()
        adapter = _adapter(self.base)
        for host in X_HOSTS:
            self._client.session.mount(host, adapter)

    # --- the three endpoints tweetguard uses ---
    def users_by_usernames(self, usernames: Sequence[str]) -> Lookup:
        """GET /2/users/by: up to 100 handles in one request."""
        lookup = Lookup()
        names = list(dict.fromkeys(u.lstrip("@") for u in usernames))
        for start in range(0, len(names), 100):
            chunk = names[start : start + 100]
            reply = self._call("GET /2/users/by", partial(self._users_by, chunk))
            for item in reply.get("data") or []:
                user = User.from_json(item)
                lookup.found[user.username.lower()] = user
            for error in reply.get("errors") or []:
                value = str(error.get("value") or "").lower()
                if value:
                    lookup.missing[value] = _missing_reason(error)
        for name in names:  # X leaves a handle out without an error when it is withheld
            if name.lower() not in lookup.found:
                lookup.missing.setdefault(name.lower(), "not found")
        return lookup

    def _users_by(self, usernames: list[str]) -> Any:
        return self._client.get_users(
            usernames=usernames, user_fields=list(USER_FIELDS), user_auth=self._user_auth
        )

    def user_by_id(self, user_id: str) -> tuple[User | None, str]:
        """GET /2/users/:id: the user, or None and why (deleted, suspended...)."""
        reply = self._call(
            "GET /2/users/:id",
            lambda: self._client.get_user(
                id=user_id, user_fields=list(USER_FIELDS), user_auth=self._user_auth
            ),
        )
        data = reply.get("data")
        if data:
            return User.from_json(data), ""
        errors = reply.get("errors") or [{}]
        return None, _missing_reason(errors[0])

    def tweets(
        self,
        user_id: str,
        *,
        since_id: str | None = None,
        start_time: datetime | None = None,
        pagination_token: str | None = None,
        max_results: int = 100,
    ) -> Page:
        """GET /2/users/:id/tweets, one page, newest first."""
        params: dict[str, Any] = {
            "tweet_fields": list(TWEET_FIELDS),
            "expansions": list(TWEET_EXPANSIONS),
            "max_results": max_results,
            "user_auth": self._user_auth,
        }
        if since_id:
            params["since_id"] = since_id
        elif start_time is not None:  # X lets since_id win anyway; send only the one that counts
            params["start_time"] = start_time
        if pagination_token:
            params["pagination_token"] = pagination_token
        reply = self._call(
            "GET /2/users/:id/tweets", lambda: self._client.get_users_tweets(user_id, **params)
        )
        meta = reply.get("meta") or {}
        errors = reply.get("errors") or []
        if not reply.get("data") and errors and not meta:
            raise XApiError(
                f"X cannot read the posts of the account with id {user_id} "
                f"({_missing_reason(errors[0])}); run `tweetguard accounts verify`"
            )
        included = (reply.get("includes") or {}).get("tweets") or []
        return Page(
            tweets=list(reply.get("data") or []),
            referenced={str(t["id"]): t for t in included if t.get("id")},
            next_token=meta.get("next_token"),
        )

    # --- one place for rate limits and failures ---
    def _call(self, what: str, request: Callable[[], Any]) -> dict[str, Any]:
        import requests
        import tweepy

        for _ in range(_RETRIES):
            try:
                reply = request()
            except tweepy.TooManyRequests as exc:
                reset = _reset_of(exc)
                wait = None if reset is None else reset - self._clock()
                if wait is None or wait > self.max_wait:
                    raise RateLimited(_rate_limit_message(reset), reset) from None
                self._sleep(max(wait, 0.0) + RESET_MARGIN)
                continue
            except tweepy.Unauthorized:
                raise XApiError(self._unauthorized()) from None
            except tweepy.Forbidden as exc:
                raise XApiError(
                    f"X's API refused {what} (403 Forbidden: {_api_message(exc)}); check in the "
                    "X developer portal that the app belongs to a Project and its access level "
                    "includes reading users and posts"
                ) from None
            except tweepy.NotFound:
                raise XApiError(
                    f"X's API has no {what} (404); update tweetguard, or check "
                    f"{ENV_URL} if it is set"
                ) from None
            except tweepy.TwitterServerError as exc:
                status = exc.response.status_code
                raise XApiError(
                    f"X's API is having trouble (HTTP {status}); try again in a few minutes"
                ) from None
            except tweepy.HTTPException as exc:
                if exc.response.status_code == 402:
                    raise XApiError(
                        f"X's API refused {what} for payment (402: {_api_message(exc)}); add "
                        "credits or check the plan in the X Developer Console"
                    ) from None
                raise XApiError(
                    f"X's API refused {what} (HTTP {exc.response.status_code}: "
                    f"{_api_message(exc)}); update tweetguard if this keeps happening"
                ) from None
            except requests.RequestException as exc:
                raise XApiError(self._unreachable(exc)) from None
            if not isinstance(reply, dict):
                raise XApiError(f"X's API answered {what} with something other than JSON")
            return reply
        raise RateLimited(
            "X's API rate limit: still limited after waiting; try again in 15 minutes", None
        )

    def _unauthorized(self) -> str:
        if self.credentials.kind == "oauth2-user":
            return (
                "X refused the stored OAuth 2.0 user token (401 Unauthorized; these expire "
                "after about two hours): store a fresh one with "
                "`tweetguard accounts credentials --oauth2-user`, or use a bearer token"
            )
        return (
            "X refused the stored credentials (401 Unauthorized): regenerate them in the X "
            "developer portal (your app, Keys and tokens) and store them again with "
            "`tweetguard accounts credentials`"
        )

    def _unreachable(self, exc: requests.RequestException) -> str:
        import requests

        kind = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
        if self.base:
            return (
                f"cannot reach the X API stand-in at {self.base} ({kind}); "
                f"start it or unset {ENV_URL}"
            )
        return (
            f"cannot reach X's API at api.twitter.com ({kind}); check this computer's "
            "internet connection, proxy or firewall"
        )


def _adapter(base: str | None) -> requests.adapters.HTTPAdapter:
    """A transport adapter that adds a timeout and, when `base` is set, sends to it."""
    from requests.adapters import HTTPAdapter
    from requests.models import PreparedRequest, Response

    class _XAdapter(HTTPAdapter):
        def send(
            self,
            request: PreparedRequest,
            stream: bool = False,
            timeout: float | tuple[float | None, float | None] | None = None,
            verify: bool | str = True,
            cert: str | tuple[str, str] | None = None,
            proxies: dict[str, str] | None = None,
        ) -> Response:
            if base is not None and request.url:
                for host in X_HOSTS:
                    if request.url.startswith(host):
                        request.url = base + request.url[len(host) :]
                        proxies = {}  # loopback, never through a proxy
                        break
            return super().send(
                request,
                stream=stream,
                timeout=TIMEOUT if timeout is None else timeout,
                verify=verify,
                cert=cert,
                proxies=proxies,
            )

    return _XAdapter()


def _reset_of(exc: Any) -> int | None:
    reset = getattr(exc, "reset_time", None)
    if reset is None:
        raw = exc.response.headers.get("x-rate-limit-reset")
        reset = int(raw) if raw and str(raw).isdigit() else None
    return int(reset) if reset is not None else None


def _rate_limit_message(reset: int | None) -> str:
    """In UTC, said so: the console and the audit show UTC times too."""
    if reset is None:
        return "X's API rate limit: try again in 15 minutes"
    return f"X's API rate limit: try again after {datetime.fromtimestamp(reset, UTC):%H:%M} UTC"


def _api_message(exc: Any) -> str:
    messages = [str(m) for m in getattr(exc, "api_messages", []) if m]
    text = messages[0] if messages else str(exc.response.reason or "no reason given")
    return " ".join(text.split())[:160]


def _missing_reason(error: dict[str, Any]) -> str:
    """X's error for a user it will not return, in a few words."""
    title = str(error.get("title") or "")
    detail = str(error.get("detail") or "")
    if "suspend" in detail.lower():
        return "suspended"
    if title == "Not Found Error" or error.get("type", "").endswith("resource-not-found"):
        return "not found"
    if title == "Authorization Error" or "not authorized" in detail.lower():
        return "not visible to these credentials"
    return " ".join((detail or title or "not returned").split())[:120]
