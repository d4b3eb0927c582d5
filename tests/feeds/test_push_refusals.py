"""What a push may not do: the wrong caller, the wrong source, and bodies that are too big or not JSON."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from service.settings import Settings
from tests.conftest import Principals
from tests.support.feeds import at, police_call, push

pytestmark = pytest.mark.usefixtures("ledger_checked")

BODY_LIMIT = 64 * 1024


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A small body limit, so an oversized body is cheap to send."""
    return settings.model_copy(update={"max_body_bytes": BODY_LIMIT})


def error_of(response: httpx.Response) -> dict[str, object]:
    error: dict[str, object] = response.json()["error"]
    assert set(error) == {"code", "message", "details"} and error["message"]
    return error


async def nothing_stored(client: httpx.AsyncClient, principals: Principals) -> bool:
    listed = await client.get("/api/v1/records", headers=principals.operator)
    assert listed.status_code == 200
    return bool(listed.json()["total"] == 0)


async def test_who_may_push_where(client: httpx.AsyncClient, principals: Principals) -> None:
    call = police_call("P1", at(0))
    other_source = await push(client, principals.city, "police", call)
    assert other_source.status_code == 403 and error_of(other_source)["code"] == "forbidden"
    own_format_wrong_door = await push(client, principals.police, "city", call)
    assert own_format_wrong_door.status_code == 403
    operator = await push(client, principals.operator, "police", call)
    assert operator.status_code == 403
    display = await push(client, principals.display, "police", call)
    assert display.status_code == 403
    unknown = await push(client, principals.police, "waterworks", call)
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "not_found"
    anonymous = await push(client, {}, "police", call)
    assert anonymous.status_code == 401
    bad_key = await push(client, {"Authorization": "Bearer cbk_nothing_nothing"}, "police", call)
    assert bad_key.status_code == 401
    assert await nothing_stored(client, principals)


async def test_oversized_bodies_are_413(client: httpx.AsyncClient, principals: Principals) -> None:
    padding = "x" * 500
    calls = [police_call(f"P{i}", at(0), text=padding) for i in range(200)]  # ~200 KB
    too_big = await push(client, principals.police, "police", calls)
    assert too_big.status_code == 413 and error_of(too_big)["code"] == "payload_too_large"

    # Without a Content-Length the limit holds while the body streams in.
    body = json.dumps(calls).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    streamed = await client.post(
        "/api/v1/feeds/police/records",
        content=chunks(),
        headers={**principals.police, "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413

    many = [{"jjdbh": f"P{i}"} for i in range(1001)]  # small enough in bytes, too many items
    too_many = await push(client, principals.police, "police", many)
    assert too_many.status_code == 413 and "1000" in str(error_of(too_many)["message"])
    assert await nothing_stored(client, principals)


NOT_A_JSON_PUSH = [
    ("truncated", b'{"jjdbh": "P1", "bjsj": ', "application/json", 400, "malformed_json"),
    ("trailing comma", b"[1, 2,]", "application/json", 400, "malformed_json"),
    ("empty", b"", "application/json", 400, "malformed_json"),
    ("NaN", b'{"jjdbh": "P1", "jd": NaN}', "application/json", 400, "malformed_json"),
    ("not UTF-8", '{"jjdbh": "\u4e2d"}'.encode("gbk"), "application/json", 400, "bad_request"),
    ("text/plain", b'{"jjdbh": "P1"}', "text/plain", 415, "unsupported_media_type"),
    ("form", b'{"jjdbh": "P1"}', "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ("empty array", b"[]", "application/json", 422, "unprocessable"),
    ("a number", b"42", "application/json", 422, "unprocessable"),
    ("a string", b'"P1"', "application/json", 422, "unprocessable"),
    ("null", b"null", "application/json", 422, "unprocessable"),
    ("deep array", b"[" * 40 + b"]" * 40, "application/json", 400, "bad_request"),
    (
        "deep object",
        b'{"jjdbh": "P1", "x": ' + b'{"a": ' * 40 + b"1" + b"}" * 41,
        "application/json",
        400,
        "bad_request",
    ),
    ("very deep", b"[" * 30_000 + b"]" * 30_000, "application/json", 400, "bad_request"),
]


async def test_bodies_that_are_not_a_json_push(client: httpx.AsyncClient, principals: Principals) -> None:
    for case, body, content_type, status, code in NOT_A_JSON_PUSH:
        response = await client.post(
            "/api/v1/feeds/police/records", content=body, headers={**principals.police, "Content-Type": content_type}
        )
        assert (response.status_code, error_of(response)["code"]) == (status, code), (case, response.text)
    assert await nothing_stored(client, principals)
