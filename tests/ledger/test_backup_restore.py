"""The backup and restore of docs/operations.md, done for real: pg_dump, pg_restore into a new
database, `ledger verify`, `ledger new-epoch`, and the restored service serving the same history
under a new epoch."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.auth import service as auth_service
from service.main import create_app
from service.settings import Settings
from tests.conftest import bearer
from tests.support.databases import POSTGRES_ADMIN_DSN, asyncpg_url, drop_postgres_database
from tests.support.records import at, police_call
from tests.support.servers import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def libpq_dsn(database: str) -> str:
    return POSTGRES_ADMIN_DSN.rsplit("/", 1)[0] + f"/{database}"


async def run_tool(args: list[str]) -> None:
    await asyncio.to_thread(subprocess.run, args, check=True, timeout=120)


def cli(args: list[str], database_url: str, tmp_path: Path) -> dict[str, object]:
    env = {**os.environ, "CB_DATABASE_URL": database_url, "CB_DATA_DIR": str(tmp_path), "CB_REDIS_URL": ""}
    done = subprocess.run(
        [sys.executable, "-m", "service", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def settings_for(url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path, database_url=url, redis_url="", sla_check_interval_s=0,
        secret_key="restore-test-secret-key-of-32-bytes!", argon2_time_cost=1, argon2_memory_kib=8192,
    )  # fmt: skip


async def events_page(url: str, tmp_path: Path, key: str) -> dict[str, object]:
    app = create_app(settings_for(url, tmp_path))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            page: dict[str, object] = (await client.get("/api/v1/events", headers=bearer(key))).json()
    return page


async def test_dump_restore_verify_and_new_epoch(postgres_url: str, tmp_path: Path) -> None:
    app = create_app(settings_for(postgres_url, tmp_path))
    async with app.router.lifespan_context(app):
        state = app.state.cb
        async with state.db.transaction() as uow:
            sources = set(state.adapters.known_sources())
            _, police = await auth_service.create_key(uow.session, "department", "police", None, sources, state.hasher)
            _, admin = await auth_service.create_key(uow.session, "admin", None, None, sources, state.hasher)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            calls = [police_call(f"B{n}", at(n * 600), afdz=f"临汾路{n + 1}号") for n in range(20)]
            pushed = await client.post("/api/v1/feeds/police/records", json=calls, headers=bearer(police))
            assert pushed.status_code == 200
            before = (await client.get("/api/v1/events", headers=bearer(admin))).json()

    source_name = postgres_url.rsplit("/", 1)[1]
    dump = tmp_path / "cb.dump"
    await run_tool(["pg_dump", "--format=custom", f"--file={dump}", libpq_dsn(source_name)])
    restored = f"cb_test_restore_{uuid.uuid4().hex[:8]}"
    admin_conn = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await admin_conn.execute(f'CREATE DATABASE "{restored}"')
    finally:
        await admin_conn.close()
    try:
        await run_tool(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={libpq_dsn(restored)}", str(dump)])
        restored_url = asyncpg_url(restored)
        verified = await asyncio.to_thread(cli, ["ledger", "verify"], restored_url, tmp_path)
        assert verified["ok"] is True and verified["head_seq"] == before["head_seq"]
        epoch = await asyncio.to_thread(cli, ["ledger", "new-epoch"], restored_url, tmp_path)
        assert epoch["old_epoch"] == before["epoch"] != epoch["epoch"]

        after = await events_page(restored_url, tmp_path, admin)
        assert after["epoch"] == epoch["epoch"] and after["head_seq"] == before["head_seq"]
        assert after["events"] == before["events"]  # the same history, under a new name
        original = await events_page(postgres_url, tmp_path, admin)
        assert original["epoch"] == before["epoch"]  # the source database keeps its own
    finally:
        await drop_postgres_database(restored)
