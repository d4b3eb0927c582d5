"""The wall screen under a steady live load for N minutes: does its memory stay flat?

A real server (uvicorn + SQLite, prepared with the community-brain command, tests/browser/server.py)
receives police and city records at 10 a second through the ingest API, as the departments push
them: most reports join a problem that is already open, some open a new one, and an operator
closes the oldest problems (assign → in progress → resolved → closed) so the open set stays
near a fixed size, as on a real day. Headless Chromium (Debian's, /usr/bin/chromium) shows
/wall with a display key. Every minute the script collects garbage in the page
(HeapProfiler.collectGarbage) and reads Performance.getMetrics: JSHeapUsedSize, Nodes,
JSEventListeners. It prints one row a minute, then the growth first → last and the trend of
the second half (least squares), which is what tells a leak from warm-up.

    .venv/bin/python benchmarks/bench_wall_soak.py            # 30 minutes
    .venv/bin/python benchmarks/bench_wall_soak.py --minutes 3

Measured on the 2-core machine (30 min, 13.9 events/s, ~2,100 incidents opened and ~1,800 closed):
JS heap 11.4 → 14.8 MB, almost all of it in the first ~7 minutes (warm-up); DOM nodes 1,030 →
1,034 and 113 listeners throughout. Heap snapshots 6 minutes apart under 3× the load differed by
+0.1 MB, all of it V8's optimised code (InstructionStream, TrustedByteArray), no page object.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
from playwright.sync_api import CDPSession, ConsoleMessage, Page, sync_playwright  # noqa: E402

from tests.browser.api import ApiFailure, ServiceApi  # noqa: E402
from tests.browser.chromium import CHROMIUM, WALL_SIZE, PageMemory, launch_chromium, open_memory_probe, sample_memory  # noqa: E402
from tests.browser.feeds import city_case, load_register, police_call  # noqa: E402
from tests.browser.server import APP_INDEX, Credentials, ServiceProcess  # noqa: E402

# Unified category → the department codes that report it; one problem can collect reports from
# both departments (a noisy bar: 110 calls and a city-management case).
PROBLEM_KINDS: dict[str, list[tuple[str, str]]] = {
    "noise": [("police", "0202"), ("city", "06028")],
    "fire": [("police", "0402"), ("city", "09012")],
    "order": [("police", "0601"), ("police", "0201")],
    "price": [("police", "0602")],
    "traffic": [("police", "0302")],
    "street_order": [("city", "09005"), ("city", "09006")],
    "appearance": [("city", "06036"), ("city", "07006"), ("city", "06010")],
    "waste": [("city", "06041")],
}

Problem = tuple[str, str]  # (entity_id, unified category)


@dataclass
class LoadState:
    """What the generator and the closer share (under the lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    open_problems: OrderedDict[int, Problem] = field(default_factory=OrderedDict)  # oldest first
    seen: set[int] = field(default_factory=set)  # every incident met; a closed one never comes back
    records: int = 0
    new_incidents: int = 0
    closed: int = 0
    errors: int = 0
    last_error: str = ""
    behind_s: float = 0.0  # how far the generator lags its schedule at worst

    def error(self, message: str) -> None:
        with self.lock:
            self.errors += 1
            self.last_error = message[:300]


class LoadGenerator:
    """Records at a fixed rate on one thread, closings on another."""

    def __init__(
        self, base_url: str, credentials: Credentials, rate: float, open_target: int, fresh_share: float, seed: int
    ):
        self.base_url, self.credentials = base_url, credentials
        self.rate, self.open_target, self.fresh_share = rate, open_target, fresh_share
        self.random = random.Random(seed)
        self.entities = {e.entity_id: e for e in load_register()}
        self.state = LoadState()
        self.stopping = threading.Event()
        self._counter = 0
        self._threads = [
            threading.Thread(target=self._push_loop, name="soak-push", daemon=True),
            threading.Thread(target=self._close_loop, name="soak-close", daemon=True),
        ]

    # ── records ──

    def _record(self, problem: Problem) -> tuple[str, dict[str, Any]]:
        entity = self.entities[problem[0]]
        source, code = self.random.choice(PROBLEM_KINDS[problem[1]])
        self._counter += 1
        if source == "police":
            call = police_call(
                f"SOAK{self._counter:09d}", code=code, address=entity.address, unit_name=entity.name,
                lat=entity.lat, lng=entity.lng,
            )  # fmt: skip
            return source, call
        case = city_case(
            f"SOAKC{self._counter:09d}", code=code, address=entity.address, shop_name=entity.name,
            lat=entity.lat, lng=entity.lng,
        )  # fmt: skip
        return source, case

    def _fresh_problem(self, taken: set[Problem]) -> Problem:
        while True:
            problem = (self.random.choice(list(self.entities)), self.random.choice(list(PROBLEM_KINDS)))
            if problem not in taken:
                return problem

    def _next_problem(self) -> Problem:
        with self.state.lock:
            open_now = list(self.state.open_problems.values())
        if open_now and self.random.random() >= self.fresh_share:
            return self.random.choice(open_now)  # another report of a known problem
        return self._fresh_problem(set(open_now))

    def _note_result(self, problem: Problem, result: dict[str, Any]) -> None:
        incident_id = result.get("incident_id")
        with self.state.lock:
            self.state.records += 1
            # A report that raced the closing of its incident names an incident already seen.
            if incident_id is not None and incident_id not in self.state.seen:
                self.state.seen.add(incident_id)
                self.state.open_problems[incident_id] = problem
                self.state.new_incidents += 1

    def prefill(self, count: int) -> None:
        """Open `count` problems at once (batch pushes), so the wall starts at its working size."""
        api = ServiceApi(self.base_url, self.credentials)
        try:
            taken: set[Problem] = set()
            batches: dict[str, list[tuple[Problem, dict[str, Any]]]] = {"police": [], "city": []}
            for _ in range(count):
                problem = self._fresh_problem(taken)
                taken.add(problem)
                source, record = self._record(problem)
                batches[source].append((problem, record))
            for source, items in batches.items():
                for start in range(0, len(items), 500):
                    chunk = items[start : start + 500]
                    results = api.push(source, [record for _, record in chunk])
                    for (problem, _), result in zip(chunk, results, strict=True):
                        self._note_result(problem, result)
        finally:
            api.close()

    def _push_loop(self) -> None:
        api = ServiceApi(self.base_url, self.credentials)
        interval = 1.0 / self.rate
        due = time.monotonic()
        try:
            while not self.stopping.is_set():
                problem = self._next_problem()
                source, record = self._record(problem)
                try:
                    self._note_result(problem, api.push_one(source, record))
                except (ApiFailure, httpx.HTTPError) as exc:  # a soak goes on and counts what failed
                    self.state.error(f"push: {type(exc).__name__}: {exc}")
                due += interval
                lag = time.monotonic() - due
                self.state.behind_s = max(self.state.behind_s, lag)
                if lag < 0:
                    self.stopping.wait(-lag)
        finally:
            api.close()

    # ── closing ──

    def _close(self, api: ServiceApi, incident_id: int) -> None:
        assignee = self.credentials.inspector.username
        incident = api.assign(incident_id, assignee)
        for step, note in (("in_progress", None), ("resolved", None), ("closed", "已处置完毕，现场恢复正常")):
            for _attempt in range(5):
                try:
                    incident = api.set_status(incident_id, step, incident["version"], note)
                    break
                except ApiFailure as exc:
                    if exc.status_code != 409:  # a report attached meanwhile: read the new version
                        raise
                    incident = api.incident(incident_id)

    def _close_loop(self) -> None:
        api = ServiceApi(self.base_url, self.credentials)
        try:
            while not self.stopping.wait(1.0):
                with self.state.lock:
                    excess = len(self.state.open_problems) - self.open_target
                    oldest = list(self.state.open_problems)[: max(0, min(excess, 5))]
                    for incident_id in oldest:  # no more reports go to it from now on
                        del self.state.open_problems[incident_id]
                for incident_id in oldest:
                    try:
                        self._close(api, incident_id)
                        with self.state.lock:
                            self.state.closed += 1
                    except Exception as exc:  # a soak goes on; counted and shown in the report
                        self.state.error(f"close #{incident_id}: {type(exc).__name__}: {exc}")
        finally:
            api.close()

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout=30)


