"""A worker's memory while it ingests 1,000,000 records into a register of 100,000 entities: it stays flat.

    .venv/bin/python benchmarks/bench_worker_memory.py [--records 1000000] [--census] [--tracemalloc]

Writes a register of 100,000 made-up shops (unique names and legal names, addresses on 400 roads,
valid credit codes, coordinates over the city) and imports it as an operator would
(`community-brain registry import`), then serves one worker (`serve --workers 1`: the server process
is the worker) on a fresh PostgreSQL database as bench_ingest_batch.py does, and pushes police calls
and city cases of those entities (RecordFactory: unique ids, about 30 % joining an open incident)
through the real HTTP batch path, arrays of 1,000, 4 in flight. Every 100,000 records it samples the
worker's resident memory (VmRSS, and its peak VmHWM) and prints the curve; the records are made a
chunk at a time, so the client's memory is not the one that grows.

Flat means: from the sample after the first chunk (the matcher index and the pools are warm by
then) to the last, the worker grew by less than 10 %. With --tracemalloc the worker traces its
allocations from the first sample on, and what it still holds of them at the end is printed, largest
first (it slows the worker down several times: use it to find a leak, not for the curve). With
--census every sample also prints glibc's heap (in use and free), Python's arenas, the objects the
collector tracks by type, the size of each bounded cache and the containers that grew most, with
where each is kept (benchmarks/worker_probe.py): a cache still filling, a leak, garbage waiting for
the cycle collector and a fragmented heap look alike in the RSS alone.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import shutil
import signal
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench_ingest_batch import (
    HOURS_PER_RECORD,
    BenchServer,
    RecordFactory,
    Tally,
    batches_by_source,
    http_client,
    load_register,
    push_batches,
)

from service.matching.uscc import USCC_ALPHABET, uscc_check_character

FLAT_GROWTH = 0.10  # at most this much growth from the warm sample to the last
BATCH = 1000
IN_FLIGHT = 4

# The register's words: three-character brands and a trade make millions of distinct shop names.
BRAND_CHARACTERS = (
    "鑫源华泰恒通达瑞祥福盛兴隆昌丰旺佳美新和安康宏伟金银顺利春秋明月星海天云山水林森永嘉凯博卓越聚德正信诚君豪龙凤"
)
TRADES = (
    "便利店", "快递驿站", "餐馆", "面馆", "超市", "理发店", "药房", "水果店", "烟酒店", "五金店",
    "洗衣店", "花店", "茶叶店", "眼镜店", "面包房", "干洗店", "服装店", "文具店", "修车铺", "菜场摊位",
    "粮油店", "小吃店", "奶茶店", "足浴店",
)  # fmt: skip
ROAD_WORDS = "临汾岭南闻喜汾西广中共和场中江场平型关阳曲灵石保德宝山新村大华长江中山延长志丹虹漕"
ROAD_KINDS = ("路", "支路", "街", "弄")
# Where the entities lie: about 20 × 20 km of the city (WGS-84).
LAT_RANGE = (31.18, 31.36)
LNG_RANGE = (121.35, 121.56)


def register_rows(count: int, seed: int) -> list[dict[str, str]]:
    """``count`` made-up shops with distinct ids, names and legal names and valid credit codes."""
    rng = random.Random(seed)
    letters, trades = len(BRAND_CHARACTERS), len(TRADES)
    chosen = rng.sample(range(letters**3 * trades), count)  # a three-character brand and a trade each
    roads = rng.sample([f"{a}{b}{kind}" for a in ROAD_WORDS for b in ROAD_WORDS if a != b for kind in ROAD_KINDS], 400)
    rows = []
    for number, code in enumerate(chosen, start=1):
        code, which_trade = divmod(code, trades)
        code, first = divmod(code, letters)
        third, second = divmod(code, letters)
        brand = BRAND_CHARACTERS[first] + BRAND_CHARACTERS[second] + BRAND_CHARACTERS[third]
        trade = TRADES[which_trade]
        first17 = "91310106" + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
        rows.append(
            {
                "entity_id": f"MB-{number:06d}",
                "kind": "shop",
                "name": f"{brand}{trade}",
                "legal_name": f"上海{brand}{trade}有限公司",
                "uscc": first17 + uscc_check_character(first17),
                "address": f"{rng.choice(roads)}{rng.randint(1, 1999)}号",
                "community": f"社区{rng.randint(1, 60):02d}",
                "grid": f"MB-{rng.randint(1, 400):03d}",
                "lat": f"{rng.uniform(*LAT_RANGE):.6f}",
                "lng": f"{rng.uniform(*LNG_RANGE):.6f}",
                "aliases": "",
                "phone": f"021-{rng.randint(50_000_000, 69_999_999)}",
            }
        )
    return rows


def write_register(path: Path, count: int, seed: int) -> None:
    rows = register_rows(count, seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


# --- the worker's memory --------------------------------------------------------------------------


def memory_of(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MiB (Linux /proc)."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


@dataclass
class Sample:
    records: int
    rss_mib: float
    peak_mib: float
    records_per_s: float
    load: float


@dataclass
class WorkerProbe:
    """Asks the worker for a report (--tracemalloc: SIGUSR1, --census: SIGUSR2) and reads it back."""

    directory: Path
    out: Path = field(init=False)

    def __post_init__(self) -> None:
        shutil.copy(Path(__file__).with_name("worker_probe.py"), self.directory / "sitecustomize.py")
        self.out = self.directory / "worker-report.txt"

    def env(self) -> dict[str, str]:
        path = os.pathsep.join(p for p in (str(self.directory), os.environ.get("PYTHONPATH", "")) if p)
        return {"PYTHONPATH": path, "CB_BENCH_WORKER_REPORT": str(self.out)}

    async def report(self, pid: int, signum: int) -> str:
        self.out.unlink(missing_ok=True)
        os.kill(pid, signum)
        for _ in range(600):
            if self.out.exists():
                return self.out.read_text()
            await asyncio.sleep(0.5)
        return "(the worker wrote no report)"


async def run(args: argparse.Namespace) -> list[Sample]:
    scratch = Path(tempfile.mkdtemp(prefix="cb-bench-memory-"))
    try:
        register = scratch / "registry.csv"
        started = time.perf_counter()
        write_register(register, args.entities, args.seed)
        entities = load_register(register)
        probe = WorkerProbe(scratch) if args.tracemalloc or args.census else None
        days_back = int(args.records * HOURS_PER_RECORD * 1.5 / 24) + 3
        factory = RecordFactory(entities, seed=args.seed, days_back=days_back)
        server = BenchServer(workers=1, register=register, extra_env=probe.env() if probe else {}, ready_timeout_s=600)
        async with server, http_client(server, IN_FLIGHT) as client:
            print(
                f"  register of {args.entities:,} entities written and imported, worker started:"
                f" {time.perf_counter() - started:.0f} s"
            )
            pid = server.worker_pids()[0]
            rss, peak = memory_of(pid)
            samples = [Sample(0, rss, peak, 0.0, os.getloadavg()[0])]
            print_sample(samples[-1])
            sent, tally = 0, Tally()
            while sent < args.records:
                count = min(args.sample_every, args.records - sent)
                batches = batches_by_source(factory.reports(count), BATCH)
                chunk_started = time.perf_counter()
                await push_batches(client, server, batches, IN_FLIGHT, tally)
                elapsed = time.perf_counter() - chunk_started
                sent += count
                tally.incidents.clear()  # the client's own bookkeeping; not needed here
                rss, peak = memory_of(pid)
                samples.append(Sample(sent, rss, peak, count / elapsed, os.getloadavg()[0]))
                print_sample(samples[-1])
                if probe and args.census:
                    print(textwrap.indent(await probe.report(pid, signal.SIGUSR2), "    "))
                if probe and args.tracemalloc and (len(samples) == 2 or sent >= args.records):
                    report = await probe.report(pid, signal.SIGUSR1)  # the first one starts tracing
                    if sent >= args.records:
                        print(textwrap.indent(report, "    "))
            if tally.errors:
                print(f"  {len(tally.errors):,} requests failed, e.g. {tally.errors[0]}")
            print(f"  answers: {dict(sorted(tally.statuses.items()))}")
        return samples
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def print_sample(sample: Sample) -> None:
    rate = f"{sample.records_per_s:7,.0f} records/s" if sample.records else "     (started)   "
    print(
        f"  {sample.records:>9,} records   worker RSS {sample.rss_mib:7.1f} MiB  (peak {sample.peak_mib:7.1f})"
        f"   {rate}   load {sample.load:.2f}"
    )


def verdict(samples: list[Sample]) -> bool:
    """Flat: the last sample within FLAT_GROWTH of the first one after the first chunk."""
    if len(samples) < 3:
        print("  too few samples to judge the curve (use a --records of at least 2 × --sample-every)")
        return True
    warm, last = samples[1], samples[-1]
    growth = (last.rss_mib - warm.rss_mib) / warm.rss_mib
    per_100k = (last.rss_mib - warm.rss_mib) / max(1, last.records - warm.records) * 100_000
    flat = growth < FLAT_GROWTH
    print(
        f"  from {warm.records:,} to {last.records:,} records the worker went from {warm.rss_mib:.0f} to"
        f" {last.rss_mib:.0f} MiB ({growth:+.1%}, {per_100k:+.1f} MiB per 100,000 records):"
        f" {'flat' if flat else 'GROWS'} (limit {FLAT_GROWTH:.0%})"
    )
    return flat


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--entities", type=int, default=100_000, help="entities in the generated register")
    parser.add_argument("--sample-every", type=int, default=100_000, help="records between two samples")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--tracemalloc", action="store_true", help="print the worker's allocations that grew most")
    parser.add_argument(
        "--census",
        action="store_true",
        help="at each sample, print the worker's heap, objects by type, caches and growing containers",
    )
    return parser


def main() -> None:
    args = build_parser().parse_args()
    print(
        f"worker memory: {args.records:,} records into a register of {args.entities:,} entities,"
        f" HTTP batches of {BATCH:,}, one worker, PostgreSQL"
    )
    flat = verdict(asyncio.run(run(args)))
    sys.exit(0 if flat else 1)


if __name__ == "__main__":
    main()
