"""The console's audit page: filters, the export of exactly the filtered rows,
and a source whose chain is broken said plainly; the overview's counts."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from pathlib import Path

from tests.test_console_support import no_keyring, post, signed_in
from tweetguard.stores.audit import open_audit

__all__ = ["no_keyring"]


def _rows(home: Path) -> None:
    log = open_audit(home)
    log.append("check", account="WillowbankPri", verdict="block", rules=["names.full-name"])
    log.append("check", account="WillowbankPri", verdict="ok", detail={"stage": "posting"})
    log.append(
        "override",
        account="WillowbankPri",
        rules=["language.profanity"],
        detail={"reason": "quoting a book title"},
    )
    log.append(
        "sweep",
        account="WillowbankPri",
        verdict="warn",
        outside=True,
        rules=["personal.phone"],
        detail={"tweet_id": "9182"},
    )
    log.append("logout", account="WillowbankPri", detail={"reason": "after-post"})
    log.close()


def _shown(client, url: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(url).get_data(as_text=True)
    found = re.search(r'<table id="audit-rows">(.*?)</table>', page, re.S)
    assert found, url
    return found.group(1)


def test_filters_and_export_agree(home: Path, no_keyring: None) -> None:
    _rows(home)
    _, client = signed_in(home)
    page = _shown(client, "/audit/?verdict=block")
    assert "names.full-name" in page and "quoting a book title" not in page
    page = _shown(client, "/audit/?outside=yes")
    assert "posted outside tweetguard" in page and "names.full-name" not in page
    page = _shown(client, "/audit/?rule=language.profanity&account=@willowbankpri")
    assert "quoting a book title" in page
    exported = client.get("/audit/export?format=csv&kind=check")
    assert exported.headers["Content-Disposition"].startswith("attachment;")
    table = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [r["verdict"] for r in table] == ["block", "ok"]
    lines = client.get("/audit/export?format=jsonl&outside=yes").get_data(as_text=True)
    (sweep,) = [json.loads(line) for line in lines.splitlines()]
    assert sweep["outside"] is True and sweep["detail"]["tweet_id"] == "9182"
    assert client.get("/audit/?since=2026-13-01").status_code == 400
    assert client.get("/audit/export?format=xml").status_code == 400
    today = client.get("/").get_data(as_text=True)
    for name, count in (("check", 2), ("hold", 1), ("override", 1), ("post", 0), ("logout", 1)):
        assert f'data-count="{name}">{count}<' in today, name


def _chain_cell(page: str) -> str:
    found = re.search(r'<td class="chain-(?:ok|bad)">(.*?)</td>', page, re.S)
    assert found, "no chain cell"
    return found.group(1)


def test_an_altered_row_is_named_after_a_full_check(home: Path, no_keyring: None) -> None:
    _rows(home)
    app, client = signed_in(home)
    checks = app.extensions["tweetguard_chain"]
    assert "verified: no row altered" in client.get("/audit/").get_data(as_text=True)
    walks = checks.full_walks
    with sqlite3.connect(home / "audit.sqlite3") as conn:
        conn.execute("UPDATE rows SET verdict = 'ok' WHERE seq = 1")
    # A reload does not walk the whole chain again (that is what made pages slow)...
    assert "verified" in _chain_cell(client.get("/").get_data(as_text=True))
    assert checks.full_walks == walks
    # ...and the page says when the last full walk ran; "Verify now" runs one.
    page = client.get("/audit/").get_data(as_text=True)
    assert "Last full check" in page and " UTC" in page and 'id="verify-now"' in page
    done = post(client, "/audit/verify", {"back": "/audit/?kind=check"}, "/audit/")
    assert done.headers["Location"] == "/audit/?kind=check"
    page = client.get("/audit/").get_data(as_text=True)
    assert "chain-bad" in page and "row 1 was altered" in _chain_cell(page)
    assert checks.full_walks == walks + 1


def test_rows_written_since_the_last_full_check_are_checked_on_each_load(
    home: Path, no_keyring: None
) -> None:
    _rows(home)
    app, client = signed_in(home)
    checks = app.extensions["tweetguard_chain"]
    client.get("/audit/")
    walks = checks.full_walks
    log = open_audit(home)
    log.append("check", account="WillowbankPri", verdict="ok")
    log.close()
    # False-alarm trap: a new, honest row keeps the chain verified without a walk.
    page = client.get("/audit/").get_data(as_text=True)
    assert "verified" in _chain_cell(page) and checks.full_walks == walks
    assert '<td class="num">6</td>' in page  # the 5 rows and the new one
    log = open_audit(home)
    log.append("check", account="WillowbankPri", verdict="warn")
    log.close()
    with sqlite3.connect(home / "audit.sqlite3") as conn:
        conn.execute("UPDATE rows SET verdict = 'block' WHERE seq = 7")
    page = client.get("/audit/").get_data(as_text=True)
    assert "row 7 was altered" in _chain_cell(page)


def test_the_full_walk_runs_again_after_its_interval(home: Path, no_keyring: None) -> None:
    from tweetguard.console.chain import ChainChecks

    _rows(home)
    clock = [100.0]
    checks = ChainChecks(full_seconds=300, clock=lambda: clock[0])
    assert checks.states(home)[0].ok and checks.full_walks == 1
    with sqlite3.connect(home / "audit.sqlite3") as conn:
        conn.execute("UPDATE rows SET verdict = 'ok' WHERE seq = 1")
    clock[0] += 299
    assert checks.states(home)[0].ok and checks.full_walks == 1
    clock[0] += 2
    (state,) = checks.states(home)
    assert not state.ok and state.problem == "row 1 was altered" and checks.full_walks == 2


def test_a_damaged_source_is_named_and_the_others_still_shown(home: Path, no_keyring: None) -> None:
    from tweetguard.stores.audit import AuditLog

    _rows(home)
    (home / "audit.d").mkdir()
    teacher = AuditLog(home / "audit.d" / "mr-quayle.sqlite3", source="user:mr-quayle")
    teacher.append("check", account="WillowbankPri", verdict="ok", detail={"stage": "posting"})
    teacher.close()
    _, client = signed_in(home)
    with sqlite3.connect(home / "audit.d" / "mr-quayle.sqlite3") as conn:
        conn.execute("UPDATE rows SET detail = '{broken' WHERE seq = 1")
    for url in ("/", "/audit/"):
        page = client.get(url).get_data(as_text=True)
        assert page.count("source-broken") == 1, url
        assert "mr-quayle.sqlite3 has an unreadable row 1" in page
        assert "run `tweetguard audit verify`" in page
        assert "@willowbankpri" in page  # the shared audit's rows are still shown
    refused = client.get("/audit/export?format=csv")
    assert refused.status_code == 409 and "mr-quayle.sqlite3" in refused.get_data(as_text=True)
