"""Request parsing and reply shapes for protocol version 1.

Requests arrive as decoded JSON. Anything ill-shaped becomes a ProtocolError with
the request's id where one could be read, so the host can answer and go on.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tweetguard.protocol.errors import ErrorCode, ProtocolError

PROTOCOL_VERSION = 1

# A post is at most 280 weighted characters, but links count 23 however long they
# are, so real posts can be a few thousand characters. Far beyond that is not a post.
MAX_TEXT_CHARS = 50_000
# X attaches at most four photos to a post; a video travels as two items
# (its metadata excerpt and its first frame), so leave room.
MAX_MEDIA = 8
MAX_PICTURED = 60
MAX_ALT = 1000
MEDIA_KINDS = ("image", "video", "video-frame")
# A media_put chunk before base64 (protocol/media.py enforces it on the bytes).
MAX_CHUNK_BASE64 = (1024 * 1024 * 4) // 3 + 4
MAX_GET_CHUNK = 512 * 1024
MAX_PEOPLE = 50
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Findings beyond this are summarised, keeping replies far below Chrome's 1 MB cap.
MAX_FINDINGS = 100

RequestId = str | int


@dataclass(frozen=True)
class Account:
    handle: str | None
    user_id: str | None


@dataclass(frozen=True)
class Media:
    """One attached file as a check names it, with the teacher's answers about it."""

    mime: str
    name: str | None
    data: bytes | None = None  # the whole file inline (scripts, the CLI)
    sha256: str | None = None  # a file sent ahead with media_put
    kind: str = "image"
    pictured: tuple[str, ...] = ()
    nobody_identifiable: bool = False
    confirmed_not: tuple[str, ...] = ()
    alt: str | None = None
    title: str | None = None  # a video's title


@dataclass(frozen=True)
class HelloRequest:
    id: RequestId
    extension_version: str | None


ACTIONS = ("post", "reply", "quote", "repost", "schedule", "draft", "edit")
INCIDENTS = ("network-mismatch", "network-unchecked", "unknown-composer")
MAX_POLL = 4
MAX_POLL_CHOICE = 100
MAX_TITLE = 200


@dataclass(frozen=True)
class Source:
    """The post a repost or quote passes on."""

    author: str | None
    text: str
    url: str | None


@dataclass(frozen=True)
class CheckRequest:
    id: RequestId
    text: str
    account: Account | None
    media: tuple[Media, ...]
    action: str = "post"
    source: Source | None = None
    poll: tuple[str, ...] = ()
    # "typing": the live check as the teacher types (not recorded); "posting": the
    # check at the moment of posting, whose verdict goes to the audit; "network": the
    # network guard's check of a post it held, recorded only when no check of the
    # same text was recorded in the last minutes (else it is the same post twice).
    stage: str = "posting"


STAGES = ("typing", "posting", "network")
# A thread has at most 25 posts on X.
MAX_THREAD = 25


@dataclass(frozen=True)
class PostedRequest:
    """What went out: every post of a thread, after X confirmed it."""

    id: RequestId
    account: Account | None
    action: str
    texts: tuple[str, ...]


@dataclass(frozen=True)
class IncidentRequest:
    """Something left, or tried to leave, the page without the guard's approval."""

    id: RequestId
    what: str
    text: str | None
    detail: str | None
    url: str | None
    account: Account | None


@dataclass(frozen=True)
class OverrideRequest:
    """A teacher posts past a finding, giving a reason."""

    id: RequestId
    text: str
    rules: tuple[str, ...]
    reason: str
    account: Account
    media: tuple[Media, ...]
    action: str = "post"
    source: Source | None = None
    poll: tuple[str, ...] = ()


LOGOUT_REASONS = ("after-post", "idle", "locked", "manual", "incident")


@dataclass(frozen=True)
class LogoutRequest:
    """The extension signed the browser out of X."""

    id: RequestId
    reason: str
    account: Account | None


@dataclass(frozen=True)
class MediaPutRequest:
    """One chunk of a file, sent ahead of the check (docs/protocol.md, media_put)."""

    id: RequestId
    sha256: str
    mime: str
    name: str
    kind: str
    size: int
    offset: int
    data: bytes


@dataclass(frozen=True)
class MediaGetRequest:
    id: RequestId
    sha256: str
    offset: int


@dataclass(frozen=True)
class PhotoCleanRequest:
    id: RequestId
    sha256: str


@dataclass(frozen=True)
class PhotoBlurRequest:
    id: RequestId
    sha256: str
    faces: tuple[int, ...] | None  # None: every face


@dataclass(frozen=True)
class PeopleRequest:
    id: RequestId
    query: str
    limit: int


