"""The longest texts the protocol accepts (50,000 characters), shaped to be hard.

    .venv/bin/python bench/long_posts.py

A post is at most 280 weighted characters, but the helper accepts up to 50,000
characters (links weigh 23 however long), and a malformed or hostile request may
send that much. Each shape below is checked in-process with a 2,000-pupil
register; the figure is the median of 5 runs. Target: well under a second each,
so no text can stall the host.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from synthetic import make_register
from tweetguard.checks.engine import Checker
from tweetguard.stores.consent import ConsentRegister
from tweetguard.stores.register_import import read_register

SHAPES = {
    "plain words": "word " * 10000,
    "one CamelCase hashtag": "#" + "AbCd" * 12500,
    "one lower-case hashtag": "#" + "abcd" * 12500,
    "full names": "Amelia Thornbury " * 2950,
    "word-names in a list": "Hope, " * 8400,
    "word-names with and": "Hope and May and Joy and " * 2000,
    "emoji": "🎉" * 25000,
    "links": "see https://example.org/x " * 1900,
    "no spaces": "x" * 50000,
}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        csv = home / "register.csv"
        make_register(csv, 2000)
        with csv.open("a", encoding="utf-8") as extra:  # word-names that are pupils
            extra.write("Hope,Carrington,Year 2,no\nMay,Ellison,Year 2,no\nJoy,Okonkwo,Year 3,no\n")
        register = ConsentRegister(home / "register.sqlite3")
        register.replace(read_register(csv.read_bytes()).pupils, source="bench")
        register.close()
        checker = Checker(home)
        checker.warm()
        worst = 0.0
        for name, text in SHAPES.items():
            text = text[:50000]
            times = []
            for _ in range(5):
                started = time.perf_counter()
                checker.check(text)
                times.append((time.perf_counter() - started) * 1000)
            median = statistics.median(times)
            worst = max(worst, median)
            print(f"{name:<24} {len(text):>6} chars: {median:7.1f} ms")
        checker.close()
    print(
        f"slowest shape: {worst:.0f} ms (target well under 1000 ms: "
        f"{'met' if worst < 1000 else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
