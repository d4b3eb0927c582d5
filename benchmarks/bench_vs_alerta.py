"""Ingest side by side with Alerta 9.1, the nearest existing system, in one run on this machine.

    .venv/bin/python benchmarks/bench_vs_alerta.py [--reports 20000] [--keep] [--alerta-venv PATH]

Installs Alerta 9.1 (alerta-server) into a venv of its own under the system temp directory and
serves it with gunicorn, two sync workers, on a PostgreSQL database of its own (alerta_peer.py);
starts this service as bench_ingest_batch.py does (fresh PostgreSQL database, the 850-entity
register, department keys, `serve --workers 2` with Redis). Both get the same workload, built
before either is timed: police calls and city cases in their native formats (RecordFactory),
of which 30 % are resends of an earlier report as last sent and 10 % revisions of one (its status
moves on and its text gains a line), each at least 1,000 messages after that report last went
out, so that no version of a report overtakes another on the way. After a warm-up of 1,000 reports and ANALYZE on both
databases, the workload goes

  (a) one report a request, 32 requests in flight: our POST /api/v1/feeds/{source}/records with one
      record, Alerta's POST /alert;
  (b) in batches of 50 reports of one department, 8 batches in flight: our same endpoint with an
      array of 50; Alerta has no batch endpoint in its own API (POST /alert takes one alert), so the
      50 go in one request to its Prometheus Alertmanager webhook (POST /webhooks/prometheus), the
      only intake of many alerts it has, which processes them one after another.

The phases alternate between the two systems (ours (a), Alerta (a), ours (b), Alerta (b)) so a
change in the machine's load hits both. Prints reports/s, the p50 and p99 of a request's latency
and the ratio for each, and checks that each system stored every report once: ours one source
record per report and one revision row per revision sent; Alerta one alert per report and
duplicateCount = resends + revisions. Everything it made (processes, both databases, Alerta's role,
the venv unless --keep) goes at the end. Exits 1 when a check fails, 2 when a prerequisite is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from alerta_peer import AlertaPeer, PrerequisiteMissing, alert_for, prometheus_alert
from bench_ingest_batch import ADMIN_DSN, REDIS_URL, BenchServer, RecordFactory, cpu_seconds, load_register
from bench_ingest_single import percentile, raw_request

# How a revision moves a record on: its status field, the statuses in order, and its text field.
REVISABLE: dict[str, tuple[str, tuple[str, ...], str]] = {
    "police": ("jqzt", ("待派警", "已派警", "处置中", "已结束"), "bjnr"),
    "city": ("stage", ("已立案", "已派遣", "处置中"), "description"),
}
REVISION_MARK = "（续报"
WARMUP_REPORTS = 1000
MIN_GAP = 1000  # a resend or revision follows its report's first sending by at least this many messages


# --- the workload ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    kind: str  # "new", "resend" or "revision"
    report: int  # which report (0, 1, … in the order they first went out)
    source: str
    body: dict[str, Any]


def revise(source: str, body: dict[str, Any], number: int) -> dict[str, Any]:
    """The report as its department sends it again with news: the next status and a line of text more."""
    status_field, statuses, text_field = REVISABLE[source]
    revised = dict(body)
    now = statuses.index(body[status_field]) if body[status_field] in statuses else -1
    revised[status_field] = statuses[(now + 1) % len(statuses)]
    revised[text_field] = f"{body[text_field].split(REVISION_MARK)[0]}{REVISION_MARK}{number}）"
    return revised


def build_workload(
    factory: RecordFactory, count: int, resend_share: float, revision_share: float, rng: random.Random
) -> list[Message]:
    """``count`` messages: new reports, resends of a report as last sent, and revisions of one.

    No two messages of one report come closer than ``gap`` messages, so however the requests in
    flight overtake each other, each system sees a report's versions in the order they were written.
    """
    resends, revisions = round(count * resend_share), round(count * revision_share)
    new = count - resends - revisions
    gap = min(MIN_GAP, new // 3)
    if gap < 1:
        raise ValueError("the shares leave too few new reports to resend or revise")
    # The first 2 × gap are new: enough reports that the ones sent in the last gap leave most free.
    kinds = ["resend"] * resends + ["revision"] * revisions + ["new"] * (new - 2 * gap)
    rng.shuffle(kinds)
    latest: list[Message] = []  # each report as last sent
    first_sent: list[int] = []  # where each report first went out (ascending)
    last_sent: list[int] = []  # where each report last went out
    messages: list[Message] = []
    for position, kind in enumerate(["new"] * (2 * gap) + kinds):
        if kind == "new":
            report = factory.next_report()
            message = Message("new", len(latest), report.source, report.body)
            latest.append(message)
            first_sent.append(position)
            last_sent.append(position)
        else:
            earlier = latest[_free_report(first_sent, last_sent, position - gap, rng)]
            body = earlier.body
            if kind == "revision":
                body = revise(earlier.source, body, revision_number(earlier.body) + 1)
                latest[earlier.report] = Message("revision", earlier.report, earlier.source, body)
            last_sent[earlier.report] = position
            message = Message(kind, earlier.report, earlier.source, body)
        messages.append(message)
    return messages


def _free_report(first_sent: list[int], last_sent: list[int], limit: int, rng: random.Random) -> int:
    """A report, drawn evenly, that last went out at ``limit`` or before."""
    eligible = bisect.bisect_right(first_sent, limit)
    for _ in range(1000):
        report = rng.randrange(eligible)
        if last_sent[report] <= limit:
            return report
    raise ValueError("too few reports for the gap between a report and its copies")


def revision_number(body: dict[str, Any]) -> int:
    for text in body.values():
        if isinstance(text, str) and REVISION_MARK in text:
            return int(text.split(REVISION_MARK)[1].rstrip("）"))
    return 0


def batches_of(messages: list[Message], size: int) -> list[list[Message]]:
    """Arrays of up to ``size`` messages of one department, in the order they were written."""
    pending: dict[str, list[Message]] = {}
    out: list[list[Message]] = []
    for message in messages:
        bucket = pending.setdefault(message.source, [])
        bucket.append(message)
        if len(bucket) == size:
            out.append(bucket)
            pending[message.source] = []
    out.extend(bucket for bucket in pending.values() if bucket)
    return out


def shares(messages: list[Message]) -> Counter[str]:
    return Counter(message.kind for message in messages)


# --- requests as bytes, and a light client --------------------------------------------------------


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def alerta_request(port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def our_requests(server: BenchServer, batches: list[list[Message]], single: bool) -> list[bytes]:
    if single:
        return [raw_request(server, batch[0].source, dumps(batch[0].body)) for batch in batches]
    return [raw_request(server, batch[0].source, dumps([m.body for m in batch])) for batch in batches]


def alerta_requests(peer: AlertaPeer, batches: list[list[Message]], single: bool) -> list[bytes]:
    if single:
        return [alerta_request(peer.port, "/alert", dumps(alert_for(b[0].source, b[0].body))) for b in batches]
    return [
        alerta_request(
            peer.port,
            "/webhooks/prometheus",
            dumps({"alerts": [prometheus_alert(alert_for(m.source, m.body)) for m in batch]}),
        )
        for batch in batches
    ]


@dataclass
class Run:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    responses: list[tuple[int, bytes]] = field(default_factory=list)
    server_cpu_s: float = 0.0
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)


async def send_all(port: int, requests: list[bytes], in_flight: int, server_pids: list[int]) -> Run:
    """Every request, ``in_flight`` connections at a time; a connection the server closes is reopened
    (gunicorn's sync workers close each one), and the latency includes that connect."""
    run = Run(load=os.getloadavg())
    queue: Iterator[bytes] = iter(requests)

    async def connection() -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        try:
            for request in queue:
                started = time.perf_counter()
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                assert reader is not None
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length, close = 0, False
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"connection" and value.strip().lower() == b"close":
                        close = True
                body = await reader.readexactly(length)
                run.latencies.append(time.perf_counter() - started)
                run.responses.append((int(head[9:12]), body))
                if close:
                    writer.close()
                    writer = None
        finally:
            if writer is not None:
                writer.close()

    cpu_before = cpu_seconds(server_pids)
    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(in_flight)))
    run.seconds = time.perf_counter() - started
    run.server_cpu_s = cpu_seconds(server_pids) - cpu_before
    return run


