"""What a piece of work leaves for the cycle collector: a worker runs the collector rarely
(service/asgi.py), so whatever reference counting does not free lives on until a full collection."""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable


async def left_for_the_collector(work: Callable[[], Awaitable[None]]) -> list[object]:
    """The objects only the collector would free after ``work`` runs a second time (the first
    builds what the process keeps for good: compiled statements, caches)."""
    await work()
    gc.collect()
    gc.disable()
    try:
        await work()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
