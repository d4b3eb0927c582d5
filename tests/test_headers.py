"""Security headers: nosniff on every kind of response, a Content-Security-Policy and no framing on pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from service.auth.service import create_key
from service.headers import DOCS_POLICY, PAGE_POLICY
from service.main import create_app
from service.settings import Settings
from service.state import AppState
from service.web import APP_DIR, NOT_BUILT
from tests.conftest import Principals
from tests.live.support import serve
from tests.support.images import png

BUILT = (APP_DIR / "index.html").is_file()
PAGES = ("/wall", "/login", "/console", "/inspector", "/entities/LF-000001")


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"attachments_dir": tmp_path / "photos", "max_body_bytes": 1024})


@pytest.fixture
async def raw_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that gets the 500 a crashing route answers, as a browser would, instead of the exception."""

    async def crash() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/test-crash", crash, methods=["GET"])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def assert_nosniff(response: httpx.Response, what: str) -> None:
    assert response.headers.get("x-content-type-options") == "nosniff", (what, response.status_code, response.headers)


async def test_every_kind_of_response_says_nosniff(raw_client: httpx.AsyncClient, principals: Principals) -> None:
    client, op = raw_client, principals.operator
    pushed = await client.post(
        "/api/v1/feeds/police/records",
        json=[
            {
                "jjdbh": "3101062026000000001",
                "bjsj": "2026-10-05 09:00:00",
                "bjtj": "110电话",
                "bjlbdm": "0202",
                "bjlb": "噪声扰民",
                "afdz": "临汾路46号",
                "dwmc": "小朱便利店",
                "bjnr": "噪声",
                "gxdw": "临汾路派出所",
                "jqzt": "已派警",
                "bjrdh": "13900001111",
            }
        ],
        headers=principals.police,
    )
    incident_id = pushed.json()["results"][0]["incident_id"]
    photo = await client.post(
        f"/api/v1/incidents/{incident_id}/attachments", files={"file": ("p.png", png(), "image/png")}, headers=op
    )
    assert photo.status_code == 201, photo.text

    checks: list[tuple[str, str, dict[str, str], int, str]] = [
        ("GET", "/healthz", {}, 200, "application/json"),
        ("GET", "/metrics", {}, 200, "text/plain"),
        ("GET", "/openapi.json", {}, 200, "application/json"),
        ("GET", "/api/v1/incidents", op, 200, "application/json"),
        ("GET", f"/api/v1/incidents/{incident_id}", op, 200, "application/json"),
        ("GET", "/api/v1/incidents", {}, 401, "application/json"),
        ("GET", "/api/v1/users", principals.display, 403, "application/json"),
        ("GET", "/api/v1/no-such-thing", op, 404, "application/json"),
        ("GET", "/api/v1/incidents?limit=nine", op, 422, "application/json"),
        ("DELETE", "/api/v1/incidents", op, 405, "application/json"),
        ("GET", "/test-crash", {}, 500, "application/json"),
        ("GET", "/api/v1/exports/incidents.csv", op, 200, "text/csv"),
        ("GET", photo.json()["url"], op, 200, "image/png"),
        ("GET", "/", {}, 307, ""),
        ("GET", "/docs", {}, 200, "text/html"),
        ("GET", "/redoc", {}, 200, "text/html"),
    ]
    for page in PAGES:
        checks.append(("GET", page, {}, 200 if BUILT else 503, "text/html"))
    if BUILT:
        asset = next((APP_DIR / "assets").glob("index-*.js")).name
        checks.append(("GET", f"/assets/{asset}", {}, 200, "text/javascript"))
        checks.append(("GET", "/assets/no-such-file.js", {}, 404, ""))
    for method, path, headers, status, content_type in checks:
        response = await client.request(method, path, headers=headers)
        assert response.status_code == status, (path, response.status_code, response.text[:200])
        assert response.headers.get("content-type", "").startswith(content_type), (path, response.headers)
        assert_nosniff(response, f"{method} {path}")

    too_big = await client.post("/api/v1/entities", json={"name": "x" * 2000}, headers=op)
    assert too_big.status_code == 413
    assert_nosniff(too_big, "a body over the limit")


async def test_pages_get_a_content_security_policy_and_cannot_be_framed(client: httpx.AsyncClient) -> None:
    for page in PAGES:
        response = await client.get(page)
        assert response.headers["content-security-policy"] == PAGE_POLICY, page
        assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in PAGE_POLICY and "frame-ancestors 'none'" in PAGE_POLICY
    assert "unsafe" not in PAGE_POLICY and "http" not in PAGE_POLICY  # the bundle needs nothing from elsewhere
    for docs in ("/docs", "/redoc"):
        response = await client.get(docs)
        assert response.headers["content-security-policy"] == DOCS_POLICY, docs
        assert response.headers["x-frame-options"] == "DENY"
    api = await client.get("/healthz")
    assert "content-security-policy" not in api.headers  # JSON is not a page
    assert "style=" not in NOT_BUILT and "<style" not in NOT_BUILT  # the fallback page keeps to the policy too


async def test_a_websocket_handshake_refused_with_an_answer_says_nosniff(settings: Settings) -> None:
    """A refusal the app answers itself (400 with the error body) gets the header. A refusal for a bad
    credential is a plain close, which uvicorn answers with its own empty 403 that no app can add to."""
    app = create_app(settings)
    async with serve(app) as address:
        state: AppState = app.state.cb
        async with state.db.transaction() as uow:
            _, key = await create_key(uow.session, "display", None, None, set(), state.hasher)
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://{address}/ws/live?token={key}&since=yesterday", open_timeout=5):
                pass
    response = refused.value.response
    assert response.status_code == 400, response
    assert response.headers.get("x-content-type-options") == "nosniff"
