"""The floor under batch ingest: an app that takes the same pushes as the service and does the least.

bench_ingest_floor.py serves it (uvicorn, like `community-brain serve`). FLOOR_MODE says how little:
``read`` reads each array of records and answers one result a record; ``copy`` also writes every
record, as JSONB with its source and id, into one table with one unique index, one COPY and one
transaction a push. No matching, placement, ledger or live stream: what is left is the cost of
HTTP, JSON and PostgreSQL on this machine, which the service's figures can be read against.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
import orjson
from fastapi import FastAPI, Request, Response

MODE = os.environ.get("FLOOR_MODE", "read")
DSN = os.environ.get("CB_DATABASE_URL", "").replace("+asyncpg", "")
TABLE = "floor_records"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(DSN, min_size=2, max_size=4) if MODE == "copy" else None
    if app.state.pool is not None:
        await app.state.pool.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, source text NOT NULL,"
            " source_record_id text NOT NULL, payload jsonb NOT NULL, received_at timestamptz NOT NULL,"
            " UNIQUE (source, source_record_id))"
        )
    yield
    if app.state.pool is not None:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/readyz")
async def ready() -> dict[str, str]:
    return {"status": "ready"}


@app.post("/api/v1/feeds/{source}/records")
async def push(source: str, request: Request) -> Response:
    records = orjson.loads(await request.body())
    if not isinstance(records, list):
        records = [records]
    if app.state.pool is not None:
        now = datetime.now(UTC)
        rows = [(source, str(record.get("jjdbh") or record.get("taskId") or index), orjson.dumps(record).decode(), now)
                for index, record in enumerate(records)]  # fmt: skip
        async with app.state.pool.acquire() as connection, connection.transaction():
            await connection.copy_records_to_table(
                TABLE, records=rows, columns=["source", "source_record_id", "payload", "received_at"]
            )
    results = [{"status": "created", "incident_id": None} for _ in records]
    return Response(orjson.dumps({"results": results}), media_type="application/json")
