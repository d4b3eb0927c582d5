"""Assigning incidents, notes, and what an inspector may see and change: only what is assigned to them."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Principals
from tests.support.images import png
from tests.support.incidents import (
    API,
    CHONGQING,
    XIAOZHU,
    XINYUAN,
    change_status,
    error_of,
    get,
    open_incident,
    police_call,
)


async def _assign(
    client: httpx.AsyncClient, headers: dict[str, str], incident_id: int, assignee: str, version: int | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"assignee": assignee}
    if version is not None:
        body["expected_version"] = version
    return await client.post(f"{API}/incidents/{incident_id}/assign", json=body, headers=headers)


async def test_assign_notes_and_inspector_scope(
    client: httpx.AsyncClient, principals: Principals, registry: None
) -> None:
    op, insp, insp2 = principals.operator, principals.inspector, principals.inspector2
    mine = (await open_incident(client, principals.police, police_call(XINYUAN, "noise")))["id"]
    theirs = (await open_incident(client, principals.police, police_call(XIAOZHU, "fire")))["id"]
    nobodys = (await open_incident(client, principals.police, police_call(CHONGQING, "order")))["id"]

    # Only real inspectors or operators are assignees; only operators assign.
    for who in ("ghost", "admin"):
        response = await _assign(client, op, mine, who)
        assert response.status_code == 422
        assert error_of(response)["details"][0]["field"] == "assignee"
    assert (await _assign(client, insp, mine, "insp")).status_code == 403
    assert (await _assign(client, principals.police, mine, "insp")).status_code == 403

    version = (await get(client, op, f"/incidents/{mine}"))["version"]
    assert (await _assign(client, op, mine, "insp", version - 1)).status_code == 409
    response = await _assign(client, op, mine, "insp", version)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["assignee"]) == ("dispatched", "insp")
    assert (await _assign(client, op, theirs, "insp2")).json()["status"] == "dispatched"

    # An inspector's list holds their own incidents, whatever filter they ask for.
    listed = await get(client, insp, "/incidents")
    assert [i["id"] for i in listed["items"]] == [mine] and listed["total"] == 1
    assert [i["id"] for i in (await get(client, insp, "/incidents", assignee="insp2"))["items"]] == [mine]
    assert {i["id"] for i in (await get(client, op, "/incidents"))["items"]} == {mine, theirs, nobodys}

    # Someone else's incident, or nobody's: 403 for reading and for every change.
    for other in (theirs, nobodys):
        assert (await client.get(f"{API}/incidents/{other}", headers=insp)).status_code == 403
        version = (await get(client, op, f"/incidents/{other}"))["version"]
        assert (await change_status(client, insp, other, "in_progress", version)).status_code == 403
        response = await client.post(f"{API}/incidents/{other}/notes", json={"text": "我来看看"}, headers=insp)
        assert response.status_code == 403
        files = {"file": ("photo.png", png(), "image/png")}
        response = await client.post(f"{API}/incidents/{other}/attachments", files=files, headers=insp)
        assert response.status_code == 403
        # An unreadable file does not change the answer: who may comes before what is sent.
        files = {"file": ("photo.jpg", b"not a photo", "image/jpeg")}
        response = await client.post(f"{API}/incidents/{other}/attachments", files=files, headers=insp)
        assert response.status_code == 403

    # Their own incident: the inspector works it and writes notes.
    version = (await get(client, insp, f"/incidents/{mine}"))["version"]
    response = await change_status(client, insp, mine, "in_progress", version)
    assert response.status_code == 200
    response = await client.post(f"{API}/incidents/{mine}/notes", json={"text": "已到现场，正在劝导"}, headers=insp)
    assert response.status_code == 201
    response = await client.post(f"{API}/incidents/{theirs}/notes", json={"text": "请尽快处理"}, headers=op)
    assert response.status_code == 201
    assert (await client.post(f"{API}/incidents/{mine}/notes", json={"text": ""}, headers=op)).status_code == 422

    # Wall screens read but never write.
    assert (await client.get(f"{API}/incidents/{theirs}", headers=principals.display)).status_code == 200
    response = await client.post(f"{API}/incidents/{mine}/notes", json={"text": "x"}, headers=principals.display)
    assert response.status_code == 403

    detail = await get(client, insp, f"/incidents/{mine}")
    assert [(n["author"], n["text"]) for n in detail["notes"]] == [("insp", "已到现场，正在劝导")]
    events = [(e["type"], e["actor"], e["data"]) for e in detail["events"]]
    assigned = {"assignee": "insp", "previous_assignee": None, "from": "new", "to": "dispatched"}
    assert ("assigned", "op", assigned) in events
    assert ("note_added", "insp", {"text": "已到现场，正在劝导"}) in events
    assert [(n["author"], n["text"]) for n in (await get(client, op, f"/incidents/{theirs}"))["notes"]] == [
        ("op", "请尽快处理")
    ]

    # Reassigning moves the incident out of one inspector's sight and into another's.
    assert (await _assign(client, op, mine, "insp2")).status_code == 200
    assert (await get(client, insp, "/incidents"))["total"] == 0
    assert {i["id"] for i in (await get(client, insp2, "/incidents"))["items"]} == {mine, theirs}
    assert (await client.get(f"{API}/incidents/{mine}", headers=insp)).status_code == 403
