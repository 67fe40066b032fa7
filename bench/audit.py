"""What the audit costs a check: the append alone, and a check through the real host.

    .venv/bin/python bench/audit.py [--appends 20000] [--spaced-ms 0] [--requests 500] [--dir DIR]

1. `AuditLog.append` in-process, median and p99, with synchronous=NORMAL (what the
   helper uses; --appends rows, a steady state well past the first MiB of WAL, with
   the WAL's size at the end and the checkpoint threads started) and FULL (an fsync
   per commit; at most 2,000 rows), on the file system of --dir (default: a
   temporary folder beside this script, on the same disk as a checkout, not a tmpfs).
   --spaced-ms waits that long between appends, as a busy school's hosts would.
2. A check through one real host over real pipes, alternating requests that are not
   recorded (stage "typing") with ones that are (stage "posting"), so both see the
   same machine load: the difference is the audit's cost on a check.
Target: the audit adds at most a few ms at p99.
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
from tweetguard.stores import audit
from tweetguard.stores.audit import log as audit_log


def frame(message: dict[str, object]) -> bytes:
    body = json.dumps(message).encode()
    return struct.pack("<I", len(body)) + body


def read_reply(stream) -> dict[str, object]:  # type: ignore[no-untyped-def]
    (size,) = struct.unpack("<I", stream.read(4))
    return json.loads(stream.read(size))  # type: ignore[no-any-return]


def line(label: str, timings: list[float]) -> str:
    return (
        f"{label}: median {statistics.median(timings):.3f} ms  "
        f"p99 {percentile(timings, 99):.3f} ms  max {max(timings):.3f} ms  (n={len(timings)})"
    )


def bench_append(
    folder: Path, count: int, synchronous: str, spaced_ms: float = 0.0
) -> tuple[list[float], str]:
    """The append timings, and a line on the WAL and checkpoints at the end."""
    audit_log.SYNCHRONOUS = synchronous
    log = audit.AuditLog(folder / f"append-{synchronous.lower()}.sqlite3")
    log.append("helper", detail={"bench": True})  # opens the file: not timed
    timings = []
    wal_peak = 0
    wal = Path(f"{log.path}-wal")
    for i in range(count):
        t0 = time.perf_counter()
        log.append(
            "check",
            account="bench_school",
            verdict="warn" if i % 3 else "ok",
            rules=("names.full-name",) if i % 3 else (),
            text=f"Bench post number {i} about the school fair.",
            detail={"action": "post", "photos": 0},
        )
        timings.append((time.perf_counter() - t0) * 1000)
        if i % 100 == 0:
            wal_peak = max(wal_peak, wal.stat().st_size)
        if spaced_ms:
            time.sleep(spaced_ms / 1000)
    log.wait_checkpoint(30)
    end = wal.stat().st_size
    wal_peak = max(wal_peak, end)
    note = (
        f"  WAL at the end {end / 1024:.0f} KiB (peak {wal_peak / 1024:.0f} KiB), "
        f"{log.checkpoints} checkpoint thread(s) for {count:,} appends"
    )
    assert log.verify().ok
    log.close()
    audit_log.SYNCHRONOUS = "NORMAL"
    return timings, note


def bench_host(folder: Path, requests: int, pupils: int) -> tuple[list[float], list[float]]:
    csv = folder / "register.csv"
    make_register(csv, pupils)
    env = {k: v for k, v in os.environ.items() if k != "TWEETGUARD_HOME"}
    cli = [sys.executable, "-m", "tweetguard", "--home", str(folder)]
    subprocess.run([*cli, "consent", "import", str(csv)], check=True, capture_output=True, env=env)
    proc = subprocess.Popen([*cli, "host"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert proc.stdin and proc.stdout

    def ask(message: dict[str, object]) -> tuple[float, dict[str, object]]:
        assert proc.stdin and proc.stdout
        data = frame(message)
        t0 = time.perf_counter()
        proc.stdin.write(data)
        proc.stdin.flush()
        reply = read_reply(proc.stdout)
        return (time.perf_counter() - t0) * 1000, reply

    ask({"id": 0, "type": "hello"})
    ask({"id": "warm", "type": "check", "text": "warm up", "stage": "typing"})
    ask({"id": "warm2", "type": "check", "text": "warm up"})  # opens the audit
    without: list[float] = []
    with_audit: list[float] = []
    for i, text in enumerate(sample_posts(requests, pupils)):
        for stage, into in (("typing", without), ("posting", with_audit)):
            took, reply = ask({"id": f"{stage}-{i}", "type": "check", "text": text, "stage": stage})
            assert reply["ok"], reply
            into.append(took)
    proc.stdin.close()
    proc.wait(timeout=10)
    log = audit.AuditLog(folder / "audit.sqlite3")
    checks = len(log.rows(audit.AuditQuery(kind="check")))
    assert checks == requests + 1, (checks, requests)
    assert log.verify().ok
    log.close()
    return without, with_audit


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=20000)
    parser.add_argument("--spaced-ms", type=float, default=0.0)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--pupils", type=int, default=2000)
    parser.add_argument("--dir", help="where the audit files go (default: beside this script)")
    args = parser.parse_args()
    base = Path(args.dir) if args.dir else Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory(prefix="audit-bench-", dir=base) as tmp:
        folder = Path(tmp)
        print(f"audit files in {folder}")
        for synchronous in ("NORMAL", "FULL"):
            count = args.appends if synchronous == "NORMAL" else min(args.appends, 2000)
            timings, note = bench_append(folder, count, synchronous, args.spaced_ms)
            used = " (used)" if synchronous == "NORMAL" else ""
            print(line(f"append, synchronous={synchronous}{used}", timings))
            print(note)
        without, with_audit = bench_host(folder, args.requests, args.pupils)
        print(line("check through the host, not recorded (typing)", without))
        print(line("check through the host, recorded (posting)", with_audit))
        added = statistics.median(with_audit) - statistics.median(without)
        added99 = percentile(with_audit, 99) - percentile(without, 99)
        print(f"the audit adds to a check: median {added:.3f} ms, p99 {added99:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
