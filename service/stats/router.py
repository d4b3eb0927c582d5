from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.deps import IncidentReaderDep, SessionDep
from service.stats.service import compute_stats

router = APIRouter(tags=["stats"])


@router.get("/stats")
async def get_stats(session: SessionDep, _caller: IncidentReaderDep) -> dict[str, Any]:
    """Open incidents by category, source and grid; new and resolved today; overdue; a 14-day trend; top entities."""
    return await compute_stats(session)
