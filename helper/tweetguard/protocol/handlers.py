"""Answers one decoded request with one reply object; never raises.

Both faces use it: the native host for the browser, and `tweetguard check --json`
so scripts see exactly the replies the extension sees.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from tweetguard import __version__
from tweetguard.checks.engine import Checker, effective
from tweetguard.checks.links import post_fingerprint
from tweetguard.protocol.errors import ErrorCode, ProtocolError
from tweetguard.protocol.media import Entry, MediaError, MediaStore
from tweetguard.protocol.messages import (
    MAX_FINDINGS,
    MAX_GET_CHUNK,
    PROTOCOL_VERSION,
    CheckRequest,
    HelloRequest,
    IncidentRequest,
    LogoutRequest,
    Media,
    MediaGetRequest,
    MediaPutRequest,
    OverrideRequest,
    PeopleRequest,
    PhotoBlurRequest,
    PhotoCleanRequest,
    PostedRequest,
    RequestId,
    error_reply,
    parse_request,
    read_id,
)
from tweetguard.protocol.recording import AuditSink, Recorder
from tweetguard.stores.audit import sha256_text
from tweetguard.stores.consent import RegisterMissing
from tweetguard.stores.policy import PhotoSettings, Policy, PolicyError

if TYPE_CHECKING:  # the photo modules load with the first photo, not with the helper
    from tweetguard.checks.photos.pictured import Attached
    from tweetguard.checks.photos.report import FaceMatcher, Match, PhotoReport

# Findings no teacher can post past, whatever the policy says: the wrong account.
NEVER_OVERRIDDEN = ("accounts.",)

log = logging.getLogger("tweetguard.protocol")
# How long a check waits for a photo the worker is still analysing before it
# reports the photo as unchecked (the extension waits for the analysis first).
PENDING_WAIT_SECONDS = 20.0

Reply = dict[str, Any]
T = TypeVar("T")


Progress = Callable[[int, int], None]


@dataclass
class Deferred:
    """Photo work (decoding, face detection, matching, a clean copy) that the
    transport runs on its photo worker, so text checks are answered while it runs.
    `run` never raises: failures become error replies like any other. While it
    works it may report progress (`notify`, set by the transport) as frames
    `{"type": "progress", "for": <request id>, "done": n, "total": m}`."""

    request_id: RequestId
    work: Callable[[Progress], Reply]
    translate: Callable[[RequestId, Callable[[], Reply]], Reply]
    notify: Callable[[Reply], object] | None = None

    def run(self) -> Reply:
        def progress(done: int, total: int) -> None:
            if self.notify is not None:
                self.notify(
                    {"type": "progress", "for": self.request_id, "done": done, "total": total}
                )

        return self.translate(self.request_id, lambda: self.work(progress))


class Handler:
    def __init__(
        self,
        checker: Checker,
        *,
        origin_allowed: bool = True,
        record: bool = True,
        audit_sink: AuditSink | None = None,
    ) -> None:
        """`record=False` for `tweetguard check`: a check from a terminal is not a post.
        `audit_sink`: the rows go there instead of the data folder's audit (the server)."""
        self.checker = checker
        self.origin_allowed = origin_allowed
        self.audit = Recorder(checker.home, enabled=record, policy=checker.policy, sink=audit_sink)
        self.media = MediaStore()
        self._matcher: Any = None  # matching.Matcher, built when the policy turns matching on
        self._matcher_settings: PhotoSettings | None = None

    def handle_payload(self, payload: bytes) -> Reply:
        reply = self.start_payload(payload)
        return reply.run() if isinstance(reply, Deferred) else reply

    def start_payload(self, payload: bytes) -> Reply | Deferred:
        """The reply, or photo work for the transport to run off the main thread."""
        try:
            message = json.loads(payload)
        except (ValueError, RecursionError) as exc:
            error = ProtocolError(ErrorCode.BAD_JSON, f"not JSON: {exc}"[:300])
            log.info("frame of %d bytes answered with bad_json: %s", len(payload), error.detail)
            return error_reply(None, error)
        return self.start(message)

    def handle(self, message: object) -> Reply:
        reply = self.start(message)
        return reply.run() if isinstance(reply, Deferred) else reply

    def start(self, message: object) -> Reply | Deferred:
        request_id = read_id(message)
        return self._translate(request_id, lambda: self._dispatch(message))

    def _dispatch(self, message: object) -> Reply | Deferred:
        if not self.origin_allowed:
            raise ProtocolError(ErrorCode.FORBIDDEN_ORIGIN)
        request = parse_request(message)
        if isinstance(request, HelloRequest):
            return self._hello(request)
        if isinstance(request, OverrideRequest):
            return self._override(request)
        if isinstance(request, LogoutRequest):
            return self._logout(request)
        if isinstance(request, MediaPutRequest):
            return self._media_put(request)
        if isinstance(request, MediaGetRequest):
            return self._media_get(request)
        if isinstance(request, PhotoCleanRequest | PhotoBlurRequest):
            return self._remedy(request)
        if isinstance(request, PeopleRequest):
            return self._people(request)
        if isinstance(request, IncidentRequest):
            return self._incident(request)
        if isinstance(request, PostedRequest):
            return self._posted(request)
        return self._check(request)

    def _translate(self, request_id: RequestId | None, work: Callable[[], T]) -> T | Reply:
        """Runs `work`, turning every failure into the error reply the protocol names."""
        try:
            return work()
        except MediaError as exc:
            code = {
                "media_too_large": ErrorCode.MEDIA_TOO_LARGE,
                "media_mismatch": ErrorCode.MEDIA_MISMATCH,
                "media_unknown": ErrorCode.MEDIA_UNKNOWN,
            }.get(exc.code, ErrorCode.BAD_FIELD)
            log.info("request %r answered with %s: %s", request_id, code.code, exc)
            return error_reply(request_id, ProtocolError(code, str(exc)))
        except ProtocolError as exc:
            log.info("request %r answered with %s: %s", request_id, exc.code.code, exc.detail)
            return error_reply(request_id, exc)
        except PolicyError as exc:
            log.warning("policy invalid: %s", exc)
            return error_reply(request_id, ProtocolError(ErrorCode.POLICY_INVALID, str(exc)))
        except (sqlite3.Error, RegisterMissing) as exc:
            log.error("consent register unreadable: %s", exc)
            return error_reply(request_id, ProtocolError(ErrorCode.REGISTER_UNAVAILABLE, str(exc)))
        except Exception:
            log.exception("request %r failed", request_id)
            return error_reply(request_id, ProtocolError(ErrorCode.INTERNAL))

    def _hello(self, request: HelloRequest) -> dict[str, Any]:
        self.audit.open()
        self.audit.watch_policy()
        reply: dict[str, Any] = {
            "id": request.id,
            "ok": True,
            "protocol": PROTOCOL_VERSION,
            "helper_version": __version__,
        }
        policy = self.checker.policy()
        register = self.checker.register_summary()
        reply["school"] = policy.school
        reply["policy"] = {
            **policy.summary(),
            "register": {"pupils": register.pupils, "imported_at": register.imported_at},
        }
        reply["settings"] = policy.posting.to_json()
        reply["settings_set"] = sorted(policy.posting_set)
        reply["audit"] = self.audit.status()
        server = self._server_status()
        if server is not None:
            reply["server"] = server
        return reply

    def _server_status(self) -> dict[str, Any] | None:
        """The school's server, when this machine is enrolled: {url, state, since,
        note} from the last sync round (tweetguard.sync), for the popup's line."""
        from tweetguard.sync.state import hello_status

        return hello_status(self.checker.home)

    def _check(self, request: CheckRequest) -> dict[str, Any]:
        account = request.account
        if request.stage != "typing":
            self.audit.watch_policy()
        attached = self._attached(request.media)
        report = self.checker.check(
            request.text,
            has_media=bool(request.media),
            account=(account.handle, account.user_id) if account else None,
            media=attached,
            source=_source(request.source),
            poll=request.poll,
            action=request.action,
        )
        findings = report.findings_json()
        reply: dict[str, Any] = {
            "id": request.id,
            "ok": True,
            "verdict": report.verdict,
            "findings": findings[:MAX_FINDINGS],
            "length": report.length_json(),
        }
        if len(findings) > MAX_FINDINGS:
            reply["findings_total"] = len(findings)
        if attached:
            policy = self.checker.policy()
            reply["photos"] = [
                self._report_json(a.report, policy) if a.report is not None else None
                for a in attached
            ]
        if account is not None:
            approved = not any(f.rule.id.startswith("accounts.") for f in report.findings)
            reply["account"] = {
                "handle": account.handle,
                "approved": approved,
                "visibility": report.visibility,
            }
        if self._records_check(request):
            # Answered even when the row cannot be written: a broken disk must not
            # stop every post. The hello reply and the log say the audit is failing.
            detail: dict[str, Any] = {"action": request.action, "photos": len(request.media)}
            if request.stage == "network":
                detail["stage"] = "network"
            self.audit.try_append(
                "check",
                account=account,
                verdict=report.verdict,
                rules=[f.rule.id for f in report.findings],
                text=request.text,
                keep_text=self.audit.keeps("check"),
                detail=detail,
            )
        return reply

    def _records_check(self, request: CheckRequest) -> bool:
        """A check at posting is one row. The network guard's check of a post it held
        is one only when the composer did not check that text just before (a thread
        part whose approval ran out, a body X changed): the overview counts posts."""
        if request.stage == "typing":
            return False
        if request.stage == "network":
            return not self.audit.checked_recently(request.text, request.account)
        return True

    def _override(self, request: OverrideRequest) -> dict[str, Any]:
        """Records a teacher posting past findings, after checking the policy allows it.

        The text is checked again here: the extension's word that a post only had
        warnings is not trusted, and an override never covers findings it did not name.
        """
        account = request.account
        report = self.checker.check(
            request.text,
            has_media=bool(request.media),
            account=(account.handle, account.user_id),
            media=self._attached(request.media),
            source=_source(request.source),
            poll=request.poll,
            action=request.action,
        )
        posting = self.checker.policy().posting
        overridden = []
        for finding in report.findings:
            severity = (finding.severity or finding.rule.severity).label
            if severity == "info":
                continue
            allowed = (
                posting.allow_block_override if severity == "block" else posting.allow_warn_override
            )
            if (
                finding.rule.id.startswith(NEVER_OVERRIDDEN)
                or finding.rule.id not in request.rules
                or not allowed
            ):
                raise ProtocolError(
                    ErrorCode.OVERRIDE_NOT_ALLOWED,
                    f"{finding.rule.id} ({severity}) cannot be overridden",
                )
            overridden.append(finding.rule.id)
        if not overridden:
            raise ProtocolError(ErrorCode.BAD_FIELD, "nothing in this post needs an override")
        # An override that cannot be recorded is refused: posting past a finding
        # is only allowed with its record.
        self.audit.append(
            "override",
            account=account,
            verdict=report.verdict,
            rules=sorted(set(overridden)),
            text=request.text,
            keep_text=self.audit.keeps("override"),
            detail={
                "reason": request.reason,
                "action": request.action,
                "photos": len(request.media),
            },
        )
        return {"id": request.id, "ok": True, "recorded": True}

    def _posted(self, request: PostedRequest) -> dict[str, Any]:
        """What went out, after X confirmed it. The hashes per post let a sweep of the
        account's timeline tell these posts from ones made outside tweetguard."""
        self.audit.append(
            "post",
            account=request.account,
            text="\n\n".join(request.texts),
            keep_text=self.audit.keeps("post"),
            detail={
                "action": request.action,
                "posts": len(request.texts),
                "posts_sha256": [post_fingerprint(t) for t in request.texts],
            },
        )
        return {"id": request.id, "ok": True, "recorded": True}

    def _incident(self, request: IncidentRequest) -> dict[str, Any]:
        """Kept for the safeguarding lead and for updating x-dom.js from real reports.
        The text is kept as a hash: an incident is about what happened, not a copy
        of a post that may name a child."""
        self.audit.append(
            "incident",
            account=request.account,
            text_sha256=sha256_text(request.text) if request.text is not None else None,
            detail={"what": request.what, "detail": request.detail, "url": request.url},
        )
        log.warning("incident %s at %s: %s", request.what, request.url, request.detail)
        return {"id": request.id, "ok": True, "recorded": True}

    def _logout(self, request: LogoutRequest) -> dict[str, Any]:
        """The extension has signed out already: an unwritable audit is reported in
        the reply (`recorded: false`), never as a failure that could undo it."""
        recorded = self.audit.try_append(
            "logout", account=request.account, detail={"reason": request.reason}
        )
        reply: dict[str, Any] = {"id": request.id, "ok": True, "recorded": recorded}
        if not recorded:
            reply["audit"] = self.audit.status()
        return reply

    def started(self, origin: list[str], permitted: bool) -> None:
        """The host's first row: which helper, which protocol, started by whom."""
        self.audit.try_append(
            "helper",
            detail={
                "helper_version": __version__,
                "protocol": PROTOCOL_VERSION,
                "origin": " ".join(origin) or "(started by hand)",
                "origin_allowed": permitted,
            },
        )
        self.audit.watch_policy()

    # --- photos -------------------------------------------------------------

    def _attached(self, media: tuple[Media, ...]) -> list[Attached]:
        """Each media item with its report: inline data is analysed here; a file sent
        ahead is looked up, waiting for the worker if its analysis is under way."""
        from tweetguard.checks.photos.pictured import Attached
        from tweetguard.checks.photos.report import sha256_of

        policy = self.checker.policy()
        settings = policy.photos
        attached = []
        for item in media:
            report: PhotoReport | None = None
            if item.data is not None:
                entry = self.media.add(
                    sha256_of(item.data), Entry(item.data, item.mime, item.name or "", item.kind)
                )
                if entry.kind == item.kind:
                    report = self._analysed(entry, settings)
            elif item.sha256 is not None:
                found = self.media.get(item.sha256)
                # A file sent as one kind is never taken as another (a video's excerpt
                # was read for metadata only): that holds the post as unchecked.
                if (
                    found is not None
                    and found.kind == item.kind
                    and found.done.wait(PENDING_WAIT_SECONDS)
                ):
                    result = found.result
                    if result is not None and result[1] == self._match_key(settings):
                        report = result[0]
                    else:
                        # Matching was turned on, or someone enrolled, since: look again.
                        report = self._analysed(found, settings)
            attached.append(
                Attached(
                    report=report,
                    pictured=item.pictured,
                    nobody_identifiable=item.nobody_identifiable,
                    confirmed_not=item.confirmed_not,
                    alt=item.alt,
                    kind=item.kind,
                    title=item.title,
                )
            )
        return attached

    def _analysed(
        self, entry: Entry, settings: PhotoSettings, progress: Progress | None = None
    ) -> PhotoReport:
        """The entry's report, analysing it now if no one has yet (or matching has
        changed since). Whatever happens, the entry is marked done, so a check waiting
        for it never waits in vain."""
        try:
            with entry.analysing:
                key = self._match_key(settings)
                if entry.result is None or entry.result[1] != key:
                    try:
                        report = self._analyse(entry, settings, progress)
                    except Exception as exc:
                        log.exception("photo %s could not be analysed", entry.name)
                        report = _failed_report(entry, exc)
                    entry.result = (report, key)  # one assignment: never half-updated
                return entry.result[0]
        finally:
            entry.done.set()

    def _analyse(
        self, entry: Entry, settings: PhotoSettings, progress: Progress | None
    ) -> PhotoReport:
        from tweetguard.checks.photos import rules as photo_rules
        from tweetguard.checks.photos.report import PhotoFinding, analyse

        matcher, unavailable = self._face_matcher(settings, progress)
        report = analyse(
            entry.data,
            mime=entry.mime,
            name=entry.name,
            kind=entry.kind,
            matcher=matcher,
            exclude=entry.blurred,
        )
        if unavailable and report.boxes:
            report.findings.append(
                PhotoFinding(photo_rules.MATCHING_UNAVAILABLE, {"why": unavailable})
            )
        return report

    def _match_key(self, settings: PhotoSettings) -> object:
        """What a report's matches depend on: off, or the enrolled templates' version."""
        if not settings.matching:
            return None
        from tweetguard.stores.face_templates import FaceTemplates

        try:
            return (settings, FaceTemplates(self.checker.home).version())
        except Exception:  # an unreadable store: the matcher reports it
            return (settings, None)

    def _face_matcher(
        self, settings: PhotoSettings, progress: Progress | None
    ) -> tuple[FaceMatcher | None, str | None]:
        """A function matching faces against enrolled people, or why there is none
        although the policy asks for one (which then holds photos with faces)."""
        if not settings.matching:
            return None, None
        from tweetguard.checks.photos import matching

        why = _matching_unavailable(matching)
        if why:
            return None, why
        if self._matcher is None or self._matcher_settings != settings:
            self._matcher = matching.Matcher(self.checker.home, settings)
            self._matcher_settings = settings
        matcher = self._matcher

        def match(picture: Any, boxes: list[tuple[int, int, int, int]]) -> list[Match]:
            import numpy as np

            from tweetguard.checks.photos.report import Match

            found = matcher.match(np.asarray(picture), boxes, progress)
            return [Match(m.face, m.ref, m.name, m.confident) for m in found]

        return match, None

    @staticmethod
    def _report_json(report: PhotoReport, policy: Policy) -> Reply:
        """The report as sent, with the policy's rule settings applied. The policy is
        passed in, read by the main thread: the Checker's cache is not shared."""

        def severity_of(rule: Any) -> Any:
            enabled, severity = effective(rule, policy)
            return severity if enabled else None

        return report.to_json(severity_of)

    def _media_put(self, request: MediaPutRequest) -> Reply | Deferred:
        existing = self.media.get(request.sha256)
        if existing is not None and request.offset == 0:
            return self._when_analysed(request.id, existing, received=len(existing.data))
        received, entry = self.media.put_chunk(
            request.sha256,
            request.mime,
            request.name,
            request.kind,
            request.size,
            request.offset,
            request.data,
        )
        if entry is None:
            return {"id": request.id, "ok": True, "received": received}
        return self._when_analysed(request.id, entry, received=received)

    def _when_analysed(self, request_id: RequestId, entry: Entry, *, received: int) -> Deferred:
        policy = self.checker.policy()  # read here, on the main thread, which owns the cache
        settings = policy.photos

        def work(progress: Progress) -> Reply:
            report = self._analysed(entry, settings, progress)
            return {
                "id": request_id,
                "ok": True,
                "received": received,
                "photo": self._report_json(report, policy),
            }

        return Deferred(request_id, work, self._translate)

    def _media_get(self, request: MediaGetRequest) -> Reply:
        entry = self._entry(request.sha256)
        chunk = entry.data[request.offset : request.offset + MAX_GET_CHUNK]
        end = request.offset + len(chunk)
        return {
            "id": request.id,
            "ok": True,
            "sha256": request.sha256,
            "mime": entry.mime,
            "name": entry.name,
            "size": len(entry.data),
            "offset": request.offset,
            "data": base64.b64encode(chunk).decode("ascii"),
            "done": end >= len(entry.data),
        }

    def _entry(self, sha256: str) -> Entry:
        entry = self.media.get(sha256)
        if entry is None:
            raise MediaError("media_unknown", f"no file {sha256[:12]}… here")
        return entry

    def _remedy(self, request: PhotoCleanRequest | PhotoBlurRequest) -> Deferred:
        source = self._entry(request.sha256)
        policy = self.checker.policy()  # read on the main thread, which owns the cache
        settings = policy.photos

        def work(progress: Progress) -> Reply:
            from tweetguard.checks.photos import blur as photo_blur
            from tweetguard.checks.photos import clean as photo_clean
            from tweetguard.checks.photos.decode import Unreadable
            from tweetguard.checks.photos.report import sha256_of

            report = self._analysed(source, settings)
            boxes: list[tuple[int, int, int, int]] = []
            try:
                if isinstance(request, PhotoBlurRequest):
                    chosen = range(len(report.boxes)) if request.faces is None else request.faces
                    boxes = [report.boxes[i] for i in chosen if i < len(report.boxes)]
                    made = photo_blur.blurred_copy(source.data, boxes)
                    suffix = "-blurred"
                else:
                    made = photo_clean.clean_copy(source.data)
                    suffix = "-clean"
            except Unreadable as exc:
                raise ProtocolError(ErrorCode.BAD_FIELD, f"cannot make a copy: {exc}") from None
            stem = (source.name or "photo").rsplit(".", 1)[0][:200]
            entry = Entry(made.data, made.mime, f"{stem}{suffix}{made.suffix}", "image")
            entry.blurred = boxes + source.blurred
            entry = self.media.add(sha256_of(made.data), entry)
            copy = self._analysed(entry, settings, progress)
            return {"id": request.id, "ok": True, "photo": self._report_json(copy, policy)}

        return Deferred(request.id, work, self._translate)

    def photos_idle(self) -> None:
        """Photos have stopped arriving for a while: give the detector's memory back."""
        from tweetguard.checks.photos import faces

        faces.release()

    def _people(self, request: PeopleRequest) -> Reply:
        today = date.today()
        found = self.checker.people().search(request.query, request.limit)
        return {"id": request.id, "ok": True, "people": [p.to_json(today) for p in found]}