Request = (
    HelloRequest
    | CheckRequest
    | OverrideRequest
    | LogoutRequest
    | MediaPutRequest
    | MediaGetRequest
    | PhotoCleanRequest
    | PhotoBlurRequest
    | PeopleRequest
    | IncidentRequest
    | PostedRequest
)


def read_id(message: object) -> RequestId | None:
    """The request id if one can be read, so even a bad request gets a matched reply."""
    if isinstance(message, dict):
        value = message.get("id")
        if isinstance(value, str) and len(value) <= 200:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def parse_request(message: object) -> Request:
    if not isinstance(message, dict):
        raise ProtocolError(ErrorCode.BAD_REQUEST, "a request must be a JSON object")
    request_id = read_id(message)
    if request_id is None:
        raise ProtocolError(ErrorCode.BAD_REQUEST, "'id' must be a string or an integer")
    kind = message.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(ErrorCode.BAD_REQUEST, "'type' must be a string")
    parser = _PARSERS.get(kind)
    if parser is None:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown request type {kind[:80]!r}")
    return parser(request_id, message)


def _parse_hello(request_id: RequestId, message: dict[str, Any]) -> HelloRequest:
    return HelloRequest(
        id=request_id,
        extension_version=_optional_str(message, "extension_version", max_len=100),
    )


