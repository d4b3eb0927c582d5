"""Code hooks: what a feed definition cannot declare, named in it (``hooks = ["…"]``).

A hook takes the record the definition made and the native record it came from, and returns the
record to keep (or raises RecordRejected). Hooks run after the definition's own reading, in the
order the definition names them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from service.feeds.normalized import NormalizedRecord

Hook = Callable[[NormalizedRecord, Mapping[str, Any]], NormalizedRecord]

HOOKS: dict[str, Hook] = {}
