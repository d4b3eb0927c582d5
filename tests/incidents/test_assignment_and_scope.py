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


async def test_an_inspector_starts_and_finishes_the_work_and_operators_do_the_rest(
    client: httpx.AsyncClient, principals: Principals, registry: None
) -> None:
    """Verifying (closing), reopening and rejecting are the operators' call, as the screens say."""
    op, insp = principals.operator, principals.inspector
    incident_id = (await open_incident(client, principals.police, police_call(XINYUAN, "noise")))["id"]
    await _assign(client, op, incident_id, "insp")

    async def step(headers: dict[str, str], status: str, note: str | None = None) -> httpx.Response:
        version = (await get(client, op, f"/incidents/{incident_id}"))["version"]
        return await change_status(client, headers, incident_id, status, version, note)

    assert (await step(insp, "rejected", "现场无问题")).status_code == 403
    assert (await step(insp, "in_progress")).status_code == 200
    assert (await step(insp, "resolved")).status_code == 200
    for status, note in (("closed", "已处理"), ("in_progress", None)):
        refused = await step(insp, status, note)
        assert refused.status_code == 403 and "operators' call" in error_of(refused)["message"]
    assert (await step(op, "in_progress")).status_code == 200  # reopened: verification failed
    assert (await step(insp, "resolved")).status_code == 200
    assert (await step(op, "closed", "复核通过")).json()["status"] == "closed"


async def test_notes_are_kept_to_open_incidents_and_to_4000_characters(
    client: httpx.AsyncClient, principals: Principals, registry: None
) -> None:
    op = principals.operator
    incident_id = (await open_incident(client, principals.police, police_call(XIAOZHU, "noise")))["id"]
    notes = f"{API}/incidents/{incident_id}/notes"
    assert (await client.post(notes, json={"text": "   "}, headers=op)).status_code == 422  # blank
    assert (await client.post(notes, json={"text": "长" * 4001}, headers=op)).status_code == 422
    assert (await client.post(notes, json={"text": "长" * 4000}, headers=op)).status_code == 201
    version = (await get(client, op, f"/incidents/{incident_id}"))["version"]
    too_long = await change_status(client, op, incident_id, "rejected", version, "由" * 4001)
    assert too_long.status_code == 422 and error_of(too_long)["details"][0]["field"] == "note"
    assert (await change_status(client, op, incident_id, "rejected", version, "由" * 4000)).status_code == 200

    finished = await client.post(notes, json={"text": "补充说明"}, headers=op)
    assert finished.status_code == 422 and error_of(finished)["details"] == [{"field": "status", "reason": "not open"}]
    photo = {"file": ("photo.png", png(), "image/png")}
    response = await client.post(f"{API}/incidents/{incident_id}/attachments", files=photo, headers=op)
    assert response.status_code == 422
