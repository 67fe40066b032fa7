"""Checking extension ids before they reach a manifest or a launcher.

A mistyped id is accepted by every browser's manifest parser and then simply never
matches, so the helper answers `forbidden_origin` (Chromium) or is never started
(Firefox) with nothing saying why. Refusing it at install time names the mistake
while the person who made it is still at the keyboard.
"""

from __future__ import annotations

import re

# Chromium derives an id from the SHA-256 of the extension's public key: 32 hex digits
# written with the letters a-p (0 -> a ... 15 -> p).
_CHROME_ID = re.compile(r"[a-p]{32}")
_CHROME_ORIGIN = re.compile(r"chrome-extension://([a-p]{32})/?")
# Firefox (gecko ids, as addons.mozilla.org and the add-ons linter accept them):
# an email-like `name@domain` or a GUID in braces.
_FIREFOX_EMAIL = re.compile(r"[A-Za-z0-9._-]*@[A-Za-z0-9._-]+")
_FIREFOX_GUID = re.compile(
    r"\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}"
)
_FIREFOX_MAX = 80


def check_chrome_id(value: str) -> str:
    """The bare 32-letter id (a `chrome-extension://ID/` origin is accepted too)."""
    text = value.strip()
    if match := _CHROME_ORIGIN.fullmatch(text):
        return match.group(1)
    if _CHROME_ID.fullmatch(text):
        return text
    raise ValueError(
        f"{value!r} is not a Chromium extension id: it must be 32 letters a-p "
        "(copy it from chrome://extensions in developer mode, or from extension/build.py)"
    )


def check_firefox_id(value: str) -> str:
    text = value.strip()
    if len(text) <= _FIREFOX_MAX and (
        _FIREFOX_EMAIL.fullmatch(text) or _FIREFOX_GUID.fullmatch(text)
    ):
        return text
    raise ValueError(
        f"{value!r} is not a Firefox add-on id: it must be name@domain or a {{GUID}} "
        "(the browser_specific_settings.gecko.id of the add-on's manifest.json)"
    )
