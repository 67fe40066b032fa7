"""The console's audit page: filters, the export of exactly the filtered rows,
and a source whose chain is broken said plainly; the overview's counts."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from pathlib import Path

from tests.test_console_support import no_keyring, signed_in
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


def test_an_altered_row_is_named_on_the_audit_page(home: Path, no_keyring: None) -> None:
    _rows(home)
    _, client = signed_in(home)
    assert "verified: no row altered" in client.get("/audit/").get_data(as_text=True)
    with sqlite3.connect(home / "audit.sqlite3") as conn:
        conn.execute("UPDATE rows SET verdict = 'ok' WHERE seq = 1")
    page = client.get("/audit/").get_data(as_text=True)
    assert "chain-bad" in page and "verified: no row altered" not in page
    assert "row 1" in page
