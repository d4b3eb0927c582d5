"""One worker with 1,000 idle WebSockets: resident memory (docs/targets.md: ≤ 250 MB RSS).

    .venv/bin/python benchmarks/bench_live_idle_rss.py [--clients 1000] [--incidents 200]

PostgreSQL + Redis, the live stream in ONE uvicorn worker, `--incidents` open incidents so each
client's snapshot is realistic, and `--events` events already delivered (the hub's memory of
recent messages for resuming clients is full). Measures the worker's RSS after start-up, then with all clients
connected (each got its snapshot and sits idle), then after a round of pings.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx
from bench_live_harness import (
    bench_database,
    display_key,
    live_servers,
    open_clients,
    raise_open_files_limit,
    rss_mb,
    write_events,
    ws_ticket,
)

TARGET_MB = 250.0


async def run(clients: int, incidents: int, events: int) -> bool:
    raise_open_files_limit(4 * clients + 1000)
    async with bench_database() as database_url, live_servers(database_url, 1, CB_WS_PING_AFTER_S="3") as server:
        assert server.process is not None
        pid = server.process.pid
        async with httpx.AsyncClient(base_url=f"http://{server.address}", timeout=60) as http:
            for _ in range(incidents // 100):
                await write_events(http, 100, 100)
            # A busy past: the hub's memory of recent messages (served to resuming clients) is full.
            for _ in range(events // 500):
                answer = await http.post("/_test/events", json={"count": 500, "per_transaction": 100, "touch": True})
                answer.raise_for_status()
        key = await display_key(database_url)
        ticket = await ws_ticket(server.address, key)
        await asyncio.sleep(1)
        baseline = rss_mb(pid)
        started = time.monotonic()
        connected = await open_clients(server.address, {"ticket": ticket}, clients)
        print(f"{clients} clients connected and holding their snapshot in {time.monotonic() - started:.1f} s")
        await asyncio.sleep(2)
        with_clients = rss_mb(pid)
        await asyncio.sleep(4)  # every client gets a ping
        after_pings = rss_mb(pid)
        pinged = sum(1 for client in connected if client.messages >= 2)
        closed = sum(1 for client in connected if client.closed.done())
        for client in connected:
            client.close()

    peak = max(with_clients, after_pings)
    print(
        f"worker RSS: {baseline:.0f} MB idle with {incidents} open incidents after {events} events; "
        f"{with_clients:.0f} MB with {clients} clients connected; "
        f"{after_pings:.0f} MB after a round of pings ({pinged} pinged, {closed} closed)"
    )
    print(f"per client: {(peak - baseline) * 1024 / clients:.0f} kB")
    ok = peak <= TARGET_MB and closed == 0
    print(f"target ≤ {TARGET_MB:g} MB RSS with {clients} idle clients: {'MET' if ok else 'NOT MET'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--events", type=int, default=10_000, help="events before the clients connect")
    args = parser.parse_args()
    asyncio.run(run(args.clients, args.incidents, args.events))


if __name__ == "__main__":
    main()
