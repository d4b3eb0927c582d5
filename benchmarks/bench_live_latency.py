"""Commit → wall screen latency with 500 connected clients (docs/targets.md: p99 ≤ 100 ms).

    .venv/bin/python benchmarks/bench_live_latency.py [--clients 500] [--rate 20] [--seconds 20]

PostgreSQL + Redis, the live stream in 2 uvicorn workers; the clients spread over both by the
kernel. A writer commits one incident (one ledger event) per transaction at a steady rate
through one HTTP connection, so about half of the events reach half of the clients through the
other worker, i.e. through Redis. Latency per delivered message = arrival time at the client −
the event's `at`, which is stamped inside the transaction just before its commit: an upper
bound of commit → client.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx
from bench_live_harness import (
    StreamClient,
    bench_database,
    display_key,
    event_time,
    live_servers,
    open_clients,
    percentile,
    raise_open_files_limit,
    wait_for,
    write_events,
    ws_ticket,
)

TARGET_P99_MS = 100.0


async def run(clients: int, rate: float, seconds: float, workers: int) -> bool:
    raise_open_files_limit(4 * clients + 1000)
    latencies: list[float] = []

    def on_message(_client: StreamClient, payload: bytes, now: float) -> None:
        if payload.startswith(b'{"type":"event"'):
            at = event_time(payload)
            if at is not None:
                latencies.append(now - at)

    async with bench_database() as database_url, live_servers(database_url, workers) as server:
        key = await display_key(database_url)
        ticket = await ws_ticket(server.address, key)
        connected = await open_clients(server.address, {"ticket": ticket}, clients, on_message)
        print(f"{len(connected)} clients connected to {workers} workers")
        async with httpx.AsyncClient(base_url=f"http://{server.address}", timeout=30) as http:
            await write_events(http, 5)  # warm up both paths
            await asyncio.sleep(1)
            latencies.clear()
            started, written, head = time.monotonic(), 0, 0
            while time.monotonic() - started < seconds:
                head = (await write_events(http, 1))[-1]
                written += 1
                next_at = started + written / rate
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await wait_for(lambda: all(c.last_seq == head for c in connected), within=10)
        behind = sum(1 for c in connected if c.last_seq != head)
        disorder = sum(c.out_of_order for c in connected)
        closed = sum(1 for c in connected if c.closed.done())
        for client in connected:
            client.close()

    ms = [value * 1000 for value in latencies]
    p99 = percentile(ms, 0.99)
    print(f"events written: {written} at {rate:g}/s for {seconds:g} s; messages measured: {len(ms)}")
    print(
        f"commit → client latency: p50 {percentile(ms, 0.5):.1f} ms, p95 {percentile(ms, 0.95):.1f} ms, "
        f"p99 {p99:.1f} ms, max {max(ms):.1f} ms"
    )
    print(f"clients behind at the end: {behind}; out-of-order or duplicate events: {disorder}; closed: {closed}")
    ok = p99 <= TARGET_P99_MS and behind == 0 and disorder == 0 and closed == 0
    print(f"target p99 ≤ {TARGET_P99_MS:g} ms with {clients} clients: {'MET' if ok else 'NOT MET'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--rate", type=float, default=20.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(run(args.clients, args.rate, args.seconds, args.workers))


if __name__ == "__main__":
    main()
