"""An operator merges two incidents: the reports move, the merged one points at the survivor, both are in the ledger."""

from __future__ import annotations

from datetime import timedelta

import httpx

from service.kit.clock import utcnow
from tests.conftest import Principals
from tests.support.incidents import API, XIAOZHU, XINYUAN, change_status, city_case, error_of, get, police_call, push


async def test_operator_merges_two_incidents(client: httpx.AsyncClient, principals: Principals, registry: None) -> None:
    op = principals.operator
    # Two noise reports at two neighbouring shops open two incidents; the operator knows the noise
    # comes from one of them, so the other's report belongs in its incident.
    (police,) = await push(client, principals.police, "police", police_call(XINYUAN, "noise"))
    (city,) = await push(client, principals.city, "city", city_case(XIAOZHU, at=utcnow() - timedelta(hours=3)))
    survivor_id, merged_id = police["incident_id"], city["incident_id"]
    assert survivor_id != merged_id
    await client.post(f"{API}/incidents/{merged_id}/assign", json={"assignee": "insp"}, headers=op)

    # Only operators merge; not into itself, not into an incident that does not exist.
    async def merge(headers: dict[str, str], incident_id: int, into: int) -> httpx.Response:
        return await client.post(f"{API}/incidents/{incident_id}/merge", json={"into": into}, headers=headers)

    assert (await merge(principals.inspector, merged_id, survivor_id)).status_code == 403
    assert (await merge(op, merged_id, merged_id)).status_code == 422
    assert (await merge(op, merged_id, 99999)).status_code == 422
    assert (await merge(op, 99999, survivor_id)).status_code == 404

    response = await merge(op, merged_id, survivor_id)
    assert response.status_code == 200, response.text
    survivor = response.json()
    assert survivor["id"] == survivor_id
    assert survivor["report_count"] == 2
    assert sorted(survivor["sources"]) == ["city", "police"]
    assert survivor["assignee"] == "insp"  # the work already dispatched is not lost

    merged = await get(client, op, f"/incidents/{merged_id}")
    assert (merged["status"], merged["merged_into"], merged["records"]) == ("merged", survivor_id, [])
    kept = await get(client, op, f"/incidents/{survivor_id}")
    assert {(r["source"], r["source_record_id"]) for r in kept["records"]} == {
        ("police", police["source_record_id"]),
        ("city", city["source_record_id"]),
    }
    assert [e["data"] for e in merged["events"] if e["type"] == "merged"] == [
        {"into": survivor_id, "reason": "merged by op"}
    ]
    absorbed = [e for e in kept["events"] if e["type"] == "absorbed"]
    assert [(e["actor"], e["data"]["from"], e["data"]["report_count"]) for e in absorbed] == [("op", merged_id, 1)]

    # The department's own view follows the record to the survivor.
    status = await get(client, principals.city, f"/feeds/city/records/{city['source_record_id']}")
    assert status["incident"]["id"] == survivor_id

    # A merged incident is finished: no more merging, no more status changes.
    assert (await merge(op, merged_id, survivor_id)).status_code == 422
    response = await change_status(client, op, merged_id, "in_progress", merged["version"])
    assert response.status_code == 422 and error_of(response)["details"][0]["allowed"] == []

    # Nor does a closed one merge, either way round.
    (other,) = await push(client, principals.police, "police", police_call(XIAOZHU, "fire"))
    version = (await get(client, op, f"/incidents/{other['incident_id']}"))["version"]
    for target, note in (("dispatched", None), ("in_progress", None), ("resolved", None), ("closed", "已整改")):
        response = await change_status(client, op, other["incident_id"], target, version, note)
        assert response.status_code == 200
        version = response.json()["version"]
    for source_id, into_id in ((other["incident_id"], survivor_id), (survivor_id, other["incident_id"])):
        response = await merge(op, source_id, into_id)
        assert response.status_code == 422
        assert error_of(response)["details"][0]["reason"] == "not open"
    assert (await get(client, principals.admin, "/ledger/verify"))["ok"]
