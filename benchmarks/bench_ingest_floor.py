"""The floor under batch ingest: the same pushes to an app that does the least (benchmarks/floor_app.py).

    .venv/bin/python benchmarks/bench_ingest_floor.py [--batches N] [--workers 1 2]

bench_ingest_batch.py's client, records and meters, against two stand-ins for the service on the
same machine: one that only reads each array of records and answers (``read``), and one that also
writes them to PostgreSQL with one COPY a push (``copy``). Prints the CPU a record each costs, and
what is left of the 0.2 ms a record that 10,000 records/s allows on this machine's two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from bench_ingest_batch import (
    PYTHON,
    REPO_ROOT,
    TARGET_RECORDS_PER_S,
    BenchServer,
    CpuMeter,
    RecordFactory,
    Tally,
    batches_by_source,
    http_client,
    load_register,
    push_batches,
)

WARM_BATCHES = 4  # sent before the clock starts, and stored too in `copy`


@dataclass
class FloorServer(BenchServer):
    """BenchServer's database and keys, with benchmarks/floor_app.py serving instead of the service."""

    mode: str = "read"

    def _start_server(self) -> None:
        command = ["-m", "uvicorn", "floor_app:app", "--port", str(self.port), "--workers", str(self.workers)]
        command += ["--no-access-log", "--log-level", "warning", "--loop", "uvloop", "--http", "httptools"]
        with (self.workdir / "server.log").open("wb") as log:
            self.process = subprocess.Popen(
                [PYTHON, *command],
                env={**self.env(), "FLOOR_MODE": self.mode},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO_ROOT / "benchmarks",
            )

    async def ledger_ok(self) -> bool:
        return True  # no ledger here


async def run(mode: str, workers: int, batches: list[tuple[str, bytes, int]], in_flight: int) -> dict[str, Any]:
    async with FloorServer(workers=workers, mode=mode) as server, http_client(server, in_flight) as client:
        await push_batches(client, server, batches[:WARM_BATCHES], in_flight, Tally())
        tally = Tally()
        meter = CpuMeter(server)
        async with meter:
            started = time.perf_counter()
            await push_batches(client, server, batches[WARM_BATCHES:], in_flight, tally)
            elapsed = time.perf_counter() - started
        stored = await server.count("SELECT count(*) FROM floor_records") if mode == "copy" else None
        return {
            "records": tally.records,
            "seconds": elapsed,
            "errors": tally.errors[:3],
            "stored": stored,
            "cpu": {"server": meter.worker_s, "PostgreSQL": meter.database_s, "client": meter.client_s},
        }


def report(mode: str, workers: int, figures: dict[str, Any]) -> None:
    records = max(1, figures["records"])
    cpu = figures["cpu"]
    per_record = {name: 1000 * seconds / records for name, seconds in cpu.items()}
    total = sum(per_record.values())
    budget = 1000 * (os.cpu_count() or 1) / TARGET_RECORDS_PER_S
    parts = " + ".join(f"{name} {ms:.3f}" for name, ms in per_record.items())
    print(
        f"  {mode:4}, {workers} worker(s): {figures['records'] / figures['seconds']:,.0f} records/s;"
        f" CPU a record {parts} = {total:.3f} ms; of the {budget:.2f} ms that {TARGET_RECORDS_PER_S:,}/s"
        f" allows on {os.cpu_count()} cores, {budget - total:.3f} ms is left"
    )
    expected = figures["records"] + WARM_BATCHES * 1000
    if figures["stored"] is not None and figures["stored"] != expected:
        print(f"      stored {figures['stored']:,} rows, expected {expected:,}")
    for error in figures["errors"]:
        print(f"      error: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=40, help="timed batches of 1,000 records")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    batches = batches_by_source(RecordFactory(load_register()).reports((args.batches + WARM_BATCHES) * 1000), 1000)
    print("the floor under batch ingest: arrays of 1,000 police/city records, nothing done but reading (read)")
    print("or reading and one COPY into one PostgreSQL table (copy); the client as in bench_ingest_batch.py")
    for workers in args.workers:
        for mode in ("read", "copy"):
            report(mode, workers, asyncio.run(run(mode, workers, batches, 4 * workers)))


if __name__ == "__main__":
    main()
