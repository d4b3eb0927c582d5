"""The benchmark scripts parse, import and take their arguments, and the side-by-side workload is
what bench_vs_alerta.py says it is; fast, no server started (the benchmarks run under `make bench`)."""

from __future__ import annotations

import ast
import importlib
import io
import random
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from service.matching.uscc import is_valid_uscc
from service.registry.csv_rows import parse_registry_row

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("*.py"))
MAIN_BLOCK = 'if __name__ == "__main__":'
# Imported or installed by benchmarks; `make bench` skips them.
HELPERS = {"alerta_peer.py", "bench_live_harness.py", "floor_app.py", "worker_probe.py"}


@pytest.fixture(scope="module")
def benchmarks_on_path() -> Iterator[None]:
    sys.path.insert(0, str(BENCHMARKS))  # the scripts import each other as top-level modules
    try:
        yield
    finally:
        sys.path.remove(str(BENCHMARKS))


def load(name: str) -> ModuleType:
    return importlib.import_module(name)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_every_script_parses(script: Path) -> None:
    ast.parse(script.read_text(encoding="utf-8"), filename=str(script))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_make_bench_runs_benchmarks_and_skips_helpers(script: Path) -> None:
    has_main = any(line == MAIN_BLOCK for line in script.read_text(encoding="utf-8").splitlines())
    assert has_main == (script.name not in HELPERS)


@pytest.mark.usefixtures("benchmarks_on_path")
def test_side_by_side_arguments() -> None:
    parser = load("bench_vs_alerta").build_parser()
    defaults = parser.parse_args([])
    assert (defaults.reports, defaults.in_flight, defaults.batch_size, defaults.workers) == (20_000, 32, 50, 2)
    assert (defaults.resend_share, defaults.revision_share, defaults.keep) == (0.3, 0.1, False)
    given = parser.parse_args(["--reports", "500", "--keep", "--alerta-venv", "/tmp/v"])
    assert (given.reports, given.keep, given.alerta_venv) == (500, True, Path("/tmp/v"))


@pytest.mark.usefixtures("benchmarks_on_path")
def test_the_workload_has_the_shares_and_keeps_a_reports_versions_apart() -> None:
    bench = load("bench_vs_alerta")
    factory = bench.RecordFactory(bench.load_register(), seed=3)
    messages = bench.build_workload(factory, 3000, 0.3, 0.1, random.Random(3))
    assert Counter(m.kind for m in messages) == Counter(new=1800, resend=900, revision=300)
    last_at: dict[int, int] = {}
    for position, message in enumerate(messages):
        if message.report in last_at:
            assert position - last_at[message.report] >= 600  # the gap: a third of the new reports here
        last_at[message.report] = position


@pytest.mark.usefixtures("benchmarks_on_path")
def test_alerta_sees_a_resend_as_the_same_alert_and_a_revision_as_a_new_value() -> None:
    bench, peer = load("bench_vs_alerta"), load("alerta_peer")
    factory = bench.RecordFactory(bench.load_register(), seed=5)
    messages = bench.build_workload(factory, 600, 0.3, 0.1, random.Random(5))
    sent: dict[int, dict[str, object]] = {}
    kinds = set()
    for message in messages:
        alert = peer.alert_for(message.source, message.body)
        before = sent.get(message.report)
        if message.kind == "new":
            assert before is None
        elif message.kind == "resend":
            assert alert == before
        else:
            assert before is not None
            assert {k: alert[k] for k in ("resource", "event", "environment", "severity")} == {
                k: before[k] for k in ("resource", "event", "environment", "severity")
            }
            assert alert["value"] != before["value"] and alert["text"] != before["text"]
        sent[message.report] = alert
        kinds.add(message.kind)
        hook = peer.prometheus_alert(alert)
        assert (hook["labels"]["instance"], hook["labels"]["alertname"]) == (alert["resource"], alert["event"])
    assert kinds == {"new", "resend", "revision"}


@pytest.mark.usefixtures("benchmarks_on_path")
def test_memory_arguments() -> None:
    parser = load("bench_worker_memory").build_parser()
    defaults = parser.parse_args([])
    assert (defaults.records, defaults.entities, defaults.sample_every, defaults.tracemalloc) == (
        1_000_000,
        100_000,
        100_000,
        False,
    )
    assert parser.parse_args(["--records", "20000", "--tracemalloc"]).records == 20_000
    assert parser.parse_args(["--census"]).census


@pytest.mark.usefixtures("benchmarks_on_path")
def test_the_census_names_the_heap_the_objects_and_the_caches() -> None:
    from service.matching.matcher import EntityIndex

    index = EntityIndex()  # the census finds it among the objects the collector tracks
    report = io.StringIO()
    load("worker_probe")._census(report)
    lines = report.getvalue().splitlines()
    assert lines[0].startswith("malloc heap ") and "in use" in lines[0]
    assert any(line.startswith("pymalloc Total") for line in lines)
    assert any(line.startswith("objects the collector tracks: ") for line in lines)
    [caches] = [line for line in lines if line.startswith("caches: ")]
    assert f"matcher texts 0 (evidence 0), {len(index)} entities" in caches
    grown = lines[lines.index("containers grown most since the last census:") + 1 :]
    assert len(grown) == 6 and all(line.startswith("  ") and "(+" in line for line in grown)


@pytest.mark.usefixtures("benchmarks_on_path")
def test_the_generated_register_is_one_the_importer_takes_whole() -> None:
    rows = load("bench_worker_memory").register_rows(500, seed=1)
    parsed = [parse_registry_row(row) for row in rows]  # raises on a row the import would reject
    assert len({row.entity_id for row in parsed}) == len({row.name for row in parsed}) == 500
    assert all(row.uscc is not None and is_valid_uscc(row.uscc) for row in parsed)


@pytest.mark.usefixtures("benchmarks_on_path")
async def test_the_floor_app_answers_a_result_for_each_record_it_reads() -> None:
    app = load("floor_app").app  # FLOOR_MODE unset: it reads, and needs no database
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://floor") as client,
    ):
        answer = await client.post("/api/v1/feeds/police/records", json=[{"jjdbh": "1"}, {"jjdbh": "2"}])
        assert answer.json() == {"results": [{"status": "created", "incident_id": None}] * 2}
        answer = await client.post("/api/v1/feeds/city/records", json={"taskId": "G1"})
        assert answer.json() == {"results": [{"status": "created", "incident_id": None}]}
