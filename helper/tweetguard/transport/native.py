"""Native messaging: the browser starts the helper and talks over stdin/stdout.

Each message is a 4-byte little-endian length followed by that many bytes of UTF-8
JSON. Stdout carries frames and nothing else, so the host moves file descriptor 1
aside before anything can print, and logs go to a file in the data directory.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import struct
import sys
import threading
from collections.abc import Callable, Sequence
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from tweetguard import identity
from tweetguard.protocol.errors import ErrorCode, ProtocolError
from tweetguard.protocol.handlers import Deferred, Handler, reply_for_oversize
from tweetguard.protocol.messages import error_reply, read_id

if TYPE_CHECKING:
    from tweetguard.sync.loop import SyncLoop

# Photos travel base64-encoded inside the check request: four large phone photos
# fit comfortably. Anything larger is refused, and the host ends, because a
# length this large is more likely a broken stream than a real message.
MAX_INCOMING = 32 * 1024 * 1024
# Chrome drops the connection if the host sends a message over 1 MB.
MAX_OUTGOING = 1024 * 1024

_HEADER = struct.Struct("<I")

log = logging.getLogger("tweetguard.host")


class FrameError(Exception):
    """The byte stream cannot be trusted any more; the host must end."""


def read_frame(stream: BinaryIO) -> bytes | None:
    """The next message's bytes, or None at a clean end of input."""
    header = _read_exactly(stream, _HEADER.size)
    if not header:
        return None
    if len(header) < _HEADER.size:
        raise FrameError(f"input ended inside a frame header ({len(header)} of 4 bytes)")
    (size,) = _HEADER.unpack(header)
    if size > MAX_INCOMING:
        raise FrameTooLarge(size)
    payload = _read_exactly(stream, size)
    if len(payload) < size:
        raise FrameError(f"input ended inside a frame ({len(payload)} of {size} bytes)")
    return payload


class FrameTooLarge(FrameError):
    def __init__(self, size: int) -> None:
        super().__init__(f"frame of {size} bytes exceeds the {MAX_INCOMING}-byte limit")
        self.size = size


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    chunks = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def encode_frame(message: dict[str, Any]) -> bytes:
    """One frame, replacing any reply too large for the browser with an error."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_OUTGOING:
        body = json.dumps(
            reply_for_oversize(message.get("id"), len(body)), separators=(",", ":")
        ).encode("utf-8")
    return _HEADER.pack(len(body)) + body


def write_frame(stream: BinaryIO, message: dict[str, Any]) -> None:
    stream.write(encode_frame(message))
    stream.flush()


class _Writer:
    """Writes frames from the main thread and the photo worker, one at a time."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self.closed = False

    def write(self, message: dict[str, Any]) -> bool:
        with self.lock:
            if self.closed:
                return False
            try:
                write_frame(self.stream, message)
            except (BrokenPipeError, ValueError, OSError):
                self.closed = True
                log.info("browser went away before reply %r", read_id(message))
                return False
            return True


# After this long without a photo, the worker gives the face detector's memory back.
PHOTOS_IDLE_SECONDS = 60.0


class PhotoWorker:
    """Runs photo work in order on one thread, so decoding and face detection
    (hundreds of ms) never delay the answer to a text check."""

    def __init__(
        self,
        writer: _Writer,
        on_idle: Callable[[], None] | None = None,
        idle_seconds: float = PHOTOS_IDLE_SECONDS,
    ) -> None:
        self.writer = writer
        self.on_idle = on_idle
        self.idle_seconds = idle_seconds
        self.jobs: queue.Queue[Deferred | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="photos", daemon=True)
        self.thread.start()

    def submit(self, job: Deferred) -> None:
        self.jobs.put(job)

    def _run(self) -> None:
        busy = False
        while True:
            try:
                job = self.jobs.get(timeout=self.idle_seconds if busy else None)
            except queue.Empty:
                busy = False
                if self.on_idle is not None:
                    try:
                        self.on_idle()
                    except Exception:
                        log.exception("releasing photo memory failed")
                continue
            if job is None:
                return
            self.writer.write(job.run())
            busy = True

    def finish(self, timeout: float) -> None:
        """Lets queued work finish (its replies may still be read) before the host ends."""
        self.jobs.put(None)
        self.thread.join(timeout)


