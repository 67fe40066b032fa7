"""Force-installing the built extension the way a school does: a CRX3 signed with
a key of the test's own, served with its update manifest on loopback, and a
managed policy file in /etc/chromium/policies/managed that names it.

Used by tests/e2e/test_forced_install.py only (root only: the policy folder is
the machine's).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import ROOT, run_cli
from tests.e2e import browser, fixture_server
from tests.e2e.conftest import NO_KEYRING

POLICY_ROOT = Path("/etc/chromium/policies")
MANAGED = POLICY_ROOT / "managed"


def _extension_build() -> Any:
    import sys

    sys.path.insert(0, str(ROOT / "extension"))
    try:
        import build as extension_build  # extension/build.py
    finally:
        sys.path.pop(0)
    return extension_build


def make_key(directory: Path) -> tuple[Path, str]:
    """A throwaway RSA key (PKCS#8 PEM) and the extension id it gives a CRX."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = directory / "throwaway-key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return path, str(_extension_build().extension_id(der))


def pack(unpacked: Path, key: Path, crx: Path) -> Path:
    """extension/build.py's packer: Chromium's --pack-extension, manifest key left out."""
    result: Path = _extension_build().pack_crx(unpacked, key, crx, chromium=browser.CHROMIUM)
    return result


@dataclass
class Signed:
    """The built extension and the CRX3 packed from it with a key of the test's own."""

    unpacked: Path
    version: str
    key: Path
    extension_id: str
    crx: Path


def signed_build(folder: Path) -> Signed:
    built = browser.build_extension(folder / "extension")
    version = json.loads((built / "manifest.json").read_text())["version"]
    key, extension_id = make_key(folder)
    return Signed(built, version, key, extension_id, pack(built, key, folder / "tweetguard.crx"))


def school_home(home: Path) -> None:
    """The fixture site's account approved, and the teacher kept signed in after a post
    (so one browser can post more than once)."""
    result = run_cli(
        home, "accounts", "add", "OakfieldPrimary", "--user-id", fixture_server.USER_ID
    )
    assert result.returncode == 0, result.stderr.decode()
    policy_toml = home / "policy.toml"
    policy_toml.write_text(policy_toml.read_text() + "\n[posting]\nlogout_after_post = false\n")


def browser_env() -> dict[str, str]:
    """The browser's environment, which its helper inherits: no real keyring, and no
    TWEETGUARD_HOME (the launcher names the data folder, as on a school machine)."""
    env = {**os.environ, **NO_KEYRING}
    env.pop("TWEETGUARD_HOME", None)
    return env


@dataclass
class UpdateServer:
    """Serves /update.xml (the gupdate manifest) and /tweetguard.crx on 127.0.0.1."""

    extension_id: str
    version: str
    crx: bytes
    port: int = 0
    served: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def update_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/update.xml"

    def update_xml(self) -> bytes:
        return (
            "<?xml version='1.0' encoding='UTF-8'?>\n"
            "<gupdate xmlns='http://www.google.com/update2/response' protocol='2.0'>\n"
            f"  <app appid='{self.extension_id}'>\n"
            f"    <updatecheck codebase='http://127.0.0.1:{self.port}/tweetguard.crx'"
            f" version='{self.version}' />\n"
            "  </app>\n"
            "</gupdate>\n"
        ).encode()

    def close(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def serve(extension_id: str, version: str, crx: Path) -> UpdateServer:
    updates = UpdateServer(extension_id, version, crx.read_bytes())

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/update.xml":
                body, kind = updates.update_xml(), "text/xml"
            elif path == "/tweetguard.crx":
                body, kind = updates.crx, "application/x-chrome-extension"
            else:
                self.send_response(404)
                self.end_headers()
                return
            updates.served.append(path)
            self.send_response(200)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    updates.server = server
    updates.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return updates


def snapshot(root: Path = POLICY_ROOT) -> dict[str, bytes | None] | None:
    """Every path under `root` with its bytes (None for a folder); None if no root."""
    if not root.exists():
        return None
    tree: dict[str, bytes | None] = {".": None}
    for path in sorted(root.rglob("*")):
        tree[str(path.relative_to(root))] = path.read_bytes() if path.is_file() else None
    return tree


@contextmanager
def managed_policy(name: str, policy: dict[str, Any], folder: Path = MANAGED) -> Iterator[Path]:
    """Writes folder/name for the `with` block only, then removes it and any folder
    made for it, also when writing fails half-way. Never overwrites a file that is
    there already (another run's), so it never removes one it did not write."""
    made: list[Path] = []
    written: Path | None = None
    try:
        missing = [p for p in (folder, *folder.parents) if not p.exists()]
        for directory in reversed(missing):
            directory.mkdir(mode=0o755)
            made.append(directory)
        path = folder / name
        with open(path, "x", encoding="utf-8") as out:  # "x": never someone else's file
            written = path
            json.dump(policy, out, indent=2)
        path.chmod(0o644)
        yield path
    finally:
        if written is not None:
            written.unlink(missing_ok=True)
        for directory in reversed(made):
            # Something else put a file there meanwhile: leave the folder.
            with suppress(OSError):
                directory.rmdir()


def launch_forced(
    playwright: Any,
    profile: Path,
    port: int,
    env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
) -> Any:
    """Chromium on the fixture site with no --load-extension: what it runs comes from
    policy. Playwright's --disable-extensions and --disable-background-networking
    are left out, or Chromium never fetches the force-installed CRX."""
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=browser.CHROMIUM,
        headless=False,
        ignore_default_args=["--disable-extensions", "--disable-background-networking"],
        args=[
            "--headless=new",
            f"--host-resolver-rules=MAP x.com 127.0.0.1:{port},"
            f"MAP twitter.com 127.0.0.1:{port},MAP *.x.com 127.0.0.1:{port}",
            "--ignore-certificate-errors",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            *extra_args,
        ],
        viewport={"width": 1000, "height": 700},
        env=env,
    )


def installed_extensions(page: Any) -> list[dict[str, Any]]:
    """chrome://extensions-internals: Chromium's own account of what is installed
    and how (DevTools may not attach to a policy-installed extension, so this is
    where a test reads it)."""
    page.goto("chrome://extensions-internals")
    result: list[dict[str, Any]] = json.loads(page.locator("pre").inner_text())
    return result
