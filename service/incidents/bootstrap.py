"""The SLA watch: a background task that escalates incidents past their deadline."""

from __future__ import annotations

import asyncio
import logging

from service.incidents.workflow import escalate_overdue
from service.state import AppState

log = logging.getLogger(__name__)


async def start_incidents(state: AppState) -> None:
    if state.settings.sla_check_interval_s > 0:
        state.run_in_background("sla-watch", _watch_deadlines(state))


async def _watch_deadlines(state: AppState) -> None:
    while True:
        try:
            async with state.db.transaction() as uow:
                escalated = await escalate_overdue(uow)
            if escalated:
                log.info("escalated %d overdue incident(s)", escalated)
        except Exception as exc:  # the database may be away; try again next round
            log.warning("SLA watch failed: %s", type(exc).__name__)
        await asyncio.sleep(state.settings.sla_check_interval_s)