def our_statuses(run: Run) -> tuple[Counter[str], list[str]]:
    statuses: Counter[str] = Counter()
    errors: list[str] = []
    for code, body in run.responses:
        if code != 200:
            errors.append(f"{code} {body[:200]!r}")
            continue
        statuses.update(result["status"] for result in json.loads(body)["results"])
    return statuses, errors


def alerta_errors(run: Run) -> list[str]:
    return [f"{code} {body[:200]!r}" for code, body in run.responses if code != 201]


# --- the run ----------------------------------------------------------------------------------------


@dataclass
class Side:
    name: str
    runs: dict[str, Run] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def line(name: str, run: Run, reports: int) -> str:
    ordered = sorted(run.latencies)
    return (
        f"    {name:<16} {reports / run.seconds:>8,.0f} reports/s   p50 {1000 * percentile(ordered, 0.5):7.1f} ms"
        f"   p99 {1000 * percentile(ordered, 0.99):7.1f} ms   ({reports:,} in {run.seconds:.1f} s;"
        f" server CPU {run.server_cpu_s:.1f} s; load {run.load[0]:.2f})"
    )


async def bench(args: argparse.Namespace) -> bool:
    rng = random.Random(args.seed)
    factory = RecordFactory(load_register(), seed=args.seed)
    warmup = [Message("new", -1, r.source, r.body) for r in factory.reports(WARMUP_REPORTS)]
    workloads = {
        "a": build_workload(factory, args.reports, args.resend_share, args.revision_share, rng),
        "b": build_workload(factory, args.reports, args.resend_share, args.revision_share, rng),
    }
    mix = shares(workloads["a"])
    print(
        f"ingest side by side with Alerta 9.1: {args.reports:,} reports a phase"
        f" ({mix['new']:,} new, {mix['resend']:,} resends, {mix['revision']:,} revisions), PostgreSQL,"
        f" {args.workers} workers each, client on the same machine ({os.cpu_count()} cores)"
    )
    ours, theirs = Side("Community Brain"), Side("Alerta 9.1")
    peer = AlertaPeer(workers=args.workers, venv=args.alerta_venv, keep=args.keep)
    await check_prerequisites()
    async with peer, BenchServer(workers=args.workers) as server:
        if peer.install_s:
            print(f"  Alerta installed into {peer.venv} in {peer.install_s:.0f} s")
        our_pids, their_pids = server.worker_pids(), peer.worker_pids()
        warm = batches_of(warmup, args.batch_size)
        ours.runs["warm"] = await send_all(server.port, our_requests(server, warm, False), args.batch_in_flight, [])
        theirs.runs["warm"] = await send_all(peer.port, alerta_requests(peer, warm, False), args.batch_in_flight, [])
        await server.analyze()
        await peer.analyze()
        phases = {
            "a": (f"(a) one report a request, {args.in_flight} in flight", [[m] for m in workloads["a"]], True,
                  args.in_flight),
            "b": (f"(b) batches of {args.batch_size} reports of one department, {args.batch_in_flight} in flight",
                  batches_of(workloads["b"], args.batch_size), False, args.batch_in_flight),
        }  # fmt: skip
        for key, (title, batches, single, in_flight) in phases.items():
            print(f"  {title}")
            if not single:
                print(
                    "    Alerta has no batch endpoint (POST /alert takes one alert): each batch goes in one request"
                    " to its Prometheus webhook, POST /webhooks/prometheus, which processes the alerts one by one"
                )
            mine, its = our_requests(server, batches, single), alerta_requests(peer, batches, single)
            ours.runs[key] = await send_all(server.port, mine, in_flight, our_pids)
            print(line(ours.name, ours.runs[key], args.reports))
            theirs.runs[key] = await send_all(peer.port, its, in_flight, their_pids)
            print(line(theirs.name, theirs.runs[key], args.reports))
            ratio = theirs.runs[key].seconds / ours.runs[key].seconds
            print(f"    ratio (Community Brain / Alerta, reports/s): {ratio:.1f}×")
        ok = await check_stored(server, peer, ours, theirs, warmup, workloads)
    return ok


