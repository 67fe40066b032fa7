"""A local HTTPS stand-in for x.com and twitter.com.

Chromium resolves x.com to this server (--host-resolver-rules), so the real
extension's content scripts match as they would on X. The server records every
CreateTweet request: a test knows a post went out because the server saw it. It
also keeps every media upload, so a test can look at the very bytes X would publish.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SITE = Path(__file__).parent / "site"
# X's posting calls (/i/api/graphql/<queryId>/<operation>) the fixture answers and records.
POSTING = {"CreateTweet", "CreateScheduledTweet", "CreateDraftTweet", "CreateRetweet"}
HOSTS = ["x.com", "*.x.com", "twitter.com", "*.twitter.com"]
USER_ID = "1450000000000000001"  # above 2**53 on purpose: ids must travel as strings
COOKIES = {
    "auth_token": ("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "HttpOnly; "),
    "ct0": ("f00dfeedcafe", ""),
    "twid": (f"u%3D{USER_ID}", ""),
}


def make_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(h) for h in HOSTS]
                + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class FixtureSite:
    port: int
    posts: list[dict[str, Any]] = field(default_factory=list)
    # CreateRetweet calls: {"tweet_id", "host"}; scheduled posts and drafts are in
    # `posts` with their "operation".
    reposts: list[dict[str, Any]] = field(default_factory=list)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None
    posted: threading.Condition = field(default_factory=threading.Condition)

    def wait_for_posts(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        with self.posted:
            self.posted.wait_for(lambda: len(self.posts) >= count, timeout)
            return list(self.posts)

    def wait_for_reposts(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        with self.posted:
            self.posted.wait_for(lambda: len(self.reposts) >= count, timeout)
            return list(self.reposts)

    def close(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def start(directory: Path) -> FixtureSite:
    cert, key = make_certificate(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    site = FixtureSite(port=0)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path.startswith("/fixture/"):
                asset = SITE / path.removeprefix("/fixture/")
                if asset.is_file() and asset.parent == SITE:
                    kind = "text/javascript" if asset.suffix == ".js" else "text/css"
                    return self._send(200, asset.read_bytes(), kind)
                return self._send(404, b"not found", "text/plain")
            if path == "/favicon.ico":
                return self._send(404, b"", "text/plain")
            # Signed-in cookies come with every page but the login flow, as after a login.
            signed_in = not path.startswith("/i/flow/")
            # /unknown: an X page with a composer the selectors do not know (network guard).
            name = "unknown.html" if path.startswith("/unknown") else "index.html"
            page = (SITE / name).read_bytes()
            self._send(200, page, "text/html; charset=utf-8", cookies=signed_in)

        def do_POST(self) -> None:
            if self.path.startswith("/i/media/upload.json"):
                return self._upload()
            operation = self.path.split("?")[0].rsplit("/", 1)[-1]
            if operation not in POSTING:
                return self._send(404, b"{}", "application/json")
            length = int(self.headers.get("content-length", "0"))
            body = json.loads(self.rfile.read(length))
            cookie = self.headers.get("cookie", "")
            if (
                f"ct0={COOKIES['ct0'][0]}" not in cookie
                or self.headers.get("x-csrf-token") != COOKIES["ct0"][0]
            ):
                return self._send(403, b'{"errors":[{"message":"csrf"}]}', "application/json")
            variables = body["variables"]
            if operation == "CreateRetweet":
                with site.posted:
                    site.reposts.append(
                        {"tweet_id": variables["tweet_id"], "host": self.headers.get("host")}
                    )
                    site.posted.notify_all()
                return self._send(200, b'{"data":{"create_retweet":{}}}', "application/json")
            # X nests a scheduled post's or draft's request in post_tweet_request.
            request = variables.get("post_tweet_request") or variables
            entities = (request.get("media") or {}).get("media_entities") or []
            with site.posted:
                site.posts.append(
                    {
                        "text": request.get("tweet_text", request.get("status")),
                        "host": self.headers.get("host"),
                        "media": [site.uploads[e["media_id"]] for e in entities],
                        "operation": operation,
                        "poll": request.get("poll"),
                    }
                )
                site.posted.notify_all()
            self._send(200, b'{"data":{"create_tweet":{}}}', "application/json")

        def _upload(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            data = self.rfile.read(length)
            query = parse_qs(urlsplit(self.path).query)
            with site.posted:
                media_id = str(len(site.uploads) + 1)
                site.uploads[media_id] = {
                    "name": query.get("name", [""])[0],
                    "mime": self.headers.get("content-type", ""),
                    "data": data,
                }
            body = json.dumps({"media_id_string": media_id}).encode()
            self._send(200, body, "application/json")

        def _send(self, status: int, body: bytes, kind: str, cookies: bool = False) -> None:
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.send_header("cache-control", "no-store")
            if cookies:
                for name, (value, flags) in COOKIES.items():
                    self.send_header(
                        "set-cookie",
                        f"{name}={value}; Path=/; Secure; {flags}SameSite=Lax; Max-Age=86400",
                    )
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )
    site.server = server
    site.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return site
