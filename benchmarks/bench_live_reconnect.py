"""Reconnect after 60 s away: every missed event, in order, within 1 s (docs/targets.md).

    .venv/bin/python benchmarks/bench_live_reconnect.py [--away 60] [--rate 100]

PostgreSQL + Redis, the live stream in 2 uvicorn workers, 100 other clients connected. A writer
commits `--rate` events per second (5 per transaction) the whole time. One client follows the
stream, leaves for `--away` seconds, then reconnects with `since` and its epoch (a new ticket,
as the wall does). The figure: time from starting to reconnect until that client holds the
event that was the ledger head when it started, checking that the missed events arrived
exactly once and in order, straight after the one it had.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time

import httpx
from bench_live_harness import (
    StreamClient,
    bench_database,
    display_key,
    live_servers,
    open_client,
    open_clients,
    raise_open_files_limit,
    write_events,
    ws_ticket,
)

TARGET_S = 1.0
PER_TRANSACTION = 5


async def run(away: float, rate: float, workers: int, others: int, fresh_worker: bool) -> bool:
    raise_open_files_limit(4 * others + 1000)
    epochs: list[str] = []
    first_event_after_resume: list[int] = []

    def remember(_client: StreamClient, payload: bytes, _now: float) -> None:
        if payload.startswith(b'{"type":"snapshot"'):
            epochs.append(json.loads(payload)["epoch"])

    reached = asyncio.Event()
    target = 0

    def note_first(client: StreamClient, payload: bytes, _now: float) -> None:
        if not first_event_after_resume and payload.startswith(b'{"type":"event"'):
            first_event_after_resume.append(client.last_seq or -1)
        if (client.last_seq or 0) >= target:
            reached.set()

    async with bench_database() as database_url, live_servers(database_url, workers) as server:
        key = await display_key(database_url)
        ticket = await ws_ticket(server.address, key)
        crowd = await open_clients(server.address, {"ticket": ticket}, others)
        wall = await open_client(server.address, {"ticket": ticket}, remember)
        head = 0
        stop = asyncio.Event()

        async def write() -> None:
            nonlocal head
            async with httpx.AsyncClient(base_url=f"http://{server.address}", timeout=30) as http:
                started, transactions = time.monotonic(), 0
                while not stop.is_set():
                    head = (await write_events(http, PER_TRANSACTION, PER_TRANSACTION))[-1]
                    transactions += 1
                    next_at = started + transactions * PER_TRANSACTION / rate
                    await asyncio.sleep(max(0.0, next_at - time.monotonic()))

        writer = asyncio.create_task(write())
        await asyncio.sleep(3)
        since = wall.last_seq
        assert since is not None and epochs
        wall.close()
        print(f"left at seq {since}; away for {away:g} s while events are committed at {rate:g}/s")
        await asyncio.sleep(away)

        async with contextlib.AsyncExitStack() as stack:
            address = server.address
            if fresh_worker:  # started after the client left: nothing in its memory, the ledger replays
                address = (await stack.enter_async_context(live_servers(database_url, 1))).address
            started = time.monotonic()
            target = head
            fresh_ticket = await ws_ticket(address, key)
            # It resumes from `since`: the next event must be since + 1.
            back = await open_client(
                address, {"ticket": fresh_ticket, "since": since, "epoch": epochs[0]}, note_first, resume_from=since
            )
            async with asyncio.timeout(30):
                await reached.wait()
            caught_up = time.monotonic() - started
        stop.set()
        await writer
        missed = target - since
        in_order = back.out_of_order == 0 and first_event_after_resume == [since + 1]
        for client in [*crowd, back]:
            client.close()

    print(f"missed events: {missed}; all received, in order, from seq {since + 1}: {in_order}")
    source = "the ledger (a worker started while it was away)" if fresh_worker else "the hub's memory"
    print(f"caught up (ticket, connect, replay of {missed} events from {source}) in {caught_up * 1000:.0f} ms")
    ok = in_order and caught_up <= TARGET_S
    print(f"target: every missed event within {TARGET_S:g} s: {'MET' if ok else 'NOT MET'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--away", type=float, default=60.0, help="seconds away")
    parser.add_argument("--rate", type=float, default=100.0, help="events per second while away")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--others", type=int, default=100, help="other clients connected meanwhile")
    parser.add_argument(
        "--fresh-worker",
        action="store_true",
        help="reconnect to a worker started while the client was away (replay from the ledger)",
    )
    args = parser.parse_args()
    asyncio.run(run(args.away, args.rate, args.workers, args.others, args.fresh_worker))


if __name__ == "__main__":
    main()
