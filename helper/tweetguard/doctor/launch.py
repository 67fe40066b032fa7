"""Starting the host exactly as a browser starts it, and asking it `hello`.

What breaks in the field is often invisible from a terminal: the browser gives the
host no environment (no PATH, no virtualenv, no $TWEETGUARD_HOME), runs it from the
launcher's own folder, and passes the caller's identity as arguments. Chromium runs
`[launcher, "chrome-extension://ID/"]`; Firefox runs `[launcher, manifest path,
add-on id]`. This module does the same, sends one framed `hello`, and reads the
one reply, so a pass here means the browser's own start will answer too.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tweetguard import identity


@dataclass(frozen=True)
class Answer:
    reply: dict[str, Any] | None  # the first frame, when one came
    seconds: float
    returncode: int | None  # None: still running when the time ran out
    stderr: str  # its last line, for the message
    timed_out: bool = False


def browser_argv(browser: str, launcher: Path, manifest: Path, extension: str) -> list[str]:
    """The argv the browser uses: Firefox names the manifest and the add-on, every
    Chromium-family browser the caller's origin."""
    if browser == "firefox":
        return [str(launcher), str(manifest), extension]
    return [str(launcher), identity.chrome_origin(extension)]


def browser_environment() -> dict[str, str]:
    """Empty, as the contract of a native host says to expect; on Windows only what
    cmd.exe itself cannot start without."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        return {k: v for k, v in os.environ.items() if k.upper() in ("SYSTEMROOT", "COMSPEC")}
    return {}


def ask_hello(argv: list[str], *, timeout: float) -> Answer:
    request = json.dumps({"id": 1, "type": "hello", "extension_version": "doctor"}).encode()
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=browser_environment(),
            cwd=Path(argv[0]).parent if sys.platform != "win32" else None,
            # Its own process group, so a hung launcher's children (a shell that did
            # not exec) go with it and do not hold its output open.
            start_new_session=sys.platform != "win32",
        )
    except OSError as exc:
        return Answer(None, 0.0, None, f"cannot start it: {exc.strerror or exc}")
    try:
        # The whole conversation: one frame in, then end of input, as when the tab
        # closes. The host answers and ends; its replies are read from what it wrote.
        out, err = proc.communicate(struct.pack("<I", len(request)) + request, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        out, err = proc.communicate()
        return Answer(_first_frame(out), time.monotonic() - started, None, _last(err), True)
    return Answer(_first_frame(out), time.monotonic() - started, proc.returncode, _last(err))


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if sys.platform == "win32":  # pragma: no cover - Windows only
        proc.kill()
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        proc.kill()


def _first_frame(data: bytes) -> dict[str, Any] | None:
    if len(data) < 4:
        return None
    (size,) = struct.unpack("<I", data[:4])
    body = data[4 : 4 + size]
    if len(body) < size:
        return None
    try:
        reply = json.loads(body)
    except ValueError:
        return None
    return reply if isinstance(reply, dict) else None


def _last(err: bytes) -> str:
    lines = [line.strip() for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
