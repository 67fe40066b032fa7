"""Drives a real `tweetguard host` process over real pipes, as the browser does."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any


class HostProcess:
    def __init__(self, home: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "TWEETGUARD_HOME"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tweetguard", "--home", str(home), "host", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send_bytes(self, payload: bytes) -> None:
        self.send_raw(struct.pack("<I", len(payload)) + payload)

    def send(self, message: Any) -> None:
        self.send_bytes(json.dumps(message).encode("utf-8"))

    def read_raw_reply(self) -> bytes | None:
        assert self.proc.stdout
        header = self.proc.stdout.read(4)
        if len(header) < 4:
            return None
        (size,) = struct.unpack("<I", header)
        body = self.proc.stdout.read(size)
        assert len(body) == size
        return body

    def read(self) -> dict[str, Any]:
        body = self.read_raw_reply()
        assert body is not None, "host closed stdout; stderr: " + self.stderr_text()
        reply = json.loads(body)
        assert isinstance(reply, dict)
        return reply

    def ask(self, message: Any) -> dict[str, Any]:
        self.send(message)
        return self.read()

    def close_stdin(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()

    def wait(self, timeout: float = 10) -> int:
        return self.proc.wait(timeout=timeout)

    def stderr_text(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        assert self.proc.stderr
        return self.proc.stderr.read().decode(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