# ── the page ──


@dataclass(frozen=True)
class Sample:
    minute: float
    memory: PageMemory
    wall_seq: int
    head_seq: int
    open_on_wall: int
    live_rows: int
    status: str
    server_rss_mb: float
    records: int
    closed: int


WALL_PROBE = """() => ({
  seq: window.__wall.seq,
  status: window.__wall.status,
  open: window.__wall.incidentCount,
  rows: document.querySelectorAll('[data-testid="live-row"]').length,
})"""


def rss_mb(pid: int | None) -> float:
    if pid is None:
        return float("nan")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def trend_per_minute(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares slope of (minute, value) and its standard error (noise, not growth, if the
    slope is within two or three of them)."""
    n = len(points)
    if n < 3:
        return 0.0, math.inf
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if not sxx:
        return 0.0, math.inf
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    residual = sum((y - mean_y - slope * (x - mean_x)) ** 2 for x, y in points)
    return slope, math.sqrt(residual / (n - 2) / sxx)


def take_sample(
    page: Page, probe: CDPSession, api: ServiceApi, server: ServiceProcess, load: LoadGenerator, minute: float
) -> Sample:
    memory = sample_memory(probe)
    wall = page.evaluate(WALL_PROBE)
    head = api.events_after(int(wall["seq"]), limit=1)["head_seq"]
    with load.state.lock:
        records, closed = load.state.records, load.state.closed
    return Sample(
        minute=minute, memory=memory, wall_seq=int(wall["seq"]), head_seq=int(head),
        open_on_wall=int(wall["open"]), live_rows=int(wall["rows"]), status=str(wall["status"]),
        server_rss_mb=rss_mb(server.pid), records=records, closed=closed,
    )  # fmt: skip


HEADER = (
    f"{'min':>5} {'heap MB':>8} {'nodes':>7} {'listen':>6} {'wall seq':>9} {'lag':>4} {'open':>5} "
    f"{'rows':>4} {'status':>7} {'records':>8} {'closed':>6} {'srv MB':>7}"
)


def row(s: Sample) -> str:
    return (
        f"{s.minute:5.1f} {s.memory.js_heap_used_bytes / 2**20:8.2f} {s.memory.dom_nodes:7d} "
        f"{s.memory.event_listeners:6d} {s.wall_seq:9d} {s.head_seq - s.wall_seq:4d} {s.open_on_wall:5d} "
        f"{s.live_rows:4d} {s.status:>7} {s.records:8d} {s.closed:6d} {s.server_rss_mb:7.1f}"
    )


def report(samples: list[Sample], load: LoadState, not_live_s: float, page_errors: list[str], minutes: float) -> None:
    first, last = samples[0], samples[-1]
    heap = [(s.minute, s.memory.js_heap_used_bytes / 2**20) for s in samples]
    nodes = [(s.minute, float(s.memory.dom_nodes)) for s in samples]
    listeners = [(s.minute, float(s.memory.event_listeners)) for s in samples]
    second_half = [s for s in samples if s.minute >= minutes / 2]

    def growth(name: str, a: float, b: float, unit: str) -> str:
        return f"{name}: {a:.2f} → {b:.2f} {unit} ({b - a:+.2f}, {100 * (b - a) / a if a else 0:+.1f} %)"

    print()
    print(growth("JS heap used (after GC)", heap[0][1], heap[-1][1], "MB"))
    print(growth("DOM nodes", nodes[0][1], nodes[-1][1], ""))
    print(growth("event listeners", listeners[0][1], listeners[-1][1], ""))
    if len(second_half) >= 4:
        heap_kb = [(s.minute, s.memory.js_heap_used_bytes / 2**10) for s in second_half]
        heap_slope, heap_error = trend_per_minute(heap_kb)
        node_slope, node_error = trend_per_minute([(s.minute, float(s.memory.dom_nodes)) for s in second_half])
        print(
            f"trend over the second half ({len(second_half)} samples): "
            f"heap {heap_slope:+.1f} ± {heap_error:.1f} KB/min (≈ {heap_slope * 1440 / 1024:+.1f} MB a day if it "
            f"went on), nodes {node_slope:+.2f} ± {node_error:.2f}/min"
        )
    events = last.wall_seq - first.wall_seq
    span_min = max(last.minute - first.minute, 1e-9)
    print(
        f"events delivered to the wall: {events} in {span_min:.1f} min ({events / span_min / 60:.1f}/s); "
        f"records pushed {load.records}, incidents opened {load.new_incidents}, closed {load.closed}"
    )
    print(f"worst lag of the generator behind its schedule: {load.behind_s:.2f} s; API errors: {load.errors}")
    if load.errors:
        print(f"  last error: {load.last_error}")
    print(f"seconds the wall was not 'live': {not_live_s:.0f}; page errors: {len(page_errors)}")
    for message in page_errors[:5]:
        print(f"  {message}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to run (default 30)")
    parser.add_argument("--rate", type=float, default=10.0, help="records a second (default 10)")
    parser.add_argument("--open", type=int, default=300, dest="open_target", help="open problems kept (default 300)")
    parser.add_argument("--fresh", type=float, default=0.1, help="share of records that open a new problem (0.1)")
    parser.add_argument("--sample-every", type=float, default=60.0, help="seconds between samples (default 60)")
    parser.add_argument("--seed", type=int, default=20260901)
    args = parser.parse_args()

    if not CHROMIUM.exists() or not APP_INDEX.exists():
        print(f"needs {CHROMIUM} and the built frontend ({APP_INDEX}): run `make frontend browser-deps`")
        return 2

    with tempfile.TemporaryDirectory(prefix="cb-wall-soak-") as tmp:
        server = ServiceProcess(Path(tmp) / "data")
        print(f"preparing a server in {tmp} …", flush=True)
        credentials = server.prepare()
        server.start()
        api = ServiceApi(server.base_url, credentials)
        load = LoadGenerator(server.base_url, credentials, args.rate, args.open_target, args.fresh, args.seed)
        try:
            load.prefill(args.open_target)
            print(
                f"{args.open_target} problems open; {args.rate:g} records/s for {args.minutes:g} min, "
                f"{args.fresh:.0%} of them new problems, the oldest closed above {args.open_target} open",
                flush=True,
            )
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                page = browser.new_page(viewport=WALL_SIZE)
                page_errors: list[str] = []
                page.on("pageerror", lambda error: page_errors.append(f"pageerror: {error}"))

                def on_console(message: ConsoleMessage) -> None:
                    if message.type == "error":
                        page_errors.append(f"console.error: {message.text}")

                page.on("console", on_console)
                page.goto(f"{server.base_url}/wall#key={credentials.display_key}")
                page.wait_for_function("window.__wall && window.__wall.status === 'live' && window.__wall.seq > 0")
                probe = open_memory_probe(page)
                load.start()
                page.wait_for_timeout(5000)  # the first batches drawn, the charts created

                started = time.monotonic()
                samples = [take_sample(page, probe, api, server, load, 0.0)]
                print(HEADER)
                print(row(samples[0]), flush=True)
                not_live_s = 0.0
                sample_count = max(1, math.ceil(args.minutes * 60 / args.sample_every))
                for index in range(1, sample_count + 1):
                    next_sample = started + min(index * args.sample_every, args.minutes * 60)
                    while time.monotonic() < next_sample:
                        # Waiting inside Playwright lets it handle the page's messages meanwhile.
                        page.wait_for_timeout(max(1.0, min(1000.0, (next_sample - time.monotonic()) * 1000)))
                        if page.evaluate("window.__wall.status") != "live":
                            not_live_s += 1
                    samples.append(take_sample(page, probe, api, server, load, (time.monotonic() - started) / 60))
                    print(row(samples[-1]), flush=True)
                load.stop()
                report(samples, load.state, not_live_s, page_errors, args.minutes)
                browser.close()
        finally:
            load.stop()
            api.close()
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
