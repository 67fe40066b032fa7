"""Links: shorteners, plain http, and the school's own domains."""

from __future__ import annotations

from tests.conftest import write_policy
from tweetguard.checks.engine import Checker


def findings(checker: Checker, text: str) -> list[tuple[str, str, str | None]]:
    return [
        (f.rule.id, f.severity.label if f.severity else "", f.fix)
        for f in checker.check(text).findings
    ]


def test_shorteners_warn(checker: Checker) -> None:
    assert findings(checker, "Sign-up sheet: https://tinyurl.com/y7abc123") == [
        ("links.shortener", "warn", None)
    ]
    assert findings(checker, "Form: bit.ly/3xYz") == [("links.shortener", "warn", None)]


def test_plain_http_warns_with_an_https_fix(checker: Checker) -> None:
    result = findings(checker, "Menu: http://example.org/menu.pdf")
    assert ("links.insecure", "warn", "https://example.org/menu.pdf") in result
    assert checker.check("Menu: http://example.org/menu.pdf").verdict == "warn"


def test_links_outside_the_school_domains_are_info_only(checker: Checker) -> None:
    text = "Photos: https://www.example.org/gallery"
    assert findings(checker, text) == [("links.external", "info", None)]
    assert checker.check(text).verdict == "allow"
    write_policy(checker.home, '[allow]\ndomains = ["example.org"]\n')
    assert findings(checker, text) == []
    assert findings(checker, "See https://news.example.org/x") == []


def test_link_offsets_cover_the_url(checker: Checker) -> None:
    text = "🎉 Sign up: https://tinyurl.com/abc now"
    (finding,) = checker.check(text).findings_json()
    assert (finding["start"], finding["end"]) == (12, 35)  # UTF-16: the emoji is 2 units
