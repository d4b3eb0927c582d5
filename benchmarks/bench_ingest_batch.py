"""Batch ingest through HTTP (docs/targets.md: ≥ 10,000 records/s, matching and merging included).

    .venv/bin/python benchmarks/bench_ingest_batch.py [--batches N] [--in-flight C] [--workers 1 2]

For each worker count: a fresh PostgreSQL database (and Redis, with more than one worker),
`community-brain migrate`, the 850-entity sample register, department keys from
`community-brain keys create`, and the real server (`community-brain serve`) in a subprocess.
The client — in this process, kept light: every body is serialised to bytes before the clock
starts — pushes arrays of 1,000 police and city records in their native formats with unique ids.
About 30 % of the problems fall within 72 h of an earlier report of the same entity and category,
so they join (merge into) an existing incident; the rest open incidents of their own. Prints
records/s over the timed phase.

This module also holds the harness bench_ingest_single.py uses (BenchServer, RecordFactory).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from service.matching.geo import METRES_PER_DEGREE_LAT, metres_per_degree_lng, wgs84_to_gcj02  # noqa: E402

TARGET_RECORDS_PER_S = 10_000
REGISTRY_CSV = REPO_ROOT / "service" / "demo" / "data" / "registry.csv"
REDIS_URL = os.environ.get("CB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
ADMIN_DSN = os.environ.get("CB_BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
SHANGHAI = ZoneInfo("Asia/Shanghai")
PYTHON = sys.executable


# --- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class BenchServer:
    """A fresh database and the real server on it; ``keys`` maps a source to its department key."""

    workers: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    register: Path = REGISTRY_CSV  # the registry.csv imported before the server starts
    ready_timeout_s: float = 60  # a large register takes a while to index at start on a busy machine
    port: int = field(default_factory=free_port)
    keys: dict[str, str] = field(default_factory=dict)
    database: str = field(default_factory=lambda: f"cb_bench_{uuid.uuid4().hex[:10]}")
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cb-bench-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + self.database

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CB_DATABASE_URL": self.database_url,
            # Several workers run as in production, with Redis telling each the others' events;
            # without it every worker would read all of them back from the ledger.
            "CB_REDIS_URL": REDIS_URL if self.workers > 1 else "",
            "CB_DATA_DIR": str(self.workdir),
            "CB_SECRET_KEY": "bench-secret-key-of-at-least-32-bytes!",
            # The benchmark measures capacity, not the per-department rate policy.
            "CB_INGEST_RATE_PER_KEY": "100000000",
            "CB_INGEST_RATE_PER_IP": "100000000",
            "CB_DEMO_PACE": "0",
            # Records are back-dated to give merging room, so nearly all are overdue: the periodic
            # escalation pass would write thousands of events mid-run. It is not ingest; leave it out.
            "CB_SLA_CHECK_INTERVAL_S": "0",
            **self.extra_env,
        }

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [PYTHON, "-m", "service", *args], env=self.env(), capture_output=True, text=True, check=False, cwd=REPO_ROOT
        )
        if done.returncode != 0:
            raise RuntimeError(f"community-brain {' '.join(args)} failed:\n{done.stderr[-2000:]}")
        return done.stdout

    async def __aenter__(self) -> BenchServer:
        admin = await asyncpg.connect(ADMIN_DSN)
        try:
            await admin.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await admin.close()
        try:
            self.cli("migrate")
            self.cli("registry", "import", str(self.register))
            for source in ("police", "city", "market"):
                created = self.cli("keys", "create", "--role", "department", "--source", source)
                self.keys[source] = created.splitlines()[-1]
            self._start_server()
            await self._wait_ready(self.ready_timeout_s)
        except BaseException:
            await self._stop(keep_log=True)
            raise
        return self

    def _start_server(self) -> None:
        """`community-brain serve` with this many workers; its log goes to server.log in the workdir."""
        command = ["serve", "--port", str(self.port), "--workers", str(self.workers), "--no-migrate"]
        with (self.workdir / "server.log").open("wb") as log:
            self.process = subprocess.Popen(
                [PYTHON, "-m", "service", *command], env=self.env(), stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT
            )

    async def _wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited; see {self.workdir / 'server.log'}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/readyz")).status_code == 200:
                        # Every worker must be up, not just the first to answer.
                        await asyncio.sleep(1.0 if self.workers > 1 else 0.2)
                        return
                await asyncio.sleep(0.2)
        raise RuntimeError("the server did not become ready")

    async def analyze(self) -> None:
        """Refresh the planner's statistics after the seed load: in a running deployment autovacuum
        keeps them current, but it looks about once a minute and this database is seconds old. Without
        them PostgreSQL takes the thousands of incidents just loaded for a handful."""
        connection = await asyncpg.connect(self.database_url.replace("+asyncpg", ""))
        try:
            await connection.execute("ANALYZE")
        finally:
            await connection.close()

    def worker_pids(self) -> list[int]:
        """The uvicorn processes that serve requests (the server itself with one worker)."""
        assert self.process is not None
        if self.workers == 1:
            return [self.process.pid]
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False).stdout
        return [int(pid) for pid in out.split()]

    async def __aexit__(self, *exc: object) -> None:
        await self._stop(keep_log=exc[0] is not None)

    async def _stop(self, keep_log: bool) -> None:
        """Stop the server and drop the database; the work directory goes too unless it is evidence."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        admin = await asyncpg.connect(ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        finally:
            await admin.close()
        if keep_log:
            print(f"server log kept in {self.workdir / 'server.log'}", file=sys.stderr)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    async def ledger_ok(self) -> bool:
        """`community-brain ledger verify`, as an operator would run it after the load."""
        done = await asyncio.to_thread(
            subprocess.run,
            [PYTHON, "-m", "service", "ledger", "verify"],
            env=self.env(),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"      ledger verify: {done.stdout[-1500:]}{done.stderr[-1500:]}")
        return done.returncode == 0

    async def database_pids(self) -> list[int]:
        """The PostgreSQL backends serving this database (same machine): their CPU is ingest's too."""
        conn = await asyncpg.connect(ADMIN_DSN)
        try:
            rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", self.database)
            return [row["pid"] for row in rows]
        finally:
            await conn.close()

    async def count(self, sql: str) -> int:
        conn = await asyncpg.connect(ADMIN_DSN.rsplit("/", 1)[0] + "/" + self.database)
        try:
            value: int = await conn.fetchval(sql)
            return value
        finally:
            await conn.close()


