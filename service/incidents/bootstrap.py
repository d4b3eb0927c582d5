"""The SLA watch: a background task that escalates incidents past their deadline."""

from __future__ import annotations

import asyncio
import logging

from service.incidents.queries import count_overdue
from service.incidents.workflow import ESCALATION_BATCH, escalate_overdue
from service.state import AppState

log = logging.getLogger(__name__)


async def start_incidents(state: AppState) -> None:
    if state.settings.sla_check_interval_s > 0:
        state.run_in_background("sla-watch", _watch_deadlines(state))


async def check_deadlines(state: AppState) -> int:
    """One round of the watch: escalate everything now overdue; returns how many were escalated."""
    total = 0
    while True:
        async with state.db.transaction() as uow:
            escalated = await escalate_overdue(uow)
        total += escalated
        if escalated < ESCALATION_BATCH:
            break
    async with state.db.session() as session:
        state.metrics.overdue.set(await count_overdue(session))
    return total


async def _watch_deadlines(state: AppState) -> None:
    while True:
        try:
            escalated = await check_deadlines(state)
            if escalated:
                log.info("escalated %d overdue incident(s)", escalated)
        except Exception as exc:  # the database may be away; try again next round
            log.warning("SLA watch failed: %s", type(exc).__name__)
        await asyncio.sleep(state.settings.sla_check_interval_s)
