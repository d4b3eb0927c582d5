"""Single-record ingest through HTTP (docs/targets.md: ≥ 1,500 records/s at 32 concurrent clients, p99 ≤ 60 ms).

    .venv/bin/python benchmarks/bench_ingest_single.py [--clients 32] [--seconds 20] [--workers 1 2]

The same setup as bench_ingest_batch.py (fresh PostgreSQL database, migrate, the 850-entity
register, department keys, the real server in a subprocess), then 32 clients each POST one police
call or city case at a time, in its native format, for ~20 s. About 30 % of the records join an
open incident. Prints records/s and the p50/p99 latency seen by the clients.

The clients share this process with nothing else and are kept light: each holds one keep-alive
connection and writes requests prepared as bytes before the clock starts (``--client httpx``
uses httpx instead, which costs the machine more CPU per request than the server's share).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from bench_ingest_batch import (
    BenchServer,
    CpuMeter,
    LockMeter,
    RecordFactory,
    Tally,
    batches_by_source,
    http_client,
    load_register,
    print_cpu,
    profiled,
    push_batches,
)

TARGET_RECORDS_PER_S = 1500
TARGET_P99_MS = 60


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, status_code: int, body: bytes, latency: float) -> None:
        self.latencies.append(latency)
        if status_code != 200:
            self.errors.append(f"{status_code} {body[:200]!r}")
            return
        result: dict[str, Any] = json.loads(body)["results"][0]
        self.statuses[result["status"]] = self.statuses.get(result["status"], 0) + 1


def raw_request(server: BenchServer, source: str, body: bytes) -> bytes:
    """A whole HTTP/1.1 request as bytes: written in one call, nothing built while timing."""
    head = (
        f"POST /api/v1/feeds/{source}/records HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {server.keys[source]}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def raw_client(server: BenchServer, requests: Iterator[bytes], deadline: float, outcome: Outcome) -> None:
    """One keep-alive connection, one request at a time, until the deadline."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        for request in requests:
            if time.perf_counter() >= deadline:
                return
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status_code = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            outcome.add(status_code, body, time.perf_counter() - started)
    finally:
        writer.close()


async def httpx_client(
    client: httpx.AsyncClient,
    server: BenchServer,
    requests: Iterator[tuple[str, bytes]],
    deadline: float,
    outcome: Outcome,
) -> None:
    headers = {
        source: {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        for source, key in server.keys.items()
    }
    for source, body in requests:
        if time.perf_counter() >= deadline:
            return
        started = time.perf_counter()
        response = await client.post(f"/api/v1/feeds/{source}/records", content=body, headers=headers[source])
        outcome.add(response.status_code, response.content, time.perf_counter() - started)


async def run_single(
    workers: int, clients: int, seconds: float, client_kind: str, profile_dir: Path | None
) -> dict[str, Any]:
    factory = RecordFactory(load_register())
    seed = batches_by_source(factory.reports(5000), 1000)
    # More records than the clients can send: they stop at the deadline, not when these run out.
    singles = [(r.source, json.dumps(r.body, ensure_ascii=False).encode()) for r in factory.reports(60_000)]
    async with BenchServer(workers=workers) as server:
        async with http_client(server, 4) as client:
            await push_batches(client, server, seed, 4, Tally())  # open incidents to join
        await server.analyze()
        raw = iter([raw_request(server, source, body) for source, body in singles])
        plain = iter(singles)
        outcome = Outcome()
        meter, lock = CpuMeter(server), LockMeter(server)
        with profiled(meter.workers, profile_dir):
            async with lock, meter, http_client(server, clients) as client:
                started = time.perf_counter()
                deadline = started + seconds
                if client_kind == "raw":
                    await asyncio.gather(*(raw_client(server, raw, deadline, outcome) for _ in range(clients)))
                else:
                    await asyncio.gather(
                        *(httpx_client(client, server, plain, deadline, outcome) for _ in range(clients))
                    )
                elapsed = time.perf_counter() - started
        latencies = sorted(outcome.latencies)
        return {
            "workers": workers,
            "clients": clients,
            "records": sum(outcome.statuses.values()),
            "seconds": elapsed,
            "records_per_s": sum(outcome.statuses.values()) / elapsed,
            "p50_ms": 1000 * percentile(latencies, 0.50),
            "p99_ms": 1000 * percentile(latencies, 0.99),
            "statuses": outcome.statuses,
            "errors": outcome.errors[:5],
            "error_count": len(outcome.errors),
            "server_cpu_s": meter.worker_s,
            "each_worker_cpu_s": meter.each_worker_s,
            "db_cpu_s": meter.database_s,
            "client_cpu_s": meter.client_s,
            "lock_held_s": list(lock.each_worker_s.values()),
            "ledger_ok": await server.ledger_ok(),
        }


def percentile(ordered: list[float], share: float) -> float:
    """The value below which ``share`` of the (sorted) values lie; NaN for none."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def print_run(figures: dict[str, Any]) -> None:
    met = figures["records_per_s"] >= TARGET_RECORDS_PER_S and figures["p99_ms"] <= TARGET_P99_MS
    verdict = "meets" if met else "BELOW"
    print(
        f"  {figures['workers']} worker(s), {figures['clients']} clients: {figures['records_per_s']:,.0f} records/s,"
        f" latency p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms"
        f"  ({figures['records']:,} records in {figures['seconds']:.1f} s;"
        f" {verdict} the target of {TARGET_RECORDS_PER_S:,}/s with p99 ≤ {TARGET_P99_MS} ms)"
    )
    print(
        f"      statuses {figures['statuses']}; {figures['error_count']} errors;"
        f" ledger verify ok: {figures['ledger_ok']}"
    )
    print_cpu(figures)
    for error in figures["errors"]:
        print(f"      error: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw")
    parser.add_argument("--py-spy", type=Path, help="sample the workers with py-spy into this directory")
    args = parser.parse_args()
    print(f"single-record ingest through HTTP: {args.clients} clients, one record a request, PostgreSQL")
    for workers in args.workers:
        profile_dir = args.py_spy / f"{workers}-workers" if args.py_spy else None
        print_run(asyncio.run(run_single(workers, args.clients, args.seconds, args.client, profile_dir)))


if __name__ == "__main__":
    main()
