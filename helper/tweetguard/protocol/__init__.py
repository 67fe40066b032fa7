"""The one definition of the messages the extension and the helper exchange.

docs/protocol.md describes the same thing for people; tests keep the two in step.
"""

from tweetguard.protocol.errors import ErrorCode, ProtocolError
from tweetguard.protocol.messages import (
    MAX_FINDINGS,
    MAX_MEDIA,
    MAX_TEXT_CHARS,
    PROTOCOL_VERSION,
    Account,
    CheckRequest,
    HelloRequest,
    Media,
    Request,
    error_reply,
    parse_request,
)

__all__ = [
    "MAX_FINDINGS",
    "MAX_MEDIA",
    "MAX_TEXT_CHARS",
    "PROTOCOL_VERSION",
    "Account",
    "CheckRequest",
    "ErrorCode",
    "HelloRequest",
    "Media",
    "ProtocolError",
    "Request",
    "error_reply",
    "parse_request",
]
