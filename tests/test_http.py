"""Bad input of every kind gets a clear 4xx that names what is wrong, never a 500 (docs/http-api.md, "Errors").

Department pushes answer a batch item by item (docs/http-api.md, "The report": valid items are stored even when
others are rejected), so a bad record inside a push is a "rejected" result naming its field; a
body that cannot be read at all is refused as a whole. Operator input is refused with a 422.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from service.settings import Settings
from tests.conftest import Principals
from tests.support.feeds import push
from tests.support.http import error_fields
from tests.support.records import city_case, market_item, police_call

BODY_LIMIT = 64 * 1024
PUSH = "/api/v1/feeds/police/records"
MARKET_HEADER = (
    "记录编号,统一社会信用代码,主体名称,经营场所,许可证编号,检查日期,检查类型,检查事项,检查结果,处理措施,"
    "问题描述,整改期限,食品安全等级,检查机构,检查人员\n"
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_body_bytes": BODY_LIMIT, "max_upload_bytes": BODY_LIMIT})


def market_line(record_id: str) -> str:
    return (
        f"{record_id},,重庆小面,汾西路103号,,2026/10/05,日常检查,食品安全,不符合,限期整改,从业人员未持健康证,,,"
        "临汾路市场监督管理所,杨伟\n"
    )


def rejected_fields(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["status"] == "rejected" and result["record_id"] is None
    assert all(e["reason"] for e in result["errors"])
    return {e["field"] for e in result["errors"]}


def error_of(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    error: dict[str, object] = response.json()["error"]
    assert error["code"] and error["message"]
    return error


# ── bodies that cannot be read ─────────────────────────────────────────────────────────────────


async def test_malformed_json(client: httpx.AsyncClient, principals: Principals) -> None:
    broken = b'{"jjdbh": "P1", "bjsj": '
    pushed = await client.post(PUSH, content=broken, headers={**principals.police, "content-type": "application/json"})
    assert "not valid JSON" in str(error_of(pushed, 400)["message"])
    assert "line 1 column" in str(error_of(pushed, 400)["message"])
    entity = await client.post(
        "/api/v1/entities", content=b'{"name": ', headers={**principals.operator, "content-type": "application/json"}
    )
    assert error_of(entity, 400)["code"] == "malformed_json"


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded", None])
async def test_wrong_content_type_on_a_push(
    client: httpx.AsyncClient, principals: Principals, content_type: str | None
) -> None:
    headers = {**principals.police, **({"content-type": content_type} if content_type else {})}
    response = await client.post(PUSH, content=json.dumps(police_call("P1")).encode(), headers=headers)
    assert "application/json" in str(error_of(response, 415)["message"])


async def test_wrong_content_type_on_operator_routes(client: httpx.AsyncClient, principals: Principals) -> None:
    entity = await client.post(
        "/api/v1/entities", content=b"<entity/>", headers={**principals.operator, "content-type": "application/xml"}
    )
    assert error_fields(entity) == {"content-type"} and error_of(entity, 415)
    not_multipart = await client.post("/api/v1/feeds/market/files", json={"file": "x"}, headers=principals.market)
    assert error_fields(not_multipart) == {"content-type"}
    assert "multipart/form-data" in str(error_of(not_multipart, 415)["message"])
    for broken in ("multipart/form-data", "multipart/form-data; boundary=x"):  # no boundary; not a multipart body
        unreadable = await client.post(
            "/api/v1/feeds/market/files", content=b"abc", headers={**principals.market, "content-type": broken}
        )
        assert error_of(unreadable, 400) and error_fields(unreadable) == {"body"}
    [pushed] = (await push(client, principals.police, "police", police_call("P1"))).json()["results"]
    incident_url = f"/api/v1/incidents/{pushed['incident_id']}"
    form = await client.post(f"{incident_url}/status", data={"status": "rejected"}, headers=principals.operator)
    assert "application/json" in str(error_of(form, 415)["message"]) and error_fields(form) == {"content-type"}
    json_photo = await client.post(f"{incident_url}/attachments", json={"file": "x"}, headers=principals.operator)
    assert error_of(json_photo, 415) and error_fields(json_photo) == {"content-type"}
    photo = await client.post(
        f"/api/v1/incidents/{pushed['incident_id']}/attachments",
        files={"file": ("photo.jpg", b"MZ\x90\x00 not an image", "image/jpeg")},
        headers=principals.operator,
    )
    assert error_fields(photo) == {"file"} and error_of(photo, 415)  # told by its bytes, whatever its name


async def test_huge_bodies_get_413(client: httpx.AsyncClient, principals: Principals) -> None:
    big = b"[" + b" " * (BODY_LIMIT + 1) + b"]"
    declared = await client.post(PUSH, content=big, headers={**principals.police, "content-type": "application/json"})
    assert "larger than" in str(error_of(declared, 413)["message"]) and error_fields(declared) == {"body"}

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while it is read
        for _ in range(BODY_LIMIT // 4096 + 2):
            yield b" " * 4096

    streamed = await client.post(
        PUSH, content=chunks(), headers={**principals.police, "content-type": "application/json"}
    )
    assert error_of(streamed, 413)
    entity = await client.post(
        "/api/v1/entities", content=chunks(), headers={**principals.operator, "content-type": "application/json"}
    )
    assert error_of(entity, 413)
    too_many = await client.post(PUSH, json=[{}] * 1001, headers=principals.police)
    assert "1000" in str(error_of(too_many, 413)["message"]) and error_fields(too_many) == {"body"}
    upload = await client.post(
        "/api/v1/feeds/market/files",
        files={"file": ("market.csv", (MARKET_HEADER + market_line("M1") * 2000).encode("gbk"), "text/csv")},
        headers=principals.market,
    )
    assert error_of(upload, 413) and error_fields(upload) == {"body"}  # the body limit comes first here


@pytest.mark.parametrize("depth", [40, 20_000])
async def test_deeply_nested_json(client: httpx.AsyncClient, principals: Principals, depth: int) -> None:
    nested = b"[" * depth + b"]" * depth
    pushed = await client.post(PUSH, content=nested, headers={**principals.police, "content-type": "application/json"})
    assert "nested deeper" in str(error_of(pushed, 400)["message"])
    entity = await client.post(
        "/api/v1/entities",
        content=b'{"name": "x", "aliases": ' + nested + b"}",
        headers={**principals.operator, "content-type": "application/json"},
    )
    assert "nested deeper" in str(error_of(entity, 400)["message"])


async def test_invalid_utf8_bodies(client: httpx.AsyncClient, principals: Principals) -> None:
    gbk_in_json = '{"jjdbh": "P1", "afdz": "临汾路46号"}'.encode("gbk")
    pushed = await client.post(
        PUSH, content=gbk_in_json, headers={**principals.police, "content-type": "application/json"}
    )
    assert "not valid UTF-8" in str(error_of(pushed, 400)["message"])
    assert "/api/v1/feeds/{source}/files" in str(error_of(pushed, 400)["message"])  # where a GBK export goes
    entity = await client.post(
        "/api/v1/entities",
        content='{"name": "重庆小面"}'.encode("gbk"),
        headers={**principals.operator, "content-type": "application/json"},
    )
    assert "not valid UTF-8" in str(error_of(entity, 400)["message"]) and error_fields(entity) == {"body"}


BAD_JSON = {
    "truncated": b'{"name": "P1", "note": ',
    "NaN": b'{"name": "P1", "lat": NaN}',
    "too deep": b'{"name": "x", "aliases": ' + b"[" * 40 + b"]" * 40 + b"}",
    "GBK": '{"name": "重庆小面"}'.encode("gbk"),
}


@pytest.mark.parametrize("case", BAD_JSON)
async def test_a_push_and_an_operator_route_refuse_bad_json_alike(
    client: httpx.AsyncClient, principals: Principals, case: str
) -> None:
    """One JSON guard reads every body: the same bad JSON gets the same answer wherever it is sent."""
    pushed = await client.post(
        PUSH, content=BAD_JSON[case], headers={**principals.police, "content-type": "application/json"}
    )
    entity = await client.post(
        "/api/v1/entities", content=BAD_JSON[case], headers={**principals.operator, "content-type": "application/json"}
    )
    assert error_of(pushed, 400) == error_of(entity, 400)
    assert error_fields(pushed) == {"body"}


@pytest.mark.parametrize(
    ("first", "second", "bad_line"),
    [("utf-8", "gbk", 4), ("gbk", "utf-8", 4)],
    ids=["utf8-then-gbk", "gbk-then-utf8"],
)
async def test_files_mixing_gbk_and_utf8_name_the_line(
    client: httpx.AsyncClient, principals: Principals, first: str, second: str, bad_line: int
) -> None:
    data = (MARKET_HEADER + market_line("M1") + market_line("M2")).encode(first) + market_line("M3").encode(second)
    response = await client.post(
        "/api/v1/feeds/market/files", files={"file": ("market.csv", data, "text/csv")}, headers=principals.market
    )
    assert response.status_code == 200, response.text
    results = {result["line"]: result for result in response.json()["results"]}
    assert [(line, results[line]["status"]) for line in sorted(results)] == [
        (2, "created"),
        (3, "created"),
        (4, "rejected"),
    ]
    [error] = results[bad_line]["errors"]  # the line in the other encoding is refused, the good rows stored
    assert error["field"] == "(row)" and error["reason"].startswith(f"line {bad_line} is neither UTF-8 nor GBK/GB18030")
    listed = await client.get("/api/v1/records", params={"source": "market"}, headers=principals.operator)
    assert listed.json()["total"] == 2


# ── values that cannot be right ────────────────────────────────────────────────────────────────


async def test_impossible_dates_name_the_field(client: httpx.AsyncClient, principals: Principals) -> None:
    assert rejected_fields(
        await push(client, principals.police, "police", police_call("D1", bjsj="2026-02-30 10:00:00"))
    ) == {"bjsj"}
    city = city_case("D2", discoverTime="2026-13-01T10:00:00+08:00")
    assert rejected_fields(await push(client, principals.city, "city", city)) == {"discoverTime"}
    market = market_item("D3", 检查日期="2026/02/30")
    assert rejected_fields(await push(client, principals.market, "market", market)) == {"检查日期"}
    data = (MARKET_HEADER + market_line("D4").replace("2026/10/05", "2026/04/31")).encode("gbk")
    imported = await client.post(
        "/api/v1/feeds/market/files", files={"file": ("market.csv", data, "text/csv")}, headers=principals.market
    )
    [row] = imported.json()["results"]
    assert imported.status_code == 200 and row["status"] == "rejected" and row["line"] == 2
    assert {e["field"] for e in row["errors"]} == {"检查日期"}


async def test_coordinates_outside_china(client: httpx.AsyncClient, principals: Principals) -> None:
    assert rejected_fields(await push(client, principals.police, "police", police_call("C1", jd=0, wd=0))) == {
        "jd",
        "wd",
    }
    ny = city_case("C2", location={"lng": -73.98, "lat": 40.75, "crs": "GCJ-02"})
    assert "location.lng" in rejected_fields(await push(client, principals.city, "city", ny))
    entity = await client.post(
        "/api/v1/entities", json={"name": "悉尼店", "lat": -33.87, "lng": 151.21}, headers=principals.operator
    )
    assert error_fields(entity) == {"lat", "lng"} and error_of(entity, 422)


async def test_a_19_character_credit_code(client: httpx.AsyncClient, principals: Principals) -> None:
    code = "91310106MAWTCDKQ210"  # one character too many
    entity = await client.post("/api/v1/entities", json={"name": "测试店", "uscc": code}, headers=principals.operator)
    assert error_fields(entity) == {"uscc"} and "18 characters" in str(error_of(entity, 422)["message"])
    created = await client.post("/api/v1/entities", json={"name": "测试店"}, headers=principals.operator)
    patched = await client.patch(
        f"/api/v1/entities/{created.json()['id']}", json={"uscc": code}, headers=principals.operator
    )
    assert error_fields(patched) == {"uscc"} and error_of(patched, 422)
    # A department's record is kept, flagged, and never linked by the bad code (docs/adapters.md, "The register").
    [result] = (await push(client, principals.market, "market", market_item("U1", 统一社会信用代码=code))).json()[
        "results"
    ]
    assert result["status"] == "created"
    record = (
        await client.get("/api/v1/records", params={"source_record_id": "U1"}, headers=principals.operator)
    ).json()
    assert record["items"][0]["uscc_valid"] is False and record["items"][0]["match_method"] != "uscc"


# ── text no database can store ─────────────────────────────────────────────────────────────────


async def test_nul_characters_and_unpaired_surrogates(client: httpx.AsyncClient, principals: Principals) -> None:
    query = await client.get("/api/v1/records", params={"source": "po\x00lice"}, headers=principals.operator)
    assert error_fields(query) == {"query.source"} and error_of(query, 422)
    body = await client.post("/api/v1/entities", json={"name": "重庆\x00小面"}, headers=principals.operator)
    assert error_fields(body) == {"name"} and error_of(body, 422)
    surrogate = await client.post(
        "/api/v1/entities",
        content=b'{"name": "ok", "aliases": ["\\ud83d\\ude00", "\\ud800"]}',  # a pair is fine, a lone half is not
        headers={**principals.operator, "content-type": "application/json"},
    )
    assert error_fields(surrogate) == {"aliases.1"} and error_of(surrogate, 422)
    login = await client.post("/api/v1/auth/token", data={"username": "ad\x00min", "password": "x" * 12})
    assert error_fields(login) == {"username"} and error_of(login, 422)
    pushed = await push(client, principals.police, "police", police_call("N1", bjnr="噪声\x00扰民"))
    assert rejected_fields(pushed) == {"bjnr"}
    # A push judges each record: a lone surrogate rejects the record that holds it, as a NUL does.
    lone = json.dumps(police_call("N2", bjnr="?")).replace('"?"', '"\\ud800"').encode()
    pushed = await client.post(PUSH, content=lone, headers={**principals.police, "content-type": "application/json"})
    assert rejected_fields(pushed) == {"bjnr"}


async def test_field_names_no_database_can_store(client: httpx.AsyncClient, principals: Principals) -> None:
    """A NUL or a lone surrogate in a field's name, at the top or inside, rejects that record only (a
    lone surrogate in a name was a 500 that lost the whole batch)."""
    batch = [
        police_call("K1"),
        {**police_call("K2"), "note?": "x"},
        {**police_call("K3"), "afdw": {"a\x00b": 1}},
        {**police_call("K4"), "c\x00d": "x"},
    ]
    body = json.dumps(batch).replace('"note?"', '"note\\ud83d"').encode()
    pushed = await client.post(PUSH, content=body, headers={**principals.police, "content-type": "application/json"})
    assert pushed.status_code == 200, pushed.text
    results = pushed.json()["results"]
    assert [result["status"] for result in results] == ["created", "rejected", "rejected", "rejected"]
    assert [[error["field"] for error in result["errors"]] for result in results[1:]] == [
        ["note\\ud83d"],
        ["afdw"],
        ["c\\x00d"],
    ]
    assert all("a field name contains" in result["errors"][0]["reason"] for result in results[1:])
    stored = await client.get("/api/v1/feeds/police/records/K1", headers=principals.police)
    assert stored.status_code == 200, stored.text


# ── what the service did not expect ───────────────────────────────────────────────────────────


async def test_an_unexpected_failure_is_a_500_that_names_its_request(app: FastAPI, client: httpx.AsyncClient) -> None:
    """The answer carries the request id in its header and message (it said "request id None", with no
    header), and the service answers the next request as usual."""

    async def fail() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/v1/test-failure", fail)
    failed = await client.get("/api/v1/test-failure", headers={"X-Request-ID": "req-42"})
    assert error_of(failed, 500)["message"] == "internal error; request id req-42"
    assert failed.headers["x-request-id"] == "req-42"
    assert failed.headers["x-content-type-options"] == "nosniff"
    assert (await client.get("/healthz")).status_code == 200


# ── regressions: 500s Schemathesis found (tests/test_fuzz_openapi.py) ─────────────────


async def test_ids_beyond_the_database_integer_are_422(client: httpx.AsyncClient, principals: Principals) -> None:
    """PostgreSQL's integer ids end at 2**31 - 1; a larger id in the path or query was a 500 there."""
    too_big = 2**31
    for path, params in (
        (f"/api/v1/incidents/{too_big}", {}),
        (f"/api/v1/incidents/1/attachments/{too_big}", {}),
        ("/api/v1/records", {"incident_id": str(too_big)}),
        ("/api/v1/exports/records.csv", {"incident_id": str(too_big)}),
    ):
        response = await client.get(path, params=params, headers=principals.operator)
        assert response.status_code == 422, (path, response.text)
    linked = await client.post(f"/api/v1/records/{too_big}/link", json={"entity_id": "X"}, headers=principals.operator)
    merged = await client.post("/api/v1/incidents/1/merge", json={"into": too_big}, headers=principals.operator)
    assert error_of(linked, 422) and error_fields(merged) == {"into"}
    assert (await client.get(f"/api/v1/incidents/{too_big - 1}", headers=principals.operator)).status_code == 404


async def test_patching_an_entity_with_null_where_a_value_is_required(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    """kind, name and status can be left out of a PATCH, but null cannot clear them (was a 500)."""
    created = (await client.post("/api/v1/entities", json={"name": "测试店"}, headers=principals.operator)).json()
    for field in ("kind", "name", "status"):
        patched = await client.patch(
            f"/api/v1/entities/{created['id']}", json={field: None}, headers=principals.operator
        )
        assert error_fields(patched) == {field} and error_of(patched, 422)
    kept = await client.patch(f"/api/v1/entities/{created['id']}", json={"grid": None}, headers=principals.operator)
    assert kept.status_code == 200 and kept.json()["name"] == "测试店" and kept.json()["grid"] is None
