"""A trust's devices against one server process and a real PostgreSQL (issue 11, "Scale").

    .venv/bin/python bench/server_load.py                       # quick: 100 schools x 20
    .venv/bin/python bench/server_load.py --schools 3000 --devices 50 --minutes 6

Everything on loopback, bounded in count (--schools x --devices) and time (--minutes):

1. A throwaway PostgreSQL cluster (initdb in a temp dir, own port; as `nobody` when
   run as root), or --database URL; the schema by `tweetguard.server.db.upgrade`.
2. Seeds one trust, its schools and their enrolled devices straight into the
   tables with COPY (150,000 enrolments through HTTP would measure enrolment, not sync).
3. Starts ONE server process as `tweetguard server run` does (gunicorn, --workers 1).
4. Simulates every device: each polls GET /api/v1/policy with its ETag every
   poll_seconds (the server's own figure, 180 s), at a random phase, so the offered
   rate is devices / poll_seconds (with --rounds, each poll is the helper's whole
   round, GET /status, /policy and /register: three requests); each pushes a
   batch of audit rows (a real hash chain) every --audit-every seconds; a few
   extension devices send checks through POST /api/v1/protocol
   (--checks-per-second). Requests go over a pool of
   --connections keep-alive HTTP/1.1 connections (as a load balancer would hold),
   with a small HTTP client on asyncio streams (no new dependency).
5. After --change-after seconds the trust's policy is changed (through the server's
   own Python API, as the console does; the server hears it by LISTEN/NOTIFY). For
   every device the time from the change to its first poll answered with the new
   version is taken: p50/p99/max over all devices.
6. PostgreSQL's size per million audit rows: --size-rows rows of a realistic shape
   COPYed in, pg_total_relation_size of audit_rows (with indexes) before and after.

7. The honest per-core figure (--cpu-requests N, after the simulation, the server
   still running): bursts of N requests of one kind at a time (a poll answered 304,
   a changed policy fetched whole (200), an audit push of --audit-batch rows), each
   --cpu-repeats times, reading the server's CPU seconds (user + system of the
   gunicorn master and its workers, /proc/PID/stat) and PostgreSQL's before and
   after, less what the server spends idle (measured first over 3 s). CPU seconds
   per request are what a process spends whatever the machine's load (unlike
   requests/s, which other work on shared cores drags down), so the number of
   processes for N devices is arithmetic: printed as `cores_needed`.

Prints requests per second held (and offered), p50/p99 latency per request kind, how
late polls went out (a server that cannot keep up makes the generator fall behind),
CPU seconds used by the server, PostgreSQL and this generator, and the figures above.
All three share this machine's cores: the figures are for all of it on one box.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import heapq
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stats import percentile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "helper"))
from tweetguard.stores.audit.model import format_time, row_hash  # noqa: E402

PG_BIN = Path(os.environ.get("TWEETGUARD_PG_BIN", "/usr/lib/postgresql/15/bin"))
LOOPBACK = "127.0.0.1"


# --- a throwaway PostgreSQL -----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def postgresql(shared_buffers: str) -> Iterator[tuple[str, int]]:
    """A cluster of its own: (URL, postmaster pid); stopped and removed after."""
    folder = Path(tempfile.mkdtemp(prefix="tweetguard-bench-pg-"))
    data = folder / "data"
    port = free_port()
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(folder, "nobody")
        folder.chmod(0o755)
        prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    run = [*prefix, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    subprocess.run([*run, "-E", "UTF8"], check=True, stdout=subprocess.DEVNULL, cwd=folder)
    options = (
        f"-p {port} -k {folder} -c listen_addresses={LOOPBACK} -c max_connections=200 "
        f"-c shared_buffers={shared_buffers} -c synchronous_commit=on -c fsync=on"
    )
    ctl = [*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        [*ctl, "-o", options, "-l", str(folder / "log"), "-w", "start"],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=folder,
    )
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        yield f"postgresql://postgres@{LOOPBACK}:{port}/postgres", pid
    finally:
        subprocess.run(
            [*ctl, "-m", "fast", "-w", "stop"], stdout=subprocess.DEVNULL, check=False, cwd="/"
        )
        shutil.rmtree(folder, ignore_errors=True)


# --- seeding ----------------------------------------------------------------------------


@dataclass
class Device:
    id: str
    school: int
    credential: str
    kind: str
    etag: str = ""
    revision: int = 0
    seq: int = 0
    last_hash: str = ""
    next_audit: float = 0.0
    saw_change: float | None = None


def copy_rows(
    cursor: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed(
    url: str, schools: int, per_school: int, extensions: int
) -> tuple[str, list[str], list[Device]]:
    """One trust, its schools with a policy each, and their devices (COPY)."""
    import psycopg

    at = format_time(datetime.now(UTC))
    trust = "t_" + secrets.token_hex(8)
    school_ids = [f"s_{i:016x}" for i in range(schools)]
    devices: list[Device] = []
    device_rows = []
    for number, school in enumerate(school_ids):
        for d in range(per_school):
            device_id = f"d_{number:08x}{d:08x}"
            secret = secrets.token_urlsafe(24)
            kind = "extension" if d < extensions else "helper"
            devices.append(Device(device_id, number, f"{device_id}.{secret}", kind))
            secret_hash = hashlib.sha256(secret.encode()).hexdigest()
            device_rows.append(
                (device_id, school, kind, f"pc-{number}-{d}", secret_hash, at, "code", False)
            )
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=False) as conn:
        cursor = conn.cursor()
        cursor.execute(
            "INSERT INTO trusts (id, name, created_at) VALUES (%s, %s, %s)",
            (trust, "Bench Valley Learning Trust", at),
        )
        copy_rows(
            cursor,
            "schools",
            ("id", "trust_id", "name", "created_at"),
            [(s, trust, f"Bench School {i}", at) for i, s in enumerate(school_ids)],
        )
        copy_rows(
            cursor,
            "devices",
            (
                "id",
                "school_id",
                "kind",
                "name",
                "secret_hash",
                "enrolled_at",
                "enrolled_with",
                "revoked",
            ),
            device_rows,
        )
        conn.commit()
        cursor.execute("ANALYZE")
    return trust, school_ids, devices


# --- a small HTTP/1.1 client on asyncio streams ---------------------------------------


class Connection:
    """One keep-alive connection; reopened after the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(LOOPBACK, self.port)
            assert self.reader is not None
            lines = [f"{method} {path} HTTP/1.1", f"Host: {LOOPBACK}:{self.port}"]
            lines += [f"{k}: {v}" for k, v in headers.items()]
            if body or method == "POST":
                lines.append(f"Content-Length: {len(body)}")
            self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            try:
                return await self._response()
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _response(self) -> tuple[int, dict[str, str], bytes]:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        else:
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# --- the simulation ---------------------------------------------------------------------


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    late: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    done_at: list[float] = field(default_factory=list)
    answered: int = 0  # every answer, warm-up included (CPU is counted over all of it)


