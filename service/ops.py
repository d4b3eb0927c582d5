"""Liveness, readiness and metrics for operations."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from service.deps import StateDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(state: StateDep) -> JSONResponse:
    """Ready when the database answers. A broker that is down degrades live delivery but not ingest
    (the ledger is the record), so it is reported without taking the worker out of rotation."""
    checks: dict[str, str] = {}
    try:
        async with state.db.session() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"down: {type(exc).__name__}"
    broker = state.hub.broker if state.hub is not None else None
    if broker is None:
        checks["broker"] = "none"
    else:
        checks["broker"] = "ok" if await broker.healthy() else "down"
    if checks["database"] != "ok":
        return JSONResponse({"status": "unavailable", "checks": checks}, status_code=503, headers={"Retry-After": "5"})
    status = "ok" if checks["broker"] in ("ok", "none") else "degraded"
    return JSONResponse({"status": status, "checks": checks})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
