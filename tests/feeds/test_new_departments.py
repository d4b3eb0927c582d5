"""Linking and merging quality for the departments that arrive as definitions (fire, health),
on samples generated from the register with their answer key (tests/support/new_departments.py),
through the real ingest path: files with a title row and a merged header, JSON in BD-09, revisions
in a second export, and other departments' reports of the same problems."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from service.bootstrap import start_services, stop_services
from service.db.migrate import upgrade_async
from service.demo.quality import measure
from service.metrics import Metrics
from service.records.models import SourceRecord
from service.settings import Settings
from tests.conftest import Principals, bearer
from tests.support.data import SAMPLES
from tests.support.feeds import incident, push_ok
from tests.support.new_departments import Samples, generate, load_generated


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Samples]:
    out = tmp_path_factory.mktemp("new-departments")
    samples = generate(SAMPLES / "registry.csv")
    samples.write(out)
    return out, samples


async def test_quality_on_the_generated_samples(generated: tuple[Path, Samples]) -> None:
    out, samples = generated
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url="", redis_url="", sla_check_interval_s=0)
        await upgrade_async(settings.effective_database_url)
        state = await start_services(settings, Metrics())
        try:
            rejected = await load_generated(state, out, SAMPLES / "registry.csv")
            quality = await measure(state, out / "truth.csv")
            async with state.db.session() as session:
                rows = (
                    await session.execute(select(SourceRecord.source, SourceRecord.revision, SourceRecord.incident_id))
                ).all()
        finally:
            await stop_services(state)
    assert not any(rejected.values()), rejected
    report = "\n".join(quality.lines())
    assert quality.records == len(samples.truth) > 500, report
    assert quality.link_precision >= 0.995, report
    assert quality.link_recall >= 0.98, report
    assert quality.pair_precision >= 0.98, report
    assert quality.pair_recall >= 0.98, report
    assert quality.incidents_for_non_problems == 0, report
    # The second fire export re-sent rows of the first with their re-inspection: revisions, not new records.
    assert any(row.source == "fire" and row.revision == 2 for row in rows)
    by_incident: dict[int, set[str]] = {}
    for row in rows:
        if row.incident_id is not None:
            by_incident.setdefault(row.incident_id, set()).add(row.source)
    assert any(sources >= {"fire", "city"} for sources in by_incident.values())
    assert any(sources >= {"health", "market"} for sources in by_incident.values())


def test_the_generator_is_repeatable() -> None:
    first, second = generate(SAMPLES / "registry.csv", seed=3), generate(SAMPLES / "registry.csv", seed=3)
    assert first.truth == second.truth and first.health == second.health


async def department_key(client: httpx.AsyncClient, admin: dict[str, str], source: str) -> dict[str, str]:
    response = await client.post("/api/v1/keys", json={"role": "department", "source": source}, headers=admin)
    assert response.status_code == 201, response.text
    return bearer(response.json()["key"])


async def test_fire_and_health_through_the_http_api(
    client: httpx.AsyncClient, principals: Principals, registry: None, generated: tuple[Path, Samples]
) -> None:
    """Keys for the two departments, their samples through the API: linked, merged with the city's
    and the market's reports of the same problems, counted on the wall and in the entity file."""
    out, samples = generated
    fire, health = (
        await department_key(client, principals.admin, "fire"),
        await department_key(client, principals.admin, "health"),
    )
    for name in ("fire.xlsx", "fire.csv"):
        response = await client.post(
            "/api/v1/feeds/fire/files", files={"file": (name, (out / name).read_bytes())}, headers=fire
        )
        assert response.status_code == 200, response.text
        assert response.json()["summary"]["rejected"] == 0, response.json()
    health_items = json.loads((out / "health.json").read_text("utf-8"))
    assert all(r["status"] == "created" for r in await push_ok(client, health, "health", health_items))
    city_items = [json.loads(line) for line in (out / "city.jsonl").read_text("utf-8").splitlines()]
    assert all(r["status"] == "created" for r in await push_ok(client, principals.city, "city", city_items))
    market = await client.post(
        "/api/v1/feeds/market/files",
        files={"file": ("m.csv", (out / "market.csv").read_bytes())},
        headers=principals.market,
    )
    assert market.status_code == 200 and market.json()["summary"]["rejected"] == 0, market.text

    # A department's key sends only its own records.
    assert (await client.post("/api/v1/feeds/health/records", json=health_items[:1], headers=fire)).status_code == 403

    city_problem = samples.truth[("city", city_items[0]["taskId"])]
    fire_id = next(key[1] for key, value in samples.truth.items() if key[0] == "fire" and value == city_problem)
    status = await client.get(f"/api/v1/feeds/fire/records/{fire_id}", headers=fire)
    assert status.status_code == 200, status.text
    assert status.json()["entity_id"] == city_problem[0]
    # Status back in the brigade's own words (fire.toml, status.feedback): a new incident is 未复查.
    assert status.json()["incident"]["status"] == "new" and status.json()["department_status"] == "未复查"
    shared = await incident(client, principals.operator, status.json()["incident"]["id"])
    assert {"fire", "city"} <= set(shared["sources"])

    stats = (await client.get("/api/v1/stats", headers=principals.display)).json()
    assert stats["open_by_source"]["fire"] > 0 and stats["open_by_source"]["health"] > 0

    entity_file = (await client.get(f"/api/v1/entities/{city_problem[0]}", headers=principals.operator)).json()
    assert {"fire", "city"} <= {record["source"] for record in entity_file["records"]}
