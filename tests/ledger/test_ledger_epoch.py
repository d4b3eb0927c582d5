"""After a restore the ledger gets a new epoch, so no client resumes into another history (docs/operations.md §2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from service.db.migrate import upgrade
from service.ledger.service import append_event, start_new_epoch, verify_ledger
from service.live.protocol import ResumeRequest, StartMode, choose_start
from service.state import AppState
from tests.conftest import Principals
from tests.support.servers import ROOT


async def test_a_new_epoch_keeps_the_chain_and_sends_resuming_clients_a_snapshot(
    state: AppState, client: httpx.AsyncClient, principals: Principals
) -> None:
    for n in range(3):
        async with state.db.transaction() as uow:
            await append_event(uow, type="note_added", actor="test", incident_id=None, data={"n": n})
    before = (await client.get("/api/v1/events", headers=principals.display)).json()
    async with state.db.transaction() as uow:
        old, new = await start_new_epoch(uow)
    after = (await client.get("/api/v1/events", headers=principals.display)).json()
    assert old == before["epoch"] and new == after["epoch"] and old != new
    assert after["head_seq"] == before["head_seq"] == 3 and after["events"] == before["events"]
    async with state.db.session() as session:
        check, _ = await verify_ledger(session)
    assert check.ok  # the epoch names the history; it is not part of the chain
    # A client that had seq 3 of the old epoch starts over from a snapshot instead of resuming.
    resuming = ResumeRequest(since=before["head_seq"], epoch=old)
    assert choose_start(resuming, after["head_seq"], new, replay_limit=10_000) is StartMode.SNAPSHOT
    assert choose_start(ResumeRequest(since=3, epoch=new), 3, new, replay_limit=10_000) is not StartMode.SNAPSHOT


def test_the_new_epoch_command(tmp_path: Path) -> None:
    upgrade(f"sqlite+aiosqlite:///{tmp_path / 'community-brain.db'}")
    env = {**os.environ, "CB_DATA_DIR": str(tmp_path), "CB_DATABASE_URL": "", "CB_REDIS_URL": "", "CB_DEMO_PACE": "0"}

    def new_epoch() -> dict[str, str]:
        done = subprocess.run(
            [sys.executable, "-m", "service", "ledger", "new-epoch"],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        result: dict[str, str] = json.loads(done.stdout.splitlines()[-1])
        return result

    first, second = new_epoch(), new_epoch()
    assert first["epoch"] != first["old_epoch"] and second["old_epoch"] == first["epoch"]
    assert len(second["epoch"]) == 32
