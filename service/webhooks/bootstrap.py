from __future__ import annotations

from service.state import AppState


async def start_webhooks(state: AppState) -> None:
    return None
