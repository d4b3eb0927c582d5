"""`community-brain mask-personal-data`: phone numbers stored before masking covered them are masked
in records, revisions, incidents, notes and the ledger; the chain is re-hashed from the first changed
event and verifies; the epoch changes; a chain that does not verify is refused and left as it was."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from service.feeds import parse
from service.incidents import workflow
from service.kit.canonical import canonical_json, sha256_hex
from service.ledger.models import LedgerEvent
from service.ledger.service import ledger_position, verify_ledger
from service.records.models import SourceRecord
from service.settings import Settings
from service.state import AppState
from service.tables import Base
from tests.conftest import Principals
from tests.support.feeds import push
from tests.support.phones import PhoneFinder, SpelledPhone
from tests.support.records import police_call

ROOT = Path(__file__).resolve().parents[2]
PHONES = PhoneFinder([SpelledPhone(digits, "") for digits in ("13900139000", "13800138000", "02165432100")])


async def mask_personal_data(settings: Settings) -> tuple[int, dict[str, Any], str]:
    """The command as an operator runs it, against the test's database."""
    env = {
        **os.environ,
        "CB_DATABASE_URL": settings.database_url,
        "CB_DATA_DIR": str(settings.data_dir),
        "CB_REDIS_URL": "",
        "CB_SECRET_KEY": settings.secret_key or "",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "service", "mask-personal-data", env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    lines = out.decode().strip().splitlines()
    return process.returncode or 0, json.loads(lines[-1]) if lines else {}, err.decode()


async def stored_text(state: AppState) -> str:
    async with state.db.session() as session:
        rows = [row for table in Base.metadata.sorted_tables for row in (await session.execute(select(table))).all()]
    return json.dumps([[str(value) for value in row] for row in rows], ensure_ascii=False)


async def store_as_an_older_release(
    client: httpx.AsyncClient, principals: Principals, monkeypatch: pytest.MonkeyPatch
) -> int:
    """A clean record, then records and a note holding numbers, stored without the masking of ingest."""
    clean = await push(
        client,
        principals.police,
        "police",
        police_call("OLD-0", afdz="汾西路103号", bjlbdm="0601", bjlb="邻里纠纷", bjnr="楼下吵架"),
    )
    assert clean.status_code == 200, clean.text
    with monkeypatch.context() as patched:
        patched.setattr(parse, "mask_personal_data", lambda record, id_field: record)
        calls = [
            police_call("OLD-1", afdz="临汾路46号 电话１３９００１３９０００", bjnr="报警人回电 139/0013/9000"),
            police_call("OLD-2", afdz="闻喜路251号", bjnr="联系(021)65432100"),
        ]
        pushed = await push(client, principals.police, "police", calls)
        assert pushed.status_code == 200, pushed.text
        resent = await push(client, principals.police, "police", {**calls[1], "jqzt": "已派警"})  # a revision
        assert resent.json()["results"][0]["status"] == "updated", resent.text
        incident_id: int = pushed.json()["results"][0]["incident_id"]
        patched.setattr(workflow, "mask_phone_numbers", lambda text: text)  # notes were stored as written, too
        note = await client.post(
            f"/api/v1/incidents/{incident_id}/notes", json={"text": "已联系 138 0013 8000"}, headers=principals.operator
        )
        assert note.status_code == 201, note.text
    return incident_id


async def test_numbers_stored_before_masking_are_masked_everywhere_and_the_chain_verifies(
    client: httpx.AsyncClient,
    principals: Principals,
    state: AppState,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await store_as_an_older_release(client, principals, monkeypatch)
    assert PHONES.found(await stored_text(state)), "the older release did store the numbers"
    async with state.db.session() as session:
        before = await ledger_position(session)
        hashes_before = {e.seq: e.hash for e in (await session.scalars(select(LedgerEvent))).all()}

    code, report, err = await mask_personal_data(settings)

    assert code == 0, err
    assert not PHONES.found(await stored_text(state))
    assert report["rows_changed"]["source_records"] == 2 and report["rows_changed"]["incident_notes"] == 1
    assert report["rows_changed"]["source_record_revisions"] >= 1 and report["rows_changed"]["incidents"] >= 1
    first = report["rewritten_from_seq"]
    assert report["events_changed"] >= 3 and first > 1  # the clean record's events come first
    assert (report["old_head_seq"], report["old_head_hash"]) == (before.seq, before.hash)
    assert report["head_seq"] == before.seq and report["head_hash"] != before.hash
    assert report["old_epoch"] == before.epoch and report["epoch"] != before.epoch
    async with state.db.session() as session:
        check, after = await verify_ledger(session)
        events = {e.seq: e for e in (await session.scalars(select(LedgerEvent))).all()}
        records = (await session.scalars(select(SourceRecord))).all()
    assert check.ok, check.problems
    assert (after.seq, after.hash, after.epoch) == (report["head_seq"], report["head_hash"], report["epoch"])
    assert all(events[seq].hash == hashes_before[seq] for seq in range(1, first))  # history before it is as it was
    assert events[first].hash != hashes_before[first]
    assert all(r.content_hash == sha256_hex(canonical_json(r.payload)) for r in records)
    # Masked where it was written: the operator still sees that a number was given.
    record = next(r for r in records if r.source_record_id == "OLD-1")
    assert "139****9000" in (record.address or "") and "139****9000" in record.description
    # A department resending a record now stores it masked the same way: recognised as unchanged.
    call = police_call("OLD-1", afdz="临汾路46号 电话１３９００１３９０００", bjnr="报警人回电 139/0013/9000")
    again = await push(client, principals.police, "police", call)
    assert again.json()["results"][0]["status"] == "unchanged", again.text

    code, report, err = await mask_personal_data(settings)  # a second run finds nothing
    assert code == 0 and report["events_changed"] == 0 and report["epoch"] is None, (report, err)


async def test_a_chain_that_does_not_verify_is_refused_and_left_as_it_was(
    client: httpx.AsyncClient,
    principals: Principals,
    state: AppState,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await store_as_an_older_release(client, principals, monkeypatch)
    async with state.db.transaction() as uow:  # an edit made outside the service
        await uow.session.execute(text("UPDATE ledger_events SET actor = 'someone-else' WHERE seq = 2"))
    stored = await stored_text(state)

    code, _, err = await mask_personal_data(settings)

    assert code == 2 and "does not verify" in err and "seq 2" in err
    assert await stored_text(state) == stored  # nothing rewritten: the tampering stays visible