def audit_batch(device: Device, count: int) -> list[dict[str, Any]]:
    """`count` chained rows as a helper's audit would write them (stores/audit/model.py)."""
    rows = []
    at = format_time(datetime.now(UTC))
    for _ in range(count):
        device.seq += 1
        text = f"Year 4 visited the museum, photo {device.seq} from {device.id}"
        fields = {
            "seq": device.seq,
            "at": at,
            "kind": "check",
            "device": device.id,
            "user": "teacher",
            "account": "benchschool",
            "account_id": None,
            "verdict": "ok",
            "rules": [],
            "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "text": None,
            "detail": {"stage": "compose"},
            "outside": False,
        }
        fields["hash"] = row_hash(device.last_hash, fields)
        fields["prev_hash"] = device.last_hash
        device.last_hash = str(fields["hash"])
        rows.append(fields)
    return rows


class Simulation:
    """Every device's schedule, the connection pool and what was measured."""

    def __init__(self, args: argparse.Namespace, port: int, devices: list[Device]) -> None:
        self.args = args
        self.port = port
        self.devices = devices
        self.results = Results()
        self.queue: asyncio.Queue[tuple[str, Device, float]] = asyncio.Queue()
        self.poll_seconds = float(args.poll_seconds)
        self.change_at: float | None = None
        self.new_version: str | None = None
        self.measuring_from = 0.0

    def headers(self, device: Device) -> dict[str, str]:
        return {"Authorization": f"Bearer {device.credential}", "X-Tweetguard-Helper": "bench"}

    async def scheduler(self, until: float) -> None:
        """Hands due work to the connections; polls at each device's own phase."""
        start = time.monotonic()
        heap: list[tuple[float, int, str]] = []
        for index, device in enumerate(self.devices):
            if device.kind != "helper":
                continue  # a Chromebook's extension sends checks; policy and audit are helpers'
            heapq.heappush(heap, (start + random.uniform(0, self.poll_seconds), index, "policy"))
            if self.args.audit_every > 0:
                first = start + random.uniform(0, self.args.audit_every)
                heapq.heappush(heap, (first, index, "audit"))
        extensions = [d for d in self.devices if d.kind == "extension"]
        next_check = start
        while True:
            now = time.monotonic()
            if now >= until:
                return
            while heap and heap[0][0] <= now:
                due, index, kind = heapq.heappop(heap)
                self.queue.put_nowait((kind, self.devices[index], due))
                period = self.poll_seconds if kind == "policy" else self.args.audit_every
                heapq.heappush(heap, (due + period, index, kind))
            if self.args.checks_per_second > 0 and extensions:
                while next_check <= now:
                    self.queue.put_nowait(("check", random.choice(extensions), next_check))
                    next_check += 1 / self.args.checks_per_second
            await asyncio.sleep(0.005)

    async def worker(self, until: float) -> None:
        connection = Connection(self.port)
        try:
            while time.monotonic() < until:
                try:
                    kind, device, due = await asyncio.wait_for(self.queue.get(), 0.5)
                except TimeoutError:
                    continue
                started = time.monotonic()
                try:
                    status = await self.one(connection, kind, device)
                except Exception as exc:  # counted and shown, the run goes on
                    connection.close()
                    self.results.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
                    continue
                finished = time.monotonic()
                self.results.answered += 1
                if started >= self.measuring_from:
                    self.results.latencies[kind].append(finished - started)
                    self.results.statuses[kind][status] += 1
                    self.results.late.append(started - due)
                    self.results.done_at.append(finished)
        finally:
            connection.close()

    async def timed(self, connection: Connection, kind: str, path: str, device: Device) -> bytes:
        started = time.monotonic()
        status, _, body = await connection.request("GET", path, self.headers(device))
        self.results.answered += 1
        if started >= self.measuring_from:
            self.results.latencies[kind].append(time.monotonic() - started)
            self.results.statuses[kind][status] += 1
        return body

    async def one(self, connection: Connection, kind: str, device: Device) -> int:
        headers = self.headers(device)
        if kind == "policy" and self.args.rounds:
            # The helper's real round (sync/rounds.py): status, policy, register.
            await self.timed(connection, "status", "/api/v1/status", device)
        if kind == "policy":
            if device.etag:
                headers["If-None-Match"] = device.etag
            asked = time.monotonic()
            status, answer, body = await connection.request("GET", "/api/v1/policy", headers)
            if status == 200:
                device.etag = answer.get("etag", "")
                version = json.loads(body)["version"]
                if (
                    self.change_at is not None
                    and version == self.new_version
                    and device.saw_change is None
                    and asked >= self.change_at
                ):
                    device.saw_change = time.monotonic() - self.change_at
            if self.args.rounds:
                path = f"/api/v1/register?since={device.revision}"
                answer_body = await self.timed(connection, "register", path, device)
                device.revision = int(json.loads(answer_body).get("revision", 0))
            return status
        if kind == "audit":
            rows = audit_batch(device, self.args.audit_batch)
            body = json.dumps({"source": "shared", "rows": rows}).encode()
            headers["Content-Type"] = "application/json"
            status, _, reply = await connection.request("POST", "/api/v1/audit", headers, body)
            if status != 200:
                self.results.errors.append(f"audit {status}: {reply[:200]!r}")
            return status
        message = {
            "type": "check",
            "id": secrets.token_hex(4),
            "account": "benchschool",
            "text": "Our Year 5 choir sang at the town hall this afternoon.",
        }
        headers["Content-Type"] = "application/json"
        body = json.dumps(message).encode()
        status, _, _ = await connection.request("POST", "/api/v1/protocol", headers, body)
        return status


