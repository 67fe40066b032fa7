"""Where the data folder's secrets live: the OS keyring, or 0600 files without one.

The device credential for the school's server, the console's session key and X
API credentials are kept there. A keyring that exists but fails (locked, no
D-Bus session) stops those features, so it is a failure; no keyring at all is a
documented choice (stores/secrets.py) and only a warning.
"""

from __future__ import annotations

from tweetguard.doctor.model import Check, Context, Result, fail, ok, warn
from tweetguard.stores.secrets import SecretsError, secret_store


def checks(ctx: Context) -> list[Check]:
    return [Check("keyring.backend", "Keyring", backend)]


def backend(ctx: Context) -> Result | None:
    if not ctx.home.is_dir():
        return None  # data.folder said it
    try:
        store = secret_store(ctx.home)
    except SecretsError as exc:
        return fail(
            f"the OS keyring cannot be used: {exc}",
            "unlock the keyring (sign in to the desktop), or set "
            "PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring to keep secrets in files",
        )
    if store.kind == "keyring":
        return ok(f"secrets are kept in {store.describe()}")
    return warn(
        f"secrets are kept in {store.describe()}",
        "fine on a shared or headless machine; for the keyring, install one "
        "(gnome-keyring, KWallet) and run the helper in a desktop session",
    )
