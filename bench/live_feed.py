"""How long a new audit row takes to reach an open console page (the live feed).

    .venv/bin/python bench/live_feed.py [--rows 100] [--mode browser|socket]

Starts the real `tweetguard dashboard` on free ports with a data folder of its own,
signs in, and appends audit rows from this process (as a helper would, from
another process than the console) at irregular intervals. The delay of each row
is from its recorded time (`at`, written when it is appended) to:
  browser: the moment the overview in Debian's Chromium inserted it (MutationObserver);
  socket:  the moment a WebSocket client holding the console's cookie received it.
Prints median, p95 and max. Target: under 1 s. The feed polls every 100 ms, so the
median is expected near half of that plus the page's own work.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from stats import percentile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "helper"))
from tweetguard.stores.audit import AuditRow, open_audit  # noqa: E402

PASSWORD = "Bench-Thistle-Harbour-63"
CHROMIUM = os.environ.get("TWEETGUARD_CHROMIUM", "/usr/bin/chromium")
ARRIVALS = """() => {
  window.arrivals = {};
  new MutationObserver(records => {
    const now = Date.now();
    for (const r of records) for (const n of r.addedNodes)
      if (n.dataset && n.dataset.seq) window.arrivals[n.dataset.seq] = now;
  }).observe(document.querySelector('#latest tbody'), {childList: true});
}"""


def start(home: Path) -> tuple[subprocess.Popen[bytes], str, str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TWEETGUARD_HOME"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    process = subprocess.Popen(
        [sys.executable, "-m", "tweetguard", "--home", str(home), "dashboard", "--port", "0"],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None
    url = process.stdout.readline().decode().split(": ", 1)[1].strip()
    feed = re.search(r"ws://[0-9.:]+/", process.stdout.readline().decode())
    assert feed, "no feed line"
    setup = ""
    while not setup:  # the first-run link, with its one-time token, comes a few lines on
        line = process.stdout.readline().decode()
        assert line and not line.startswith("Press Ctrl-C"), "no first-run line"
        if line.startswith("first run: open "):
            setup = line.split()[3]
    return process, url, feed.group(0), setup


def written_ms(row: AuditRow) -> float:
    return datetime.fromisoformat(row.at.replace("Z", "+00:00")).timestamp() * 1000


def append(home: Path, count: int) -> list[AuditRow]:
    log = open_audit(home)
    rows = []
    try:
        for number in range(count):
            time.sleep(random.uniform(0.05, 0.3))  # irregular, like teachers posting
            verdict = random.choice(["ok", "ok", "warn", "block"])
            rows.append(
                log.append(
                    "check",
                    account="BenchPrimary",
                    verdict=verdict,
                    detail={"stage": "posting", "n": number},
                )
            )
    finally:
        log.close()
    return rows


def in_browser(home: Path, setup: str, count: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        page.goto(setup)
        page.get_by_label("New password").fill(PASSWORD)
        page.get_by_label("Type it again").fill(PASSWORD)
        page.get_by_role("button", name="Set password").click()
        page.wait_for_function("document.getElementById('overview').dataset.live === 'yes'")
        page.evaluate(ARRIVALS)
        rows = append(home, count)
        last = rows[-1].seq
        # A function, not a string: the console's CSP rightly forbids eval.
        page.wait_for_function("seq => window.arrivals[seq] !== undefined", arg=str(last))
        arrivals: dict[str, float] = page.evaluate("window.arrivals")
        browser.close()
    return [arrivals[str(r.seq)] - written_ms(r) for r in rows]


def over_socket(home: Path, url: str, setup: str, feed: str, count: int) -> list[float]:
    import threading

    from websockets.sync.client import connect

    cookie = sign_in(url, setup)
    origin = url.rstrip("/")
    received: dict[int, float] = {}
    with connect(feed, origin=origin, additional_headers={"Cookie": cookie}) as socket:
        socket.send(json.dumps({"after": {}}))

        def listen() -> None:
            while len(received) < count:
                message: dict[str, Any] = json.loads(socket.recv(timeout=30))
                now = time.time() * 1000
                for row in message["rows"]:
                    received[row["seq"]] = now

        listener = threading.Thread(target=listen)
        listener.start()
        rows = append(home, count)
        listener.join(30)
    return [received[r.seq] - written_ms(r) for r in rows]


def sign_in(url: str, setup: str) -> str:
    """First run through the setup form (the printed link), over plain HTTP; the
    session cookie."""
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    setup_path = setup.removeprefix(url.rstrip("/"))
    conn = http.client.HTTPConnection(host, int(port))
    conn.request("GET", setup_path)
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no form token"
    from urllib.parse import urlencode

    body = urlencode({"csrf_token": token.group(1), "password": PASSWORD, "confirm": PASSWORD})
    conn.request(
        "POST",
        setup_path,
        body,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    response = conn.getresponse()
    response.read()
    signed = response.getheader("Set-Cookie", "").split(";", 1)[0]
    assert response.status == 302 and signed, response.status
    return signed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--mode", choices=("browser", "socket"), default="browser")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        home.mkdir()
        process, url, feed, setup = start(home)
        try:
            if args.mode == "browser":
                delays = in_browser(home, setup, args.rows)
            else:
                delays = over_socket(home, url, setup, feed, args.rows)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(10)
    print(
        f"live feed ({args.mode}), {len(delays)} rows: audit row written -> "
        f"{'shown in the page' if args.mode == 'browser' else 'received'}"
    )
    print(
        f"  median {statistics.median(delays):.0f} ms, p95 {percentile(delays, 95):.0f} ms, "
        f"max {max(delays):.0f} ms, min {min(delays):.0f} ms"
    )


if __name__ == "__main__":
    main()
