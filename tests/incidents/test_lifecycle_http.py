"""Every path of the lifecycle through POST /incidents/{id}/status: versions, transitions, notes, the ledger."""

from __future__ import annotations

import httpx

from tests.conftest import Principals
from tests.support.incidents import (
    CHONGQING,
    XIAOZHU,
    XINYUAN,
    change_status,
    error_of,
    get,
    open_incident,
    police_call,
)


async def test_lifecycle_paths_versions_and_notes(
    client: httpx.AsyncClient, principals: Principals, registry: None
) -> None:
    op = principals.operator
    noise = await open_incident(client, principals.police, police_call(XINYUAN, "noise"))
    fire = await open_incident(client, principals.police, police_call(XIAOZHU, "fire"))
    order = await open_incident(client, principals.police, police_call(CHONGQING, "order"))
    incident = await get(client, op, f"/incidents/{noise['id']}")
    assert incident["status"] == "new"
    version = incident["version"]

    # Every incident passes through dispatch: 422, naming the transitions that are allowed.
    response = await change_status(client, op, noise["id"], "in_progress", version)
    assert response.status_code == 422
    assert error_of(response)["details"][0]["allowed"] == ["dispatched", "rejected", "merged"]
    assert "dispatched" in error_of(response)["message"]

    # A stale version: 409 with the incident as it is now, so the client can show it and retry.
    response = await change_status(client, op, noise["id"], "dispatched", version - 1)
    assert response.status_code == 409
    current = error_of(response)["details"][0]["current"]
    assert (current["id"], current["version"], current["status"]) == (noise["id"], version, "new")

    # Merging has its own endpoint; an unknown status word is a validation error.
    assert (await change_status(client, op, noise["id"], "merged", version)).status_code == 422
    assert (await change_status(client, op, noise["id"], "done", version)).status_code == 422

    # The whole road, with a reopening when verification fails.
    for target in ("dispatched", "in_progress", "resolved", "in_progress", "resolved"):
        response = await change_status(client, op, noise["id"], target, version)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == target
        assert response.json()["version"] == version + 1
        version = response.json()["version"]

    # Closing needs the resolution; blank text is no resolution.
    for note in (None, "   "):
        response = await change_status(client, op, noise["id"], "closed", version, note)
        assert response.status_code == 422
        assert error_of(response)["details"][0]["field"] == "note"
    response = await change_status(client, op, noise["id"], "closed", version, "已约谈经营者，复查无噪声")
    assert response.status_code == 200
    closed = response.json()
    assert (closed["status"], closed["resolution_note"]) == ("closed", "已约谈经营者，复查无噪声")

    # Closed is final.
    response = await change_status(client, op, noise["id"], "in_progress", closed["version"])
    assert response.status_code == 422
    assert error_of(response)["details"][0]["allowed"] == []

    # Rejecting needs a reason, from new and from dispatched; not once work has started.
    fire_version = (await get(client, op, f"/incidents/{fire['id']}"))["version"]
    assert (await change_status(client, op, fire["id"], "rejected", fire_version)).status_code == 422
    response = await change_status(client, op, fire["id"], "rejected", fire_version, "重复报警，现场无隐患")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["resolution_note"]) == ("rejected", "重复报警，现场无隐患")

    order_version = (await get(client, op, f"/incidents/{order['id']}"))["version"]
    order_version = (await change_status(client, op, order["id"], "dispatched", order_version)).json()["version"]
    order_version = (await change_status(client, op, order["id"], "in_progress", order_version)).json()["version"]
    response = await change_status(client, op, order["id"], "rejected", order_version, "不是问题")
    assert response.status_code == 422
    assert error_of(response)["details"][0]["allowed"] == ["resolved", "merged"]

    # The ledger holds every change, by whom, from what to what.
    events = (await get(client, op, f"/incidents/{noise['id']}"))["events"]
    changes = [(e["data"]["from"], e["data"]["to"], e["actor"]) for e in events if e["type"] == "status_changed"]
    assert changes == [
        ("new", "dispatched", "op"),
        ("dispatched", "in_progress", "op"),
        ("in_progress", "resolved", "op"),
        ("resolved", "in_progress", "op"),
        ("in_progress", "resolved", "op"),
        ("resolved", "closed", "op"),
    ]
    assert events[-1]["data"]["note"] == "已约谈经营者，复查无噪声"
    verified = await get(client, principals.admin, "/ledger/verify")
    assert verified["ok"], verified
