"""Links: where they really go, and whether they are safe to send parents to.

Shorteners hide the destination from the teacher and the parent; plain http
can be tampered with on the way; links outside the school's own domains are
worth a second look. Links are found as X finds them, so "example.com" without
a scheme counts too.
"""

from __future__ import annotations

import hashlib
import unicodedata
from urllib.parse import urlsplit

from tweetguard.checks.base import Finding, Post, Rule, Severity
from tweetguard.checks.length import extract_urls
from tweetguard.checks.tokens import vocabulary

SHORTENER = Rule(
    id="links.shortener",
    family="links",
    severity=Severity.WARN,
    message="{host} hides where the link goes. Paste the full link instead.",
    fix_hint="Replace the short link with the full address it leads to.",
    description="Links through URL shorteners (bit.ly, tinyurl.com, ...), hiding the destination.",
)
INSECURE = Rule(
    id="links.insecure",
    family="links",
    severity=Severity.WARN,
    message="This link uses http, which is not secure. Use https if the site supports it.",
    fix_hint="Change http:// to https://.",
    description="Links with plain http.",
)
EXTERNAL = Rule(
    id="links.external",
    family="links",
    severity=Severity.INFO,
    message="{host} is not one of the school's own sites. Check the link is the one you meant.",
    fix_hint="Check the link.",
    description="Links outside the domains the policy lists under [allow] domains.",
)

RULES = (SHORTENER, INSECURE, EXTERNAL)

_SHORTENERS = vocabulary("shorteners")


def check(post: Post) -> list[Finding]:
    findings = []
    allowed = post.policy.allow.domains
    for url in post.urls:
        has_scheme = "://" in url.url
        parts = urlsplit(url.url if has_scheme else f"https://{url.url}")
        host = (parts.hostname or "").removeprefix("www.")
        if not host:
            continue
        params: dict[str, str | int] = {"host": host}
        if host in _SHORTENERS:
            findings.append(Finding(SHORTENER, url.start, url.end, params))
        elif not any(host == d or host.endswith("." + d) for d in allowed):
            findings.append(Finding(EXTERNAL, url.start, url.end, params))
        if has_scheme and parts.scheme.lower() == "http":
            fix = "https" + url.url[len("http") :]
            findings.append(Finding(INSECURE, url.start, url.end, params, fix=fix))
    return findings


def post_fingerprint(text: str) -> str:
    """The SHA-256 by which a post sent through tweetguard is known again in the
    account's timeline (`accounts sweep`), whatever X did to it on the way.

    X keeps text in NFC, trims it, and hands every link back expanded, with a scheme
    the teacher may not have typed; so on both sides each link is written as its host
    (lower case, without "www.") and path, and each run of whitespace as one space.
    A post whose words or links differ is another post, and is checked as one.
    """
    text = unicodedata.normalize("NFC", text)
    for url in sorted(extract_urls(text), key=lambda u: -u.start):
        text = text[: url.start] + _link_key(url.url) + text[url.end :]
    folded = " ".join(text.split())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def _link_key(url: str) -> str:
    parts = urlsplit(url if "://" in url else "http://" + url)
    host = (parts.hostname or "").removeprefix("www.")
    query = "?" + parts.query if parts.query else ""
    return f"<{host}{parts.path.rstrip('/')}{query}>"