async def check_prerequisites() -> None:
    """PostgreSQL and Redis answer, or a message that says which does not."""
    try:
        connection = await asyncpg.connect(ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        raise PrerequisiteMissing(f"PostgreSQL at {ADMIN_DSN} (CB_BENCH_POSTGRES_DSN) does not answer: {exc}") from exc
    await connection.close()
    redis = urlsplit(REDIS_URL)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(redis.hostname, redis.port or 6379), 5)
    except (OSError, TimeoutError) as exc:
        raise PrerequisiteMissing(f"Redis at {REDIS_URL} (CB_BENCH_REDIS_URL) does not answer: {exc}") from exc
    writer.close()


async def check_stored(
    server: BenchServer,
    peer: AlertaPeer,
    ours: Side,
    theirs: Side,
    warmup: list[Message],
    workloads: dict[str, list[Message]],
) -> bool:
    """Every report stored once on both sides; prints what each holds against what was sent."""
    sent = shares(warmup) + shares(workloads["a"]) + shares(workloads["b"])
    statuses: Counter[str] = Counter()
    for run in ours.runs.values():
        counted, errors = our_statuses(run)
        statuses += counted
        ours.errors += errors
    for run in theirs.runs.values():
        theirs.errors += alerta_errors(run)
    records = await server.count("SELECT count(*) FROM source_records")
    revisions = await server.count("SELECT count(*) FROM source_record_revisions")
    alerts, duplicates = await peer.stored()
    our_ok = (
        not ours.errors
        and records == sent["new"]
        and revisions == sent["revision"]
        and statuses == Counter(created=sent["new"], unchanged=sent["resend"], updated=sent["revision"])
    )
    ledger_ok = await server.ledger_ok()
    their_ok = not theirs.errors and alerts == sent["new"] and duplicates == sent["resend"] + sent["revision"]
    print(
        f"  stored once ({sent['new']:,} reports incl. the {len(warmup):,} of the warm-up,"
        f" {sent['resend']:,} resends, {sent['revision']:,} revisions sent to each):"
    )
    print(
        f"    {ours.name:<16} {records:,} source records, {revisions:,} revisions;"
        f" answers {dict(sorted(statuses.items()))} -> {'ok' if our_ok else 'WRONG'}"
        f"; `ledger verify` after the load: {'ok' if ledger_ok else 'FAILED'}"
    )
    print(
        f"    {theirs.name:<16} {alerts:,} alerts, duplicateCount {duplicates:,}"
        f" (resends + revisions = {sent['resend'] + sent['revision']:,}) -> {'ok' if their_ok else 'WRONG'}"
    )
    for side in (ours, theirs):
        for error in side.errors[:5]:
            print(f"    {side.name} error: {error}")
        if len(side.errors) > 5:
            print(f"    {side.name}: {len(side.errors) - 5} more errors")
    return our_ok and their_ok and ledger_ok


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=20_000, help="reports in each phase (default 20,000)")
    parser.add_argument("--resend-share", type=float, default=0.3)
    parser.add_argument("--revision-share", type=float, default=0.1)
    parser.add_argument("--in-flight", type=int, default=32, help="requests in flight, one report each")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--batch-in-flight", type=int, default=8, help="batches in flight")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of each server")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--keep", action="store_true", help="keep the venv Alerta was installed into")
    parser.add_argument("--alerta-venv", type=Path, help="use this venv with Alerta 9.1 in it instead of installing")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    try:
        ok = asyncio.run(bench(args))
    except PrerequisiteMissing as exc:
        print(f"bench_vs_alerta: cannot run: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
