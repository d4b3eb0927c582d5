"""One entity's file (一店一档): details, every department's records, incidents and one timeline."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents.models import Incident
from service.incidents.projection import incident_as_dict
from service.incidents.queries import assigned_to
from service.ledger.models import LedgerEvent
from service.records.models import SourceRecord
from service.records.service import records_out
from service.registry.models import entity_as_dict
from service.registry.schemas import ComplaintTheme, EntityFile, TimelineItem
from service.registry.service import get_entity
from service.residents.themes import THEME_BY_KEY

EVENT_TITLES = {
    "created": "问题立案",
    "report_attached": "新增报告",
    "report_updated": "报告更新",
    "status_changed": "状态变更",
    "assigned": "派遣",
    "note_added": "备注",
    "attachment_added": "照片",
    "escalated": "超期升级",
    "merged": "合并至其他问题",
    "absorbed": "合并问题",
    "entity_linked": "关联主体",
    "report_detached": "报告移出",
    "report_revised": "报告修订后重新归并",
}


async def entity_file(session: AsyncSession, entity_id: str, assignee: str | None = None) -> EntityFile:
    """The whole file; with `assignee` (an inspector) only their incidents and those incidents' records."""
    entity = await get_entity(session, entity_id)
    record_query = select(SourceRecord).where(SourceRecord.entity_id == entity_id)
    incident_query = select(Incident).where(Incident.entity_id == entity_id)
    if assignee is not None:
        incident_query = incident_query.where(Incident.assignee == assignee)
        record_query = record_query.where(SourceRecord.incident_id.in_(assigned_to(assignee)))
    records = (await session.scalars(record_query.order_by(SourceRecord.occurred_at.desc()))).all()
    incidents = (await session.scalars(incident_query.order_by(Incident.last_reported_at.desc()))).all()
    events = (
        (
            await session.scalars(
                select(LedgerEvent)
                .where(LedgerEvent.incident_id.in_([i.id for i in incidents]))
                .order_by(LedgerEvent.seq)
            )
        ).all()
        if incidents
        else []
    )

    timeline = [
        TimelineItem(
            at=r.occurred_at.isoformat(),
            kind="record",
            source=r.source,
            title=r.title,
            incident_id=r.incident_id,
            record_id=r.id,
            type=r.status_text,
        )
        for r in records
    ] + [
        TimelineItem(
            at=e.at.isoformat(),
            kind="event",
            source=None,
            title=f"{EVENT_TITLES.get(e.type, e.type)} · #{e.incident_id}",
            incident_id=e.incident_id,
            record_id=None,
            type=e.type,
        )
        for e in events
    ]
    timeline.sort(key=lambda item: item.at, reverse=True)
    complaints: dict[str, list[SourceRecord]] = {}
    for record in records:  # newest first
        if record.theme:
            complaints.setdefault(record.theme, []).append(record)
    return EntityFile(
        **entity_as_dict(entity),
        records=[r.model_dump(mode="json") for r in await records_out(session, records)],
        incidents=[incident_as_dict(i) for i in incidents],
        timeline=timeline,
        complaints=[
            ComplaintTheme(
                theme=theme,
                label=THEME_BY_KEY[theme].label if theme in THEME_BY_KEY else theme,
                count=len(items),
                last_at=items[0].occurred_at.isoformat(),
            )
            for theme, items in sorted(complaints.items(), key=lambda item: (-len(item[1]), item[0]))
        ],
    )