# --- the server process -----------------------------------------------------------------


def start_server(url: str, home: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "TWEETGUARD_HOME"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    command = [
        sys.executable, "-m", "tweetguard", "--home", str(home), "server", "run",
        "--database", url, "--bind", f"{LOOPBACK}:{port}", "--workers", str(workers),
        "--ws-port", "0",
    ]  # fmt: skip
    with (home / "server.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server stopped at start: see {home / 'server.log'}")
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), 0.2):
            return process
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not listen within 60 s")


def cpu_seconds(pids: list[int], *, with_children: bool = True) -> float:
    """User + system CPU of these processes (and their children) so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        for task in [pid, *(children(pid) if with_children else [])]:
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{task}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                for child in (task / "children").read_text().split():
                    found += [int(child), *children(int(child))]
    return found


# --- the run ----------------------------------------------------------------------------


async def known_versions(port: int, devices: list[Device]) -> None:
    """Every device starts with its school's current version, as after its first sync."""
    by_school: dict[int, Device] = {}
    for device in devices:
        if device.kind == "helper":  # the policy text is for helpers only (403 otherwise)
            by_school.setdefault(device.school, device)
    connection = Connection(port)
    etags: dict[int, str] = {}
    for school, device in by_school.items():
        headers = {"Authorization": f"Bearer {device.credential}", "X-Tweetguard-Helper": "bench"}
        status, answer, body = await connection.request("GET", "/api/v1/policy", headers)
        if status != 200:
            raise SystemExit(f"policy for school {school}: {status} {body[:200]!r}")
        etags[school] = answer["etag"]
    connection.close()
    for device in devices:
        device.etag = etags.get(device.school, "")


