"""Feed definitions installed at run time: the admin API and `feeds add`, versions and restore, a
ledger event for each change, and every worker reading by a new definition without a restart."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import connect

from service.auth import service as auth_service
from service.main import create_app
from service.settings import Settings
from service.state import AppState
from tests.conftest import Principals, bearer
from tests.support.databases import create_postgres_database, drop_postgres_database
from tests.support.feeds import XINYUAN, at, incident, ledger_events, police_call, push_ok
from tests.support.servers import serve_in_loop

HOTLINE = """
source = "hotline"
name = "12345热线"
label = "热线"
colour = "#845ef7"
title = ["gdlx", "@place"]

[transport]
kinds = ["json"]

[record]
id = "gdbh"

[fields]
name = "dwmc"
address = "dz"
description = "nr"

[fields.time]
field = "ldsj"
formats = ["%Y-%m-%d %H:%M"]

[category]
field = "gdlx"
map = { "噪音扰民" = "noise", "消防隐患" = "fire" }

[personal]
lxdh = "phone"
"""


def work_order(number: int, kind: str = "噪音扰民") -> dict[str, Any]:
    return {
        "gdbh": f"GD{number:04d}", "ldsj": "2026-11-20 22:10", "gdlx": kind, "dwmc": "沙县小吃",
        "dz": "闻喜路237号", "nr": "深夜噪音 13900139000", "lxdh": "13900139000",
    }  # fmt: skip


async def install(client: httpx.AsyncClient, headers: dict[str, str], text: str) -> httpx.Response:
    return await client.post("/api/v1/feeds/definitions", json={"definition": text}, headers=headers)


async def test_a_department_added_by_its_definition_alone(
    client: httpx.AsyncClient, principals: Principals, registry: None
) -> None:
    assert (await client.get("/api/v1/feeds/hotline/records/GD0001", headers=principals.operator)).status_code == 404

    created = await install(client, principals.admin, HOTLINE)
    assert created.status_code == 201, created.text
    assert created.json() | {"installed_at": None} == {
        "source": "hotline", "version": 1, "installed_at": None, "installed_by": "admin", "restored_from": None,
        "text": None, "unchanged": False,
    }  # fmt: skip
    key = await client.post("/api/v1/keys", json={"role": "department", "source": "hotline"}, headers=principals.admin)
    assert key.status_code == 201, key.text
    hotline = bearer(key.json()["key"])
    results = await push_ok(client, hotline, "hotline", [work_order(1), work_order(2, "火警")])
    assert results[0]["status"] == "created" and results[0]["entity_id"] and results[0]["incident_id"]
    assert results[1]["status"] == "rejected"
    assert results[1]["errors"] == [
        {"field": "gdlx", "reason": "unknown value '火警'; expected one of: 噪音扰民, 消防隐患"}
    ]
    record = (await client.get("/api/v1/records", params={"source": "hotline"}, headers=principals.operator)).json()
    assert "13900139000" not in str(record) and "139****9000" in str(record)

    sources = (await client.get("/api/v1/sources", headers=principals.display)).json()
    assert {"source": "hotline", "name": "12345热线", "label": "热线", "colour": "#845ef7", "defined_by": "stored",
            "version": 1} in sources  # fmt: skip
    assert {s["source"]: s["defined_by"] for s in sources} == {
        "police": "shipped", "market": "shipped", "city": "shipped", "visits": "python", "fire": "shipped",
        "health": "shipped", "hotline": "stored",
    }  # fmt: skip

    events = [e for e in await ledger_events(client, principals.admin) if e["type"] == "feed_definition_installed"]
    assert [(e["data"]["source"], e["data"]["version"], e["actor"]) for e in events] == [("hotline", 1, "admin")]


async def test_versions_and_restoring_one(client: httpx.AsyncClient, principals: Principals) -> None:
    assert (await install(client, principals.admin, HOTLINE)).status_code == 201
    louder = HOTLINE.replace('"噪音扰民" = "noise"', '"噪音扰民" = { category = "noise", severity = "high" }')
    updated = await client.put(
        "/api/v1/feeds/definitions/hotline", json={"definition": louder}, headers=principals.admin
    )
    assert updated.status_code == 200 and updated.json()["version"] == 2, updated.text
    restored = await client.post(
        "/api/v1/feeds/definitions/hotline/restore", json={"version": 1}, headers=principals.admin
    )
    assert restored.status_code == 201 and restored.json()["restored_from"] == 1 and restored.json()["version"] == 3
    # The text in force already, sent again or restored again: no version, no ledger event.
    resent = await install(client, principals.admin, HOTLINE)
    assert resent.status_code == 200 and resent.json()["version"] == 3 and resent.json()["unchanged"] is True
    same = await client.put("/api/v1/feeds/definitions/hotline", json={"definition": HOTLINE}, headers=principals.admin)
    assert same.status_code == 200 and same.json()["unchanged"] is True and same.json()["version"] == 3
    again = await client.post(
        "/api/v1/feeds/definitions/hotline/restore", json={"version": 1}, headers=principals.admin
    )
    assert again.status_code == 200 and again.json() | {"installed_at": None} == {
        "source": "hotline", "version": 3, "installed_at": None, "installed_by": "admin", "restored_from": 1,
        "text": None, "unchanged": True,
    }  # fmt: skip
    versions = (await client.get("/api/v1/feeds/definitions/hotline/versions", headers=principals.admin)).json()
    assert [(v["version"], v["restored_from"]) for v in versions] == [(3, 1), (2, None), (1, None)]
    assert versions[0]["text"] == versions[2]["text"] == HOTLINE
    events = [e for e in await ledger_events(client, principals.admin) if e["type"] == "feed_definition_installed"]
    assert [(e["data"]["version"], e["data"]["previous_version"], e["data"]["restored_from"]) for e in events] == [
        (1, None, None), (2, 1, None), (3, 2, 1),
    ]  # fmt: skip
    missing = await client.post(
        "/api/v1/feeds/definitions/hotline/restore", json={"version": 9}, headers=principals.admin
    )
    assert missing.status_code == 404


async def test_mistakes_are_named_and_nothing_is_stored(client: httpx.AsyncClient, principals: Principals) -> None:
    wrong = HOTLINE.replace('"消防隐患" = "fire"', '"消防隐患" = "blaze"').replace('colour = "#845ef7"', 'colour = "x"')
    answer = await install(client, principals.admin, wrong)
    assert answer.status_code == 422
    assert answer.json()["error"]["details"] == [
        {"field": "colour", "reason": "'x' is not a colour as #rrggbb"},
        {"field": "category.map.消防隐患", "reason": "unknown category 'blaze'; the unified categories are: "
         "food, licence, price, street_order, appearance, waste, noise, fire, order, traffic, other"},
    ]  # fmt: skip
    assert (await install(client, principals.operator, HOTLINE)).status_code == 403
    other = await client.put("/api/v1/feeds/definitions/fire", json={"definition": HOTLINE}, headers=principals.admin)
    assert other.status_code == 422 and other.json()["error"]["details"][0]["field"] == "source"
    assert [e for e in await ledger_events(client, principals.admin) if e["type"] == "feed_definition_installed"] == []


# --- two workers on PostgreSQL and Redis -------------------------------------------------------------


@pytest.fixture
async def two_workers(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, AppState]]:
    """Two app instances sharing one PostgreSQL database and one Redis, as two workers of a deployment."""
    name, url = await create_postgres_database()
    settings = Settings(
        data_dir=tmp_path, database_url=url, redis_url=os.environ.get("CB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        sla_check_interval_s=0, secret_key="test-secret-key-of-at-least-32-bytes!", live_poll_interval_s=0.2,
        argon2_time_cost=1, argon2_memory_kib=8192,
    )  # fmt: skip
    apps: list[FastAPI] = [create_app(settings), create_app(settings)]
    try:
        async with apps[0].router.lifespan_context(apps[0]), apps[1].router.lifespan_context(apps[1]):
            async with (
                httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[0]), base_url="http://a") as first,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[1]), base_url="http://b") as second,
            ):
                yield first, second, apps[0].state.cb
    finally:
        await drop_postgres_database(name)


@pytest.mark.postgres
@pytest.mark.redis
async def test_every_worker_reads_by_a_definition_installed_on_another(
    two_workers: tuple[httpx.AsyncClient, httpx.AsyncClient, AppState],
) -> None:
    first, second, state = two_workers
    async with state.db.transaction() as uow:
        await auth_service.create_user(uow.session, "admin", "admin", "correct-horse-battery", state.hasher)
    login = await first.post("/api/v1/auth/token", data={"username": "admin", "password": "correct-horse-battery"})
    admin = bearer(login.json()["access_token"])

    assert (await install(first, admin, HOTLINE)).status_code == 201
    # The second worker was running all along: a key for the new department, then its records.
    key = await second.post("/api/v1/keys", json={"role": "department", "source": "hotline"}, headers=admin)
    assert key.status_code == 201, key.text
    hotline = bearer(key.json()["key"])
    first_result = (await push_ok(second, hotline, "hotline", [work_order(1)]))[0]
    assert first_result["status"] == "created"

    louder = HOTLINE.replace('"噪音扰民" = "noise"', '"噪音扰民" = { category = "noise", severity = "high" }')
    assert (await first.put("/api/v1/feeds/definitions/hotline", json={"definition": louder}, headers=admin)).is_success
    for _ in range(30):  # within a second or so, the second worker reads by version 2
        await asyncio.sleep(0.1)
        sources = (await second.get("/api/v1/sources", headers=admin)).json()
        if next(s for s in sources if s["source"] == "hotline")["version"] == 2:
            break
    else:
        pytest.fail("the second worker never took version 2")
    result = (await push_ok(second, hotline, "hotline", [work_order(2)]))[0]
    record = (await second.get("/api/v1/records", params={"source_record_id": "GD0002"}, headers=admin)).json()
    assert result["status"] == "created" and record["items"][0]["severity"] == "high"


GRID = """
# 网格巡查 (a fifth department): a CSV export of the grid inspectors' rounds, keywords over the remark.
source = "grid"
name = "网格巡查"
label = "网格"
colour = "#5c940d"
title = ["@category", "@site"]

