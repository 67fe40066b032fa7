"""Request parsing and reply shapes for protocol version 1.

Requests arrive as decoded JSON. Anything ill-shaped becomes a ProtocolError with
the request's id where one could be read, so the host can answer and go on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tweetguard.protocol.errors import ErrorCode, ProtocolError

PROTOCOL_VERSION = 1

# A post is at most 280 weighted characters, but links count 23 however long they
# are, so real posts can be a few thousand characters. Far beyond that is not a post.
MAX_TEXT_CHARS = 50_000
# X attaches at most four photos to a post.
MAX_MEDIA = 4
# Findings beyond this are summarised, keeping replies far below Chrome's 1 MB cap.
MAX_FINDINGS = 100

RequestId = str | int


@dataclass(frozen=True)
class Account:
    handle: str | None
    user_id: str | None


@dataclass(frozen=True)
class Media:
    mime: str
    name: str | None
    data: str | None  # base64; decoded only by the photo checks


@dataclass(frozen=True)
class HelloRequest:
    id: RequestId
    extension_version: str | None


@dataclass(frozen=True)
class CheckRequest:
    id: RequestId
    text: str
    account: Account | None
    media: tuple[Media, ...]


@dataclass(frozen=True)
class OverrideRequest:
    """A teacher posts past a finding, giving a reason."""

    id: RequestId
    text: str
    rules: tuple[str, ...]
    reason: str
    account: Account
    media: tuple[Media, ...]


LOGOUT_REASONS = ("after-post", "idle", "locked", "manual")


@dataclass(frozen=True)
class LogoutRequest:
    """The extension signed the browser out of X."""

    id: RequestId
    reason: str
    account: Account | None


Request = HelloRequest | CheckRequest | OverrideRequest | LogoutRequest


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
        mime = item.get("mime")
        if not isinstance(mime, str) or not mime:
            raise ProtocolError(ErrorCode.BAD_FIELD, f"'{field}.mime' must be a non-empty string")
        items.append(
            Media(
                mime=mime,
                name=_optional_str(item, "name", max_len=500, field=f"{field}.name"),
                data=_optional_str(item, "data", max_len=None, field=f"{field}.data"),
            )
        )
    return tuple(items)


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
}

REQUEST_TYPES = tuple(_PARSERS)


def error_reply(request_id: RequestId | None, error: ProtocolError) -> dict[str, Any]:
    return {"id": request_id, "ok": False, "error": error.to_error()}
