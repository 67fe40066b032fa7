"""A real `tweetguard server run` for a test: its own free ports, its log in the test's
folder, waited on until both the pages and the live feed answer, stopped after.
The live-feed tests and the browser test start the server the same way, through
this one helper."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.server.pg import free_port
from tests.server.test_fanout import Server

START_SECONDS = 60.0


@contextmanager
def server_run(home: Path, database_url: str, log: Path) -> Iterator[Server]:
    """`tweetguard --home HOME server run` on loopback against `database_url`, with
    no keyring touched and no TWEETGUARD_HOME of the caller's."""
    port, feed = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k != "TWEETGUARD_HOME"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tweetguard", "--home", str(home), "server", "run",
             "--database", database_url, "--bind", f"127.0.0.1:{port}", "--ws-port", "0",
             "--feed-port", str(feed)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    server = Server(port, feed, process, log)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert process.poll() is None, log.read_text()
            try:
                with socket.create_connection(("127.0.0.1", feed), 0.2):
                    if server.request("GET", "/login")[0] == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"the server did not start: {log.read_text()}"
            time.sleep(0.05)  # polling a starting process, not waiting out a guess
        yield server
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