[transport]
kinds = ["csv"]
columns = ["巡查编号", "巡查时间", "场所名称", "场所地址", "情况说明"]

[record]
id = "巡查编号"

[fields]
name = "场所名称"
address = "场所地址"
description = "情况说明"

[fields.time]
field = "巡查时间"
formats = ["%Y/%m/%d %H:%M"]

[category]
keywords_over = "情况说明"
keywords = [{ words = ["电线", "灭火器", "消防"], category = "fire" }, { words = ["噪音", "噪声"], category = "noise" }]
default = "other"

[problem]
field = "情况说明"
not_a_problem = ["正常"]
"""


async def test_a_fourth_and_a_fifth_department_from_their_definitions_alone(
    app: FastAPI, client: httpx.AsyncClient, principals: Principals, registry: None
) -> None:
    """Two definitions and two keys, nothing else: their records link to the register, join the
    police's incident about the same hazard, reach the wall's live stream and the entity file."""
    for text in (HOTLINE, GRID):
        assert (await install(client, principals.admin, text)).status_code == 201
    keys = {}
    for source in ("hotline", "grid"):
        answer = await client.post(
            "/api/v1/keys", json={"role": "department", "source": source}, headers=principals.admin
        )
        assert answer.status_code == 201, answer.text
        keys[source] = bearer(answer.json()["key"])

    entity_id, name, address = XINYUAN[:3]
    async with serve_in_loop(app) as where:
        ticket = (await client.post("/api/v1/auth/ws-ticket", headers=principals.display)).json()["ticket"]
        async with connect(f"ws://{where}/ws/live?ticket={ticket}") as wall:
            assert json.loads(await asyncio.wait_for(wall.recv(), 10))["type"] == "snapshot"
            police = await push_ok(client, principals.police, "police", [
                police_call("P-DEF-1", at(1), code="0402", name=name, address=address, text="私拉电线"),
            ])  # fmt: skip
            hotline = await push_ok(client, keys["hotline"], "hotline", [
                work_order(1, "消防隐患") | {"dwmc": name, "dz": address, "ldsj": at(2).strftime("%Y-%m-%d %H:%M")},
            ])  # fmt: skip
            csv_text = (
                "巡查编号,巡查时间,场所名称,场所地址,情况说明\r\n"
                f"XC-1,{at(3).strftime('%Y/%m/%d %H:%M')},{name},{address},后门私拉电线未整改\r\n"
                f"XC-2,{at(3).strftime('%Y/%m/%d %H:%M')},{name},{address},正常\r\n"
            )
            grid = await client.post(
                "/api/v1/feeds/grid/files",
                files={"file": ("grid.csv", csv_text.encode("gb18030"))},
                headers=keys["grid"],
            )
            assert grid.status_code == 200 and grid.json()["summary"]["rejected"] == 0, grid.text
            [grid_problem, grid_fine] = grid.json()["results"]

            incident_id = police[0]["incident_id"]
            assert hotline[0]["entity_id"] == grid_problem["entity_id"] == police[0]["entity_id"] == entity_id
            assert hotline[0]["incident_id"] == grid_problem["incident_id"] == incident_id  # one incident
            assert grid_fine["entity_id"] == entity_id and grid_fine["incident_id"] is None  # not a problem

            seen: set[str] = set()
            while not {"hotline", "grid"} <= seen:  # the wall hears of them as they are placed
                message = json.loads(await asyncio.wait_for(wall.recv(), 10))
                if message["type"] == "event" and (message.get("incident") or {}).get("id") == incident_id:
                    seen |= set(message["incident"]["sources"])

    shared = await incident(client, principals.operator, incident_id)
    assert set(shared["sources"]) == {"police", "hotline", "grid"}
    entity_file = (await client.get(f"/api/v1/entities/{entity_id}", headers=principals.operator)).json()
    assert {"police", "hotline", "grid"} <= {record["source"] for record in entity_file["records"]}
    sources = {s["source"]: s for s in (await client.get("/api/v1/sources", headers=principals.display)).json()}
    assert (sources["grid"]["name"], sources["grid"]["label"], sources["grid"]["colour"]) == (
        "网格巡查",
        "网格",
        "#5c940d",
    )