@contextlib.contextmanager
def profiled(pids: list[int], directory: Path | None) -> Iterator[None]:
    """Sample the workers with py-spy while the block runs (``pip install py-spy``; not a dependency)."""
    if directory is None:
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    spies = [
        subprocess.Popen(
            ["py-spy", "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--output",
             str(directory / f"worker-{pid}.txt")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in pids
    ]  # fmt: skip
    time.sleep(1.0)  # let py-spy attach
    try:
        yield
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)
        for spy in spies:
            spy.wait(timeout=30)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (Linux /proc); a process gone counts 0."""
    return sum(_cpu_of(pid) or 0.0 for pid in pids)


def _cpu_of(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent while the block runs: the server's workers, this database's PostgreSQL
    backends (sampled twice a second, so backends that come and go are counted), and this client."""

    def __init__(self, server: BenchServer):
        self.server = server
        self.workers = server.worker_pids()
        self.worker_s = self.database_s = self.client_s = 0.0
        self.each_worker_s: list[float] = []  # keep-alive connections stay with the worker that took them
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def _sample(self, starting: bool = False) -> None:
        for pid in await self.server.database_pids():
            used = _cpu_of(pid)
            if used is None:
                continue
            self._first.setdefault(pid, used if starting else 0.0)  # a backend born during the run: all of it
            self._last[pid] = used

    async def _sample_forever(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            await self._sample()

    async def __aenter__(self) -> CpuMeter:
        await self._sample(starting=True)
        self._each_before = [cpu_seconds([pid]) for pid in self.workers]
        self._client_before = time.process_time()
        self._task = asyncio.create_task(self._sample_forever())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._sample()
        self.each_worker_s = [
            cpu_seconds([pid]) - before for pid, before in zip(self.workers, self._each_before, strict=True)
        ]
        self.worker_s = sum(self.each_worker_s)
        self.client_s = time.process_time() - self._client_before
        self.database_s = sum(self._last[pid] - first for pid, first in self._first.items())


class LockMeter:
    """Ledger lock time over the block, per worker: each worker's cb_ledger_lock_held_seconds, read from
    /metrics on fresh connections until every worker has answered (the workers share one socket)."""

    def __init__(self, server: BenchServer):
        self.server = server
        self.workers = server.worker_pids()
        self.each_worker_s: dict[int, float] = {}

    async def _read(self) -> dict[int, float]:
        held: dict[int, float] = {}

        async def ask(client: httpx.AsyncClient) -> None:
            response = await client.get("/metrics", headers={"Connection": "close"})
            values = dict(line.rsplit(" ", 1) for line in response.text.splitlines() if line and not line[0] == "#")
            held[int(float(values["cb_worker_pid"]))] = float(values["cb_ledger_lock_held_seconds_total"])

        # Several connections at once: one at a time, the worker that answered the last one is the
        # one back in accept() first, and may take every connection.
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(base_url=self.server.url, timeout=5, limits=limits) as client:
            for _ in range(50):
                await asyncio.gather(*(ask(client) for _ in range(16)))
                if len(held) >= self.server.workers:  # worker_pids() may name a helper process too
                    return held
        print(f"      (only {len(held)} of {self.server.workers} workers answered /metrics)")
        return held

    async def __aenter__(self) -> LockMeter:
        self._before = await self._read()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        after = await self._read()
        both = [pid for pid in after if pid in self._before]
        self.each_worker_s = {pid: after[pid] - self._before[pid] for pid in both}


# --- records in the departments' native formats ---------------------------------------------------


@dataclass(frozen=True)
class RegisterEntity:
    id: str
    name: str
    address: str
    lat: float
    lng: float


def load_register(path: Path = REGISTRY_CSV) -> list[RegisterEntity]:
    with path.open(encoding="utf-8-sig") as handle:
        return [
            RegisterEntity(row["entity_id"], row["name"], row["address"], float(row["lat"]), float(row["lng"]))
            for row in csv.DictReader(handle)
            if row["lat"] and row["lng"]
        ]


# unified category → the department codes that report it: (source, code, label)
CODES: dict[str, list[tuple[str, str, str]]] = {
    "order": [("police", "0101", "盗窃"), ("police", "0201", "酗酒滋事"), ("police", "0601", "邻里纠纷")],
    "noise": [("police", "0202", "噪声扰民"), ("city", "06028", "噪声扰民")],
    "traffic": [("police", "0302", "违法停车"), ("city", "09009", "机动车乱停放"), ("city", "09010", "非机动车乱停放")],
    "fire": [("police", "0402", "火灾隐患"), ("city", "09012", "占用消防通道")],
    "price": [("police", "0602", "消费纠纷")],
    "appearance": [("city", "06010", "暴露垃圾"), ("city", "07006", "违规牌匾标识"), ("city", "06036", "乱堆杂物")],
    "street_order": [("city", "09005", "店外经营"), ("city", "09006", "占道经营")],
    "waste": [("city", "06041", "垃圾未分类")],
}
MERGE_WINDOW_HOURS = 72
JOIN_WITHIN_HOURS = 48  # a join follows a report of its pair at most this long before: well inside 72 h
# The stream's clock: 1,000 records cover about 15 hours of the street's life, so most (entity,
# category) pairs have been quiet for 72 h and a new report of them opens an incident of its own.
HOURS_PER_RECORD = 0.015


@dataclass
class Report:
    source: str
    body: dict[str, Any]
    occurred_at: datetime


class RecordFactory:
    """Police calls and city cases in arrival order, with unique ids and times moving forward.

    ``join_share`` of them report a pair (entity, category) reported within the last 48 h, so they
    join that open incident; the others report a pair quiet for longer than the merge window.
    """

    def __init__(self, entities: list[RegisterEntity], seed: int = 7, join_share: float = 0.3, days_back: int = 60):
        self.entities = entities
        self.rng = random.Random(seed)
        self.join_share = join_share
        self.tag = uuid.uuid4().hex[:6].upper()
        self.counter = 0
        self.now = datetime.now(SHANGHAI).replace(microsecond=0)
        self.clock = self.now - timedelta(days=days_back)
        self.last_report: dict[tuple[str, str], datetime] = {}
        self.recent: list[tuple[RegisterEntity, str, datetime]] = []  # reports of the last 48 h, in order
        self.recent_start = 0

    def reports(self, count: int) -> list[Report]:
        return [self.next_report() for _ in range(count)]

    def next_report(self) -> Report:
        rng = self.rng
        self.clock += timedelta(hours=HOURS_PER_RECORD * rng.uniform(0.5, 1.5))
        if self.clock > self.now:
            raise ValueError("more records than the clock has room for: raise days_back")
        while self.recent_start < len(self.recent) and self.clock - self.recent[self.recent_start][2] > timedelta(
            hours=JOIN_WITHIN_HOURS
        ):
            self.recent_start += 1
        if self.recent_start < len(self.recent) and rng.random() < self.join_share:
            entity, category, _ = self.recent[rng.randrange(self.recent_start, len(self.recent))]
        else:
            for _ in range(50):
                entity, category = rng.choice(self.entities), rng.choice(list(CODES))
                last = self.last_report.get((entity.id, category))
                if last is None or self.clock - last > timedelta(hours=MERGE_WINDOW_HOURS + 1):
                    break
        occurred_at = self.clock
        self.last_report[(entity.id, category)] = occurred_at
        self.recent.append((entity, category, occurred_at))
        source, code, label = rng.choice(CODES[category])
        self.counter += 1
        if source == "police":
            return Report(source, self._police(entity, code, label, occurred_at), occurred_at)
        return Report(source, self._city(entity, code, label, occurred_at), occurred_at)

    def _near(self, entity: RegisterEntity, metres: float) -> tuple[float, float]:
        return (
            entity.lat + self.rng.uniform(-metres, metres) / METRES_PER_DEGREE_LAT,
            entity.lng + self.rng.uniform(-metres, metres) / metres_per_degree_lng(entity.lat),
        )

    def _police(self, entity: RegisterEntity, code: str, label: str, at: datetime) -> dict[str, Any]:
        rng = self.rng
        address = rng.choice([entity.address, f"上海市静安区{entity.address}", f"{entity.address}1楼"])
        call: dict[str, Any] = {
            "jjdbh": f"3101{self.tag}{self.counter:010d}",
            "bjsj": at.strftime("%Y-%m-%d %H:%M:%S"),
            "bjtj": rng.choice(["110电话", "网络", "现场"]),
            "bjlbdm": code,
            "bjlb": label,
            "afdz": address,
            "dwmc": entity.name if rng.random() < 0.7 else "",
            "bjnr": f"{label}，请处理",
            "gxdw": "临汾路派出所",
            "jqzt": rng.choice(["待派警", "已派警", "处置中", "已结束"]),
            "bjrdh": f"1{rng.randint(3, 9)}{rng.randint(0, 999_999_999):09d}",
        }
        if rng.random() < 0.5:
            call["wd"], call["jd"] = (round(v, 6) for v in self._near(entity, 15))
        return call

    def _city(self, entity: RegisterEntity, code: str, label: str, at: datetime) -> dict[str, Any]:
        rng = self.rng
        lat, lng = self._near(entity, 10)
        gcj_lng, gcj_lat = wgs84_to_gcj02(lng, lat)
        return {
            "taskId": f"{self.tag}G{self.counter:08d}",
            "infoSource": rng.choice(["监督员上报", "网格巡查", "视频发现", "12345热线"]),
            "categoryCode": code,
            "categoryName": label,
            "description": f"{label}，{entity.name}",
            "address": f"{entity.address}{rng.choice(['门前', '东侧', '附近', ''])}",
            "shopName": entity.name if rng.random() < 0.7 else None,
            "location": {"lng": round(gcj_lng, 6), "lat": round(gcj_lat, 6), "crs": "GCJ-02"},
            "discoverTime": at.isoformat(),
            "deadline": (at + timedelta(days=2)).isoformat(),
            "stage": rng.choice(["已立案", "已派遣", "处置中"]),
            "photos": [f"https://cg.example.gov.cn/photo/{self.counter}.jpg"],
            "gridCode": "310106021008",
            "reporter": "监督员郭艳",
        }


def batches_by_source(reports: list[Report], size: int) -> list[tuple[str, bytes, int]]:
    """(source, JSON body, record count): arrays of up to ``size``, one source each, in arrival order."""
    pending: dict[str, list[dict[str, Any]]] = {"police": [], "city": []}
    out: list[tuple[str, bytes, int]] = []
    for report in reports:
        bucket = pending[report.source]
        bucket.append(report.body)
        if len(bucket) == size:
            out.append((report.source, json.dumps(bucket, ensure_ascii=False).encode(), size))
            pending[report.source] = []
    for source, bucket in pending.items():
        if bucket:
            out.append((source, json.dumps(bucket, ensure_ascii=False).encode(), len(bucket)))
    return out


# --- the client -----------------------------------------------------------------------------------


@dataclass
class Tally:
    records: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    joined: int = 0  # records whose incident had already been named for an earlier record
    incidents: set[int] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    def add(self, results: list[dict[str, Any]]) -> None:
        for result in results:
            self.records += 1
            self.statuses[result["status"]] = self.statuses.get(result["status"], 0) + 1
            incident_id = result["incident_id"]
            if incident_id is not None:
                if incident_id in self.incidents:
                    self.joined += 1
                self.incidents.add(incident_id)


@contextlib.asynccontextmanager
async def http_client(server: BenchServer, connections: int) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=server.url, timeout=300, limits=limits) as client:
        yield client


async def push_batches(
    client: httpx.AsyncClient, server: BenchServer, batches: list[tuple[str, bytes, int]], in_flight: int, tally: Tally
) -> None:
    queue: Iterator[tuple[str, bytes, int]] = iter(batches)
    headers = {
        source: {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        for source, key in server.keys.items()
    }

    async def sender() -> None:
        for source, body, _count in queue:
            response = await client.post(f"/api/v1/feeds/{source}/records", content=body, headers=headers[source])
            if response.status_code != 200:
                tally.errors.append(f"{response.status_code} {response.text[:200]}")
                continue
            tally.add(response.json()["results"])

    await asyncio.gather(*(sender() for _ in range(in_flight)))


async def run_batches(
    workers: int, seed_batches: int, timed_batches: int, in_flight: int, profile_dir: Path | None = None
) -> dict[str, Any]:
    factory = RecordFactory(load_register())
    seed = batches_by_source(factory.reports(seed_batches * 1000), 1000)
    timed = batches_by_source(factory.reports(timed_batches * 1000), 1000)
    async with BenchServer(workers=workers) as server, http_client(server, in_flight) as client:
        warm = Tally()
        await push_batches(client, server, seed, in_flight, warm)  # incidents for the timed phase to join
        await server.analyze()
        tally = Tally()
        tally.incidents = warm.incidents
        meter, lock = CpuMeter(server), LockMeter(server)
        with profiled(meter.workers, profile_dir):
            async with lock, meter:
                started = time.perf_counter()
                await push_batches(client, server, timed, in_flight, tally)
                elapsed = time.perf_counter() - started
        return {
            "workers": workers,
            "records": tally.records,
            "seconds": elapsed,
            "records_per_s": tally.records / elapsed,
            "statuses": tally.statuses,
            "joined_share": tally.joined / max(1, tally.records),
            "errors": tally.errors[:5],
            "server_cpu_s": meter.worker_s,
            "each_worker_cpu_s": meter.each_worker_s,
            "db_cpu_s": meter.database_s,
            "client_cpu_s": meter.client_s,
            "lock_held_s": list(lock.each_worker_s.values()),
            "ledger_ok": await server.ledger_ok(),
            "linked_share": await server.count("SELECT count(*) FROM source_records WHERE entity_id IS NOT NULL")
            / max(1, await server.count("SELECT count(*) FROM source_records")),
        }


def print_run(figures: dict[str, Any]) -> None:
    verdict = "meets" if figures["records_per_s"] >= TARGET_RECORDS_PER_S else "BELOW"
    print(
        f"  {figures['workers']} worker(s): {figures['records_per_s']:,.0f} records/s"
        f"  ({figures['records']:,} records in {figures['seconds']:.1f} s;"
        f" {verdict} the {TARGET_RECORDS_PER_S:,}/s target)"
    )
    print(
        f"      statuses {figures['statuses']}; {figures['joined_share']:.0%} joined an existing incident;"
        f" {figures['linked_share']:.0%} of stored records linked; ledger verify ok: {figures['ledger_ok']}"
    )
    print_cpu(figures)
    for error in figures["errors"]:
        print(f"      error: {error}")


def print_cpu(figures: dict[str, Any]) -> None:
    cpu = figures["server_cpu_s"] + figures["db_cpu_s"] + figures["client_cpu_s"]
    ceiling = (os.cpu_count() or 1) * figures["records"] / max(cpu, 1e-9)
    each = figures["each_worker_cpu_s"]
    split = f" ({' + '.join(f'{s:.1f}' for s in each)})" if len(each) > 1 else ""
    print(
        f"      CPU: server {figures['server_cpu_s']:.1f} s{split} + PostgreSQL {figures['db_cpu_s']:.1f} s"
        f" + client {figures['client_cpu_s']:.1f} s over {figures['seconds']:.1f} s wall on {os.cpu_count()} cores"
        f" = {1000 * cpu / max(1, figures['records']):.2f} ms CPU a record"
        f" (≈ {ceiling:,.0f} records/s if every core did nothing else)"
    )
    held = figures["lock_held_s"]
    per_thousand = 1e6 * sum(held) / max(1, figures["records"])
    split = f" ({' + '.join(f'{s:.2f}' for s in held)} s)" if len(held) > 1 else ""
    print(
        f"      ledger lock held {sum(held):.2f} s{split} = {per_thousand:.1f} ms per 1,000 records"
        f" ({sum(held) / max(figures['seconds'], 1e-9):.0%} of the wall time)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed-batches", type=int, default=10, help="untimed batches that open incidents first")
    parser.add_argument("--batches", type=int, default=40, help="timed batches of 1,000 records")
    parser.add_argument("--in-flight", type=int, help="batches on the wire at once (default: 4 a worker)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--py-spy", type=Path, help="sample the workers with py-spy into this directory")
    args = parser.parse_args()
    print("batch ingest through HTTP: arrays of 1,000 police/city records, PostgreSQL")
    for workers in args.workers:
        in_flight = args.in_flight or 4 * workers
        profile_dir = args.py_spy / f"{workers}-workers" if args.py_spy else None
        print(f"  {in_flight} batches in flight")
        print_run(asyncio.run(run_batches(workers, args.seed_batches, args.batches, in_flight, profile_dir)))


if __name__ == "__main__":
    main()
