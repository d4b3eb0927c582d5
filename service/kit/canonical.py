"""Canonical JSON: one byte string per value, so hashes and content comparisons are stable.

The canonical form is the standard library's ``json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` — the ledger's hashes since the first event are computed over it. orjson
writes the same bytes about ten times faster, except for floats the standard library spells with
an exponent (below 1e-4 or from 1e16 up: ``1e-05`` against orjson's ``0.00001``), non-finite
floats (orjson writes null) and values orjson does not take (integers beyond 64 bits, non-string
keys). Those go the standard way. Whether a value holds such floats is read from the value, not
from the text: a walk over the containers costs less than scanning or parsing the output.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import orjson

_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def _floats_spelled_alike(value: Any) -> bool:
    """True when every float inside is one both encoders spell the same way (finite, no exponent)."""
    items: Iterable[Any]
    if isinstance(value, dict):  # subclasses too: orjson writes them
        items = value.values()
    elif isinstance(value, list | tuple):
        items = value
    elif type(value) is float:  # orjson refuses subclasses of float
        items = (value,)
    else:
        return True
    for item in items:
        kind = type(item)
        if kind is float:
            if not (item == 0.0 or 1e-4 <= abs(item) < 1e16):  # NaN fails every comparison
                return False
        elif kind is not str and kind is not int and item is not None and not _floats_spelled_alike(item):
            return False
    return True


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def canonical_json(value: Any) -> bytes:
    try:
        text = orjson.dumps(value, default=_default, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        pass
    else:
        if _floats_spelled_alike(value):
            return text
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default).encode()


def dumps(value: Any) -> str:
    """Compact JSON text for storage and the wire (key order as given; not for hashing)."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