@functools.cache
def _matching_unavailable(matching: Any) -> str | None:
    """Whether dlib and the models import here: asked once per process."""
    why: str | None = matching.available()
    return why


def _source(source: Any) -> Any:
    """The protocol's repost source as the checks take it."""
    if source is None:
        return None
    from tweetguard.checks.reposts import Source

    return Source(author=source.author, text=source.text, url=source.url)


def _failed_report(entry: Entry, exc: Exception) -> PhotoReport:
    """A report that holds the post: the photo could not be checked (a bug, or a
    library failing on this file), which is never the same as "nothing found"."""
    from tweetguard.checks.photos import rules as photo_rules
    from tweetguard.checks.photos.report import PhotoFinding, PhotoReport, sha256_of

    report = PhotoReport(
        sha256=sha256_of(entry.data),
        kind=entry.kind,
        mime=entry.mime,
        name=entry.name or "the photo",
        size=len(entry.data),
        readable=False,
    )
    why = f"it could not be checked: {type(exc).__name__}"
    report.findings.append(PhotoFinding(photo_rules.UNREADABLE, {"name": report.name, "why": why}))
    return report


def reply_for_oversize(request_id: RequestId | None, size: int) -> dict[str, Any]:
    return error_reply(
        request_id, ProtocolError(ErrorCode.REPLY_TOO_LARGE, f"reply would be {size} bytes")
    )
