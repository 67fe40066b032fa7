"""The names shared by the extension, the host manifests and the docs agree."""

from __future__ import annotations

import base64
import hashlib
import json
import re

from tests.conftest import ROOT
from tweetguard import __version__, identity
from tweetguard.protocol.errors import ErrorCode
from tweetguard.protocol.messages import REQUEST_TYPES

MANIFEST = json.loads((ROOT / "extension" / "manifest.json").read_text())


def test_extension_id_is_derived_from_the_manifest_key() -> None:
    der = base64.b64decode(MANIFEST["key"])
    digest = hashlib.sha256(der).hexdigest()[:32]
    assert "".join(chr(ord("a") + int(c, 16)) for c in digest) == identity.CHROME_EXTENSION_ID


def test_versions_match() -> None:
    assert MANIFEST["version"] == __version__


def test_manifest_has_no_test_only_permissions() -> None:
    assert MANIFEST["permissions"] == [
        "nativeMessaging",
        "storage",
        "browsingData",
        "idle",
        "alarms",
        # The network guard: static rules, reading posting requests' bodies, and
        # cancelling them where policy grants blocking (force-installed only).
        "declarativeNetRequest",
        "webRequest",
        "webRequestBlocking",
    ]
    # Hosts: X's own, nothing else (no loopback, no test server).
    assert MANIFEST["host_permissions"] == [
        "https://x.com/*",
        "https://*.x.com/*",
        "https://twitter.com/*",
        "https://*.twitter.com/*",
    ]
    for script in MANIFEST["content_scripts"]:
        assert all(re.match(r"^https://(\*\.)?(x|twitter)\.com/\*$", m) for m in script["matches"])


def test_extension_and_helper_agree_on_the_host_name() -> None:
    client = (ROOT / "extension" / "src" / "helper-client.js").read_text()
    assert f"'{identity.HOST_NAME}'" in client


def test_protocol_doc_lists_every_type_and_error() -> None:
    doc = (ROOT / "docs" / "protocol.md").read_text()
    for kind in REQUEST_TYPES:
        assert f"`{kind}`" in doc
    for code in ErrorCode:
        assert f"`{code.code}`" in doc, code.code
        assert code.default_message in doc, code.code
    assert "`helper_unavailable`" in doc  # made by the extension, not the helper
    assert identity.CHROME_EXTENSION_ID in doc