def valid_unicode(text: str) -> str:
    """The text with any lone UTF-16 surrogate replaced by U+FFFD.

    JavaScript strings may hold them (half an emoji cut in two), and JSON carries
    them as escapes; nothing after this point can encode them. One code unit for
    one, so UTF-16 offsets into the teacher's text stay right.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _parse_check(request_id: RequestId, message: dict[str, Any]) -> CheckRequest:
    text = message.get("text")
    if not isinstance(text, str):
        raise ProtocolError(ErrorCode.BAD_FIELD, "'text' must be a string")
    text = valid_unicode(text)
    if len(text) > MAX_TEXT_CHARS:
        raise ProtocolError(
            ErrorCode.TEXT_TOO_LONG, f"'text' has {len(text)} characters; limit {MAX_TEXT_CHARS}"
        )
    return CheckRequest(
        id=request_id,
        text=text,
        account=_parse_account(message.get("account")),
        media=_parse_media(message.get("media")),
        action=_parse_action(message),
        source=_parse_source(message.get("source")),
        poll=_parse_poll(message.get("poll")),
        stage=_parse_stage(message),
    )


def _parse_stage(message: dict[str, Any]) -> str:
    stage = message.get("stage", "posting")
    if stage not in STAGES:
        raise ProtocolError(ErrorCode.BAD_FIELD, f"'stage' must be one of {', '.join(STAGES)}")
    return str(stage)


def _parse_posted(request_id: RequestId, message: dict[str, Any]) -> PostedRequest:
    texts = message.get("texts")
    if (
        not isinstance(texts, list)
        or not texts
        or len(texts) > MAX_THREAD
        or not all(isinstance(t, str) and len(t) <= MAX_TEXT_CHARS for t in texts)
    ):
        raise ProtocolError(
            ErrorCode.BAD_FIELD,
            f"'texts' must list the text of each post that went out (1 to {MAX_THREAD})",
        )
    return PostedRequest(
        id=request_id,
        account=_parse_account(message.get("account")),
        action=_parse_action(message),
        texts=tuple(valid_unicode(t) for t in texts),
    )


def _parse_action(message: dict[str, Any]) -> str:
    action = message.get("action", "post")
    if action not in ACTIONS:
        raise ProtocolError(ErrorCode.BAD_FIELD, f"'action' must be one of {', '.join(ACTIONS)}")
    return str(action)


def _parse_source(value: object) -> Source | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ProtocolError(ErrorCode.BAD_FIELD, "'source' must be an object")
    text = _optional_str(value, "text", max_len=MAX_TEXT_CHARS, field="source.text") or ""
    author = _optional_str(value, "author", max_len=50, field="source.author")
    return Source(
        author=author.removeprefix("@") if author else None,
        text=text,
        url=_optional_str(value, "url", max_len=2000, field="source.url"),
    )


def _parse_poll(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if (
        not isinstance(value, list)
        or len(value) > MAX_POLL
        or not all(isinstance(c, str) and len(c) <= MAX_POLL_CHOICE for c in value)
    ):
        raise ProtocolError(
            ErrorCode.BAD_FIELD,
            f"'poll' must be a list of at most {MAX_POLL} choices of {MAX_POLL_CHOICE} characters",
        )
    return tuple(valid_unicode(c) for c in value)


def _parse_incident(request_id: RequestId, message: dict[str, Any]) -> IncidentRequest:
    what = message.get("what")
    if what not in INCIDENTS:
        raise ProtocolError(ErrorCode.BAD_FIELD, f"'what' must be one of {', '.join(INCIDENTS)}")
    return IncidentRequest(
        id=request_id,
        what=str(what),
        text=_optional_str(message, "text", max_len=MAX_TEXT_CHARS),
        detail=_optional_str(message, "detail", max_len=2000),
        url=_optional_str(message, "url", max_len=2000),
        account=_parse_account(message.get("account")),
    )


def _parse_override(request_id: RequestId, message: dict[str, Any]) -> OverrideRequest:
    text = message.get("text")
    if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
        raise ProtocolError(ErrorCode.BAD_FIELD, "'text' must be the post's text")
    text = valid_unicode(text)
    rules = message.get("rules")
    if (
        not isinstance(rules, list)
        or not rules
        or len(rules) > MAX_FINDINGS
        or not all(isinstance(r, str) and 0 < len(r) <= 100 for r in rules)
    ):
        raise ProtocolError(ErrorCode.BAD_FIELD, "'rules' must list the rule ids overridden")
    reason = message.get("reason")
    if isinstance(reason, str):
        reason = valid_unicode(reason)
    if not isinstance(reason, str) or not reason.strip():
        raise ProtocolError(ErrorCode.REASON_REQUIRED, "'reason' must be a non-empty string")
    if len(reason) > 1000:
        raise ProtocolError(ErrorCode.BAD_FIELD, "'reason' is longer than 1000 characters")
    account = _parse_account(message.get("account"))
    if account is None:
        # The override is checked exactly as the post was, account rules included.
        raise ProtocolError(ErrorCode.BAD_FIELD, "'account' is required for an override")
    return OverrideRequest(
        id=request_id,
        text=text,
        rules=tuple(rules),
        reason=reason.strip(),
        account=account,
        media=_parse_media(message.get("media")),
        action=_parse_action(message),
        source=_parse_source(message.get("source")),
        poll=_parse_poll(message.get("poll")),
    )


def _parse_logout(request_id: RequestId, message: dict[str, Any]) -> LogoutRequest:
    reason = message.get("reason")
    if reason not in LOGOUT_REASONS:
        raise ProtocolError(
            ErrorCode.BAD_FIELD, f"'reason' must be one of {', '.join(LOGOUT_REASONS)}"
        )
    return LogoutRequest(
        id=request_id, reason=str(reason), account=_parse_account(message.get("account"))
    )


def _parse_account(value: object) -> Account | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ProtocolError(ErrorCode.BAD_FIELD, "'account' must be an object")
    handle = _optional_str(value, "handle", max_len=50, field="account.handle")
    user_id = _optional_str(value, "user_id", max_len=30, field="account.user_id")
    if handle is not None:
        handle = handle.removeprefix("@")
    if user_id is not None and not user_id.isdigit():
        # X user ids exceed 2**53, so they travel as decimal strings.
        raise ProtocolError(ErrorCode.BAD_FIELD, "'account.user_id' must be a string of digits")
    return Account(handle=handle, user_id=user_id)


def _parse_media(value: object) -> tuple[Media, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ProtocolError(ErrorCode.BAD_FIELD, "'media' must be a list")
    if len(value) > MAX_MEDIA:
        raise ProtocolError(ErrorCode.BAD_FIELD, f"'media' has more than {MAX_MEDIA} items")
    items = []
    for index, item in enumerate(value):
        field = f"media[{index}]"
        if not isinstance(item, dict):
            raise ProtocolError(ErrorCode.BAD_FIELD, f"'{field}' must be an object")
        mime = _optional_str(item, "mime", max_len=100, field=f"{field}.mime") or ""
        sha = item.get("sha256")
        if sha is not None and (not isinstance(sha, str) or not _SHA256.fullmatch(sha)):
            raise ProtocolError(ErrorCode.BAD_FIELD, f"'{field}.sha256' must be 64 hex digits")
        raw = _optional_str(item, "data", max_len=None, field=f"{field}.data")
        kind = item.get("kind", "image")
        if kind not in MEDIA_KINDS:
            raise ProtocolError(
                ErrorCode.BAD_FIELD, f"'{field}.kind' must be one of {', '.join(MEDIA_KINDS)}"
            )
        nobody = item.get("nobody_identifiable", False)
        if not isinstance(nobody, bool):
            raise ProtocolError(
                ErrorCode.BAD_FIELD, f"'{field}.nobody_identifiable' must be true or false"
            )
        alt = _optional_str(item, "alt", max_len=MAX_ALT, field=f"{field}.alt")
        title = _optional_str(item, "title", max_len=MAX_TITLE, field=f"{field}.title")
        items.append(
            Media(
                mime=mime,
                name=_optional_str(item, "name", max_len=500, field=f"{field}.name"),
                data=_base64(raw, f"{field}.data") if raw is not None else None,
                sha256=sha,
                kind=str(kind),
                pictured=_refs(item.get("pictured"), f"{field}.pictured"),
                nobody_identifiable=nobody,
                confirmed_not=_refs(item.get("confirmed_not"), f"{field}.confirmed_not"),
                alt=alt,
                title=title,
            )
        )
    return tuple(items)


def _refs(value: object, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if (
        not isinstance(value, list)
        or len(value) > MAX_PICTURED
        or not all(isinstance(r, str) and 0 < len(r) <= 100 for r in value)
    ):
        raise ProtocolError(
            ErrorCode.BAD_FIELD, f"'{field}' must be a list of at most {MAX_PICTURED} refs"
        )
    return tuple(value)


def _base64(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(ErrorCode.BAD_FIELD, f"'{field}' is not base64") from None


def _sha(message: dict[str, Any]) -> str:
    sha = message.get("sha256")
    if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
        raise ProtocolError(ErrorCode.BAD_FIELD, "'sha256' must be 64 lowercase hex digits")
    return sha


def _count(
    message: dict[str, Any], key: str, *, low: int, high: int, default: int | None = None
) -> int:
    value = message.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ProtocolError(
            ErrorCode.BAD_FIELD, f"'{key}' must be a whole number from {low} to {high}"
        )
    return value


def _parse_media_put(request_id: RequestId, message: dict[str, Any]) -> MediaPutRequest:
    kind = message.get("kind", "image")
    if kind not in MEDIA_KINDS:
        raise ProtocolError(ErrorCode.BAD_FIELD, f"'kind' must be one of {', '.join(MEDIA_KINDS)}")
    raw = message.get("data")
    if not isinstance(raw, str) or len(raw) > MAX_CHUNK_BASE64:
        raise ProtocolError(ErrorCode.BAD_FIELD, "'data' must be base64 of at most 1 MiB")
    return MediaPutRequest(
        id=request_id,
        sha256=_sha(message),
        mime=_optional_str(message, "mime", max_len=100) or "",
        name=_optional_str(message, "name", max_len=500) or "",
        kind=str(kind),
        size=_count(message, "size", low=1, high=1 << 40),
        offset=_count(message, "offset", low=0, high=1 << 40),
        data=_base64(raw, "data"),
    )


def _parse_media_get(request_id: RequestId, message: dict[str, Any]) -> MediaGetRequest:
    return MediaGetRequest(
        id=request_id,
        sha256=_sha(message),
        offset=_count(message, "offset", low=0, high=1 << 40, default=0),
    )


def _parse_photo_clean(request_id: RequestId, message: dict[str, Any]) -> PhotoCleanRequest:
    return PhotoCleanRequest(id=request_id, sha256=_sha(message))


def _parse_photo_blur(request_id: RequestId, message: dict[str, Any]) -> PhotoBlurRequest:
    faces = message.get("faces", "all")
    if faces == "all":
        chosen: tuple[int, ...] | None = None
    elif (
        isinstance(faces, list)
        and faces
        and len(faces) <= 500
        and all(isinstance(f, int) and not isinstance(f, bool) and f >= 0 for f in faces)
    ):
        chosen = tuple(faces)
    else:
        raise ProtocolError(
            ErrorCode.BAD_FIELD, "'faces' must be \"all\" or a list of face indexes"
        )
    return PhotoBlurRequest(id=request_id, sha256=_sha(message), faces=chosen)


def _parse_people(request_id: RequestId, message: dict[str, Any]) -> PeopleRequest:
    query = _optional_str(message, "query", max_len=200) or ""
    return PeopleRequest(
        id=request_id,
        query=query,
        limit=_count(message, "limit", low=1, high=MAX_PEOPLE, default=8),
    )


def _optional_str(
    obj: dict[str, Any], key: str, *, max_len: int | None, field: str | None = None
) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    name = field or key
    if not isinstance(value, str):
        raise ProtocolError(ErrorCode.BAD_FIELD, f"'{name}' must be a string")
    if max_len is not None and len(value) > max_len:
        raise ProtocolError(ErrorCode.BAD_FIELD, f"'{name}' is longer than {max_len} characters")
    return valid_unicode(value)


_PARSERS: dict[str, Callable[[RequestId, dict[str, Any]], Request]] = {
    "hello": _parse_hello,
    "check": _parse_check,
    "override": _parse_override,
    "logout": _parse_logout,
    "media_put": _parse_media_put,
    "media_get": _parse_media_get,
    "photo_clean": _parse_photo_clean,
    "photo_blur": _parse_photo_blur,
    "people": _parse_people,
    "incident": _parse_incident,
    "posted": _parse_posted,
}

REQUEST_TYPES = tuple(_PARSERS)


def error_reply(request_id: RequestId | None, error: ProtocolError) -> dict[str, Any]:
    return {"id": request_id, "ok": False, "error": error.to_error()}
