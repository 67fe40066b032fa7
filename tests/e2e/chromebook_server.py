"""The school's server for tests/e2e/test_chromebook.py, in a process of its own so
the test can stop it for real (every socket gone, as when a server goes down).

`python -m tests.e2e.chromebook_server DATABASE_URL DATA_DIR CERT KEY` serves the
server app over HTTPS on a free loopback port (werkzeug's threaded server with
TLS: the app is the real one; `tweetguard server run` puts gunicorn in front of the
same app) and the device WebSocket beside it (`start_ws`, as the server runs it),
then prints `ready HTTPS_PORT WS_PORT` and serves until it is killed; the
WebSocket's log (a device connecting) follows on stdout, one line each.
"""

from __future__ import annotations

import logging
import ssl
import sys
from pathlib import Path

from werkzeug.serving import make_server

from tweetguard.server.api.ws import start_ws
from tweetguard.server.app import create_server_app


def main(database_url: str, data_dir: str, cert: str, key: str) -> None:
    feed = logging.StreamHandler(sys.stdout)
    feed.setFormatter(logging.Formatter("%(message)s"))
    ws_log = logging.getLogger("tweetguard.server.ws")
    ws_log.addHandler(feed)
    ws_log.setLevel(logging.INFO)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    app = create_server_app(database_url, data_dir=Path(data_dir))
    ws = start_ws(app, "127.0.0.1", 0, context)
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
    print(f"ready {server.server_port} {ws.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:5])
