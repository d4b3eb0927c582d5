from __future__ import annotations

import httpx
import pytest

from service.registry.importer import import_registry_file
from service.state import AppState
from tests.conftest import Principals

pytestmark = pytest.mark.usefixtures("registry")

HEADER = "entity_id,kind,name,legal_name,uscc,address,community,grid,lat,lng,aliases,phone\n"


async def test_search_finds_familymart_branches(client: httpx.AsyncClient, principals: Principals) -> None:
    response = await client.get("/api/v1/entities", params={"q": "全家"}, headers=principals.operator)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] >= 2
    assert all("全家" in (e["name"] + (e["legal_name"] or "") + "".join(e["aliases"])) for e in body["items"])


async def test_search_by_credit_code_address_and_pagination(client: httpx.AsyncClient, principals: Principals) -> None:
    first = (await client.get("/api/v1/entities/LF-000001", headers=principals.operator)).json()
    by_code = await client.get("/api/v1/entities", params={"q": first["uscc"]}, headers=principals.operator)
    assert [e["id"] for e in by_code.json()["items"]] == ["LF-000001"]
    by_address = await client.get("/api/v1/entities", params={"q": first["address"]}, headers=principals.operator)
    assert "LF-000001" in [e["id"] for e in by_address.json()["items"]]
    page = await client.get("/api/v1/entities", params={"limit": 10, "offset": 840}, headers=principals.operator)
    assert page.json()["total"] == 850 and len(page.json()["items"]) == 10


async def test_import_is_idempotent_and_reports_bad_rows(state: AppState) -> None:
    data = (
        HEADER
        + "LF-000001,shop,鑫源快递驿站,上海鑫源物流有限公司,91310106MAWTCDKQ21,岭南路583号,闻喜苑,LF-02,"
        + "31.297083,121.455159,,021-60682674\n"
        + "LF-900001,castle,城堡,,,临汾路1号,,,31.3,121.45,,\n"
        + "LF-900002,shop,新店,,91310106MAWTCDKQ22,临汾路2号,,,31.3,121.45,旧名|老店,\n"
    ).encode("utf-8-sig")
    outcomes = await import_registry_file(state.db, data, "registry.csv")
    assert [(o.line, o.status) for o in outcomes] == [(2, "unchanged"), (3, "rejected"), (4, "created")]
    assert outcomes[1].errors[0]["field"] == "kind"
    assert "check character" in outcomes[2].warnings[0]
    again = await import_registry_file(state.db, data, "registry.csv")
    assert [o.status for o in again] == ["unchanged", "rejected", "unchanged"]


async def test_invalid_credit_code_is_flagged(client: httpx.AsyncClient, principals: Principals) -> None:
    created = await client.post(
        "/api/v1/entities",
        json={"name": "测试店", "uscc": "91310106MAWTCDKQ22", "address": "临汾路9999号", "lat": 31.3, "lng": 121.45},
        headers=principals.operator,
    )
    assert created.status_code == 201, created.text
    assert created.json()["uscc_valid"] is False
    entity_id = created.json()["id"]
    patched = await client.patch(
        f"/api/v1/entities/{entity_id}", json={"uscc": "91310106MAWTCDKQ21"}, headers=principals.operator
    )
    assert patched.json()["uscc_valid"] is True
    assert (await client.get(f"/api/v1/entities/{entity_id}", headers=principals.operator)).json()["records"] == []


async def test_entity_input_errors_name_the_field(client: httpx.AsyncClient, principals: Principals) -> None:
    response = await client.post("/api/v1/entities", json={"name": "x", "lat": 95.0}, headers=principals.operator)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "lat"
    duplicate = await client.post(
        "/api/v1/entities", json={"id": "LF-000001", "name": "x"}, headers=principals.operator
    )
    assert duplicate.status_code == 409
    missing = await client.get("/api/v1/entities/NOPE", headers=principals.operator)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_import_says_what_is_wrong_with_a_code_and_who_else_holds_it(state: AppState) -> None:
    stored = "91310106MAWTCDKQ21"  # LF-000001's code in the register already loaded
    data = (
        HEADER
        + "LF-900011,shop,短号店,,9131010612,临汾路11号,,,,,,\n"
        + f"LF-900012,shop,同码店,,{stored},临汾路12号,,,,,,\n"
        + "LF-900013,shop,甲店,,91350100M000100Y43,临汾路13号,,,,,,\n"
        + "LF-900014,shop,乙店,,91350100M000100Y43,临汾路14号,,,,,,\n"
    ).encode()
    outcomes = await import_registry_file(state.db, data, "registry.csv")
    assert [o.status for o in outcomes] == ["created"] * 4
    assert outcomes[0].warnings == [
        "uscc: a unified social credit code has 18 characters; this one has 10; kept but never used to link records"
    ]
    assert outcomes[1].warnings == ["uscc: also the code of LF-000001; records carrying it link by name and address"]
    assert "also the code of LF-900014" in outcomes[2].warnings[0]
    assert "also the code of LF-900013" in outcomes[3].warnings[0]


async def test_a_point_needs_both_coordinates(client: httpx.AsyncClient, principals: Principals) -> None:
    half = await client.post("/api/v1/entities", json={"name": "半点店", "lat": 31.3}, headers=principals.operator)
    assert half.status_code == 422
    assert half.json()["error"]["details"] == [{"field": "lng", "reason": "required with lat (both, or neither)"}]
    patch = await client.patch("/api/v1/entities/LF-000001", json={"lng": 121.45}, headers=principals.operator)
    assert patch.status_code == 422 and patch.json()["error"]["details"][0]["field"] == "lat"
    short = await client.post("/api/v1/entities", json={"name": "短码店", "uscc": "123"}, headers=principals.operator)
    assert short.json()["error"]["details"] == [
        {"field": "uscc", "reason": "a unified social credit code has 18 characters; this one has 3"}
    ]
