"""Files sent in chunks (media_put) and kept, with their reports, by SHA-256.

A photo travels once, as soon as it is attached; the check of the post names it
by hash. Chunk assembly is protocol state (offsets, sizes, hashes are fields of
the media messages), so it lives here rather than in the framing layer. Kept in
memory only: a photo a teacher attached is not written to disk by the helper.
Thread-safe: the photo worker fills in reports while the main thread checks.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tweetguard.checks.photos.report import PhotoReport

MAX_FILE = 20 * 1024 * 1024  # an image or a video frame; X's own limits are 5 MB (15 MB GIF)
MAX_EXCERPT = 8 * 1024 * 1024  # a video's first and last 4 MiB
MAX_CHUNK = 1024 * 1024  # raw bytes per media_put
MAX_FILES = 32
MAX_BYTES = 128 * 1024 * 1024
MAX_PARTIAL = 8  # uploads in progress at once (a composer has at most 4 photos)


@dataclass
class Upload:
    sha256: str
    mime: str
    name: str
    kind: str
    size: int
    parts: list[bytes] = field(default_factory=list)
    received: int = 0


@dataclass
class Entry:
    data: bytes
    mime: str
    name: str
    kind: str
    # The report and what its face matches were made against (None: matching off),
    # set together in one assignment; None while the worker analyses the file.
    result: tuple[PhotoReport, object] | None = None
    done: threading.Event = field(default_factory=threading.Event)
    analysing: threading.Lock = field(default_factory=threading.Lock)  # one analysis at a time
    # Faces blurred in this copy (boxes in its pixels), so they are not asked about again.
    blurred: list[tuple[int, int, int, int]] = field(default_factory=list)


class MediaError(Exception):
    """A media request that cannot be met; `code` names the protocol error."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


class MediaStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: OrderedDict[str, Entry] = OrderedDict()
        self._uploads: OrderedDict[str, Upload] = OrderedDict()

    def get(self, sha256: str) -> Entry | None:
        with self._lock:
            entry = self._files.get(sha256)
            if entry is not None:
                self._files.move_to_end(sha256)
            return entry

    def put_chunk(
        self, sha256: str, mime: str, name: str, kind: str, size: int, offset: int, chunk: bytes
    ) -> tuple[int, Entry | None]:
        """Adds one chunk. Returns (bytes received, the finished entry or None)."""
        limit = MAX_EXCERPT if kind == "video" else MAX_FILE
        if size > limit:
            raise MediaError("media_too_large", f"{size} bytes; limit {limit}")
        if len(chunk) > MAX_CHUNK:
            raise MediaError("bad_field", f"chunk of {len(chunk)} bytes; limit {MAX_CHUNK}")
        with self._lock:
            upload = self._uploads.get(sha256)
            if offset == 0 and (upload is None or upload.received != 0):
                upload = Upload(sha256, mime, name, kind, size)
                self._uploads[sha256] = upload
                while len(self._uploads) > MAX_PARTIAL:
                    self._uploads.popitem(last=False)
            if upload is None or offset != upload.received or size != upload.size:
                expected = upload.received if upload else 0
                raise MediaError(
                    "bad_field", f"chunk at offset {offset}; expected {expected} of {size}"
                )
            if upload.received + len(chunk) > size:
                del self._uploads[sha256]
                raise MediaError("bad_field", "chunks run past 'size'")
            upload.parts.append(chunk)
            upload.received += len(chunk)
            if upload.received < size:
                return upload.received, None
            del self._uploads[sha256]
        data = b"".join(upload.parts)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise MediaError("media_mismatch", "the bytes received do not have the hash given")
        entry = Entry(data, mime, name, kind)
        self.add(sha256, entry)
        return len(data), entry

    def add(self, sha256: str, entry: Entry) -> Entry:
        with self._lock:
            existing = self._files.get(sha256)
            if existing is not None:
                self._files.move_to_end(sha256)
                return existing
            self._files[sha256] = entry
            total = sum(len(e.data) for e in self._files.values())
            while len(self._files) > 1 and (len(self._files) > MAX_FILES or total > MAX_BYTES):
                _, dropped = self._files.popitem(last=False)
                total -= len(dropped.data)
            return entry
