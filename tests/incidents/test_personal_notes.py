"""Staff text goes into the ledger too: a caller's number in a note or a closing note is masked
before it is stored, however it is written (the same masking as department records)."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import select

from service.incidents.models import IncidentNote
from service.ledger.models import LedgerEvent
from service.state import AppState
from tests.conftest import Principals
from tests.support.incidents import API, XINYUAN, change_status, get, open_incident, police_call
from tests.support.phones import PhoneFinder, SpelledPhone

PHONES = PhoneFinder([SpelledPhone(digits, "") for digits in ("13900139000", "02165432100")])


async def test_numbers_in_notes_are_masked_before_they_are_stored(
    client: httpx.AsyncClient, principals: Principals, state: AppState, registry: None
) -> None:
    op = principals.operator
    incident_id = (await open_incident(client, principals.police, police_call(XINYUAN, "noise")))["id"]
    note = await client.post(
        f"{API}/incidents/{incident_id}/notes", json={"text": "已回电 １３９－００１３－９０００，无人接听"}, headers=op
    )
    assert note.status_code == 201, note.text
    version = (await get(client, op, f"/incidents/{incident_id}"))["version"]
    closed = await change_status(client, op, incident_id, "rejected", version, note="重复报警，报警人(021)65432100")
    assert closed.status_code == 200, closed.text

    shown = await get(client, op, f"/incidents/{incident_id}")
    events = await get(client, op, "/events", since=0)
    async with state.db.session() as session:
        notes = [n.text for n in (await session.scalars(select(IncidentNote))).all()]
        ledger = [[e.data, e.incident] for e in (await session.scalars(select(LedgerEvent))).all()]
    for text in (json.dumps(x, ensure_ascii=False) for x in (shown, events, notes, ledger)):
        assert not PHONES.found(text), text
    assert notes == ["已回电 139****9000，无人接听"]  # masked where it was written
    assert shown["resolution_note"] == "重复报警，报警人021****2100"