def serve(
    stdin: BinaryIO,
    stdout: BinaryIO,
    handler: Handler,
    after_first_reply: Callable[[], None] | None = None,
) -> int:
    """Answers frames until the browser closes the pipe. Returns the exit status.

    `after_first_reply` runs once the first reply is out, while the host would
    otherwise wait for the next frame. Photo work goes to the photo worker, whose
    replies may overtake or follow others: the browser matches replies by id.
    """
    writer = _Writer(stdout)
    worker: PhotoWorker | None = None
    try:
        while True:
            try:
                payload = read_frame(stdin)
            except FrameTooLarge as exc:
                log.error("%s; ending", exc)
                writer.write(error_reply(None, ProtocolError(ErrorCode.FRAME_TOO_LARGE, str(exc))))
                return 1
            except FrameError as exc:
                log.error("%s; ending", exc)
                return 1
            if payload is None:
                log.info("browser closed the connection; ending")
                return 0
            reply = handler.start_payload(payload)
            if isinstance(reply, Deferred):
                if worker is None:
                    worker = PhotoWorker(writer, on_idle=handler.photos_idle)
                reply.notify = writer.write
                worker.submit(reply)
            elif not writer.write(reply):
                return 0
            if after_first_reply is not None:
                after_first_reply()
                after_first_reply = None
    finally:
        if worker is not None:
            worker.finish(timeout=10.0)


def origin_allowed(argv: Sequence[str], allowed: Sequence[str]) -> bool:
    """Checks who started us, from the arguments browsers pass to a native host.

    Chromium passes the caller's origin (chrome-extension://ID/), on Windows
    followed by --parent-window=N; Firefox passes the app manifest path and the
    add-on id. Started by hand with no arguments, we are being tested or
    benchmarked by someone who can already read the data directory.
    """
    args = [a for a in argv if not a.startswith("--parent-window")]
    if not args:
        return True
    origins = [a for a in args if a.startswith("chrome-extension://")]
    if origins:
        return all(o.rstrip("/") + "/" in allowed for o in origins)
    # Firefox: <path to app manifest> <add-on id>
    return len(args) >= 2 and args[-1] in allowed


def default_allowed() -> list[str]:
    return [identity.CHROME_ORIGIN, identity.FIREFOX_ADDON_ID]


def _open_log(folder: Path) -> RotatingFileHandler:
    folder.mkdir(parents=True, exist_ok=True)
    return RotatingFileHandler(
        folder / "host.log", maxBytes=1_000_000, backupCount=3, encoding="utf-8"
    )


def setup_logging(log_dir: Path) -> Path:
    """Logs to the data directory, or to the user's own log folder when the data
    directory is shared and read-only (a system-wide install)."""
    try:
        handler = _open_log(log_dir)
    except OSError:
        from platformdirs import user_log_dir

        log_dir = Path(user_log_dir("tweetguard", appauthor=False))
        handler = _open_log(log_dir)
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(message)s"))
    root = logging.getLogger("tweetguard")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False
    return log_dir


def claim_stdout() -> BinaryIO:
    """Keeps the real stdout for frames and points fd 1 at stderr.

    A stray print from any library would otherwise corrupt the frame stream and
    the browser would drop the connection.
    """
    sys.stdout.flush()
    frames = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return frames


def run_host(home: Path, argv: Sequence[str], allowed: Sequence[str] | None = None) -> int:
    frames = claim_stdout()  # first: nothing imported below may print into the frames
    from tweetguard.checks.engine import Checker, preload
    from tweetguard.stores.home import log_dir

    try:
        setup_logging(log_dir(home))
    except OSError as exc:
        print(f"tweetguard host: cannot write logs under {home}: {exc}", file=sys.stderr)
    allowed_list = list(allowed) if allowed else default_allowed()
    permitted = origin_allowed(argv, allowed_list)
    log.info(
        "host started (pid %d, args %s, origin allowed: %s)", os.getpid(), list(argv), permitted
    )
    if not permitted:
        log.warning(
            "caller %s is not in %s; answering every request with an error",
            list(argv),
            allowed_list,
        )
    checker = Checker(home)
    syncing: list[SyncLoop | None] = []

    def load_the_rest() -> None:
        # Once the first reply (usually hello) is out, and the teacher is still typing:
        # libraries only some posts need load in the background (started earlier, they
        # would hold the GIL while the first check runs), and the stored name index is
        # read here, on this thread, which owns the register's connection.
        threading.Thread(target=preload, name="preload", daemon=True).start()
        # An enrolled machine's first sync round, then one every poll interval, on the
        # sync thread: the network never delays a reply.
        try:
            from tweetguard.sync.loop import start_sync

            syncing.append(start_sync(home))
        except Exception:
            log.exception("the sync with the school's server could not start")
        try:
            checker.names()
        except Exception as exc:  # the next check reports it to the teacher
            log.warning("name index not loaded ahead: %s", exc)

    try:
        handler = Handler(checker, origin_allowed=permitted)
        handler.started(list(argv), permitted)
        return serve(sys.stdin.buffer, frames, handler, after_first_reply=load_the_rest)
    finally:
        for loop in syncing:
            if loop is not None:
                loop.stop()
        checker.close()
