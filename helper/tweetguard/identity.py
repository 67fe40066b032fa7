"""Names the browser and the helper use to find each other.

They live in one place because the extension manifest, the host manifests, the
host's origin check and the installers must all agree on them.
"""

HOST_NAME = "org.tweetguard.helper"
HOST_DESCRIPTION = "tweetguard safety helper for school X/Twitter accounts"

# Fixed by the public `key` in extension/manifest.json (see docs/protocol.md);
# tests/test_identity.py recomputes it from the key so the two cannot drift.
CHROME_EXTENSION_ID = "kcenecofiljhmpdkjpenlicjgmahkgic"
CHROME_ORIGIN = f"chrome-extension://{CHROME_EXTENSION_ID}/"

# Firefox identifies add-ons by the id in browser_specific_settings.gecko.id.
FIREFOX_ADDON_ID = "tweetguard@tweetguard.org"


def chrome_origin(extension_id: str) -> str:
    return f"chrome-extension://{extension_id}/"
