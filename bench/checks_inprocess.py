"""The whole rule catalogue in process: the cost of a check without the pipe.

    .venv/bin/python bench/checks_inprocess.py [--posts 1000] [--pupils 2000]

Prints the time to load the register and build the name matcher, then
median/p90/p99/max per check. Targets: p99 <= 2 ms; load + build <= 200 ms.
Figures vary with machine load: compare medians and ratios, and run twice.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from stats import percentile
from synthetic import make_register, sample_posts
from tweetguard.checks.engine import Checker
from tweetguard.stores.consent import ConsentRegister
from tweetguard.stores.register_import import read_register


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--pupils", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        csv = home / "register.csv"
        make_register(csv, args.pupils)
        register = ConsentRegister(home / "register.sqlite3")
        register.replace(read_register(csv.read_bytes()).pupils, source="bench")
        register.close()
        checker = Checker(home)
        checker.policy()
        t0 = time.perf_counter()
        index = checker.names()
        build = (time.perf_counter() - t0) * 1000
        assert index.size == args.pupils
        checker.warm()
        posts = sample_posts(args.posts, args.pupils)
        timings = []
        verdicts: dict[str, int] = {}
        for text in posts:
            t0 = time.perf_counter()
            report = checker.check(text)
            timings.append((time.perf_counter() - t0) * 1000)
            verdicts[report.verdict] = verdicts.get(report.verdict, 0) + 1
        checker.close()
    print(f"load {args.pupils}-pupil register + build name matcher: {build:.1f} ms (target <= 200)")
    print(f"{args.posts} checks, verdicts {verdicts}")
    p99 = percentile(timings, 99)
    print(
        f"per check ms: p50 {statistics.median(timings):.3f}  p90 {percentile(timings, 90):.3f}  "
        f"p99 {p99:.3f}  max {max(timings):.3f}  "
        f"(target p99 <= 2: {'met' if p99 <= 2 else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