async def simulate(args: argparse.Namespace, url: str, trust: str, sim: Simulation) -> float:
    """Runs the devices for --minutes; changes the trust's policy after --change-after s."""
    from tweetguard.server import notify, policies
    from tweetguard.server.db import open_database

    start = time.monotonic()
    until = start + args.minutes * 60
    sim.measuring_from = start + args.warmup
    tasks = [asyncio.create_task(sim.scheduler(until))]
    tasks += [asyncio.create_task(sim.worker(until)) for _ in range(args.connections)]
    await asyncio.sleep(args.change_after)
    db = open_database(url)
    notify.install(db)  # as in a server process: the change is announced by NOTIFY
    stamp = format_time(datetime.now(UTC))
    text = f'[posting]\nsupport_contact = "the trust IT desk ({stamp})"\n'
    locks: list[str] = []
    sim.change_at = time.monotonic()
    version = await asyncio.to_thread(policies.save_trust_layer, db, trust, text, locks, by=None)
    changed_in = time.monotonic() - sim.change_at
    sim.new_version = f"{version}.0"
    notify.hub(db).close()
    db.dispose()
    await asyncio.gather(*tasks)
    return changed_in


# --- CPU per request, from /proc ---------------------------------------------------------

CPU_KINDS = ("poll", "changed", "first_after_change", "audit")


def burst_devices(devices: list[Device], kind: str, count: int) -> list[Device]:
    """`count` helpers at random; for "first_after_change" one per school (each
    school's text is new once)."""
    helpers = [d for d in devices if d.kind == "helper"]
    if kind == "first_after_change":
        helpers = list({d.school: d for d in helpers}.values())
    return random.sample(helpers, min(count, len(helpers)))


async def burst(
    port: int, chosen: list[Device], kind: str, connections: int, batch: int
) -> tuple[int, dict[int, int]]:
    """One request of `kind` per device of `chosen`, as fast as `connections`
    keep-alive connections send them; returns (sent, statuses)."""
    order = iter(chosen)
    statuses: dict[int, int] = defaultdict(int)

    async def one_connection() -> None:
        connection = Connection(port)
        try:
            for device in order:
                headers = {
                    "Authorization": f"Bearer {device.credential}",
                    "X-Tweetguard-Helper": "bench",
                }
                if kind == "audit":
                    body = json.dumps(
                        {"source": "shared", "rows": audit_batch(device, batch)}
                    ).encode()
                    headers["Content-Type"] = "application/json"
                    status, _, _ = await connection.request("POST", "/api/v1/audit", headers, body)
                else:
                    # "poll": the version it has (304); "changed": one it no longer has (200).
                    headers["If-None-Match"] = device.etag if kind == "poll" else '"0.stale"'
                    status, _, _ = await connection.request("GET", "/api/v1/policy", headers)
                statuses[status] += 1
        finally:
            connection.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))
    return sum(statuses.values()), dict(statuses)


