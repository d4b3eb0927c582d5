"""The live stream inside the real application: department records in over HTTP, events out on /ws/live.

Uses the shared `settings` fixture (tests/conftest.py), so it runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from service.auth.service import create_key
from service.ledger.service import ledger_position
from service.main import create_app
from service.settings import Settings
from service.state import AppState
from tests.live.support import serve
from tests.support.data import SAMPLES

POLICE_SAMPLES = SAMPLES / "police.jsonl"


async def test_ingested_records_reach_a_connected_wall(settings: Settings) -> None:
    records = [json.loads(line) for line in POLICE_SAMPLES.read_text(encoding="utf-8").splitlines()[:5]]
    app = create_app(settings)
    async with serve(app) as address:
        state: AppState = app.state.cb
        sources = set(state.adapters.known_sources())
        async with state.db.transaction() as uow:
            _, display = await create_key(uow.session, "display", None, None, sources, state.hasher)
            _, police = await create_key(uow.session, "department", "police", None, sources, state.hasher)

        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://{address}/ws/live?{urlencode({'token': police})}", compression=None):
                pass
        assert refused.value.response.status_code == 403

        async with connect(f"ws://{address}/ws/live?{urlencode({'token': display})}", compression=None) as ws:
            snapshot: dict[str, Any] = json.loads(await ws.recv())
            assert snapshot["type"] == "snapshot"
            async with httpx.AsyncClient(base_url=f"http://{address}") as http:
                answer = await http.post(
                    "/api/v1/feeds/police/records", json=records, headers={"Authorization": f"Bearer {police}"}
                )
            assert answer.status_code == 200, answer.text
            async with state.db.session() as session:
                head = (await ledger_position(session)).seq
            assert head > snapshot["seq"]
            events: list[dict[str, Any]] = []
            async with asyncio.timeout(5):
                while not events or events[-1]["seq"] < head:
                    message = json.loads(await ws.recv())
                    if message["type"] == "event":
                        events.append(message)
        assert [event["seq"] for event in events] == list(range(snapshot["seq"] + 1, head + 1))
        incident_ids = {result["incident_id"] for result in answer.json()["results"] if result["incident_id"]}
        assert incident_ids <= {event["incident"]["id"] for event in events if event["incident"]}
