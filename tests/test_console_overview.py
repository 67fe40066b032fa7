"""The overview and the live feed together: a row written while the page is
being built reaches the page (by the feed) exactly once; how rows are described
to live.js; which links a page may show."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.test_console_support import no_keyring, signed_in
from tweetguard.console import overview
from tweetguard.console.rows import KIND_LABELS, SUMMARY_KEYS, x_link
from tweetguard.console.security import COOKIE_NAME, feed_authorizer
from tweetguard.stores.audit import open_audit
from tweetguard.transport.websocket import LiveFeed

__all__ = ["no_keyring"]

ORIGIN = "http://127.0.0.1:18740"


def _cursors(page: str) -> dict[str, int]:
    found = re.search(r'data-cursors="([^"]*)"', page)
    assert found
    cursors: dict[str, int] = json.loads(html.unescape(found.group(1)))
    return cursors


def test_a_row_written_while_the_page_is_built_comes_by_the_feed(
    home: Path, no_keyring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = open_audit(home)
    log.append("check", account="LarchfieldSch", verdict="ok", detail={"stage": "posting"})
    app, client = signed_in(home)
    real = overview.read_sources
    written: list[int] = []

    def then_a_teacher_checks(*args: Any, **kwargs: Any) -> Any:
        # Another process writes between the cursors being taken and the rows read.
        if not written:
            row = log.append("check", account="LarchfieldSch", verdict="block", rules=["x.y"])
            written.append(row.seq)
        return real(*args, **kwargs)

    monkeypatch.setattr(overview, "read_sources", then_a_teacher_checks)
    page = client.get("/").get_data(as_text=True)
    cursors = _cursors(page)
    (late,) = written
    # The page stops at its cursor (the earlier row shown: the false-alarm trap)...
    assert cursors["shared"] == late - 1
    assert f'data-seq="{late - 1}"' in page and f'data-seq="{late}"' not in page
    assert 'data-count="hold">0<' in page
    # ...and the feed, told that cursor, sends the late row.
    cookie = client.get_cookie(COOKIE_NAME, domain="127.0.0.1")
    assert cookie is not None
    feed = LiveFeed(home, origin=ORIGIN, cookie_name=COOKIE_NAME, authorize=feed_authorizer(app))
    feed.start()
    try:
        with connect(
            feed.url, origin=ORIGIN, additional_headers={"Cookie": f"{COOKIE_NAME}={cookie.value}"}
        ) as socket:
            socket.send(json.dumps({"after": cursors}))
            message = json.loads(socket.recv(timeout=5))
            assert [r["seq"] for r in message["rows"]] == [late]
    finally:
        feed.stop()
        log.close()


def test_live_js_reads_the_row_format_from_the_page(home: Path, no_keyring: None) -> None:
    _app, client = signed_in(home)
    page = client.get("/").get_data(as_text=True)
    found = re.search(r'<script type="application/json" id="row-format">(.*?)</script>', page)
    assert found
    described = json.loads(found.group(1))
    assert described == {"labels": KIND_LABELS, "keys": list(SUMMARY_KEYS)}
    script = (Path(overview.__file__).parent / "static" / "live.js").read_text()
    assert "sign-out" not in script and '"reason"' not in script  # described once, in Python


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "https://x.com.evil.example/status/1",
        "http://x.com/larchfield/status/1",
        "//x.com/larchfield/status/1",
        "https://evil.example/https://x.com/",
        "https://x.com/a\nb",
        None,
        42,
    ],
)
def test_only_links_to_posts_on_x_are_links(url: object) -> None:
    assert x_link(url) is None


def test_links_to_posts_on_x_stay_links() -> None:
    """False-alarm trap for the refusals above."""
    for url in ("https://x.com/larchfield/status/1862", "https://twitter.com/larchfield/status/9"):
        assert x_link(url) == url


def test_the_accounts_page_shows_a_strange_url_as_text(home: Path, no_keyring: None) -> None:
    log = open_audit(home)
    for tweet, url in (("1", "javascript:alert(1)"), ("2", "https://x.com/larchfield/status/2")):
        log.append(
            "sweep",
            account="LarchfieldSch",
            verdict="warn",
            outside=True,
            detail={"tweet_id": tweet, "url": url},
        )
    log.close()
    _app, client = signed_in(home)
    page = client.get("/accounts/").get_data(as_text=True)
    assert 'href="javascript:' not in page and "javascript:alert(1)" in page
    assert 'href="https://x.com/larchfield/status/2"' in page