def change_policy(url: str, trust: str, port: int, device: Device) -> str:
    """Saves a new trust layer (this process: the server hears it by NOTIFY) and
    waits until the server answers with it, so a burst after it meets no old text."""
    from tweetguard.server import policies
    from tweetguard.server.db import open_database

    db = open_database(url)
    try:
        stamp = format_time(datetime.now(UTC))
        text = f'[posting]\nsupport_contact = "the trust IT desk ({stamp})"\n'
        version = f"{policies.save_trust_layer(db, trust, text, [], by=None)}."
    finally:
        db.dispose()

    async def wait() -> None:
        connection = Connection(port)
        headers = {"Authorization": f"Bearer {device.credential}", "If-None-Match": device.etag}
        try:
            for _ in range(500):
                status, answer, _ = await connection.request("GET", "/api/v1/policy", headers)
                if status == 200 and answer.get("etag", "").startswith(f'"{version}'):
                    return
                await asyncio.sleep(0.01)
            raise SystemExit("the server did not hear the policy change within 5 s")
        finally:
            connection.close()

    asyncio.run(wait())
    return version


def cpu_per_request(
    args: argparse.Namespace,
    port: int,
    devices: list[Device],
    pids: dict[str, list[int]],
    url: str,
    trust: str,
) -> dict[str, Any]:
    """Median CPU milliseconds per request of each kind, server and PostgreSQL.
    "first_after_change" is each school's first fetch after a trust-wide change:
    the effective policy read and rendered for that school (once per school and
    process), then encoded; "changed" is every later device's fetch of it."""

    def cpu() -> dict[str, float]:
        return {n: cpu_seconds(pids[n]) for n in ("server", "postgresql")}

    before, began = cpu(), time.monotonic()
    time.sleep(3.0)  # idle: the listener's wake-ups, the last-seen batch
    idle_seconds = time.monotonic() - began
    idle = {n: (v - before[n]) / idle_seconds for n, v in cpu().items()}
    asyncio.run(known_versions(port, devices))  # every device's current ETag
    found: dict[str, Any] = {"idle_cores": {n: round(v, 3) for n, v in idle.items()}}
    for kind in CPU_KINDS:
        count = args.cpu_requests if kind != "audit" else max(1, args.cpu_requests // 3)
        per: dict[str, list[float]] = defaultdict(list)
        rates: list[float] = []
        statuses: dict[int, int] = defaultdict(int)
        sent = 0
        for _ in range(args.cpu_repeats):
            chosen = burst_devices(devices, kind, count)
            if kind != "audit":
                # As in the steady state, where each device polled within the last
                # interval: its credential is in the server's memory (a first call's
                # lookup is the database's, counted once per device and process).
                asyncio.run(known_versions(port, chosen))
                asyncio.run(burst(port, chosen, "poll", args.connections, args.audit_batch))
            if kind == "first_after_change":
                change_policy(url, trust, port, chosen[0])
            start, began = cpu(), time.monotonic()
            sent, answered = asyncio.run(
                burst(port, chosen, kind, args.connections, args.audit_batch)
            )
            seconds = time.monotonic() - began
            spent = cpu()
            for name in spent:
                used = spent[name] - start[name] - idle[name] * seconds
                per[name].append(max(used, 0.0) / sent * 1000)
            rates.append(sent / seconds)
            for status, n in answered.items():
                statuses[status] += n
        found[kind] = {
            "requests": sent,
            "repeats": args.cpu_repeats,
            "server_cpu_ms": round(percentile(per["server"], 50), 3),
            "server_cpu_ms_each": [round(v, 3) for v in per["server"]],
            "postgresql_cpu_ms": round(percentile(per["postgresql"], 50), 3),
            "requests_per_second_burst": round(percentile(rates, 50), 1),
            "statuses": dict(statuses),
        }
    return found


def cores_needed(
    args: argparse.Namespace, devices: int, measured: dict[str, Any]
) -> dict[str, Any]:
    """Server cores (= processes: one process uses about one core, Python's GIL) and
    PostgreSQL cores for `devices`, from the CPU per request: arithmetic, not a guess.
    Steady: every device polls once per poll_seconds (304); its pushes every
    --audit-every s. After a change, each device's next poll fetches the new text
    (a 200 instead of a 304), all within one poll interval."""
    polls = devices / args.poll_seconds
    pushes = devices / args.audit_every if args.audit_every > 0 else 0.0
    out: dict[str, Any] = {"devices": devices, "polls_per_second": round(polls, 1)}
    out["pushes_per_second"] = round(pushes, 1)
    schools = devices / args.devices
    for name in ("server", "postgresql"):
        key = f"{name}_cpu_ms"
        steady = (polls * measured["poll"][key] + pushes * measured["audit"][key]) / 1000
        changing = steady + polls * (measured["changed"][key] - measured["poll"][key]) / 1000
        out[f"{name}_cores_steady"] = round(steady, 2)
        out[f"{name}_cores_during_a_change"] = round(changing, 2)
        # Each school's text read and rendered once per process after a change.
        out[f"{name}_seconds_per_change_per_process"] = round(
            schools * measured["first_after_change"][key] / 1000, 1
        )
    return out


def audit_size(url: str, count: int) -> tuple[int, int]:
    """Bytes of audit_rows (with indexes and TOAST) before and after COPYing `count` rows."""
    import psycopg

    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE audit_rows")
        before = conn.execute("SELECT pg_total_relation_size('audit_rows')").fetchone()
        row = conn.execute("SELECT id, school_id FROM devices LIMIT 1").fetchone()
        assert before is not None and row is not None
        device_id, school_id = row
        fake = Device(device_id, 0, "", "helper", seq=10_000_000)
        received = format_time(datetime.now(UTC))
        columns = (
            "device_id", "source", "seq", "school_id", "at", "kind", "device", "user",
            "account", "account_id", "verdict", "rules", "text_sha256", "text", "detail",
            "outside", "prev_hash", "hash", "received_at",
        )  # fmt: skip
        with conn.cursor().copy(
            f"COPY audit_rows ({', '.join(f'{c!r}'.replace(chr(39), chr(34)) for c in columns)})"
            " FROM STDIN"
        ) as copy:
            for _ in range(count // 1000):
                for r in audit_batch(fake, 1000):
                    copy.write_row(
                        (
                            device_id, "size-test", r["seq"], school_id, r["at"], r["kind"],
                            r["device"], r["user"], r["account"], r["account_id"], r["verdict"],
                            json.dumps(r["rules"]), r["text_sha256"], r["text"],
                            json.dumps(r["detail"]), r["outside"], r["prev_hash"], r["hash"],
                            received,
                        )
                    )  # fmt: skip
        conn.execute("VACUUM ANALYZE audit_rows")
        after = conn.execute("SELECT pg_total_relation_size('audit_rows')").fetchone()
        assert after is not None
        return int(before[0]), int(after[0])


def report(args: argparse.Namespace, sim: Simulation, seconds: float) -> dict[str, Any]:
    results = sim.results
    total = sum(len(v) for v in results.latencies.values())
    devices = len(sim.devices)
    helpers = sum(1 for d in sim.devices if d.kind == "helper")
    offered = helpers / sim.poll_seconds * (3 if args.rounds else 1)
    if args.audit_every > 0:
        offered += helpers / args.audit_every
    offered += args.checks_per_second
    kinds = {}
    for kind, values in sorted(results.latencies.items()):
        kinds[kind] = {
            "count": len(values),
            "p50_ms": round(percentile(values, 50) * 1000, 1),
            "p99_ms": round(percentile(values, 99) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1),
            "statuses": dict(results.statuses[kind]),
        }
    seen = [d.saw_change for d in sim.devices if d.saw_change is not None]
    change = {
        "devices": helpers,
        "reached": len(seen),
        "p50_s": round(percentile(seen, 50), 1) if seen else None,
        "p99_s": round(percentile(seen, 99), 1) if seen else None,
        "max_s": round(max(seen), 1) if seen else None,
    }
    return {
        "devices": devices,
        "seconds_measured": round(seconds, 1),
        "requests_per_second_offered": round(offered, 1),
        "requests_per_second_held": round(total / seconds, 1) if seconds else 0,
        "late_p50_ms": round(percentile(results.late, 50) * 1000, 1) if results.late else None,
        "late_p99_ms": round(percentile(results.late, 99) * 1000, 1) if results.late else None,
        "errors": len(results.errors),
        "first_errors": results.errors[:5],
        "kinds": kinds,
        "policy_change": change,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schools", type=int, default=100)
    parser.add_argument("--devices", type=int, default=20, help="per school")
    parser.add_argument("--minutes", type=float, default=2.0, help="how long devices run")
    parser.add_argument("--poll-seconds", type=float, default=180.0, help="as the server says")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds not measured")
    parser.add_argument("--change-after", type=float, default=30.0)
    parser.add_argument("--audit-every", type=float, default=900.0, help="s between pushes")
    parser.add_argument("--audit-batch", type=int, default=5, help="rows per push")
    parser.add_argument("--checks-per-second", type=float, default=2.0)
    parser.add_argument("--extensions", type=int, default=1, help="extension devices per school")
    parser.add_argument(
        "--rounds",
        action="store_true",
        help="each poll is the helper's whole round: status, policy, register (3 requests)",
    )
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--size-rows", type=int, default=200_000)
    parser.add_argument(
        "--cpu-requests",
        type=int,
        default=3000,
        help="requests per burst for the CPU per request (audit pushes: a third); 0 skips",
    )
    parser.add_argument("--cpu-repeats", type=int, default=3, help="bursts per kind (median)")
    parser.add_argument("--database", help="postgresql://... (default: a throwaway cluster)")
    parser.add_argument("--shared-buffers", default="512MB")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.schools * args.devices > 200_000 or args.minutes > 30:
        raise SystemExit("bounded: at most 200,000 devices and 30 minutes")
    if args.change_after >= args.minutes * 60:
        raise SystemExit("--change-after must fall inside --minutes")

    with contextlib.ExitStack() as stack:
        if args.database:
            url, pg_pid = args.database, 0
        else:
            url, pg_pid = stack.enter_context(postgresql(args.shared_buffers))
        from tweetguard.server.db import upgrade

        upgrade(url)
        began = time.monotonic()
        trust, _, devices = seed(url, args.schools, args.devices, args.extensions)
        print(f"seeded {args.schools} schools, {len(devices)} devices in "
              f"{time.monotonic() - began:.1f} s", flush=True)  # fmt: skip
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tweetguard-bench-")))
        port = free_port()
        server = start_server(url, home, port, args.workers)
        stack.callback(stop, server)
        asyncio.run(known_versions(port, devices))
        sim = Simulation(args, port, devices)
        pids = {"server": [server.pid], "postgresql": [pg_pid], "bench": [os.getpid()]}

        def cpu_now() -> dict[str, float]:
            # This generator alone: the server it started is its child.
            return {n: cpu_seconds(p, with_children=n != "bench") for n, p in pids.items()}

        cpu_before = cpu_now()
        wall = time.monotonic()
        changed_in = asyncio.run(simulate(args, url, trust, sim))
        wall = time.monotonic() - wall
        cpu = {name: round(spent - cpu_before[name], 1) for name, spent in cpu_now().items()}
        figures = report(args, sim, args.minutes * 60 - args.warmup)
        figures["policy_change"]["save_seconds"] = round(changed_in, 3)
        figures["cpu_seconds"] = cpu
        figures["cpu_share_of_2_cores"] = {k: round(v / (wall * 2), 2) for k, v in cpu.items()}
        answered = sim.results.answered
        figures["cpu_ms_per_request_whole_run"] = {
            k: round(cpu[k] / answered * 1000, 2) for k in ("server", "postgresql") if answered
        }
        figures["load_average"] = os.getloadavg()
        if args.cpu_requests > 0:
            measured = cpu_per_request(args, port, devices, pids, url, trust)
            figures["cpu_per_request"] = measured
            figures["cores_needed"] = {
                str(n): cores_needed(args, n, measured)
                for n in sorted({len(devices), 10_000, 150_000})
            }
            figures["load_average_after"] = os.getloadavg()
        stop(server)
        if args.size_rows > 0:  # 0: polls only, no size measured
            before, after = audit_size(url, args.size_rows)
            per_million = (after - before) / args.size_rows * 1e6
            figures["audit_mb_per_million_rows"] = round(per_million / 2**20)
        print(json.dumps(figures, indent=2))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2) + "\n")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
