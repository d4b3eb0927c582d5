"""Department records read back for the API."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.records.models import SourceRecord
from service.records.schemas import CandidateOut, RecordOut
from service.registry.models import Entity


async def records_out(session: AsyncSession, rows: Sequence[SourceRecord]) -> list[RecordOut]:
    """Records for operators, with each suggested candidate's name and address."""
    wanted = {c["entity_id"] for r in rows for c in (r.candidates or [])}
    names = (
        {
            e.id: (e.name, e.address)
            for e in (
                await session.execute(select(Entity.id, Entity.name, Entity.address).where(Entity.id.in_(wanted)))
            )
        }
        if wanted
        else {}
    )
    out = []
    for r in rows:
        candidates = [
            CandidateOut(
                entity_id=c["entity_id"],
                name=names.get(c["entity_id"], (None, None))[0],
                address=names.get(c["entity_id"], (None, None))[1],
                score=c["score"],
            )
            for c in (r.candidates or [])
        ]
        out.append(
            RecordOut(
                id=r.id,
                source=r.source,
                source_record_id=r.source_record_id,
                revision=r.revision,
                category=r.category,
                is_problem=r.is_problem,
                occurred_at=r.occurred_at,
                received_at=r.received_at,
                title=r.title,
                description=r.description,
                name=r.name,
                address=r.address,
                uscc=r.uscc,
                uscc_valid=r.uscc_valid,
                lat=r.lat,
                lng=r.lng,
                severity=r.severity,
                status_text=r.status_text,
                theme=r.theme,
                entity_id=r.entity_id,
                match_method=r.match_method,
                match_score=r.match_score,
                incident_id=r.incident_id,
                candidates=candidates,
            )
        )
    return out
