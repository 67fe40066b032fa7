"""Round-trip latency of `check` through one real host process over real pipes.

    .venv/bin/python bench/host_latency.py [--requests 500] [--pupils 2000]

Prints start-up time (spawn to first reply) and p50/p90/p99/max per request.
Target: p99 <= 5 ms. Figures vary with machine load: compare medians and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stats import percentile
from synthetic import make_register, sample_posts


def frame(message: dict[str, object]) -> bytes:
    body = json.dumps(message).encode()
    return struct.pack("<I", len(body)) + body


def read_reply(stream) -> dict[str, object]:  # type: ignore[no-untyped-def]
    (size,) = struct.unpack("<I", stream.read(4))
    return json.loads(stream.read(size))  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--pupils", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        csv = home / "register.csv"
        make_register(csv, args.pupils)
        env = {k: v for k, v in os.environ.items() if k != "TWEETGUARD_HOME"}
        cli = [sys.executable, "-m", "tweetguard", "--home", str(home)]
        subprocess.run(
            [*cli, "consent", "import", str(csv)], check=True, capture_output=True, env=env
        )
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*cli, "host"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        assert proc.stdin and proc.stdout
        proc.stdin.write(frame({"id": 0, "type": "hello"}))
        proc.stdin.flush()
        read_reply(proc.stdout)
        startup = time.perf_counter() - started
        # The first check loads the stored name index; time it on its own.
        t0 = time.perf_counter()
        proc.stdin.write(frame({"id": "warm", "type": "check", "text": "warm up"}))
        proc.stdin.flush()
        read_reply(proc.stdout)
        first_check = time.perf_counter() - t0
        timings = []
        verdicts: dict[str, int] = {}
        for i, text in enumerate(sample_posts(args.requests, args.pupils)):
            message = frame({"id": i, "type": "check", "text": text})
            t0 = time.perf_counter()
            proc.stdin.write(message)
            proc.stdin.flush()
            reply = read_reply(proc.stdout)
            timings.append((time.perf_counter() - t0) * 1000)
            assert reply["id"] == i and reply["ok"], reply
            verdicts[str(reply["verdict"])] = verdicts.get(str(reply["verdict"]), 0) + 1
        proc.stdin.close()
        proc.wait(timeout=10)
    print(f"host start-up to first reply: {startup * 1000:.1f} ms")
    print(
        f"first check right after hello (loads the {args.pupils}-pupil name index while the "
        "preload runs): "
        f"{first_check * 1000:.1f} ms"
    )
    print(f"{args.requests} checks, verdicts {verdicts}")
    print(
        "round trip ms: "
        + "  ".join(
            f"{label} {value:.3f}"
            for label, value in (
                ("p50", statistics.median(timings)),
                ("p90", percentile(timings, 90)),
                ("p99", percentile(timings, 99)),
                ("max", max(timings)),
            )
        )
    )
    p99 = percentile(timings, 99)
    print(f"target p99 <= 5 ms: {'met' if p99 <= 5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
