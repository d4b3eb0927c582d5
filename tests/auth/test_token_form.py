"""POST /auth/token is the OAuth2 password flow: a form. A JSON caller is told so, naming the content type."""

from __future__ import annotations

import httpx

from tests.conftest import PASSWORD, Principals

TOKEN = "/api/v1/auth/token"


async def test_json_gets_told_to_send_a_form(client: httpx.AsyncClient, principals: Principals) -> None:
    response = await client.post(TOKEN, json={"username": "op", "password": PASSWORD})
    assert response.status_code == 415, response.text
    error = response.json()["error"]
    assert "takes a form (application/x-www-form-urlencoded" in error["message"]
    assert "Field required" not in response.text
    assert error["details"] == [{"field": "content-type", "reason": "expected application/x-www-form-urlencoded"}]

    assert (await client.post(TOKEN)).status_code == 415  # no body at all: the same explanation
    form = await client.post(TOKEN, data={"username": "op", "password": PASSWORD})
    assert form.status_code == 200 and form.json()["role"] == "operator"
    files = await client.post(TOKEN, data={"username": "op", "password": PASSWORD}, files={"x": b""})
    assert files.status_code == 200  # multipart is a form too
