"""The unlinked queue: a record below the threshold waits, is never linked on a guess, and an
operator's link teaches the register its name and moves its problem where it belongs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service.state import AppState
from tests.conftest import Principals
from tests.support.feeds import XINYUAN, at, head_seq, incident, ledger_events, police_call, push_ok

pytestmark = pytest.mark.usefixtures("registry", "ledger_checked")

UNKNOWN_NAME = "阿福杂货铺"  # in no register column
VAGUE_ADDRESS = "岭南路附近"  # a road without a number: no address to link on


def stranger(call_id: str, hours: float) -> dict[str, Any]:
    """A fire-hazard call naming a shop the register does not know, a few metres from 鑫源快递驿站's door."""
    _, _, _, lat, lng = XINYUAN
    return police_call(
        call_id, at(hours), name=UNKNOWN_NAME, address=VAGUE_ADDRESS, lat=lat + 0.00003, lng=lng + 0.00002
    )


async def queue(client: httpx.AsyncClient, principals: Principals) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/records", params={"linked": "false"}, headers=principals.operator)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_waiting_record_linked_by_an_operator(
    client: httpx.AsyncClient, principals: Principals, state: AppState
) -> None:
    entity_id, name, address, _, _ = XINYUAN
    [known] = await push_ok(client, principals.police, "police", police_call("K1", at(0), name=name, address=address))
    assert known["entity_id"] == entity_id
    entity_incident = known["incident_id"]

    [waiting] = await push_ok(client, principals.police, "police", stranger("U1", 3))
    assert waiting["entity_id"] is None
    assert waiting["incident_id"] not in (None, entity_incident)  # the problem is not held back
    [queued] = await queue(client, principals)
    assert queued["source_record_id"] == "U1" and queued["entity_id"] is None and queued["match_method"] is None
    suggested = {c["entity_id"]: c for c in queued["candidates"]}
    assert entity_id in suggested
    assert (suggested[entity_id]["name"], suggested[entity_id]["address"]) == (name, address)
    assert all(0 <= c["score"] <= 1 for c in queued["candidates"])
    linked_queue = await client.get("/api/v1/records", params={"linked": "true"}, headers=principals.operator)
    assert [r["source_record_id"] for r in linked_queue.json()["items"]] == ["K1"]

    # Only operators link, and only to entities that exist.
    path = f"/api/v1/records/{waiting['record_id']}/link"
    assert (await client.post(path, json={"entity_id": entity_id}, headers=principals.police)).status_code == 403
    assert (await client.post(path, json={"entity_id": entity_id}, headers=principals.inspector)).status_code == 403
    assert (await client.post(path, json={"entity_id": "LF-999999"}, headers=principals.operator)).status_code == 404
    nowhere = await client.post(
        "/api/v1/records/999999/link", json={"entity_id": entity_id}, headers=principals.operator
    )
    assert nowhere.status_code == 404

    seq = await head_seq(client, principals.operator)
    linked = await client.post(path, json={"entity_id": entity_id}, headers=principals.operator)
    assert linked.status_code == 200, linked.text
    body = linked.json()
    assert (body["entity_id"], body["match_method"], body["incident_id"]) == (entity_id, "operator", entity_incident)
    assert await queue(client, principals) == []

    # Its incident, which held only this report, merged into the entity's open fire incident.
    events = await ledger_events(client, principals.operator, since=seq)
    assert [(e["type"], e["incident_id"]) for e in events] == [
        ("merged", waiting["incident_id"]),
        ("absorbed", entity_incident),
    ]
    assert events[0]["incident"]["status"] == "merged" and events[0]["data"]["into"] == entity_incident
    assert events[0]["actor"] == "op"
    survivor = await incident(client, principals.operator, entity_incident)
    assert survivor["report_count"] == 2
    assert sorted(r["source_record_id"] for r in survivor["records"]) == ["K1", "U1"]
    assert (await incident(client, principals.operator, waiting["incident_id"]))["status"] == "merged"

    # The name is learnt: the next record with it links by itself and joins the same incident.
    entity_file = await client.get(f"/api/v1/entities/{entity_id}", headers=principals.operator)
    assert UNKNOWN_NAME in entity_file.json()["aliases"]
    [next_one] = await push_ok(client, principals.police, "police", stranger("U2", 5))
    assert next_one["entity_id"] == entity_id and next_one["incident_id"] == entity_incident
    assert await queue(client, principals) == []

    # A resend of the linked record keeps the operator's link.
    [resent] = await push_ok(client, principals.police, "police", {**stranger("U1", 3), "jqzt": "已派警"})
    assert (resent["status"], resent["entity_id"], resent["incident_id"]) == ("updated", entity_id, entity_incident)
    status = await client.get("/api/v1/feeds/police/records/U1", headers=principals.police)
    assert status.json()["entity_id"] == entity_id and status.json()["incident"]["id"] == entity_incident
    assert state.resolver.index.get(entity_id) is not None


async def test_linking_a_record_with_nothing_to_join_gives_its_incident_the_entity(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    entity_id = XINYUAN[0]
    [waiting] = await push_ok(client, principals.police, "police", stranger("U1", 0))
    assert waiting["entity_id"] is None
    seq = await head_seq(client, principals.operator)
    linked = await client.post(
        f"/api/v1/records/{waiting['record_id']}/link", json={"entity_id": entity_id}, headers=principals.operator
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["incident_id"] == waiting["incident_id"]
    events = await ledger_events(client, principals.operator, since=seq)
    assert [e["type"] for e in events] == ["entity_linked"]
    assert events[0]["incident"]["entity_id"] == entity_id
    listed = await client.get("/api/v1/incidents", params={"entity_id": entity_id}, headers=principals.operator)
    assert [i["id"] for i in listed.json()["items"]] == [waiting["incident_id"]]


async def test_a_record_without_a_name_or_place_still_opens_its_problem(
    client: httpx.AsyncClient, principals: Principals
) -> None:
    [nowhere] = await push_ok(client, principals.police, "police", police_call("N1", at(0), address="路边"))
    assert nowhere["entity_id"] is None and nowhere["incident_id"] is not None
    [queued] = await queue(client, principals)
    assert queued["source_record_id"] == "N1" and queued["candidates"] == []
