"""Every error the helper can answer with, each with the sentence a teacher reads.

The extension shows `message` as it is, so each one says what went wrong and what
to do next. Codes are stable: the extension and scripts may branch on them.
"""

from __future__ import annotations

from enum import Enum


class ErrorCode(Enum):
    # (code, default message)
    BAD_JSON = (
        "bad_json",
        "The safety helper got a message it could not read, so the post is held. "
        "Reload the page and try again.",
    )
    BAD_REQUEST = (
        "bad_request",
        "The safety helper got a request without an id or type, so the post is held. "
        "Reload the page and try again.",
    )
    UNKNOWN_TYPE = (
        "unknown_type",
        "The safety helper does not know this request, so the post is held. "
        "Ask IT to update tweetguard so the extension and helper match.",
    )
    BAD_FIELD = (
        "bad_field",
        "The safety helper got a request with a wrong field, so the post is held. "
        "Reload the page and try again.",
    )
    REASON_REQUIRED = (
        "reason_required",
        "Say briefly why this post should go out anyway, then press Post anyway again.",
    )
    OVERRIDE_NOT_ALLOWED = (
        "override_not_allowed",
        "The school's policy does not allow posting past this problem. Fix it, then post again.",
    )
    TEXT_TOO_LONG = (
        "text_too_long",
        "This text is far too long to be a post. Shorten it and try again.",
    )
    FRAME_TOO_LARGE = (
        "frame_too_large",
        "The post and its photos are too large for the safety helper to check. "
        "Use fewer or smaller photos.",
    )
    REPLY_TOO_LARGE = (
        "reply_too_large",
        "The safety helper's answer was too large to send, so the post is held. "
        "Shorten the post and try again.",
    )
    FORBIDDEN_ORIGIN = (
        "forbidden_origin",
        "This browser extension is not the one the safety helper was installed for. "
        "Ask IT to run tweetguard doctor.",
    )
    POLICY_INVALID = (
        "policy_invalid",
        "The school's tweetguard policy file is broken, so posts are held. "
        "Ask IT to run `tweetguard policy check`.",
    )
    AUDIT_UNAVAILABLE = (
        "audit_unavailable",
        "The safety helper cannot write the school's audit log, so this was not recorded "
        "(and no post goes past a warning until it can be). "
        "Ask IT to run `tweetguard audit status`.",
    )
    REGISTER_UNAVAILABLE = (
        "register_unavailable",
        "The safety helper cannot read the consent register, so posts are held. "
        "Ask IT to re-import it with `tweetguard consent import`.",
    )
    MEDIA_UNKNOWN = (
        "media_unknown",
        "The safety helper no longer has this photo, so it is being sent again. Wait a moment.",
    )
    MEDIA_TOO_LARGE = (
        "media_too_large",
        "This photo is too large to check (over 20 MB). Attach a smaller copy.",
    )
    MEDIA_MISMATCH = (
        "media_mismatch",
        "This photo did not reach the safety helper whole. Remove it and attach it again.",
    )
    INTERNAL = (
        "internal",
        "The safety helper hit an unexpected problem, so the post is held. "
        "Try again; if it keeps happening, ask IT to look at the helper log.",
    )

    @property
    def code(self) -> str:
        return self.value[0]

    @property
    def default_message(self) -> str:
        return self.value[1]


class ProtocolError(Exception):
    """A request the helper answers with `ok: false` instead of a result."""

    def __init__(self, code: ErrorCode, detail: str | None = None) -> None:
        self.code = code
        self.detail = detail
        super().__init__(detail or code.default_message)

    def to_error(self) -> dict[str, str]:
        error = {"code": self.code.code, "message": self.code.default_message}
        if self.detail:
            error["detail"] = self.detail
        return error
