"""Status back to the departments by pull: GET /feeds/{source}/records/{id}, that department only, nothing personal."""

from __future__ import annotations

import httpx

from tests.conftest import Principals
from tests.support.incidents import API, XINYUAN, change_status, city_case, get, police_call, push

PHONE = "13700001111"


async def test_a_department_pulls_the_status_of_its_own_record(
    client: httpx.AsyncClient, principals: Principals, registry: None
) -> None:
    (call,) = await push(client, principals.police, "police", police_call(XINYUAN, "noise", phone=PHONE))
    (case,) = await push(client, principals.city, "city", city_case(XINYUAN))
    incident_id = call["incident_id"]
    assert case["incident_id"] == incident_id  # one problem, two departments
    url = f"{API}/feeds/police/records/{call['source_record_id']}"

    response = await client.get(url, headers=principals.police)
    assert response.status_code == 200
    first = response.json()
    assert first["source_record_id"] == call["source_record_id"]
    assert (first["incident"]["id"], first["incident"]["status"]) == (incident_id, "new")

    # The command centre works on it; the department sees where it stands.
    op = principals.operator
    await client.post(f"{API}/incidents/{incident_id}/assign", json={"assignee": "insp"}, headers=op)
    version = (await get(client, op, f"/incidents/{incident_id}"))["version"]
    await change_status(client, op, incident_id, "in_progress", version)
    response = await client.get(url, headers=principals.police)
    status = response.json()["incident"]
    assert (status["status"], status["assignee"], status["overdue"]) == ("in_progress", "insp", False)
    # Nothing personal and nothing of the other department's: no phone, no payload, no city record.
    assert PHONE not in response.text and "bjrdh" not in response.text and "payload" not in response.text
    assert case["source_record_id"] not in response.text
    assert set(response.json()) == {
        "source", "source_record_id", "record_id", "revision", "received_at", "entity_id", "incident",
        "department_status", "department_reply",
    }  # fmt: skip

    # Another department may not look, neither under its own source nor under the record's.
    assert (await client.get(url, headers=principals.city)).status_code == 403
    other = f"{API}/feeds/city/records/{call['source_record_id']}"
    assert (await client.get(other, headers=principals.city)).status_code == 404
    assert (
        await client.get(f"{API}/feeds/city/records/{case['source_record_id']}", headers=principals.police)
    ).status_code == 403
    for reader in (principals.inspector, principals.display):
        assert (await client.get(url, headers=reader)).status_code == 403
    assert (await client.get(url, headers=op)).status_code == 200  # the command centre may look too
    assert (await client.get(f"{API}/feeds/police/records/nope", headers=principals.police)).status_code == 404
    assert (await client.get(f"{API}/feeds/fire_brigade/records/x", headers=principals.police)).status_code == 404


async def test_a_record_whose_id_holds_a_slash(
    client: httpx.AsyncClient, principals: Principals, registry: None
) -> None:
    """Some departments' ids hold a "/" (the visit log's urgent needs, 走访编号/需求): its status is
    pulled with the "/" escaped or as is."""
    (call,) = await push(client, principals.police, "police", police_call(XINYUAN, call_id="JJ-2026/001 a"))
    for spelled in ("JJ-2026%2F001%20a", "JJ-2026/001%20a"):
        response = await client.get(f"{API}/feeds/police/records/{spelled}", headers=principals.police)
        assert response.status_code == 200, response.text
        assert response.json()["record_id"] == call["record_id"]
